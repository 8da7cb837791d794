"""The hub: this process's subscribers per topic, and in-memory delivery to them.

One hub per event loop (daphne serves from one; tests run one loop each). `deliver` hands the
same message object to every local subscriber of a topic, synchronously, on the loop: what a
subscriber does with it must not block (sockets put it in their `Outbox`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from typing import Any, Protocol

logger = logging.getLogger(__name__)

Message = dict[str, Any]


class Subscriber(Protocol):
    def deliver(self, topic: str, message: Message) -> None:
        """Take `message` (on the event loop; must not block)."""

    def resync(self, topic: str) -> None:
        """Messages of `topic` may have been lost: re-read what is shown (must not block)."""


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.topics: dict[str, set[Subscriber]] = {}
        self.delivered = 0  # messages handed to subscribers (for benchmarks and tests)

    # --- subscribing (on the loop) ------------------------------------------------------------

    async def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        """`subscriber` gets the topic's messages from now on. The process subscribes to the
        topic across processes when this is its first local subscriber."""
        subscribers = self.topics.setdefault(topic, set())
        first = not subscribers
        subscribers.add(subscriber)
        if first:
            from .broker import get_broker

            await get_broker().subscribe(self, topic)

    async def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        subscribers = self.topics.get(topic)
        if not subscribers or subscriber not in subscribers:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            del self.topics[topic]
            from .broker import get_broker

            await get_broker().unsubscribe(self, topic)

    def subscriber_count(self, topic: str) -> int:
        return len(self.topics.get(topic, ()))

    # --- delivering -------------------------------------------------------------------------

    def deliver(self, topic: str, message: Message) -> None:
        """Hand `message` to every local subscriber of `topic` (on the loop)."""
        for subscriber in list(self.topics.get(topic, ())):
            try:
                subscriber.deliver(topic, message)
            except Exception:
                logger.exception("A subscriber of %s failed to take a message", topic)
            self.delivered += 1

    def deliver_threadsafe(self, topic: str, message: Message) -> None:
        """`deliver` from any thread."""
        if topic not in self.topics or self.loop.is_closed():
            return
        if _running_loop() is self.loop:
            self.deliver(topic, message)
            return
        try:
            self.loop.call_soon_threadsafe(self.deliver, topic, message)
        except RuntimeError:  # the loop closed meanwhile
            pass

    def resync_all(self) -> None:
        """Tell every subscriber that messages may have been lost (on the loop)."""
        for topic, subscribers in list(self.topics.items()):
            for subscriber in list(subscribers):
                try:
                    subscriber.resync(topic)
                except Exception:
                    logger.exception("A subscriber of %s failed to resync", topic)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def hub() -> Hub:
    """The hub of the running event loop."""
    loop = asyncio.get_running_loop()
    with _lock:
        found = _hubs.get(loop)
        if found is None:
            found = _hubs[loop] = Hub(loop)
        return found


def hubs() -> list[Hub]:
    """Every hub of this process whose loop still runs (usually one)."""
    with _lock:
        return [h for h in list(_hubs.values()) if not h.loop.is_closed()]
