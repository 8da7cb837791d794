"""The websockets of the inbox, the space overview and every page's top bar.

- ws/inbox/?spaces=<id>,<id>: the inbox watches of the spaces the page shows (it names them:
  the consumer does not list spaces itself, which would be an AWS call per socket).
- ws/spaces/<space_id>/overview/: the space's inbox watch and its overview watch.
- ws/needs/: the console-wide count of approvals waiting, and notices of new ones and of
  root causes found. On connecting (and reconnecting) it sends the current count from the
  shared snapshot at once, or as soon as the first poll made one.

Signed-in users only (4401 otherwise); dashboard.asgi checks the Origin.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs

from dashboard.tasks.consumers import CatchUpConsumer, backoff
from dashboard.tasks.forms import valid_id

from . import live

logger = logging.getLogger(__name__)

MAX_SPACES = 200


class InboxConsumer(CatchUpConsumer):
    def live_keys(self) -> list[str]:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        names = ",".join(query.get("spaces", [])).split(",")
        ids = [s for s in dict.fromkeys(names) if s]
        if len(ids) > MAX_SPACES or not all(valid_id(s) for s in ids):
            raise ValueError("Not a list of agent space ids")
        return [live.inbox_key(s) for s in ids]


class OverviewConsumer(CatchUpConsumer):
    key_templates = ("inbox:{space_id}", "overview:{space_id}")


class NeedsConsumer(CatchUpConsumer):
    key_templates = (live.NEEDS_KEY,)

    async def connect(self) -> None:
        await super().connect()
        if getattr(self, "subscribed", None):
            self._spawn(self._send_count())

    async def handle(self, item: Any) -> None:
        if isinstance(item, tuple):
            await super().handle(item)
            return
        # Messages may have been lost: the page has nothing to re-render but the count.
        self._spawn(self._send_count())

    async def _catch_up(self, keys: list[str]) -> None:
        # The count below is this page's catch-up; no live region to re-render.
        return

    async def _send_count(self) -> None:
        """The count as the shared snapshot has it: now, or once the first poll made it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(10.0, 3 * self.get_registry().max_interval)
        step = 0.05
        try:
            while True:
                count = await asyncio.to_thread(live.waiting_count)
                if count is not None:
                    await self.send_frame(live.count_fragment(count))
                    return
                if loop.time() > deadline:
                    return
                await asyncio.sleep(step)
                step = backoff(step)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Could not send the approvals count")
