"""The websocket side: LiveConsumer refuses anonymous sockets, forwards a watched key's changed
items to every open socket (once), leaves the group on disconnect, and publish() reaches it."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import path

from dashboard import fanout
from dashboard.live import LiveConsumer, Registry, publish, publish_change, store

from .test_live_fakes import (
    INTERVAL,
    FakeBackend,
    assert_one_fetch_per_interval,
    fetches_during,
    new_key,
    new_registry,
    wait_until,
    watches,
)

# Channels closes stale database connections around each connect/disconnect, in a thread that
# may hold a connection from an earlier test: that needs database access, nothing more.
pytestmark = pytest.mark.django_db

ORIGIN = (b"origin", b"http://testserver")
TASKS = {"t1": {"title": "Disk full"}, "t2": {"title": "5xx spike"}}


class _SignedIn:
    """Stands in for the auth stack where a test is about load, not about sessions."""

    is_authenticated = True


def _app(registry: Registry, *, real_auth: bool = False):
    consumer = type(
        "BoardTestConsumer",
        (LiveConsumer,),
        {"registry": registry, "key_templates": ("board:{space_id}",)},
    )
    router = URLRouter([path("ws/board/<str:space_id>/", consumer.as_asgi())])
    if real_auth:
        return AllowedHostsOriginValidator(AuthMiddlewareStack(router))

    async def signed_in(scope, receive, send):
        return await router({**scope, "user": _SignedIn()}, receive, send)

    return signed_in


def _cookie(client: Client) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
async def sockets():
    """Opens communicators and always disconnects them (then stops the registries)."""
    opened: list[WebsocketCommunicator] = []
    registries: list[Registry] = []

    async def open_(app, space_id: str, *headers, registry: Registry | None = None):
        if registry is not None and registry not in registries:
            registries.append(registry)
        communicator = WebsocketCommunicator(app, f"/ws/board/{space_id}/", headers=list(headers))
        opened.append(communicator)
        return communicator

    yield open_
    await asyncio.gather(*(c.disconnect() for c in opened), return_exceptions=True)
    for registry in registries:
        await registry.shutdown()


async def test_an_anonymous_socket_is_refused_and_nothing_is_polled(sockets):
    _, space_id = new_key()
    backend = FakeBackend(TASKS)
    registry = new_registry(backend)
    communicator = await sockets(
        _app(registry, real_auth=True), space_id, ORIGIN, registry=registry
    )
    connected, code = await communicator.connect()
    assert not connected and code == 4401
    await asyncio.sleep(2 * INTERVAL)
    assert backend.count == 0 and registry.polling() == set()


async def test_a_route_value_that_would_break_the_key_is_refused(sockets):
    registry = new_registry(FakeBackend(TASKS))
    communicator = await sockets(_app(registry), "a:b", registry=registry)
    connected, code = await communicator.connect()
    assert not connected and code == 4404


@pytest.mark.parametrize("clients", [1, 10, 100])
async def test_one_fetch_per_interval_however_many_sockets_watch(sockets, clients):
    key, space_id = new_key()
    backend = FakeBackend(TASKS)
    registry = new_registry(backend)
    app = _app(registry)
    communicators = [await sockets(app, space_id, registry=registry) for _ in range(clients)]
    for communicator in communicators:
        assert (await communicator.connect())[0]
    assert registry.subscriber_count(key) == clients
    calls = await fetches_during(backend, 10 * INTERVAL)
    assert_one_fetch_per_interval(calls, 10 * INTERVAL)
    # Nothing changed, so nothing was sent to anyone.
    for communicator in communicators[:3]:
        assert await communicator.receive_nothing(timeout=0.01)


@pytest.mark.django_db(transaction=True)
async def test_every_socket_gets_a_changed_item_once_and_leaving_stops_the_poller(
    sockets, viewer_client, operator_client
):
    key, space_id = new_key()
    backend = FakeBackend(TASKS)
    registry = new_registry(backend)
    app = _app(registry, real_auth=True)
    first = await sockets(app, space_id, ORIGIN, _cookie(viewer_client), registry=registry)
    second = await sockets(app, space_id, ORIGIN, _cookie(operator_client), registry=registry)
    assert (await first.connect())[0]
    assert (await second.connect())[0]
    await wait_until(lambda: backend.count >= 2)
    assert await first.receive_nothing(timeout=3 * INTERVAL)

    backend.items["t1"] = {"title": "Disk full — acknowledged"}
    for communicator in (first, second):
        html = await communicator.receive_from(timeout=1)
        assert 'id="task-t1" hx-swap-oob="true" data-kind="updated"' in html
        assert "acknowledged" in html and "task-t2" not in html
    # Unchanged since: not sent again.
    for communicator in (first, second):
        assert await communicator.receive_nothing(timeout=4 * INTERVAL)

    await first.disconnect()
    assert registry.subscriber_count(key) == 1
    await second.disconnect()
    assert registry.subscriber_count(key) == 0 and registry.polling() == set()
    stopped_at = backend.count
    await asyncio.sleep(4 * INTERVAL)
    assert backend.count == stopped_at


async def test_publish_reaches_every_socket_at_once(sockets):
    key, space_id = new_key()
    # A long interval: only publish() can deliver within the test.
    registry = Registry(watches(FakeBackend(TASKS)), interval=60)
    app = _app(registry)
    communicators = [await sockets(app, space_id, registry=registry) for _ in range(2)]
    for communicator in communicators:
        assert (await communicator.connect())[0]
    html = '<div id="task-t9" hx-swap-oob="true">pushed</div>'
    await sync_to_async(publish)(key, html)
    for communicator in communicators:
        assert await communicator.receive_from(timeout=1) == html


async def test_publish_change_records_the_change_so_the_poller_does_not_send_it_again(sockets):
    key, space_id = new_key()
    backend = FakeBackend(TASKS)
    registry = new_registry(backend)
    communicator = await sockets(_app(registry), space_id, registry=registry)
    assert (await communicator.connect())[0]
    await wait_until(lambda: backend.count >= 2)  # the baseline snapshot exists

    # What a view does after a successful write: AWS has the change, then it is published.
    changed = {"title": "Resolved through the console"}
    backend.items["t2"] = changed
    await sync_to_async(publish_change)(key, "updated", "t2", changed, watches=watches(backend))
    html = await communicator.receive_from(timeout=1)
    assert 'id="task-t2" hx-swap-oob="true" data-kind="updated"' in html
    polled = backend.count
    await wait_until(lambda: backend.count >= polled + 3)
    assert await communicator.receive_nothing(timeout=2 * INTERVAL)

    backend.items.pop("t1")
    await sync_to_async(publish_change)(key, "deleted", "t1", watches=watches(backend))
    assert 'hx-swap-oob="delete"' in await communicator.receive_from(timeout=1)
    polled = backend.count
    await wait_until(lambda: backend.count >= polled + 3)
    assert await communicator.receive_nothing(timeout=2 * INTERVAL)


async def test_publish_change_without_a_snapshot_leaves_the_baseline_to_the_poller():
    key, _ = new_key()
    backend = FakeBackend(TASKS)
    await sync_to_async(publish_change)(
        key, "created", "t3", {"title": "x"}, watches=watches(backend)
    )
    # A snapshot of t3 alone would make the next poll announce t1 and t2 as created.
    assert await asyncio.to_thread(store.load, key) is None


async def test_publish_never_raises_when_the_broker_fails(monkeypatch, caplog):
    key, _ = new_key()

    def broken(*args, **kwargs):
        raise ConnectionError("redis is restarting")

    monkeypatch.setattr(fanout.get_broker(), "publish", broken)
    await sync_to_async(publish)(key, "<div></div>")
    assert "Could not publish a live update" in caplog.text
