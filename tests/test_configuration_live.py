"""Live private connections over real websockets (dashboard.asgi.application, session
cookies, Origin): states AWS reaches by itself (CREATE_IN_PROGRESS → ACTIVE or CREATE_FAILED,
DELETE_IN_PROGRESS → gone) are found by the watcher as the clock moves; writes through the
console reach every open page at once; pushed fragments carry no token and no secret."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from dashboard.aws import clients as aws_clients
from dashboard.aws import configuration as aws_config
from dashboard.aws import spaces as aws_spaces
from dashboard.aws import tags as aws_tags
from dashboard.configuration import live
from dashboard.sandbox.ops import configuration as sandbox_ops

from . import test_tasks_live as tasks_live
from .test_configuration_secrets import IDP_SECRET, set_idp_secret
from .test_tasks_live import SYNC, messages, receive, settle

# The live triage tests' fixtures: a fresh channel layer and registry per test, an AWS thread
# pool per test, fast polls, and `sockets` (signed-in communicators, disconnected afterwards).
_fresh_layer_and_registry = tasks_live._fresh_layer_and_registry
_own_aws_pool = tasks_live._own_aws_pool
_fast_polls = tasks_live._fast_polls
sockets = tasks_live.sockets

pytestmark = pytest.mark.django_db(transaction=True)

MODE = {
    "serviceManaged": {
        "hostAddress": "grafana.internal.example.com",
        "vpcId": "vpc-0123abcd",
        "subnetIds": ["subnet-0123abcd"],
    }
}
FORM = {
    "name": "grafana-prod",
    "mode": "SERVICE_MANAGED",
    "host_address": "grafana.internal.example.com",
    "vpc_id": "vpc-0123abcd",
    "subnet_ids": "subnet-0123abcd",
}


NAMES = ("grafana-prod", "mcp-tools", "doomed")


def _forget_live_state() -> None:
    # Only this module's keys: the cache may be a Redis database other test runs share.
    keys = [live.list_key(), *(live.detail_key(name) for name in NAMES)]
    cache.delete_many([f"live:{kind}:{key}" for key in keys for kind in ("snapshot", "lease")])


@pytest.fixture(autouse=True)
def _fresh_snapshots():
    # The list's key is the same in every test ("pconns"): a snapshot an earlier test left in
    # the cache would make this test's first poll announce that test's connections as gone.
    _forget_live_state()
    yield
    _forget_live_state()


_LOCK = threading.RLock()


@pytest.fixture(autouse=True)
def _one_sandbox_call_at_a_time(monkeypatch):
    """As in test_tasks_live: SQLite's shared in-memory test database refuses concurrent
    connections, so the pollers' AWS calls and the pages' requests (`serialized`) take turns
    there; PostgreSQL keeps the real concurrency."""
    if connection.vendor != "sqlite":
        return
    real = aws_clients.call

    def call(*args, **kwargs):
        with _LOCK:
            return real(*args, **kwargs)

    for module in (aws_clients, aws_config, aws_spaces, aws_tags):
        monkeypatch.setattr(module, "call", call)


def serialized(request):
    """A test client's get/post, taking turns with the pollers on SQLite."""

    def send(*args, **kwargs):
        if connection.vendor != "sqlite":
            return request(*args, **kwargs)
        with _LOCK:
            return request(*args, **kwargs)

    return sync_to_async(send)


