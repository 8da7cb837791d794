"""Subscriptions and pollers: one poll of each watched key per interval, cluster-wide.

Each process counts only its own subscribers. While a process has at least one subscriber to a
key it runs one asyncio task for that key; every tick the task claims (or renews) the key's
lease in the shared cache, and only the holder fetches, diffs against the stored snapshot and
publishes the changed fragments to the key's fan-out topic (dashboard.fanout). So:

- however many tabs and processes watch a key, one of them fetches it per interval;
- when a process's last subscriber leaves, its task stops and gives the lease up, and another
  process still watching takes over at its next tick; when the last one anywhere leaves,
  nobody polls;
- a process that dies stops polling with it; its lease expires (3 intervals) and a survivor
  takes over, continuing from the snapshot in the cache.

A holder slower than its lease (a fetch longer than 3 intervals) can briefly overlap with the
process that took over; it sees the other token at its next tick and stands by again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings

from dashboard import fanout
from dashboard.aws import executor
from dashboard.aws.errors import AwsError

from . import store
from .fragments import message, status_fragment
from .watch import WATCHES, Change, Watch, diff, split_key, topic

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Registry:
    """This process's subscriptions and pollers. `watches` defaults to the global WATCHES;
    `interval`/`max_interval` to LIVE_POLL_INTERVAL (5 s) / LIVE_POLL_MAX_INTERVAL (60 s)."""

    def __init__(
        self,
        watches: Mapping[str, Watch] | None = None,
        *,
        interval: float | None = None,
        max_interval: float | None = None,
        token: str | None = None,
    ) -> None:
        self.watches = WATCHES if watches is None else watches
        self._interval = interval
        self._max_interval = max_interval
        # Unique per registry, so a restarted process never mistakes an old lease for its own.
        self.token = token or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._subscribers: dict[str, set[fanout.Subscriber]] = {}
        self._pollers: dict[str, asyncio.Task[None]] = {}

    @property
    def interval(self) -> float:
        if self._interval is not None:
            return self._interval
        return float(getattr(settings, "LIVE_POLL_INTERVAL", 5.0))

    @property
    def max_interval(self) -> float:
        value = self._max_interval
        if value is None:
            value = float(getattr(settings, "LIVE_POLL_MAX_INTERVAL", 60.0))
        return max(value, self.interval)

    def watch_for(self, key: str) -> tuple[Watch, list[str]]:
        """The watch and fetch arguments of `key`; LookupError for an unknown watch."""
        name, parts = split_key(key)
        try:
            return self.watches[name], parts
        except KeyError:
            raise LookupError(f"No watch is registered for {key!r}") from None

    async def subscribe(self, key: str, subscriber: fanout.Subscriber) -> None:
        """Send `key`'s fragments to `subscriber` and make sure the key is polled."""
        self.watch_for(key)
        await fanout.hub().subscribe(topic(key), subscriber)
        self._subscribers.setdefault(key, set()).add(subscriber)
        self._ensure_poller(key)

    async def unsubscribe(self, key: str, subscriber: fanout.Subscriber) -> None:
        """Stop sending to `subscriber`; the last local subscriber stops this process's poller."""
        subscribers = self._subscribers.get(key, set())
        subscribers.discard(subscriber)
        try:
            await fanout.hub().unsubscribe(topic(key), subscriber)
        except Exception:
            logger.exception("Could not leave the live topic of %s", key)
        if not subscribers:
            self._subscribers.pop(key, None)
            await self._stop(key, release=True)

    def subscriber_count(self, key: str) -> int:
        """Subscribers to `key` in this process."""
        return len(self._subscribers.get(key, ()))

    def polling(self) -> set[str]:
        """Keys this process runs a poller task for (leader or standby)."""
        return {key for key, task in self._pollers.items() if not task.done()}

    async def shutdown(self, *, release_leases: bool = True) -> None:
        """Stop every poller. Without releasing, it is what a crash looks like to the others."""
        self._subscribers.clear()
        for key in list(self._pollers):
            await self._stop(key, release=release_leases)

    def _ensure_poller(self, key: str) -> None:
        task = self._pollers.get(key)
        loop = asyncio.get_running_loop()
        # A task of another (finished) event loop — tests run one loop each — cannot run again.
        if task is not None and not task.done() and task.get_loop() is loop:
            return
        self._pollers[key] = loop.create_task(self._poll_forever(key), name=f"live {key}")

    async def _stop(self, key: str, *, release: bool) -> None:
        task = self._pollers.pop(key, None)
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        # Someone subscribed again while we waited: the new task holds the lease now.
        if release and key not in self._pollers:
            try:
                await asyncio.to_thread(store.release_lease, key, self.token)
            except Exception:
                logger.exception("Could not release the live lease of %s", key)

    async def _poll_forever(self, key: str) -> None:
        watch, parts = self.watch_for(key)
        loop = asyncio.get_running_loop()
        delay = self.interval
        next_at = loop.time()
        while True:
            base = self.interval
            try:
                # The lease outlives three of our (possibly backed-off) intervals, so standbys
                # wait out a backoff instead of defeating it.
                ttl = store.seconds(3 * max(delay, base))
                leader = await _uncancelled(store.claim_lease, key, self.token, ttl)
            except Exception:
                logger.exception("Live lease check failed for %s", key)
                leader = False
            if leader:
                delay = await self._poll_once(key, watch, parts, delay, base)
            else:
                delay = base
            next_at += delay
            now = loop.time()
            if next_at <= now:
                # Fell behind (a slow fetch): wait a full interval rather than poll back to back.
                next_at = now + delay
            await asyncio.sleep(next_at - now)

    async def _poll_once(
        self, key: str, watch: Watch, parts: list[str], delay: float, base: float
    ) -> float:
        """Fetch, diff, send. Never raises; returns the delay until the next poll."""
        try:
            items = await executor.run(watch.fetch, *parts)
            html = await asyncio.to_thread(self._apply, key, watch, items)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            delay = min(delay * 2, self.max_interval)
            if isinstance(error, AwsError):
                message = error.message
                logger.warning("Live fetch of %s failed (next in %.1fs): %s", key, delay, error)
            else:
                message = "the console hit an internal error; it keeps retrying"
                logger.exception("Live poll of %s failed (next in %.1fs)", key, delay)
            await self._send(key, status_fragment(key, message))
            try:
                await asyncio.to_thread(store.mark_delayed, key, message)
            except Exception:
                logger.exception("Could not record the live delay of %s", key)
            return delay
        if html:
            await self._send(key, html)
        return base

    @staticmethod
    def _apply(key: str, watch: Watch, items: Mapping[str, Any]) -> str:
        """Diff `items` against the stored snapshot, store them, render what changed.

        Reads the snapshot after the fetch, not before, so a change a view recorded meanwhile
        (publish_change) is not sent again.
        """
        state = store.load(key)
        delayed = state is not None and state["delayed"] is not None
        if state is None or state["items"] is None:
            # Nothing to compare with: this is the baseline, the pages rendered it themselves.
            changes: list[Change] = []
        else:
            changes = diff(key, state["items"], items)
        html = "".join(watch.render(change) for change in changes)
        if delayed:
            html = status_fragment(key, None) + html
        if state is None or state["items"] is None or changes or delayed:
            store.save(key, items)
        else:
            store.touch(key)
        return html

    async def _send(self, key: str, html: str) -> None:
        try:
            await fanout.apublish(topic(key), message(html))
        except Exception:
            logger.exception("Could not send a live update of %s", key)


async def _uncancelled(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking `fn` in a thread; when cancelled meanwhile, let it finish first.

    Otherwise a poller cancelled mid-claim could take the lease in its thread after
    unsubscribe released it, and other processes would wait the lease out for nothing.
    """
    future = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry consumers use unless they name another."""
    global _default
    if _default is None:
        _default = Registry()
    return _default
