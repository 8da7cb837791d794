"""One relay per stream: iterates the blocking source in the stream pool, numbers and logs
every event, and publishes rendered batches to the key's channel-layer group.

See the package docstring (dashboard/streams/__init__.py) for the API and its guarantees.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from dashboard.aws.errors import AwsError

from . import log
from .log import Event
from .pool import PoolFull, pool

logger = logging.getLogger(__name__)

START = "stream.start"
END = "stream.end"
ERROR = "stream.error"
TIMEOUT = "stream.timeout"
INTERRUPTED = "stream.interrupted"
LOST = "stream.lost"
TERMINAL = frozenset({END, ERROR, TIMEOUT, INTERRUPTED, LOST})

BATCH = "streams.batch"
BEAT = "streams.beat"

# (key, run, events, state) -> HTML fragments. `state` is a dict kept for one run and one
# reader (the relay, or a consumer catching up), for whatever the renderer must remember.
Render = Callable[[str, str, list[Event], dict[str, Any]], str]
Source = Callable[[], Iterable[tuple[str, dict[str, Any]]]]


@dataclass(frozen=True)
class Kind:
    """How streams of one kind (the first part of their keys) are shown."""

    name: str
    render: Render
    coalesce: frozenset[str] = field(default_factory=frozenset)
    quiet: frozenset[str] = field(default_factory=frozenset)


KINDS: dict[str, Kind] = {}


def register(
    name: str, *, render: Render, coalesce: Iterable[str] = (), quiet: Iterable[str] = ()
) -> Kind:
    """Define kind `name`: keys "name:..." render with `render`; event types in `coalesce` may
    wait up to STREAM_COALESCE_SECONDS to travel together; types in `quiet` (heartbeats) only
    prove the stream alive and are neither logged nor sent."""
    kind = Kind(name, render, frozenset(coalesce), frozenset(quiet))
    KINDS[name] = kind
    return kind


def kind_of(key: str) -> Kind:
    name = key.split(":", 1)[0]
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"No stream kind is registered for {key!r}") from None


def group_name(key: str) -> str:
    """The channel-layer group of a key's viewers (group names allow few characters)."""
    return "streams." + hashlib.sha256(key.encode()).hexdigest()[:40]


class AlreadyStreaming(Exception):
    """The key has a run in progress (one relay per key)."""

    def __init__(self, key: str, run: str) -> None:
        super().__init__("A stream is already in progress here; wait for it to finish.")
        self.key = key
        self.run = run


def error_data(exc: BaseException) -> dict[str, Any]:
    """What a stream.error event says about `exc`."""
    if isinstance(exc, AwsError):
        return {
            "code": exc.code or type(exc).__name__,
            "message": exc.message,
            "title": exc.title,
        }
    return {
        "code": type(exc).__name__,
        "message": "The stream broke off because of an error in the console.",
        "title": "Stream failed",
    }


_QUIET = object()  # a quiet event: proof of life only


