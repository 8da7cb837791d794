"""Between processes: nothing (one process, `MemoryBroker`) or Redis pub/sub (`RedisBroker`).

`publish` delivers to this process's hub at once and, with Redis, PUBLISHes the message once
for every other process; a process ignores its own messages when they come back. Each process
SUBSCRIBEs, on one connection per hub, to the topics it has local subscribers of.

Never raises to the publisher: what was published is already done (in AWS, in the replay log);
a Redis that is down only delays other processes' pages, which resync when it is back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from typing import Any

from django.conf import settings

from .hub import Hub, Message, _running_loop, hubs

logger = logging.getLogger(__name__)

ORIGIN = uuid.uuid4().hex[:12]  # this process, so it skips its own messages coming back


class MemoryBroker:
    """One process: the hub is everything."""

    def publish(self, topic: str, message: Message) -> None:
        for found in hubs():
            found.deliver_threadsafe(topic, message)

    async def apublish(self, topic: str, message: Message) -> None:
        self.publish(topic, message)

    async def subscribe(self, hub: Hub, topic: str) -> None:
        return

    async def unsubscribe(self, hub: Hub, topic: str) -> None:
        return

    def encode(self, topic: str, message: Message) -> tuple[str, str] | None:
        """(channel, payload) to PUBLISH for `message`, or None without Redis."""
        return None


class RedisBroker(MemoryBroker):
    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = f"{prefix}:fan:"
        self._sync: Any = None
        self._sync_lock = threading.Lock()
        self._readers: dict[Hub, _Reader] = {}

    # --- publishing ----------------------------------------------------------------------------

    def channel(self, topic: str) -> str:
        return self.prefix + topic

    def encode(self, topic: str, message: Message) -> tuple[str, str]:
        payload = json.dumps({"o": ORIGIN, "m": message}, separators=(",", ":"))
        return self.channel(topic), payload

    def sync_client(self) -> Any:
        """One redis-py client per process (thread-safe, pooled) for publishing from sync code."""
        with self._sync_lock:
            if self._sync is None:
                import redis

                self._sync = redis.Redis.from_url(
                    self.url,
                    socket_connect_timeout=2,
                    socket_timeout=5,
                    health_check_interval=30,
                    # One quick retry, not redis-py's default of several with backoff: a Redis
                    # that is away is said at once (callers carry on without it).
                    retry=_retry(),
                )
            return self._sync

    def publish(self, topic: str, message: Message) -> None:
        super().publish(topic, message)
        try:
            self.sync_client().publish(*self.encode(topic, message))
        except Exception as exc:
            logger.warning("Could not publish %s to other processes: %s", topic, exc)

    async def apublish(self, topic: str, message: Message) -> None:
        super().publish(topic, message)
        channel, payload = self.encode(topic, message)
        reader = self._reader()

        async def send() -> None:
            try:
                await reader.publisher().publish(channel, payload)
            except Exception as exc:
                logger.warning("Could not publish %s to other processes: %s", topic, exc)

        await _shielded(send())

    # --- subscribing ---------------------------------------------------------------------------

    def _reader(self, hub: Hub | None = None) -> _Reader:
        if hub is None:
            from .hub import hub as current_hub

            hub = current_hub()
        for old in [h for h in self._readers if h.loop.is_closed()]:
            del self._readers[old]  # loops that ended (tests run one each)
        reader = self._readers.get(hub)
        if reader is None or reader.closed:
            reader = self._readers[hub] = _Reader(self, hub)
        return reader

    async def subscribe(self, hub: Hub, topic: str) -> None:
        await self._reader(hub).subscribe(self.channel(topic))

    async def unsubscribe(self, hub: Hub, topic: str) -> None:
        await self._reader(hub).unsubscribe(self.channel(topic))


class _Reader:
    """One hub's subscription connection and the task that reads it."""

    def __init__(self, broker: RedisBroker, hub: Hub) -> None:
        self.broker = broker
        self.hub = hub
        self._client: Any = None
        self._publisher: Any = None
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.closed = False
        self.received = 0

    def client(self) -> Any:
        if self._client is None:
            import redis.asyncio

            self._client = redis.asyncio.Redis.from_url(
                self.broker.url,
                socket_connect_timeout=2,
                # A pubsub read waits as long as nothing is published: only get_message's own
                # timeout applies to it.
                socket_timeout=None,
                health_check_interval=30,
                client_name=f"console-fanout-{ORIGIN}",  # to be told apart in CLIENT LIST
            )
        return self._client

    def publisher(self) -> Any:
        """The hub's client for publishing from async code: unlike the subscription's, its
        reads time out (a Redis that hangs must not hold a relay's heartbeat or a poller)."""
        if self._publisher is None:
            import redis.asyncio

            self._publisher = redis.asyncio.Redis.from_url(
                self.broker.url,
                socket_connect_timeout=2,
                socket_timeout=5,
                health_check_interval=30,
                retry=_retry(asynchronous=True),
            )
        return self._publisher

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = self.hub.loop.create_task(self._read(), name="fanout redis reader")

    async def subscribe(self, channel: str) -> None:
        self._ensure_task()
        await _shielded(self._subscribe(channel))

    async def _subscribe(self, channel: str) -> None:
        async with self._lock:
            try:
                if self._pubsub is None:
                    self._pubsub = self.client().pubsub(ignore_subscribe_messages=True)
                await self._pubsub.subscribe(channel)
            except Exception as exc:
                # The reader reconnects and subscribes to every topic of the hub again.
                logger.warning("Could not subscribe to %s: %s", channel, exc)
                self._broken()

    async def unsubscribe(self, channel: str) -> None:
        await _shielded(self._unsubscribe(channel))

    async def _unsubscribe(self, channel: str) -> None:
        async with self._lock:
            if self._pubsub is None:
                return
            try:
                await self._pubsub.unsubscribe(channel)
            except Exception as exc:
                logger.warning("Could not unsubscribe from %s: %s", channel, exc)
                self._broken()

    def _broken(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            self.hub.loop.create_task(_quietly(pubsub.aclose()))

    async def _resubscribe(self) -> None:
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self.client().pubsub(ignore_subscribe_messages=True)
            channels = [self.broker.channel(topic) for topic in self.hub.topics]
            if channels:
                await self._pubsub.subscribe(*channels)

    async def _read(self) -> None:
        delay = 0.1
        lost = False
        while True:
            try:
                if self._pubsub is None:
                    await self._resubscribe()
                    if lost:  # messages may have been published while we were away
                        self.hub.resync_all()
                        lost = False
                pubsub = self._pubsub
                if pubsub is None or not pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                raw = await pubsub.get_message(timeout=1.0)
                delay = 0.1
                if raw is not None:
                    self._dispatch(raw)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("Redis subscription lost (%s); retrying in %.1fs", exc, delay)
                self._broken()
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _dispatch(self, raw: dict[str, Any]) -> None:
        if raw.get("type") != "message":
            return
        channel = raw["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        try:
            envelope = json.loads(raw["data"])
            origin, message = envelope["o"], envelope["m"]
            if not isinstance(message, dict):
                raise TypeError("not a message")
        except (TypeError, ValueError, KeyError):
            # Not ours (another program on the channel): ignored, not taken for a broken
            # subscription (which would have every subscriber of this process resync).
            logger.warning("Ignored a malformed fan-out message on %s", channel)
            return
        if origin == ORIGIN:
            return  # delivered here already, when it was published
        self.received += 1
        self.hub.deliver(channel[len(self.broker.prefix) :], message)


def _retry(*, asynchronous: bool = False) -> Any:
    from redis.backoff import ConstantBackoff

    if asynchronous:
        from redis.asyncio.retry import Retry as AsyncRetry

        return AsyncRetry(ConstantBackoff(0.05), 1)
    from redis.retry import Retry

    return Retry(ConstantBackoff(0.05), 1)


_detached: set[asyncio.Task[Any]] = set()


async def _shielded(coroutine: Any) -> Any:
    """Await a redis-py command in a task of its own. redis-py's asyncio client can lose a
    cancellation that arrives mid-command (redis/redis-py#2028, #2551; seen here with 8.2's
    PUBLISH about half the time): a poller or consumer cancelled then would carry on as if
    nothing had happened, and whoever awaits it would wait for ever. Here the caller's
    cancellation always takes effect; the command finishes on its own."""
    task = asyncio.ensure_future(coroutine)
    _detached.add(task)
    task.add_done_callback(_forget)
    return await asyncio.shield(task)


def _forget(task: asyncio.Task[Any]) -> None:
    _detached.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("A detached Redis command failed: %s", task.exception())


async def _quietly(coroutine: Any) -> None:
    try:
        await coroutine
    except Exception:
        logger.debug("Closing a broken Redis subscription failed", exc_info=True)


_broker: MemoryBroker | None = None
_config: tuple[str, str] | None = None
_lock = threading.Lock()


def get_broker() -> MemoryBroker:
    """The process's broker: Redis when REDIS_URL is set, else in-memory."""
    global _broker, _config
    url = str(getattr(settings, "REDIS_URL", "") or "")
    prefix = str(getattr(settings, "REDIS_PREFIX", "console"))
    with _lock:
        if _broker is None or _config != (url, prefix):
            _broker = RedisBroker(url, prefix) if url else MemoryBroker()
            _config = (url, prefix)
        return _broker


def publish(topic: str, message: Message) -> None:
    """Send `message` to every subscriber of `topic`, in every process (from any thread)."""
    get_broker().publish(topic, message)


async def apublish(topic: str, message: Message) -> None:
    """`publish` from async code."""
    if _running_loop() is None:  # pragma: no cover - misuse
        raise RuntimeError("apublish needs a running event loop")
    await get_broker().apublish(topic, message)
