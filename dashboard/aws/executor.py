"""A bounded thread pool for blocking boto3 calls made from async code.

Never `sync_to_async(thread_sensitive=True)`: that is one shared thread, and one slow AWS call
there would stall every ORM call of the process.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections

T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=settings.AWS_EXECUTOR_THREADS, thread_name_prefix="aws"
        )
    return _executor


def _with_fresh_connections(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    # The sandbox answers through the ORM in this thread; drop connections that went stale.
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking `fn` in the AWS pool and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        executor(), functools.partial(_with_fresh_connections, fn, *args, **kwargs)
    )