class Relay:
    """One run of one key. Create with `start()`."""

    def __init__(self, key: str, source: Source, meta: dict[str, Any]) -> None:
        self.key = key
        self.kind = kind_of(key)
        self.run = uuid.uuid4().hex
        self.source = source
        self.meta = meta
        self.group = group_name(key)
        self.done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.published = 0  # batches sent
        self._sent = 0  # the last seq published
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._lock = threading.Lock()  # sequence numbers and log order
        self._writer = log.Writer(key, self.run)
        self._closed = False  # a terminal event was logged: nothing more is accepted
        self._stop = threading.Event()
        self._iterator: Any = None
        self._state: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None

    # --- reader thread -----------------------------------------------------------------

    def _read(self, opened: asyncio.Future[None]) -> None:
        try:
            iterator = iter(self.source())
        except BaseException as exc:
            self._loop.call_soon_threadsafe(_settle, opened, exc)
            return
        self._iterator = iterator
        try:
            orphans = log.begin(self.key, self.run, self.meta)
            for orphan in orphans:
                _close_orphan(self.key, orphan["run"])
            self._emit(START, dict(self.meta))
        except BaseException as exc:
            self._loop.call_soon_threadsafe(_settle, opened, exc)
            _close(iterator)
            return
        self._loop.call_soon_threadsafe(_settle, opened, None)
        try:
            for event_type, data in iterator:
                if self._stop.is_set():
                    break
                if event_type in self.kind.quiet:
                    self._loop.call_soon_threadsafe(self._queue.put_nowait, _QUIET)
                else:
                    self._emit(event_type, data)
            else:
                self._emit(END, {})
        except Exception as exc:
            if not self._stop.is_set():
                logger.warning("Stream %s broke off: %s", self.key, exc)
                self._emit(ERROR, error_data(exc))
        finally:
            _close(iterator)
            if not self._closed:  # stopped from outside without a terminal event yet
                self._emit(INTERRUPTED, {"message": "The stream was stopped."})

    def _emit(self, event_type: str, data: dict[str, Any]) -> Event | None:
        """Number, log and hand over one event (any thread). Nothing after a terminal one."""
        with self._lock:
            if self._closed:
                return None
            event = Event(seq=self._writer.seq + 1, type=event_type, data=data, at=time.time())
            self._writer.append(event)
            if event_type in TERMINAL:
                self._closed = True
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        except RuntimeError:  # the loop is gone (process exit)
            pass
        return event

    # --- event loop ---------------------------------------------------------------------

    async def _start(self) -> None:
        holder = await asyncio.to_thread(log.claim, self.key, self.run)
        if holder is not None:
            raise AlreadyStreaming(self.key, holder)
        opened: asyncio.Future[None] = self._loop.create_future()
        try:
            pool().submit(lambda: self._read(opened))
            await asyncio.shield(opened)
        except BaseException:
            self._stop.set()
            await asyncio.to_thread(log.release, self.key, self.run)
            raise
        _ACTIVE[self.run] = self
        self._task = self._loop.create_task(self._pump(), name=f"relay {self.key}")

    async def _pump(self) -> None:
        """Coalesce, render and publish until a terminal event; time out a silent stream."""
        loop = self._loop
        window = float(getattr(settings, "STREAM_COALESCE_SECONDS", 0.05))
        idle = float(getattr(settings, "STREAM_IDLE_TIMEOUT", 60.0))
        heartbeat = float(getattr(settings, "STREAM_HEARTBEAT_SECONDS", 10.0))
        buffer: list[Event] = []
        window_ends = 0.0  # coalescible events wait until then (the first goes at once)
        last_heard = last_sent = last_renewed = loop.time()
        try:
            while True:
                now = loop.time()
                if now - last_renewed >= heartbeat:
                    # The lock outlives three heartbeats: while it holds, this run is alive.
                    await asyncio.to_thread(log.renew, self.key, self.run)
                    last_renewed = now
                deadline = min(last_heard + idle, last_sent + heartbeat)
                if buffer:
                    deadline = min(deadline, window_ends)
                try:
                    if self._queue.empty():
                        async with asyncio.timeout(max(0.0, deadline - now)):
                            item = await self._queue.get()
                    else:
                        item = self._queue.get_nowait()
                except TimeoutError:
                    item = None
                now = loop.time()
                if item is not None:
                    last_heard = now
                if buffer and now >= window_ends:
                    await self._publish(buffer)
                    buffer = []
                    window_ends = now + window
                    last_sent = now
                if item is None or item is _QUIET:
                    if now - last_heard >= idle:
                        await self._terminate(TIMEOUT, {"seconds": idle, "message": _silent(idle)})
                        return
                    if now - last_sent >= heartbeat:
                        await self._beat()
                        last_sent = now
                    continue
                event: Event = item
                if event["type"] in self.kind.coalesce:
                    if buffer or now < window_ends:
                        buffer.append(event)
                        continue
                    await self._publish([event])
                    window_ends = now + window
                else:
                    await self._publish([*buffer, event])
                    buffer = []
                    # Something new began (a block, a status): its first delta goes at once.
                    window_ends = 0.0
                last_sent = now
                if event["type"] in TERMINAL:
                    await self._finish(event["type"])
                    return
        except asyncio.CancelledError:
            await self._terminate(INTERRUPTED, {"message": _INTERRUPTED})
            raise
        except Exception:
            logger.exception("Relay of %s failed", self.key)
            await self._terminate(ERROR, error_data(RuntimeError()))

    async def _publish(self, events: list[Event]) -> None:
        try:
            html = self.kind.render(self.key, self.run, events, self._state)
        except Exception:
            logger.exception("Could not render stream events of %s", self.key)
            html = ""
        message = {
            "type": BATCH,
            "key": self.key,
            "run": self.run,
            "first": events[0]["seq"],
            "last": events[-1]["seq"],
            # The run ends with this batch: a viewer that has it expects nothing more of it.
            "end": events[-1]["type"] in TERMINAL,
            "html": html,
        }
        self.published += 1
        self._sent = events[-1]["seq"]
        try:
            await get_channel_layer().group_send(self.group, message)
        except Exception:
            # Viewers catch up from the log when the layer is back (they see a gap).
            logger.exception("Could not publish stream events of %s", self.key)

    async def _beat(self) -> None:
        try:
            await get_channel_layer().group_send(
                self.group,
                # `last`: what was published so far, so a viewer that missed a batch (a full
                # channel drops messages) notices while the run is quiet, and catches up.
                {
                    "type": BEAT,
                    "key": self.key,
                    "run": self.run,
                    "at": time.time(),
                    "last": self._sent,
                },
            )
        except Exception:
            logger.exception("Could not send the heartbeat of %s", self.key)

    async def _terminate(self, event_type: str, data: dict[str, Any]) -> None:
        """End the run from the loop side (timeout, shutdown): log, publish, stop the reader."""
        self._stop.set()
        event = await asyncio.to_thread(self._emit, event_type, data)
        # What the reader handed over and nobody sent yet goes first, in order (when the reader
        # ended the run itself meanwhile, its own terminal event is among it).
        pending: list[Event] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not _QUIET and (event is None or item["seq"] < event["seq"]):
                pending.append(item)
        if event is not None:
            pending.append(event)
        if pending:
            await self._publish(pending)
        await asyncio.to_thread(self._abort)
        await self._finish(pending[-1]["type"] if pending else event_type)

    def _abort(self) -> None:
        """Close the source from outside its thread (best effort: it may be mid-read)."""
        abort = getattr(self._iterator, "abort", None)
        if abort is not None:
            try:
                abort()
            except Exception:
                logger.debug("Could not abort the stream of %s", self.key, exc_info=True)

    async def _finish(self, how: str) -> None:
        _ACTIVE.pop(self.run, None)
        try:
            await asyncio.to_thread(_finish_log, self.key, self.run)
        except Exception:
            logger.exception("Could not close the stream log of %s", self.key)
        if not self.done.done():
            self.done.set_result(how)

    async def interrupt(self, message: str = "") -> None:
        """Stop this run now (daphne stopping): viewers are told it was interrupted."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                logger.debug("Relay of %s stopped", self.key, exc_info=True)
        if not self.done.done():
            await self._terminate(INTERRUPTED, {"message": message or _INTERRUPTED})

    async def wait(self, timeout: float | None = None) -> str:
        """The terminal event type once the run is over (TimeoutError after `timeout`)."""
        return await asyncio.wait_for(asyncio.shield(self.done), timeout)


_INTERRUPTED = "The console stopped relaying this stream (it is restarting). Retry in a moment."


def _silent(seconds: float) -> str:
    return f"Nothing arrived for {seconds:g} seconds: the stream was given up."


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)


def _close(iterator: Any) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            logger.debug("Closing a stream failed", exc_info=True)


def _finish_log(key: str, run: str) -> None:
    log.finish(key, run)
    log.release(key, run)


def _close_orphan(key: str, run: str) -> None:
    """End a run whose relay died (its process stopped without a word) in the log."""
    events = log.read(key, run)
    if events and events[-1]["type"] in TERMINAL:
        return
    writer = log.Writer(key, run, start_seq=events[-1]["seq"] if events else 0)
    writer.append(
        Event(
            seq=writer.seq + 1,
            type=LOST,
            data={"message": "The console process relaying this stream stopped."},
            at=time.time(),
        )
    )


def lost_event(events: list[Event]) -> Event:
    """The terminal event a reader shows for an open run whose relay is gone."""
    last = events[-1]["seq"] if events else 0
    return Event(
        seq=last + 1,
        type=LOST,
        data={"message": "The console process relaying this stream stopped."},
        at=time.time(),
    )


# --- starting, and stopping everything ------------------------------------------------------

_ACTIVE: dict[str, Relay] = {}
_hook_installed = False


async def start(key: str, source: Source, *, meta: dict[str, Any] | None = None) -> Relay:
    """Start relaying `source` to the viewers of `key`.

    `source()` runs in a stream thread: it makes the blocking call and returns an iterable of
    `(event_type, data)` pairs. Raises at once, before anything is published: `PoolFull`,
    `AlreadyStreaming`, or whatever `source()` raised (e.g. the AWS error of the call).
    """
    _install_shutdown_hook()
    relay = Relay(key, source, dict(meta or {}))
    # Shielded: once the call is made, the run goes on for every viewer even if the one who
    # started it goes away (a closed tab, a cancelled request).
    task = relay._loop.create_task(relay._start())
    task.add_done_callback(_retrieve)
    await asyncio.shield(task)
    return relay


def _retrieve(task: asyncio.Task[None]) -> None:
    # A start whose caller went away: its failure was nobody's to report.
    if not task.cancelled():
        task.exception()


def active() -> list[Relay]:
    """Runs this process relays now: those of the running event loop.

    A process serves from one loop; runs left by a loop that has ended (one per test) can no
    longer progress, so they are forgotten rather than handed to a caller who would await them
    on the wrong loop.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return list(_ACTIVE.values())
    for run, relay in list(_ACTIVE.items()):
        if relay._loop.is_closed():
            _ACTIVE.pop(run, None)
    return [relay for relay in _ACTIVE.values() if relay._loop is loop]


