"""A socket's bounded queue, drained in order by one writer task.

The hub puts messages in without waiting; the writer hands them to the socket's `handle`. When
the writer falls behind (the event loop is saturated) and `capacity` items wait, they are
dropped and replaced by one `OVERFLOW` marker: the socket then re-reads what it shows (a
stream from its replay log, a live page its live region) instead of queueing without end.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

OVERFLOW = "fanout.overflow"


class Outbox:
    def __init__(self, handle: Callable[[Any], Awaitable[None]], *, capacity: int = 256) -> None:
        self.handle = handle
        self.capacity = capacity
        self.overflows = 0
        self._items: deque[Any] = deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="outbox")

    def put(self, item: Any) -> None:
        if len(self._items) >= self.capacity:
            self._items.clear()
            self._items.append(OVERFLOW)
            self.overflows += 1
        self._items.append(item)
        self._ready.set()

    async def _drain(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._items:
                item = self._items.popleft()
                try:
                    await self.handle(item)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("A socket could not handle a message")

    async def close(self) -> None:
        task, self._task = self._task, None
        self._items.clear()
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
