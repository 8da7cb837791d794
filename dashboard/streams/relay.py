"""One relay per stream: iterates the blocking source in the stream pool, numbers its events,
and per batch renders the frame once, logs the batch and publishes it (dashboard.fanout).

See the package docstring (dashboard/streams/__init__.py) for the API and its guarantees.

The hot path, per batch and whatever the number of viewers: one render, one frame, one log
append and one PUBLISH (pipelined together with Redis, by the process's log writer thread), one
hand-over to the local hub. The reader thread hands events over through a bounded inbox and
wakes the pump at most once per batch; the coalescing window grows while the process is busy
(`pressure()`), so an overloaded process sends fewer, larger batches instead of queueing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from dashboard import fanout
from dashboard.aws.errors import AwsError

from . import frames, log
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
# Not terminal: the relay's process stopped and the run is being recovered (recovery.py).
RELAY_LOST = "stream.relay_lost"

BATCH = "b"  # fan-out message kinds
BEAT = "beat"

INBOX_LIMIT = 10_000  # events a reader may hand over before it waits for the pump
MAX_WINDOW = 1.0  # the longest a batch waits under pressure, seconds

# (key, run, events, state) -> HTML fragments, or a list of HTML and frames.Append parts.
# `state` is a dict kept for one run and one reader (the relay, or a consumer catching up).
Render = Callable[[str, str, list[Event], dict[str, Any]], "str | list[str | frames.Append]"]
Source = Callable[[], Iterable[tuple[str, dict[str, Any]]]]


@dataclass(frozen=True)
class Kind:
    """How streams of one kind (the first part of their keys) are shown."""

    name: str
    render: Render
    coalesce: frozenset[str] = field(default_factory=frozenset)
    quiet: frozenset[str] = field(default_factory=frozenset)
    # The DOM id prefix of a run's elements: compact frames name targets relative to it.
    dom: Callable[[str], str] = field(default=lambda run: "")
    # (key, run, events so far) -> the events that finish the run as AWS recorded it, or None
    # while it is not recorded yet (blocking; called in the AWS thread pool). Kinds without it
    # end a run whose relay died with stream.lost.
    recover: Callable[[str, str, list[Event]], list[tuple[str, dict[str, Any]]] | None] | None = (
        None
    )


KINDS: dict[str, Kind] = {}


def register(
    name: str,
    *,
    render: Render,
    coalesce: Iterable[str] = (),
    quiet: Iterable[str] = (),
    dom: Callable[[str], str] | None = None,
    recover: Callable[[str, str, list[Event]], list[tuple[str, dict[str, Any]]] | None]
    | None = None,
) -> Kind:
    """Define kind `name`: keys "name:..." render with `render`; event types in `coalesce` may
    wait to travel together; types in `quiet` (heartbeats) only prove the stream alive and are
    neither logged nor sent. `dom(run)` is the prefix of the run's element ids, for compact
    frames (`frames.Append("~b0-raw", text)` appends to `dom(run) + "b0-raw"`). `recover`
    finishes a run whose relay died from what AWS recorded (see recovery.py)."""
    kind = Kind(
        name,
        render,
        frozenset(coalesce),
        frozenset(quiet),
        dom or (lambda run: ""),
        recover,
    )
    KINDS[name] = kind
    return kind


def kind_of(key: str) -> Kind:
    name = key.split(":", 1)[0]
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"No stream kind is registered for {key!r}") from None


def topic(key: str) -> str:
    """The fan-out topic of a key's viewers."""
    return "s:" + key


def new_run() -> str:
    return uuid.uuid4().hex[:16]


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