async def shutdown(message: str = "", timeout: float = 3.0) -> None:
    """Tell the viewers of every run of this process that it was interrupted, and stop."""
    relays = active()
    if not relays:
        return
    logger.info("Interrupting %d stream(s) for shutdown", len(relays))
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(
                *(relay.interrupt(message) for relay in relays), return_exceptions=True
            )
    except TimeoutError:
        logger.warning("Streams did not all stop within %.1fs", timeout)


def _install_shutdown_hook() -> None:
    """Under daphne (Twisted), interrupt streams before the reactor stops, while the event loop
    still runs; the stream threads are daemons, so the process never waits for them."""
    global _hook_installed
    if _hook_installed:
        return
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None or not getattr(reactor, "running", False):
        return
    from twisted.internet import defer

    def before_shutdown() -> Any:
        return defer.Deferred.fromFuture(asyncio.ensure_future(shutdown()))

    reactor.addSystemEventTrigger("before", "shutdown", before_shutdown)
    _hook_installed = True


__all__ = [
    "END",
    "ERROR",
    "INTERRUPTED",
    "LOST",
    "START",
    "TERMINAL",
    "TIMEOUT",
    "AlreadyStreaming",
    "Kind",
    "PoolFull",
    "Relay",
    "active",
    "group_name",
    "kind_of",
    "register",
    "shutdown",
    "start",
]
