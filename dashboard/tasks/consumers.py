"""The websockets of the live triage pages (the watches are in dashboard/tasks/live.py).

- ws/spaces/<space_id>/board/ watches the space's board.
- ws/spaces/<space_id>/tasks/<task_id>/ watches the task and the journal of each of its
  executions; when a new execution appears the page asks for its journal with a message
  ``{"journal": "<executionId>"}``.

Signed-in users only (4401 otherwise); dashboard.asgi checks the Origin.

Catching up: a page renders before its socket subscribes. When nobody watched a key yet, the
first poll only takes a silent baseline, so a change between the page's render and that poll
would never reach the page. For such keys (and for a journal subscribed on request, whose
section the page rendered empty) the consumer waits until the baseline exists and then tells
the page to re-render its live region once: ``<div id="live-sync" data-resync>``, which
static/js/console.js turns into ``console:resync``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.utils.html import format_html

from dashboard.aws import executor
from dashboard.aws.errors import AwsError, NotFound, ValidationFailed
from dashboard.core.forms import loads as loads_json
from dashboard.live import LiveConsumer, store
from dashboard.live.consumers import BAD_KEY

from . import live
from .forms import valid_id

logger = logging.getLogger(__name__)

# Journals one task socket may watch (the page shows the 50 newest executions).
MAX_JOURNALS = live.EXECUTIONS_SHOWN


def backoff(step: float) -> float:
    """The next wait of a socket polling the cache for what a poll will bring: soon at first
    (it usually comes at once), then at most a second apart, so that sockets waiting for a
    poll that keeps failing (AWS away) cost a read a second each, not twenty."""
    return min(step * 2, 1.0)


def _has_snapshot(key: str) -> bool:
    state = store.load(key)
    return state is not None and state["items"] is not None


class CatchUpConsumer(LiveConsumer):
    """LiveConsumer that tells its page to resync once keys it started watching have their
    baseline (see the module docstring)."""

    async def connect(self) -> None:
        self._background: set[asyncio.Task[None]] = set()
        self._resyncs = 0
        fresh: list[str] = []
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            try:
                keys = self.live_keys()
                fresh = [k for k in keys if not await asyncio.to_thread(_has_snapshot, k)]
            except Exception:
                fresh = []  # LiveConsumer.connect refuses bad keys itself
        await super().connect()
        if fresh and self.subscribed:
            self._spawn(self._catch_up(fresh))

    async def disconnect(self, code: int) -> None:
        for task in list(getattr(self, "_background", ())):
            task.cancel()
        await super().disconnect(code)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _catch_up(self, keys: list[str]) -> None:
        """Once every key has a snapshot (the poller's baseline), ask the page to resync."""
        registry = self.get_registry()
        loop = asyncio.get_running_loop()
        # Long enough for a first poll that backs off once or twice (AWS busy).
        deadline = loop.time() + max(10.0, 3 * registry.max_interval)
        step = 0.05  # a cache read; the baseline usually follows the subscription at once
        pending = list(keys)
        try:
            while pending:
                pending = [k for k in pending if not await asyncio.to_thread(_has_snapshot, k)]
                if not pending:
                    break
                if loop.time() > deadline:
                    logger.info("No live baseline for %s yet; the page keeps what it has", pending)
                    return
                await asyncio.sleep(step)
                step = backoff(step)
            self._resyncs += 1
            await self.send_frame(
                format_html(
                    '<div id="live-sync" hidden hx-swap-oob="true" data-resync="{}"></div>',
                    self._resyncs,
                )
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Could not catch a live page up on %s", keys)


class BoardConsumer(CatchUpConsumer):
    key_templates = ("board:{space_id}",)


class TaskConsumer(CatchUpConsumer):
    """The task and the journals of its executions (listed at connect: from the task watch's
    snapshot when it has one, else one ListExecutions call)."""

    key_templates = ("task:{space_id}:{task_id}",)

    def _ids(self) -> tuple[str, str]:
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        return str(kwargs.get("space_id", "")), str(kwargs.get("task_id", ""))

    async def connect(self) -> None:
        self.journal_keys: list[str] = []
        user = self.scope.get("user")
        space_id, task_id = self._ids()
        if user is not None and user.is_authenticated:
            if not valid_id(task_id) or ":" in space_id:
                await self.close(code=BAD_KEY)
                return
            try:
                ids = await executor.run(live.execution_ids, space_id, task_id)
            except (NotFound, ValidationFailed):
                await self.close(code=BAD_KEY)
                return
            except AwsError as error:
                # Refused before the handshake: the browser retries with its backoff.
                logger.warning("Live task socket refused for now: %s", error)
                await self.close(code=1011)
                return
            self.journal_keys = [live.journal_key(space_id, e) for e in ids[:MAX_JOURNALS]]
        await super().connect()

    def live_keys(self) -> list[str]:
        return [*super().live_keys(), *self.journal_keys]

    async def receive_frame(self, text_data: str | None, bytes_data: bytes | None) -> None:
        """``{"journal": "<executionId>"}``: watch a new execution's journal too."""
        try:
            message = loads_json(text_data or "")
        except ValueError:
            return
        execution_id = message.get("journal") if isinstance(message, dict) else None
        if not isinstance(execution_id, str) or not valid_id(execution_id):
            return
        space_id, task_id = self._ids()
        key = live.journal_key(space_id, execution_id)
        if key in self.subscribed or len(self.subscribed) > MAX_JOURNALS:
            return
        try:
            ids = await executor.run(live.execution_ids, space_id, task_id)
        except AwsError as error:
            logger.warning("Could not check execution %s of %s: %s", execution_id, task_id, error)
            return
        if execution_id not in ids:
            return
        try:
            await self.live_subscribe(key)
        except Exception:
            logger.exception("Could not subscribe a live socket to %s", key)
            return
        # The page rendered this execution's section empty: re-render once the journal has its
        # baseline, so records written before it are shown too.
        self._spawn(self._catch_up([key]))