class Relay:
    """One run of one key. Create with `start()`."""

    def __init__(self, key: str, source: Source, meta: dict[str, Any]) -> None:
        self.key = key
        self.kind = kind_of(key)
        self.run = new_run()
        self.source = source
        self.meta = meta
        self.topic = topic(key)
        self.done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.published = 0  # batches sent
        self._sent = 0  # the last seq published
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()  # numbering and the inbox
        self._room = threading.Condition(self._lock)  # a reader waits here when the inbox is full
        self._inbox: deque[Event] = deque()
        self._heard = False  # a quiet event arrived since the pump last looked
        self._seq = 0
        self._closed = False  # a terminal event was numbered: nothing more is accepted
        self._wake = asyncio.Event()
        self._waiting = False  # the pump sleeps on _wake
        self._holding = False  # ... with a batch that waits for its window to end
        self._stop = threading.Event()
        self._iterator: Any = None
        self._state: dict[str, Any] = {}
        self._unlogged: list[Event] = []  # published here while the log could not be written
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
        except Exception as exc:
            if not log.unreachable(exc):
                self._loop.call_soon_threadsafe(_settle, opened, exc)
                _close(iterator)
                return
            # AWS has taken the call: saying it failed would have it made again on a retry
            # (a second message). Relay it to whoever this process reaches; the log gets the
            # events once its Redis is back (see _publish).
            logger.warning("Stream %s starts without its log: %s", self.key, exc)
        self._emit(START, dict(self.meta))
        self._loop.call_soon_threadsafe(_settle, opened, None)
        try:
            for event_type, data in iterator:
                if self._stop.is_set():
                    break
                if event_type in self.kind.quiet:
                    self._heard = True
                    self._poke()
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
        """Number one event and hand it to the pump (any thread). Nothing after a terminal one."""
        with self._lock:
            if self._closed:
                return None
            while len(self._inbox) >= INBOX_LIMIT and not self._stop.is_set():
                self._room.wait(0.5)  # the pump is behind: the source waits (AWS buffers)
            self._seq += 1
            event = Event(seq=self._seq, type=event_type, data=data, at=time.time())
            self._inbox.append(event)
            if event_type in TERMINAL:
                self._closed = True
        # While the pump holds a batch until its window ends, another delta need not wake it
        # (it would only join the batch): one wake-up per batch, not per event.
        if not (self._holding and event_type in self.kind.coalesce):
            self._poke()
        return event

    def _poke(self) -> None:
        if self._waiting:
            self._waiting = False
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # the loop is gone (process exit)
                pass

    def _take(self) -> list[Event]:
        with self._lock:
            items = list(self._inbox)
            self._inbox.clear()
            self._room.notify_all()
        return items

    # --- event loop ---------------------------------------------------------------------

    async def _start(self) -> None:
        holder = await lease(log.claim, self.key, self.run)
        if holder is not None:
            raise AlreadyStreaming(self.key, holder)
        opened: asyncio.Future[None] = self._loop.create_future()
        try:
            pool().submit(lambda: self._read(opened))
            await asyncio.shield(opened)
        except BaseException:
            self._stop.set()
            await lease(log.release, self.key, self.run)
            raise
        _ACTIVE[self.run] = self
        _monitor(self._loop)
        self._task = self._loop.create_task(self._pump(), name=f"relay {self.key}")

    async def _next(self, timeout: float) -> list[Event]:
        """What the reader handed over, waiting at most `timeout` for something."""
        items = self._take()
        if items or timeout <= 0:
            return items
        self._waiting = True
        if self._inbox or self._heard:  # handed over between _take and _waiting
            self._waiting = False
            return self._take()
        try:
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        except TimeoutError:
            pass
        finally:
            self._waiting = False
            self._wake.clear()
        return self._take()

    async def _pump(self) -> None:
        """Coalesce, render, log and publish until a terminal event; time out a silent stream."""
        loop = self._loop
        base = float(getattr(settings, "STREAM_COALESCE_SECONDS", 0.05))
        idle = float(getattr(settings, "STREAM_IDLE_TIMEOUT", 60.0))
        heartbeat = float(getattr(settings, "STREAM_HEARTBEAT_SECONDS", 10.0))
        buffer: list[Event] = []
        # Handed over by the reader, not yet published nor buffered. A batch being published
        # is in neither: it is the writer's now, which logs it even if this task is cancelled
        # meanwhile (a shutdown), so what the run's end publishes is exactly the rest.
        taken: deque[Event] = deque()
        window_ends = 0.0  # coalescible events wait until then (the first goes at once)
        last_heard = last_sent = last_renewed = loop.time()
        try:
            while True:
                now = loop.time()
                if now - last_renewed >= heartbeat:
                    try:
                        await lease(log.renew, self.key, self.run)
                    except Exception as exc:  # Redis away: keep relaying to who can hear
                        logger.warning("Could not renew the claim on %s: %s", self.key, exc)
                    last_renewed = now
                deadline = min(last_heard + idle, last_sent + heartbeat)
                if buffer:
                    deadline = min(deadline, window_ends)
                self._holding = bool(buffer)
                items = await self._next(max(0.0, deadline - now))
                self._holding = False
                taken.extend(items)
                now = loop.time()
                if items or self._heard:
                    last_heard = now
                    self._heard = False
                while taken:
                    event = taken.popleft()
                    if event["type"] in self.kind.coalesce:
                        if not buffer and now >= window_ends:
                            # The first delta after a quiet spell goes at once.
                            await self._publish([event])
                            window_ends = now + _window(base)
                            last_sent = loop.time()
                        else:
                            buffer.append(event)
                        continue
                    batch, buffer = [*buffer, event], []
                    await self._publish(batch)
                    # Something new began (a block, a status): its first delta goes at once.
                    window_ends = 0.0
                    last_sent = loop.time()
                    if event["type"] in TERMINAL:
                        await self._finish(event["type"])
                        return
                now = loop.time()
                if buffer and now >= window_ends:
                    batch, buffer = buffer, []
                    await self._publish(batch)
                    window_ends = now + _window(base)
                    last_sent = now
                if not items and not buffer:
                    if now - last_heard >= idle:
                        await self._terminate(TIMEOUT, {"seconds": idle, "message": _silent(idle)})
                        return
                    if now - last_sent >= heartbeat:
                        await self._beat()
                        last_sent = now
        except asyncio.CancelledError:
            pending = [*buffer, *taken]
            await self._terminate(INTERRUPTED, {"message": _INTERRUPTED}, pending=pending)
            raise
        except Exception:
            logger.exception("Relay of %s failed", self.key)
            await self._terminate(ERROR, error_data(RuntimeError()), pending=[*buffer, *taken])

    def _frame(self, events: list[Event]) -> str:
        try:
            parts = self.kind.render(self.key, self.run, events, self._state)
        except Exception:
            logger.exception("Could not render stream events of %s", self.key)
            parts = ""
        return frames.encode(self.key, self.run, events[-1]["seq"], parts, self.kind.dom(self.run))

    async def _publish(self, events: list[Event]) -> None:
        message = {
            "k": BATCH,
            "run": self.run,
            "first": events[0]["seq"],
            "last": events[-1]["seq"],
            # The run ends with this batch: a viewer that has it expects nothing more of it.
            "end": events[-1]["type"] in TERMINAL,
            "frame": self._frame(events),
        }
        self.published += 1
        self._sent = events[-1]["seq"]
        pending = [*self._unlogged, *events]
        try:
            await writer().write(self.key, self.run, pending, self.topic, message)
            self._unlogged = []
        except Exception as exc:
            # Redis away: this process's viewers get the batch all the same; the log gets it
            # with the next batch that can be written (it stays dense and in order), and other
            # processes' viewers catch up from it then (they see a gap, or a beat).
            logger.warning("Could not log and publish stream events of %s: %s", self.key, exc)
            self._unlogged = pending
            fanout.hub().deliver(self.topic, message)

    async def _beat(self) -> None:
        # `last`: what was published so far, so a viewer that missed a batch notices while the
        # run is quiet, and catches up.
        if self._unlogged:  # a quiet moment to write what the log still lacks
            try:
                await asyncio.to_thread(log.append, self.key, self.run, self._unlogged)
                self._unlogged = []
            except Exception as exc:
                logger.warning("The log of %s is still unreachable: %s", self.key, exc)
        message = {"k": BEAT, "run": self.run, "at": time.time(), "last": self._sent}
        await fanout.apublish(self.topic, message)

    async def _terminate(
        self, event_type: str, data: dict[str, Any], pending: list[Event] | None = None
    ) -> None:
        """End the run from the loop side (timeout, shutdown, failure): number the terminal
        event after whatever the reader handed over, publish all of it, stop the reader."""
        self._stop.set()
        event = self._emit(event_type, data)
        rest = [*(pending or []), *self._take()]
        if event is None and not rest:  # the reader had ended the run and it was published
            await asyncio.to_thread(self._abort)
            await self._finish(event_type)
            return
        if rest:
            await self._publish(rest)
        await asyncio.to_thread(self._abort)
        await self._finish(rest[-1]["type"] if rest else event_type)

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
    log.append(key, run, [lost_event(events)])


