"""The websocket end: viewers of one stream key, caught up from the log, then live.

A viewer says where it stands once its socket is open, and is sent exactly what it lacks:

    → {"streams": "hello", "run": "<run or null>", "after": <last seq it has>}
    ← the rest of that run, every later run in full, then each batch as it is published

Every message sent ends with the position fragment (`position_fragment`), so the page always
knows its (run, seq) for the next hello, after a reconnect. Batches a viewer has already seen
are dropped, batches that overlap or leave a gap are re-rendered from the log: nothing is lost
and nothing is shown twice. A position the log no longer knows (a run expired, or the page is
older than every run kept), or a gap the log cannot fill any more, gets `resync_fragment`: the
page reloads its stream region.

Group messages that arrive before the hello are dropped: the hello reads the log, which holds
them (events are logged before they are published).

A channel layer drops messages for a socket whose channel is full (`CHANNEL_CAPACITY`), without
telling anyone. A dropped batch in mid-run shows as a gap in the next one; the *last* batches of
a run have no next one. So a viewer also catches up when a heartbeat says more was published
than it has, and, while the run it follows is not over, when it has heard nothing for one and a
half heartbeat periods (a live relay sends a beat every `STREAM_HEARTBEAT_SECONDS` of quiet):
it then reads the log, which also tells it when the relay died (`stream.lost`).

A send on a socket the client has just closed is ignored (the disconnect follows and leaves
the group), rather than ending the consumer with an error and its group membership behind.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from dashboard.core.forms import loads as loads_json

from . import log, views
from .relay import BATCH, BEAT, TERMINAL, group_name, kind_of

logger = logging.getLogger(__name__)

UNAUTHENTICATED = 4401
FORBIDDEN = 4403
BAD_KEY = 4404

CHECK = "streams.check"  # a consumer to itself: it has heard nothing for too long


class StreamConsumer(AsyncWebsocketConsumer):
    """Subclass: implement `stream_key()` (from the URL route), optionally `has_access()` and
    `receive_message()` for messages other than the hello."""

    def stream_key(self) -> str:
        raise NotImplementedError

    async def has_access(self, user: Any) -> bool:
        return True

    async def receive_message(self, message: dict[str, Any]) -> None:
        """Messages other than the hello (e.g. a chat's "send")."""

    async def receive_malformed(self, text: str | None) -> None:
        """A frame that is not a JSON object (subclasses may answer it; the socket lives on)."""

    async def connect(self) -> None:
        self.ready = False
        self.positions: dict[str, int] = {}
        self.ended: set[str] = set()  # runs whose terminal event this viewer has
        self.key = ""
        self._heard = 0.0  # loop time of the last message from the relay (or the hello)
        self._watcher: asyncio.Task[None] | None = None
        self._checking = False
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
        watcher = getattr(self, "_watcher", None)
        if watcher is not None:
            watcher.cancel()
        if self.key:
            try:
                await self.channel_layer.group_discard(group_name(self.key), self.channel_name)
            except Exception:
                logger.exception("Could not leave the stream group of %s", self.key)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = loads_json(text_data or "")
        except ValueError:  # also nesting too deep (the reader refuses it without recursion)
            message = None
        if not isinstance(message, dict):
            await self.receive_malformed(text_data)
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
        if kind == CHECK:
            await self.streams_check(message)
            return
        await super().dispatch(message)

    async def push(self, html: str) -> bool:
        """Send `html` to this socket; False when the client has gone (nothing is raised)."""
        try:
            await self.send(text_data=html)
        except Exception:
            # daphne raises on a send after the client closed; its disconnect comes next.
            logger.debug("Stream viewer of %s has gone", self.key, exc_info=True)
            return False
        return True

    async def hello(self, run: str | None, after: int) -> None:
        """Send what the viewer at (run, after) lacks, then follow the live batches."""
        runs = await asyncio.to_thread(views.read_runs, self.key)
        known = [item["run"] for item in runs]
        self._heard = asyncio.get_running_loop().time()
        self._watch()
        if run is not None and run not in known:
            for item in runs:
                self._reached(item["run"], item["events"])
            self.ready = True
            await self.push(views.resync_fragment(self.key))
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
                self._reached(item["run"], item["events"])
                continue
            parts.append(views.render_from(self.key, item["run"], item["events"], start))
            self._reached(item["run"], item["events"])
        self.ready = True
        await self._send(parts)

    async def streams_batch(self, message: dict[str, Any]) -> None:
        if not self.ready:
            return
        self._heard = asyncio.get_running_loop().time()
        run = message["run"]
        have = self.positions.get(run, 0)
        if message["last"] <= have:
            return
        if message["first"] == have + 1:
            self.positions[run] = message["last"]
            if message.get("end"):
                self.ended.add(run)
            await self._send([message["html"]])
            return
        # A gap (the layer dropped a batch, or this viewer joined between the log and the
        # group) or an overlap: the log has everything up to this batch and beyond.
        await self._catch_up(run, have, message["last"])

    async def streams_beat(self, message: dict[str, Any]) -> None:
        if not self.ready:
            return
        self._heard = asyncio.get_running_loop().time()
        run, last = message.get("run"), message.get("last")
        if isinstance(run, str) and isinstance(last, int) and last > self.positions.get(run, 0):
            await self._catch_up(run, self.positions.get(run, 0), last)  # a batch was dropped
        await self.push(views.beat_fragment(self.key, message.get("at", 0)))

    async def streams_check(self, message: dict[str, Any]) -> None:
        """Nothing heard for a while although a run this viewer follows is not over: read the
        log (a dropped last batch, or a relay that died) and send what is missing."""
        self._checking = False
        loop = asyncio.get_running_loop()
        following = self._following()
        if not self.ready or following is None or loop.time() - self._heard < self._quiet():
            return
        self._heard = loop.time()
        runs = await asyncio.to_thread(views.read_runs, self.key)
        if following not in [item["run"] for item in runs]:
            await self.push(views.resync_fragment(self.key))  # expired meanwhile
            return
        parts: list[str] = []
        reached = False
        for item in runs:
            reached = reached or item["run"] == following
            have = self.positions.get(item["run"], 0)
            if reached and item["last"] > have:
                parts.append(views.render_from(self.key, item["run"], item["events"], have))
                self._reached(item["run"], item["events"])
        if parts:
            await self._send(parts)

    # --- bookkeeping --------------------------------------------------------------------------

    def _reached(self, run: str, events: list[Any]) -> None:
        """The viewer now has `events` of `run` (all of it the log holds)."""
        self.positions[run] = events[-1]["seq"] if events else self.positions.get(run, 0)
        if events and events[-1]["type"] in TERMINAL:
            self.ended.add(run)

    def _following(self) -> str | None:
        """The earliest run this viewer has not seen the end of (None: nothing to wait for)."""
        return next((run for run in self.positions if run not in self.ended), None)

    def _quiet(self) -> float:
        """Silence after which a viewer of a run in progress looks at the log itself."""
        return 1.5 * float(getattr(settings, "STREAM_HEARTBEAT_SECONDS", 10.0))

    def _watch(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watching())

    async def _watching(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            quiet = self._quiet()
            await asyncio.sleep(quiet / 3)
            if self._checking or self._following() is None or loop.time() - self._heard < quiet:
                continue
            # Through the consumer's own channel: the check runs in order with the batches.
            self._checking = True
            try:
                await self.channel_layer.send(self.channel_name, {"type": CHECK})
            except Exception:  # full: what fills it is on its way anyway
                self._checking = False

    async def _catch_up(self, run: str, have: int, upto: int) -> None:
        """Send `run`'s events after `have` (at least up to `upto`) from the log."""
        events = await asyncio.to_thread(log.read, self.key, run)
        last = events[-1]["seq"] if events else 0
        if last < upto or last != len(events):
            # The log lost events this viewer lacks (evicted or expired): reload the region.
            self.positions[run] = max(upto, last)
            await self.push(views.resync_fragment(self.key))
            return
        html = views.render_from(self.key, run, events, have)
        self._reached(run, events)
        await self._send([html])

    async def _send(self, parts: list[str]) -> None:
        if self.positions:
            run = next(reversed(self.positions))
            parts.append(views.position_fragment(self.key, run, self.positions[run]))
        html = "".join(parts)
        if html:
            await self.push(html)
