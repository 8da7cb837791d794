"""The replay log: every numbered event of a stream, kept in the Django cache (Redis when
REDIS_URL is set) so that any process can tell a tab what it missed.

Layout, for a stream key K and one run R of it (a run is one stream; a key has one run at a
time and keeps the last few):

- ``streams:head:K``: ``{"runs": [{"run", "open", "started", "meta"}, ...]}``, oldest first;
- ``streams:chunk:K:R:<n>``: events ``n*CHUNK+1 .. (n+1)*CHUNK`` of run R (a list);
- ``streams:lock:K``: the run that streams now (one relay per key across processes), renewed
  by its relay's heartbeat; it expires when that relay's process dies.

One writer per run (its relay); the head is written at a run's start and end only. Events are
written before they are published, so a reader that joined a group and then reads the log
misses nothing: whatever it did not find here reaches it through the group.

Blocking calls: use them from threads (`asyncio.to_thread`), not on the event loop. Django's
Redis cache counts timeouts in whole seconds, so every timeout is rounded up.
"""

from __future__ import annotations

import math
import time
from typing import Any, TypedDict

from django.conf import settings
from django.core.cache import cache

CHUNK = 32
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


def _seconds(value: float) -> int:
    return max(1, math.ceil(value))


def ttl() -> int:
    return _seconds(float(getattr(settings, "STREAM_LOG_TTL", 900.0)))


def lock_ttl() -> int:
    return _seconds(3 * float(getattr(settings, "STREAM_HEARTBEAT_SECONDS", 10.0)))


def _head(key: str) -> str:
    return f"streams:head:{key}"


def _chunk(key: str, run: str, number: int) -> str:
    return f"streams:chunk:{key}:{run}:{number}"


def _lock(key: str) -> str:
    return f"streams:lock:{key}"


# --- the lock: one relay per key ------------------------------------------------------------


def claim(key: str, run: str) -> str | None:
    """Take the key for `run`; None on success, else the run that holds it."""
    if cache.add(_lock(key), run, lock_ttl()):
        return None
    holder = cache.get(_lock(key))
    if holder is None:  # expired between add and get
        return None if cache.add(_lock(key), run, lock_ttl()) else "another run"
    return str(holder)


def renew(key: str, run: str) -> None:
    if cache.get(_lock(key)) == run:
        cache.touch(_lock(key), lock_ttl())


def release(key: str, run: str) -> None:
    if cache.get(_lock(key)) == run:
        cache.delete(_lock(key))


def holder(key: str) -> str | None:
    return cache.get(_lock(key))


# --- the head: which runs a key has --------------------------------------------------------


def runs(key: str) -> list[RunInfo]:
    return list((cache.get(_head(key)) or {}).get("runs", []))


def _save_runs(key: str, items: list[RunInfo]) -> None:
    cache.set(_head(key), {"runs": items[-RUNS_KEPT:]}, ttl())


def begin(key: str, run: str, meta: dict[str, Any]) -> list[RunInfo]:
    """Add `run` to the head (open). Returns earlier runs still marked open: their relays died
    (we hold the lock now), so the caller ends them with `append(..., lost event)`."""
    items = runs(key)
    orphans = [item for item in items if item["open"]]
    for item in orphans:
        item["open"] = False
    items.append(RunInfo(run=run, open=True, started=time.time(), meta=meta))
    _save_runs(key, items)
    return orphans


def finish(key: str, run: str) -> None:
    items = runs(key)
    for item in items:
        if item["run"] == run:
            item["open"] = False
    _save_runs(key, items)


# --- events ---------------------------------------------------------------------------------


class Writer:
    """Appends a run's events (the relay's only; not thread-safe: callers hold its lock)."""

    def __init__(self, key: str, run: str, start_seq: int = 0) -> None:
        self.key = key
        self.run = run
        self.seq = start_seq
        self._chunk: list[Event] = []
        self._number = start_seq // CHUNK
        if start_seq % CHUNK:
            self._chunk = read(key, run)[self._number * CHUNK :]

    def append(self, event: Event) -> None:
        self._chunk.append(event)
        self.seq = event["seq"]
        cache.set(_chunk(self.key, self.run, self._number), self._chunk, ttl())
        if len(self._chunk) >= CHUNK:
            self._number += 1
            self._chunk = []


def read(key: str, run: str, after: int = 0) -> list[Event]:
    """The run's events with seq > `after`, in order, as far as the log has them."""
    out: list[Event] = []
    number = after // CHUNK
    while True:
        batch = min(8, 1 + number)  # read a few chunks per round trip
        names = [_chunk(key, run, n) for n in range(number, number + batch)]
        found = cache.get_many(names)
        for name in names:
            chunk = found.get(name)
            if not chunk:
                return [e for e in out if e["seq"] > after]
            out.extend(chunk)
            if len(chunk) < CHUNK:
                return [e for e in out if e["seq"] > after]
        number += batch
