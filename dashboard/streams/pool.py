"""The threads that iterate blocking streams: bounded, dedicated, and never a silent queue.

A stream holds its thread from the first byte to the last (seconds to minutes), so streams get
threads of their own: not the AWS pool of short calls (`dashboard.aws.executor`), and never
`sync_to_async`'s one thread-sensitive thread, where a single stream would stall every ORM call
of the process. When all `STREAM_THREADS` are busy `submit` raises `PoolFull` at once, so the
person who asked is told instead of waiting behind streams that may last minutes.

Workers are daemon threads: a process that is stopping does not wait for a stream stuck in a
read (the relay has already told its viewers, see relay.shutdown). Idle workers exit after a
minute.

`submit` never starts a thread itself: it is called on the event loop, and `Thread.start()`
waits until the new thread has run, which takes as long as getting the GIL from every other busy
thread. With a hundred replies streaming, starting the workers of new ones held the event loop
for about half of its time (py-spy, bench/chat_stream.py at 100 replies): every reply's deltas
waited. A spawner thread of the pool's own starts workers; the job waits in the queue for the
first free worker.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

IDLE_SECONDS = 60.0


class PoolFull(Exception):
    """Every stream thread is busy."""

    def __init__(self, size: int) -> None:
        super().__init__(
            f"The console is already relaying {size} streams, as many as it is set up for "
            "(STREAM_THREADS). Try again in a moment."
        )
        self.size = size


class StreamPool:
    def __init__(self, size: int, name: str = "stream") -> None:
        if size < 1:
            raise ValueError("A stream pool needs at least one thread")
        self.size = size
        self.name = name
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._busy = 0  # jobs accepted and not finished
        self._idle = 0  # workers waiting for a job
        self._workers = 0
        self._counter = 0
        self._spawns: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._spawner: threading.Thread | None = None

    @property
    def busy(self) -> int:
        return self._busy

    def submit(self, job: Callable[[], None]) -> None:
        """Run `job` on a stream thread now, or raise PoolFull."""
        with self._lock:
            if self._busy >= self.size:
                raise PoolFull(self.size)
            self._busy += 1
            if self._idle > 0:
                self._idle -= 1
                self._jobs.put(job)
                return
            self._workers += 1
            self._counter += 1
            number = self._counter
            first = self._spawner is None
            if first:
                self._spawner = threading.Thread(
                    target=self._spawn, name=f"{self.name}-spawner", daemon=True
                )
            spawner = self._spawner
        self._jobs.put(job)
        self._spawns.put(f"{self.name}-{number}")
        if first:
            spawner.start()  # once per pool, the only thread start on the caller's side

    def _spawn(self) -> None:
        """Start the workers `submit` asked for (off the event loop)."""
        while True:
            name = self._spawns.get()
            while True:
                try:
                    threading.Thread(target=self._work, name=name, daemon=True).start()
                    break
                except RuntimeError:  # "can't start new thread": the job waits for a worker
                    logger.exception("Could not start stream thread %s; retrying", name)
                    time.sleep(1.0)

    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    # A job may have been handed to us as "idle" meanwhile: look once more.
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        self._idle -= 1
                        self._workers -= 1
                        return
            try:
                job()
            except Exception:
                logger.exception("A stream job failed")
            finally:
                # The sandbox answers through the ORM in this thread.
                connections.close_all()
                with self._lock:
                    self._busy -= 1
                    self._idle += 1


_pool: StreamPool | None = None
_pool_lock = threading.Lock()


def pool() -> StreamPool:
    """The process's stream pool, sized by STREAM_THREADS."""
    global _pool
    size = int(getattr(settings, "STREAM_THREADS", 32))
    with _pool_lock:
        if _pool is None or _pool.size != size:
            _pool = StreamPool(size)
        return _pool
