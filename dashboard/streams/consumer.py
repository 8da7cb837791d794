"""The websocket end: viewers of one stream key, caught up from the log, then live.

A viewer says where it stands once its socket is open, and is sent exactly what it lacks:

    → {"streams": "hello", "run": "<run or null>", "after": <last seq it has>}
    ← the rest of that run, every later run in full, then each batch as it is published

Every message sent ends with the position fragment (`position_fragment`), so the page always
knows its (run, seq) for the next hello, after a reconnect. Batches a viewer has already seen
are dropped, batches that overlap or leave a gap are re-rendered from the log: nothing is lost
and nothing is shown twice. A position the log no longer knows (a run expired, or the page is
older than every run kept) gets `resync_fragment`: the page reloads its stream region.

Group messages that arrive before the hello are dropped: the hello reads the log, which holds
them (events are logged before they are published).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from . import log, views
from .relay import BATCH, BEAT, group_name, kind_of

logger = logging.getLogger(__name__)

UNAUTHENTICATED = 4401
FORBIDDEN = 4403
BAD_KEY = 4404


class StreamConsumer(AsyncWebsocketConsumer):
    """Subclass: implement `stream_key()` (from the URL route), optionally `has_access()` and
    `receive_message()` for messages other than the hello."""

    def stream_key(self) -> str:
        raise NotImplementedError

    async def has_access(self, user: Any) -> bool:
        return True

    async def receive_message(self, message: dict[str, Any]) -> None:
        """Messages other than the hello (e.g. a chat's "send")."""

    async def connect(self) -> None:
        self.ready = False
        self.positions: dict[str, int] = {}
        self.key = ""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        try:
            self.key = self.stream_key()
            kind_of(self.key)
        except (LookupError, ValueError):
            await self.close(code=BAD_KEY)
            return
        if not await self.has_access(user):
            await self.close(code=FORBIDDEN)
            return
        await self.channel_layer.group_add(group_name(self.key), self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.key:
            try:
                await self.channel_layer.group_discard(group_name(self.key), self.channel_name)
            except Exception:
                logger.exception("Could not leave the stream group of %s", self.key)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("streams") == "hello":
            run = message.get("run")
            after = message.get("after")
            await self.hello(
                run if isinstance(run, str) and run else None,
                after if isinstance(after, int) and after >= 0 else 0,
            )
            return
        await self.receive_message(message)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Stream messages touch no database: skip channels' close_old_connections hop through
        # the one thread-sensitive thread for every batch and viewer.
        kind = message.get("type")
        if kind == BATCH:
            await self.streams_batch(message)
            return
        if kind == BEAT:
            await self.streams_beat(message)
            return
        await super().dispatch(message)

    async def hello(self, run: str | None, after: int) -> None:
        """Send what the viewer at (run, after) lacks, then follow the live batches."""
        runs = await asyncio.to_thread(views.read_runs, self.key)
        known = [item["run"] for item in runs]
        if run is not None and run not in known:
            self.positions = {item["run"]: item["last"] for item in runs}
            self.ready = True
            await self.send(text_data=views.resync_fragment(self.key))
            return
        parts: list[str] = []
        reached = run is None
        for item in runs:
            if item["run"] == run:
                reached = True
                start = after
            elif reached:
                start = 0
            else:
                self.positions[item["run"]] = item["last"]
                continue
            parts.append(views.render_from(self.key, item["run"], item["events"], start))
            self.positions[item["run"]] = item["last"]
        self.ready = True
        await self._send(parts)

    async def streams_batch(self, message: dict[str, Any]) -> None:
        if not self.ready:
            return
        run = message["run"]
        have = self.positions.get(run, 0)
        if message["last"] <= have:
            return
        if message["first"] == have + 1:
            html = message["html"]
            self.positions[run] = message["last"]
        else:
            # A gap (the layer dropped a batch, or this viewer joined between the log and the
            # group) or an overlap: the log has everything up to this batch and beyond.
            events = await asyncio.to_thread(log.read, self.key, run)
            html = views.render_from(self.key, run, events, have)
            self.positions[run] = max(message["last"], events[-1]["seq"] if events else 0)
        await self._send([html])

    async def streams_beat(self, message: dict[str, Any]) -> None:
        if self.ready:
            await self.send(text_data=views.beat_fragment(self.key, message.get("at", 0)))

    async def _send(self, parts: list[str]) -> None:
        if self.positions:
            run = next(reversed(self.positions))
            parts.append(views.position_fragment(self.key, run, self.positions[run]))
        html = "".join(parts)
        if html:
            await self.send(text_data=html)
