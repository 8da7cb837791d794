"""Shared fakes for the live-update tests (this module holds no tests): a fake AWS backend
whose fetch counts its calls, a render, and a listener on a plain channel-layer channel."""

from __future__ import annotations

import asyncio
import copy
import threading
import time
import uuid
from typing import Any

from django.utils.html import escape

from dashboard.live import Change, Registry, Watch, make_key

INTERVAL = 0.05


class FakeBackend:
    """Stands in for AWS: the test edits `items`; `fetch` returns a copy and counts calls."""

    def __init__(self, items: dict[str, Any] | None = None) -> None:
        self.items: dict[str, Any] = dict(items or {})
        self.calls: list[float] = []
        self.error: Exception | None = None
        self._lock = threading.Lock()

    def fetch(self, space_id: str) -> dict[str, Any]:
        with self._lock:
            self.calls.append(time.monotonic())
            if self.error is not None:
                raise self.error
            return copy.deepcopy(self.items)

    @property
    def count(self) -> int:
        return len(self.calls)


def render(change: Change) -> str:
    element = f"task-{change.item_id}"
    if change.kind == "deleted":
        return f'<div id="{element}" hx-swap-oob="delete"></div>'
    swap = "beforeend:#tasks" if change.kind == "created" else "true"
    title = escape(change.item["title"])
    return f'<div id="{element}" hx-swap-oob="{swap}" data-kind="{change.kind}">{title}</div>'


def watches(backend: FakeBackend) -> dict[str, Watch]:
    return {"board": Watch("board", backend.fetch, render)}


def new_key() -> tuple[str, str]:
    """A fresh (key, space id): runs sharing one Redis must not see each other's leases."""
    space_id = "space-" + uuid.uuid4().hex[:12]
    return make_key("board", space_id), space_id


def new_registry(backend: FakeBackend, **kwargs: Any) -> Registry:
    return Registry(watches(backend), interval=INTERVAL, **kwargs)


async def wait_until(predicate, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def fetches_during(backend: FakeBackend, window: float) -> list[float]:
    """The fetch times of the next `window` seconds (not of the setup before)."""
    start = time.monotonic()
    await asyncio.sleep(window)
    return [t for t in backend.calls if t >= start]


def assert_one_fetch_per_interval(calls: list[float], window: float) -> None:
    """At most one fetch per interval over `window` seconds (and polling at all).

    The upper bound is the property under test. The lower one only shows the poller is alive:
    on a busy two-core machine a thread hop can stall for a few intervals.
    """
    intervals = window / INTERVAL
    assert len(calls) <= intervals + 1, f"{len(calls)} fetches in {intervals:.0f} intervals"
    assert len(calls) >= 2, f"only {len(calls)} fetches in {intervals:.0f} intervals"


class Listener:
    """Collects the live fragments delivered to one subscriber of this process's hub (as a
    socket would get them). Pass the listener itself where a registry wants a subscriber."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[str] = asyncio.Queue()
        self.resyncs = 0

    @property
    def channel(self) -> Listener:
        return self

    async def start(self) -> Listener:
        return self

    def deliver(self, topic: str, message: dict) -> None:
        self.messages.put_nowait(message["html"])

    def resync(self, topic: str) -> None:
        self.resyncs += 1

    async def next(self, timeout: float = 1.0) -> str:
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def nothing(self, timeout: float = 0.2) -> bool:
        await asyncio.sleep(timeout)
        return self.messages.empty()

    async def stop(self) -> None:
        return


class Sink:
    """A subscriber that drops what it gets (a socket nobody reads, for counting fetches)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def deliver(self, topic: str, message: dict) -> None:
        pass

    def resync(self, topic: str) -> None:
        pass


_SINKS: dict[str, Sink] = {}


def sink(name: str) -> Sink:
    """The same Sink for the same name (to unsubscribe what was subscribed)."""
    return _SINKS.setdefault(name, Sink(name))
