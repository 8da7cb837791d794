"""The production backends: PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) for the channel
layer and the cache. Skipped when they are not configured, except under CI=true, where a
missing backend fails the run instead of passing it quietly."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings

pytestmark = pytest.mark.backends

CONFIGURED = bool(os.environ.get("DATABASE_URL")) and bool(os.environ.get("REDIS_URL"))
REASON = (
    "DATABASE_URL and REDIS_URL are not both set "
    "(scripts/test.sh sets them when PostgreSQL and Redis are reachable)"
)


def needs_backends() -> None:
    """Skip without the backends; under CI=true, fail (a skipped check would pass CI)."""
    if CONFIGURED:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: the backend tests must run, but {REASON}.")
    pytest.skip(REASON)


@pytest.fixture
def fresh_layer():
    from channels.layers import channel_layers

    # A layer built under another test's event loop must not be reused.
    channel_layers.backends.clear()
    yield channel_layers["default"]
    channel_layers.backends.clear()


def test_the_database_is_postgresql(db):
    needs_backends()
    from django.db import connection

    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_the_channel_layer_is_redis(fresh_layer):
    needs_backends()
    from channels_redis.core import RedisChannelLayer

    assert isinstance(fresh_layer, RedisChannelLayer)
    [host] = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
    assert host["address"] == os.environ["REDIS_URL"]


async def test_a_group_message_goes_through_redis(fresh_layer):
    needs_backends()
    group = f"backends-{uuid.uuid4().hex}"
    first = await fresh_layer.new_channel()
    second = await fresh_layer.new_channel()
    await fresh_layer.group_add(group, first)
    await fresh_layer.group_add(group, second)
    try:
        await fresh_layer.group_send(group, {"type": "space.changed", "html": "<tr></tr>"})
        for channel in (first, second):
            message = await fresh_layer.receive(channel)
            assert message == {"type": "space.changed", "html": "<tr></tr>"}
    finally:
        await fresh_layer.group_discard(group, first)
        await fresh_layer.group_discard(group, second)
        await fresh_layer.flush()


async def test_a_socket_waiting_longer_than_redis_py_s_read_timeout_still_receives(fresh_layer):
    """redis-py 8 times reads out after 5 s by default; channels_redis waits for a message in a
    blocking read, so an idle consumer must survive a quiet spell longer than that."""
    needs_backends()
    import asyncio

    channel = await fresh_layer.new_channel()
    waiting = asyncio.ensure_future(fresh_layer.receive(channel))
    try:
        await asyncio.sleep(7)
        assert not waiting.done() or waiting.exception() is None
        await fresh_layer.send(channel, {"type": "live.fragment", "html": "<p>late</p>"})
        message = await asyncio.wait_for(waiting, 10)
        assert message == {"type": "live.fragment", "html": "<p>late</p>"}
    finally:
        waiting.cancel()
        await fresh_layer.flush()


def test_the_cache_is_redis_and_round_trips():
    needs_backends()
    import redis
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    key = f"backends-{uuid.uuid4().hex}"
    cache.set(key, {"answer": 42}, timeout=30)
    try:
        assert cache.get(key) == {"answer": 42}
        # It really is in Redis, under the run's prefix.
        direct = redis.Redis.from_url(os.environ["REDIS_URL"])
        stored = cache.make_and_validate_key(key)
        assert stored.startswith(os.environ.get("REDIS_PREFIX", "console") + ":")
        assert direct.exists(stored) == 1
    finally:
        cache.delete(key)
    assert cache.get(key) is None
