"""The replay log: every numbered event of a stream, kept where every process can read it, so
that a tab can be told exactly what it missed.

For a stream key K and one run R of it (a run is one stream; a key has one run at a time and
keeps the last `RUNS_KEPT`):

- the head: ``{"runs": [{"run", "open", "started", "meta"}, ...]}``, oldest first, written at
  a run's start and end only;
- the events of R, in order: event n (seq n, dense from 1) at position n - 1, appended a batch
  at a time by the run's relay (its only writer);
- the lock: the run that streams now (one relay per key across processes), renewed by its
  relay's heartbeat; it lapses when that relay's process dies.

Two stores with the same behaviour: `MemoryLog` (one process: plain dicts, nothing pickled)
and `RedisLog` (REDIS_URL: a Redis list per run, RPUSH per batch, LRANGE from a position; the
relay's append and its fan-out PUBLISH go in one pipeline, the log first, so a reader that joins
between them finds the batch in the log). Both forget a run `STREAM_LOG_TTL` after its last
write.

Blocking calls: use them from threads (`asyncio.to_thread`), not on the event loop; the
in-memory store is quick enough to be called anywhere.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from typing import Any, TypedDict

from django.conf import settings

RUNS_KEPT = 10


class Event(TypedDict):
    seq: int
    type: str
    data: dict[str, Any]
    at: float


class RunInfo(TypedDict):
    run: str
    open: bool
    started: float
    meta: dict[str, Any]


def ttl() -> float:
    return float(getattr(settings, "STREAM_LOG_TTL", 900.0))


def lock_ttl() -> float:
    """The lock outlives three heartbeats: while it holds, its relay is alive."""
    return 3 * float(getattr(settings, "STREAM_HEARTBEAT_SECONDS", 10.0))


class MemoryLog:
    """The log of a single-process console."""

    def __init__(self, max_keys: int = 5000) -> None:
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._heads: OrderedDict[str, tuple[float, list[RunInfo]]] = OrderedDict()
        self._events: dict[tuple[str, str], tuple[float, list[Event]]] = {}
        self._locks: dict[str, tuple[float, str]] = {}

    def clear(self) -> None:
        with self._lock:
            self._heads.clear()
            self._events.clear()
            self._locks.clear()

    # the lock
    def claim(self, key: str, run: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            held = self._locks.get(key)
            if held is not None and held[0] > now and held[1] != run:
                return held[1]
            self._locks[key] = (now + lock_ttl(), run)
            return None

    def renew(self, key: str, run: str) -> bool:
        with self._lock:
            held = self._locks.get(key)
            if held is None or held[1] != run:
                return False
            self._locks[key] = (time.monotonic() + lock_ttl(), run)
            return True

    def release(self, key: str, run: str) -> None:
        with self._lock:
            held = self._locks.get(key)
            if held is not None and held[1] == run:
                del self._locks[key]

    def holder(self, key: str) -> str | None:
        with self._lock:
            held = self._locks.get(key)
            if held is None or held[0] <= time.monotonic():
                return None
            return held[1]

    # the head
    def runs(self, key: str) -> list[RunInfo]:
        with self._lock:
            found = self._heads.get(key)
            if found is None or found[0] <= time.monotonic():
                return []
            return [RunInfo(**item) for item in found[1]]  # type: ignore[typeddict-item]

    def save_runs(self, key: str, items: list[RunInfo]) -> None:
        with self._lock:
            self._forget_expired(time.monotonic())
            self._heads[key] = (time.monotonic() + ttl(), items[-RUNS_KEPT:])
            self._heads.move_to_end(key)
            kept = {(key, item["run"]) for item in items[-RUNS_KEPT:]}
            for stale in [k for k in self._events if k[0] == key and k not in kept]:
                del self._events[stale]
            while len(self._heads) > self.max_keys:
                old, _ = self._heads.popitem(last=False)
                for stale in [k for k in self._events if k[0] == old]:
                    del self._events[stale]

    def _forget_expired(self, now: float) -> None:
        """Drop what has expired, which reads already ignore: memory follows STREAM_LOG_TTL,
        not the number of keys ever streamed (up to `max_keys`, each with its last runs)."""
        for key in [k for k, (expires, _) in self._heads.items() if expires <= now]:
            del self._heads[key]
        for name in [k for k, (expires, _) in self._events.items() if expires <= now]:
            del self._events[name]

    # events
    def append(self, key: str, run: str, events: list[Event], publish: Any = None) -> None:
        with self._lock:
            found = self._events.get((key, run))
            items = found[1] if found is not None and found[0] > time.monotonic() else []
            items.extend(events)
            self._events[(key, run)] = (time.monotonic() + ttl(), items)

    def read(self, key: str, run: str, after: int = 0) -> list[Event]:
        with self._lock:
            found = self._events.get((key, run))
            if found is None or found[0] <= time.monotonic():
                return []
            return [dict(e) for e in found[1][after:]]  # type: ignore[misc]

    def read_all(self, key: str) -> tuple[str | None, list[tuple[RunInfo, list[Event]]]]:
        runs = self.runs(key)
        return self.holder(key), [(info, self.read(key, info["run"])) for info in runs]


class RedisLog:
    """The log of several processes, in Redis."""

    def __init__(self, client_factory: Any, prefix: str) -> None:
        self._client_factory = client_factory
        self.prefix = f"{prefix}:sl:"

    @property
    def client(self) -> Any:
        return self._client_factory()

    def _head(self, key: str) -> str:
        return f"{self.prefix}h:{key}"

    def _events(self, key: str, run: str) -> str:
        return f"{self.prefix}e:{key}:{run}"

    def _lock(self, key: str) -> str:
        return f"{self.prefix}l:{key}"

    def clear(self) -> None:
        for name in self.client.scan_iter(match=self.prefix + "*", count=500):
            self.client.delete(name)

    # the lock
    def claim(self, key: str, run: str) -> str | None:
        millis = math.ceil(lock_ttl() * 1000)
        if self.client.set(self._lock(key), run, nx=True, px=millis):
            return None
        holder = self.holder(key)
        if holder == run:
            return None if self.client.set(self._lock(key), run, px=millis) else "another run"
        if holder is None:
            # It lapsed meanwhile: claim it like anyone else (NX), never over another's claim.
            if self.client.set(self._lock(key), run, nx=True, px=millis):
                return None
            return self.holder(key) or "another run"
        return holder

    # Only the holder renews or releases (a lapsed lock may have been claimed by another run).
    _RENEW = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then "
        "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
    )
    _RELEASE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
        "return 0"
    )

    def renew(self, key: str, run: str) -> bool:
        return bool(
            self.client.eval(self._RENEW, 1, self._lock(key), run, math.ceil(lock_ttl() * 1000))
        )

    def release(self, key: str, run: str) -> None:
        self.client.eval(self._RELEASE, 1, self._lock(key), run)

    def holder(self, key: str) -> str | None:
        value = self.client.get(self._lock(key))
        return value.decode() if isinstance(value, bytes) else value

    # the head
    def runs(self, key: str) -> list[RunInfo]:
        return _head_runs(self.client.get(self._head(key)))

    def save_runs(self, key: str, items: list[RunInfo]) -> None:
        body = json.dumps({"runs": items[-RUNS_KEPT:]}, separators=(",", ":"))
        self.client.set(self._head(key), body, px=math.ceil(ttl() * 1000))

    # events
    def append(
        self, key: str, run: str, events: list[Event], publish: tuple[str, str] | None = None
    ) -> None:
        """Append `events`, then (same pipeline, same round trip) PUBLISH `publish`."""
        name = self._events(key, run)
        pipe = self.client.pipeline(transaction=False)
        pipe.rpush(name, *[dumps(e) for e in events])
        pipe.pexpire(name, math.ceil(ttl() * 1000))
        if publish is not None:
            pipe.publish(*publish)
        pipe.execute()

    def read(self, key: str, run: str, after: int = 0) -> list[Event]:
        return [json.loads(item) for item in self.client.lrange(self._events(key, run), after, -1)]

    def read_all(self, key: str) -> tuple[str | None, list[tuple[RunInfo, list[Event]]]]:
        """The holder, the runs and all their events, in two round trips."""
        pipe = self.client.pipeline(transaction=False)
        pipe.get(self._lock(key))
        pipe.get(self._head(key))
        holder, head = pipe.execute()
        runs = _head_runs(head)
        if not runs:
            return _text(holder), []
        pipe = self.client.pipeline(transaction=False)
        for info in runs:
            pipe.lrange(self._events(key, info["run"]), 0, -1)
        found = pipe.execute()
        return _text(holder), [
            (info, [json.loads(item) for item in items])
            for info, items in zip(runs, found, strict=True)
        ]


def dumps(event: Event) -> str:
    return json.dumps(event, separators=(",", ":"))


def unreachable(exc: BaseException) -> bool:
    """`exc` says the log's Redis cannot be reached (restarting, failing over, gone)."""
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - redis is a dependency
        return False
    return isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError))


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _head_runs(raw: Any) -> list[RunInfo]:
    if not raw:
        return []
    try:
        return list(json.loads(raw).get("runs", []))
    except (TypeError, ValueError):
        return []