async def receive_until(communicator, wanted: str, timeout: float = 5.0) -> str:
    """The first message holding `wanted`. Earlier ones may repeat what the page was already
    sent: a change published by a view can race the poller's diff and arrive twice."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError(f"no message with {wanted!r} in time")
        html = await receive(communicator, timeout=left)
        if wanted in html:
            return html


def later(seconds: float):
    return time_machine.travel(timezone.now() + dt.timedelta(seconds=seconds), tick=True)


async def test_a_connection_settles_live_on_the_list_and_its_page(sockets, viewer_client):
    await sync_to_async(aws_config.create_private_connection)("grafana-prod", MODE)
    listing = await sockets("/ws/private-connections/", viewer_client)
    page = await sockets("/ws/private-connections/grafana-prod/", viewer_client)
    await settle([listing], live.list_key())
    await settle([page], live.detail_key("grafana-prod"))
    with later(sandbox_ops.CREATE_SECONDS + 1):
        row = await receive_until(listing, 'data-status="ACTIVE"')
        status = await receive_until(page, 'data-status="ACTIVE"')
    assert 'id="pc-grafana-prod"' in row and 'hx-swap-oob="true"' in row
    assert 'data-status="ACTIVE"' in row and "Active" in row
    assert 'id="pc-status"' in status and 'data-status="ACTIVE"' in status
    assert "Update certificate" in status and "admin-only" in status
    assert "csrfmiddlewaretoken" not in row + status


async def test_a_failed_creation_is_pushed_with_its_reason(sockets, viewer_client):
    broken = {"serviceManaged": {**MODE["serviceManaged"], "hostAddress": "mcp.invalid"}}
    await sync_to_async(aws_config.create_private_connection)("mcp-tools", broken)
    page = await sockets("/ws/private-connections/mcp-tools/", viewer_client)
    await settle([page], live.detail_key("mcp-tools"))
    with later(sandbox_ops.CREATE_SECONDS + 1):
        status = await receive_until(page, 'data-status="CREATE_FAILED"')
    assert "could not resolve mcp.invalid" in status


async def test_creating_through_the_console_reaches_open_lists_at_once(
    sockets, settings, viewer_client, admin_client
):
    settings.LIVE_POLL_INTERVAL = 60  # only the broadcast can deliver within this test
    listing = await sockets("/ws/private-connections/", viewer_client)
    await settle([listing], live.list_key())
    response = await serialized(admin_client.post)("/private-connections/new/", FORM)
    assert response.status_code == 302
    row = await receive(listing, timeout=3)
    assert 'hx-swap-oob="beforeend:#pc-rows"' in row and 'data-live="created"' in row
    assert 'data-status="CREATE_IN_PROGRESS"' in row


async def test_a_delete_is_pushed_at_once_and_the_row_leaves_when_aws_is_done(
    sockets, viewer_client, admin_client
):
    await sync_to_async(aws_config.create_private_connection)("doomed", MODE)
    with later(sandbox_ops.CREATE_SECONDS + 1):
        await sync_to_async(aws_config.list_private_connections)()
        listing = await sockets("/ws/private-connections/", viewer_client)
        page = await sockets("/ws/private-connections/doomed/", viewer_client)
        await settle([listing], live.list_key())
        await settle([page], live.detail_key("doomed"))
        response = await serialized(admin_client.post)(
            "/private-connections/doomed/delete/", {"confirm_name": "doomed"}
        )
        assert response.status_code == 302
        # Broadcast by the view: no poll interval to wait for.
        row = await receive(listing, timeout=3)
        status = await receive(page, timeout=3)
        assert 'data-status="DELETE_IN_PROGRESS"' in row
        assert "Deleting…" in status
    with later(sandbox_ops.CREATE_SECONDS + sandbox_ops.DELETE_SECONDS + 2):
        await receive_until(listing, '<tr id="pc-doomed" hx-swap-oob="delete"></tr>')
        await receive_until(page, "no longer exists")


async def test_sockets_are_refused_when_signed_out_or_for_a_bad_name(sockets, viewer_client):
    anonymous = await sockets("/ws/private-connections/", None, connect=False)
    connected, code = await anonymous.connect()
    assert not connected and code == 4401
    bad = await sockets("/ws/private-connections/Not_A_Name/", viewer_client, connect=False)
    connected, code = await bad.connect()
    assert not connected and code == 4404


async def test_no_websocket_message_carries_the_idp_secret(
    sockets, viewer_client, admin_client, space
):
    """Every socket of the configuration pages, while the secret is set and connections
    change through the console and by themselves."""
    listing = await sockets("/ws/private-connections/", viewer_client)
    await settle([listing], live.list_key())
    response = await serialized(admin_client.post)("/private-connections/new/", FORM)
    assert response.status_code == 302
    page = await sockets("/ws/private-connections/grafana-prod/", admin_client)
    await settle([page], live.detail_key("grafana-prod"))
    await serialized(set_idp_secret)(admin_client, space["agentSpaceId"])
    with later(sandbox_ops.CREATE_SECONDS + 1):
        seen = await messages(listing, 1.0) + await messages(page, 1.0)
    assert any("ACTIVE" in m for m in seen)
    for message in seen:
        assert IDP_SECRET not in message
        assert SYNC in message or "csrfmiddlewaretoken" not in message
