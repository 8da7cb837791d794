"""The websocket end: viewers of one stream key, caught up from the log, then live.

A viewer says where it stands once its socket is open, and is sent exactly what it lacks:

    → {"streams": "hello", "run": "<run or null>", "after": <last seq it has>}
    ← the rest of that run, every later run in full, then each batch as it is published

A viewer in step with the relay gets each batch's frame as the relay rendered it (the same text
for every viewer; it carries the new position). Batches a viewer has already seen are dropped;
batches that overlap or leave a gap are re-rendered from the log for this viewer alone: nothing
is lost and nothing is shown twice. A position the log no longer knows (a run expired, or the
page is older than every run kept), or a gap the log cannot fill any more, gets
`resync_fragment`: the page reloads its stream region.

Batches that arrive before the hello are dropped: the hello reads the log, which holds them
(a batch is logged before it is published).

What the hub delivers waits in the socket's bounded outbox (dashboard.fanout): when it
overflows, or the page stops reading and is paused, or the Redis subscription broke, the viewer
re-reads the log instead (the same catch-up as a gap). The last batches of a run have no next
one to show a gap; so a viewer also catches up when a heartbeat says more was published than it
has, and, while the run it follows is not over, when it has heard nothing for one and a half
heartbeat periods (a live relay beats every `STREAM_HEARTBEAT_SECONDS` of quiet): it then reads
the log, which also tells it when the relay died (`stream.lost`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.conf import settings

from dashboard.core.forms import loads as loads_json
from dashboard.fanout.outbox import OVERFLOW
from dashboard.fanout.socket import RESUME, RESYNC, FanoutConsumer

from . import log, recovery, views
from .relay import BATCH, BEAT, TERMINAL, kind_of, topic

logger = logging.getLogger(__name__)

UNAUTHENTICATED = 4401
FORBIDDEN = 4403
BAD_KEY = 4404

CHECK = "streams.check"  # a viewer to itself: it has heard nothing for too long
HELLO = "streams.hello"


class StreamConsumer(FanoutConsumer):
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
        self._hello: tuple[str | None, int] | None = None  # the page's position, not answered yet
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
        await self.fan_subscribe(topic(self.key))
        await self.accept()

    async def disconnect(self, code: int) -> None:
        watcher = getattr(self, "_watcher", None)
        if watcher is not None:
            watcher.cancel()
        await super().disconnect(code)

    async def receive_frame(self, text_data: str | None, bytes_data: bytes | None) -> None:
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
            self._hello = (
                run if isinstance(run, str) and run else None,
                after if isinstance(after, int) and after >= 0 else 0,
            )
            # In the outbox, so batches delivered meanwhile are handled after it, in order. An
            # overflow may drop it: the OVERFLOW that replaces it answers the hello then.
            self._outbox.put(HELLO)
            return
        if not await self._still_signed_in():
            await self.close(code=UNAUTHENTICATED)
            return
        await self.receive_message(message)

    async def _still_signed_in(self) -> bool:
        """The socket's user was read once, when it connected: an action sent after an admin
        signed them out everywhere (their sessions deleted) or after the session ended is
        refused, and the socket closed."""
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        if session is None or not key:
            return False
        try:
            return bool(await asyncio.to_thread(session.exists, key))
        except Exception:  # the database is away: the action itself will say so
            logger.warning("Could not check the session of a %s socket", self.key, exc_info=True)
            return True

    async def push(self, html: str) -> bool:
        """Send `html` to this socket; False when it was not sent (gone, or paused)."""
        return await self.send_frame(html)

    def _recover(self, runs: list[views.RunView]) -> None:
        """Runs whose relay died: have this process recover them unless another does."""
        for item in runs:
            if views.orphaned(item):
                recovery.ensure(self.key, item["run"])

    async def hello(self, run: str | None, after: int) -> None:
        """Send what the viewer at (run, after) lacks, then follow the live batches."""
        try:
            runs = await asyncio.to_thread(views.read_runs, self.key)
        except Exception as exc:
            if not log.unreachable(exc):
                raise
            # The log's Redis is away: follow from where the page stands; the viewer reads
            # the log again when it hears nothing (or when the subscription comes back).
            logger.warning("Stream viewer of %s could not read the log: %s", self.key, exc)
            if run is not None:
                self.positions[run] = after
            self._heard = asyncio.get_running_loop().time()
            self._watch()
            self.ready = True
            return
        self._recover(runs)
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
        marks: list[tuple[str, list[Any]]] = []
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
            marks.append((item["run"], item["events"]))
        self.ready = True
        await self._send(parts, marks)  # not sent (paused): it catches up when it resumes

    # --- what the hub delivered, in order (the outbox's writer task) -------------------------

    async def handle(self, item: Any) -> None:
        if item == HELLO or (item == OVERFLOW and self._hello is not None):
            hello, self._hello = self._hello, None
            if hello is not None:  # None: an earlier overflow answered it
                await self.hello(*hello)
            return
        if isinstance(item, tuple):
            _, message = item
            kind = message.get("k")
            if kind == BATCH:
                await self._batch(message)
            elif kind == BEAT:
                await self._beat(message)
            return
        if item == CHECK:
            await self._check()
        elif item in (OVERFLOW, RESUME, RESYNC):
            if item == OVERFLOW:
                self._checking = False  # a CHECK may have been dropped: the watcher may ask again
            if self.ready:
                await self._refill()

    async def _batch(self, message: dict[str, Any]) -> None:
        if not self.ready:
            return
        self._heard = asyncio.get_running_loop().time()
        if self.paused:
            # Nothing would reach the page: no log read and no render per batch for it. It
            # catches up from the log once when it resumes.
            return
        run = message["run"]
        have = self.positions.get(run, 0)
        if message["last"] <= have:
            return
        if message["first"] == have + 1 and self._latest_is(run):
            if await self.send_frame(message["frame"]):
                self.positions[run] = message["last"]
                if message.get("end"):
                    self.ended.add(run)
            return
        # A gap (a batch was lost on the way, or this viewer joined between the log and the
        # hub) or an overlap: the log has everything up to this batch and beyond.
        await self._catch_up(run, have, message["last"])

    def _latest_is(self, run: str) -> bool:
        """The shared frame moves the page's position to `run`: only right when `run` is the
        newest run this viewer knows (or a new one)."""
        return run not in self.positions or next(reversed(self.positions)) == run

    async def _beat(self, message: dict[str, Any]) -> None:
        if not self.ready:
            return
        self._heard = asyncio.get_running_loop().time()
        if self.paused:
            return
        run, last = message.get("run"), message.get("last")
        if isinstance(run, str) and isinstance(last, int) and last > self.positions.get(run, 0):
            await self._catch_up(run, self.positions.get(run, 0), last)  # a batch was lost
        await self.push(views.beat_fragment(self.key, message.get("at", 0)))

    async def _check(self) -> None:
        """Nothing heard for a while although a run this viewer follows is not over: read the
        log (a lost last batch, or a relay that died) and send what is missing."""
        self._checking = False
        loop = asyncio.get_running_loop()
        if self.paused or not self.ready or self._following() is None:
            return
        if loop.time() - self._heard < self._quiet():
            return
        self._heard = loop.time()
        await self._refill()

    async def _refill(self) -> None:
        """Send everything the log has beyond what this viewer has (from the run it follows)."""
        following = self._following() or next(reversed(self.positions), None)
        runs = await asyncio.to_thread(views.read_runs, self.key)
        self._recover(runs)
        known = [item["run"] for item in runs]
        if following is not None and following not in known:
            await self.push(views.resync_fragment(self.key))  # expired meanwhile
            return
        parts: list[str] = []
        marks: list[tuple[str, list[Any]]] = []
        reached = following is None
        for item in runs:
            reached = reached or item["run"] == following
            have = self.positions.get(item["run"], 0)
            if reached and item["last"] > have:
                parts.append(views.render_from(self.key, item["run"], item["events"], have))
                marks.append((item["run"], item["events"]))
        if parts:
            await self._send(parts, marks)

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
            # Through the outbox: the check runs in order with the batches.
            self._checking = True
            self._outbox.put(CHECK)

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
        await self._send([html], [(run, events)])

    async def _send(self, parts: list[str], marks: list[tuple[str, list[Any]]]) -> bool:
        """Send `parts` and the new position; the viewer has `marks` once they are sent."""
        positions = dict(self.positions)
        for run, events in marks:
            positions[run] = events[-1]["seq"] if events else positions.get(run, 0)
        if positions:
            run = next(reversed(positions))
            parts = [*parts, views.position_fragment(self.key, run, positions[run])]
        html = "".join(parts)
        if not html:
            return True
        if not await self.push(html):
            return False
        for run, events in marks:
            self._reached(run, events)
        return True