_store: MemoryLog | RedisLog | None = None
_config: str | None = None
_store_lock = threading.Lock()


def store() -> MemoryLog | RedisLog:
    """The process's log store: Redis when REDIS_URL is set, else in memory."""
    global _store, _config
    url = str(getattr(settings, "REDIS_URL", "") or "")
    with _store_lock:
        if _store is None or _config != url:
            if url:
                from dashboard.fanout.broker import get_broker

                prefix = str(getattr(settings, "REDIS_PREFIX", "console"))
                _store = RedisLog(lambda: get_broker().sync_client(), prefix)  # type: ignore[attr-defined]
            else:
                _store = MemoryLog(int(getattr(settings, "STREAM_LOG_MAX_KEYS", 5000)))
            _config = url
        return _store


def reset() -> None:
    """Forget every stream (tests)."""
    store().clear()


# --- the module's API (one store per process) -----------------------------------------------


def claim(key: str, run: str) -> str | None:
    """Take the key for `run`; None on success, else the run that holds it."""
    return store().claim(key, run)


def renew(key: str, run: str) -> bool:
    """Extend `run`'s hold on the key; False when it no longer holds it (it lapsed)."""
    return store().renew(key, run)


def release(key: str, run: str) -> None:
    store().release(key, run)


def holder(key: str) -> str | None:
    return store().holder(key)


