"""Django's Redis cache, minus the 500 page when Redis is away.

What the console keeps in the cache is shared bookkeeping (live pollers' leases and snapshots,
board counts, a support chat's connection state): losing it for a while slows live updates
down; it must not take pages with it. While Redis cannot be reached (restarting, failing over)
reads answer "not cached" and writes are skipped, with one warning per minute in the log; once
it is back everything works again by itself (redis-py reconnects on the next call).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

_warned = 0.0


def _unreachable(operation: str, exc: Exception) -> None:
    global _warned
    now = time.monotonic()
    if now - _warned > 60:
        _warned = now
        logger.warning("The cache (Redis) is unreachable, %s skipped: %s", operation, exc)


def _errors() -> tuple[type[Exception], ...]:
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class ResilientRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except _errors() as exc:
            _unreachable("a read", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        try:
            return super().get_many(keys, version)
        except _errors() as exc:
            _unreachable("a read", exc)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except _errors() as exc:
            _unreachable("a read", exc)
            return False

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except _errors() as exc:
            _unreachable("a write", exc)
            return False

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except _errors() as exc:
            _unreachable("a write", exc)

    def set_many(self, data: Any, timeout: Any = None, version: int | None = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except _errors() as exc:
            _unreachable("a write", exc)
            return list(data)

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except _errors() as exc:
            _unreachable("a write", exc)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except _errors() as exc:
            _unreachable("a write", exc)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except _errors() as exc:
            _unreachable("a write", exc)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except _errors() as exc:
            _unreachable("a write", exc)
            raise ValueError(f"Key {key!r} not found (the cache is unreachable)") from exc