def relay_lost_event(events: list[Event]) -> Event:
    """The event a recoverable run gets when its relay is found gone (see recovery.py): the
    same for every reader that synthesizes it and for the recoverer that logs it."""
    last = events[-1]["seq"] if events else 0
    return Event(
        seq=last + 1,
        type=RELAY_LOST,
        data={
            "message": "The console process relaying this reply stopped. The reply shows here "
            "once the agent has recorded it."
        },
        at=events[-1]["at"] if events else 0.0,
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


# --- leases: claims on keys, never queued behind the rest ------------------------------------

_leases = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="stream-lease")


async def lease(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a lock operation (claim, renew, release) on threads of its own: in the default pool
    it would wait behind every viewer's log reads, and a renewal that waits past the lock's
    lifetime makes a living relay look dead."""
    return await asyncio.get_running_loop().run_in_executor(_leases, fn, *args)


# --- pressure: how far behind this process is ------------------------------------------------

_lag = 0.0  # smoothed event-loop lag, seconds
_monitored: set[asyncio.AbstractEventLoop] = set()


def pressure() -> float:
    """How late this process's event loop runs its work (seconds, smoothed), plus the log
    writer's backlog: what a batch would wait behind anyway."""
    return _lag + writer().backlog()


# Lag a healthy loop has anyway (a busy moment, a collection): the window does not stretch for
# it, so the configured window is the one in force until the process really falls behind.
SLACK = 0.02


def _window(base: float) -> float:
    """The coalescing window now: the configured one, stretched by the pressure beyond SLACK
    (a process that falls behind sends fewer, larger batches), at most MAX_WINDOW."""
    if base <= 0:
        return 0.0
    return min(MAX_WINDOW, base + 2 * max(0.0, pressure() - SLACK))


def _monitor(loop: asyncio.AbstractEventLoop) -> None:
    if loop in _monitored:
        return
    _monitored.add(loop)
    loop.create_task(_watch_lag(loop), name="stream pressure")


async def _watch_lag(loop: asyncio.AbstractEventLoop) -> None:
    global _lag
    tick = 0.05
    try:
        while True:
            before = loop.time()
            await asyncio.sleep(tick)
            late = max(0.0, loop.time() - before - tick)
            _lag = 0.8 * _lag + 0.2 * late
            if not _ACTIVE and _lag < 0.001:
                _lag = 0.0
    finally:
        _monitored.discard(loop)


# --- the log writer ---------------------------------------------------------------------------


class Writer:
    """Logs and publishes batches. In memory: at once. With Redis: one thread of the process
    takes every batch waiting, of every relay, and sends them in one pipeline (each batch's
    RPUSH before its PUBLISH), then hands each to the local hub on its loop."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending = 0
        self._oldest = 0.0

    def backlog(self) -> float:
        """Seconds the oldest waiting batch has waited (0 when none)."""
        return max(0.0, time.monotonic() - self._oldest) if self._pending else 0.0

    async def write(
        self, key: str, run: str, events: list[Event], topic: str, message: dict[str, Any]
    ) -> None:
        broker = fanout.get_broker()
        encoded = broker.encode(topic, message)
        if encoded is None:  # one process: the log is in memory, the hub is everything
            log.append(key, run, events)
            fanout.hub().deliver(topic, message)
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="stream log", daemon=True)
                self._thread.start()
        self._jobs.put((key, run, events, encoded, topic, message, loop, done))
        await done

    def _run(self) -> None:
        while True:
            jobs = [self._jobs.get()]
            while len(jobs) < 512:
                try:
                    jobs.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            error: BaseException | None = None
            try:
                _pipeline(jobs)
            except Exception as exc:
                error = exc
            with self._lock:
                self._pending -= len(jobs)
                self._oldest = time.monotonic()
            for _key, _run, _events, _encoded, topic, message, loop, done in jobs:
                try:
                    loop.call_soon_threadsafe(_delivered, topic, message, done, error)
                except RuntimeError:  # that loop has ended
                    pass


def _pipeline(jobs: list[Any]) -> None:
    """Every job's RPUSH (and expiry), then its PUBLISH, in one round trip."""
    store = log.store()
    client = store.client  # type: ignore[union-attr]
    pipe = client.pipeline(transaction=False)
    ttl_ms = int(log.ttl() * 1000)
    for key, run, events, encoded, *_ in jobs:
        name = store._events(key, run)  # type: ignore[union-attr]
        pipe.rpush(name, *[log.dumps(e) for e in events])
        pipe.pexpire(name, ttl_ms)
        pipe.publish(*encoded)
    pipe.execute()


def _delivered(
    topic: str, message: dict[str, Any], done: asyncio.Future[None], error: BaseException | None
) -> None:
    if error is None:
        fanout.hub().deliver(topic, message)
    if not done.done():
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)


_writer: Writer | None = None


def writer() -> Writer:
    global _writer
    if _writer is None:
        _writer = Writer()
    return _writer


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
    "RELAY_LOST",
    "START",
    "TERMINAL",
    "TIMEOUT",
    "AlreadyStreaming",
    "Kind",
    "PoolFull",
    "Relay",
    "active",
    "kind_of",
    "register",
    "shutdown",
    "start",
    "topic",
]