def runs(key: str) -> list[RunInfo]:
    return store().runs(key)


def begin(key: str, run: str, meta: dict[str, Any]) -> list[RunInfo]:
    """Add `run` to the head (open). Returns earlier runs still marked open: their relays died
    (we hold the lock now), so the caller ends them in the log."""
    items = runs(key)
    orphans = [dict(item) for item in items if item["open"]]
    for item in items:
        item["open"] = False
    items.append(RunInfo(run=run, open=True, started=time.time(), meta=meta))
    store().save_runs(key, items)
    return orphans  # type: ignore[return-value]


def finish(key: str, run: str) -> None:
    items = runs(key)
    for item in items:
        if item["run"] == run:
            item["open"] = False
    store().save_runs(key, items)


def append(key: str, run: str, events: list[Event], publish: Any = None) -> None:
    """Append a batch of `run`'s events (its relay only), then PUBLISH `publish` (channel,
    payload) to other processes, in that order."""
    store().append(key, run, events, publish)


def read(key: str, run: str, after: int = 0) -> list[Event]:
    """The run's events with seq > `after`, in order, as far as the log has them."""
    return store().read(key, run, after)


def read_all(key: str) -> tuple[str | None, list[tuple[RunInfo, list[Event]]]]:
    """(the lock holder, [(run info, its events), ...] oldest first) in one go."""
    return store().read_all(key)
