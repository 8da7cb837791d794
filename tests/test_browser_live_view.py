"""The live view page's websocket: a presigned live-view URL for the requesting socket only
(SigV4 query auth, at most 300 s), renewed before it expires, on request and on reconnect;
take/release control broadcast to every viewer of the session."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client

from dashboard.asgi import application
from dashboard.aws import browser as aws_browser
from dashboard.aws import clients as aws_clients
from dashboard.aws import executor as aws_executor
from dashboard.browser import consumers
from dashboard.live import default_registry, registry
from dashboard.sandbox import browser_host, sigv4

pytestmark = pytest.mark.django_db(transaction=True)

SYSTEM = "aws.browser.v1"
ORIGIN = (b"origin", b"http://testserver")
HOST = (b"host", b"testserver")
URL = re.compile(r'data-url="([^"]+)"')


@pytest.fixture(autouse=True)
def _isolated(settings, monkeypatch):
    settings.SANDBOX_CHROMIUM = ""
    settings.LIVE_POLL_INTERVAL = 0.2
    cache.clear()
    channel_layers.backends.clear()
    registry._default = None
    aws_executor._executor = None
    if connection.vendor == "sqlite":
        # SQLite's shared in-memory test database refuses concurrent connections; serialize.
        lock = threading.RLock()
        real = aws_clients.call

        def call(*args, **kwargs):
            with lock:
                return real(*args, **kwargs)

        monkeypatch.setattr(aws_browser, "call", call)
    yield
    browser_host.stop_all()
    pool, aws_executor._executor = aws_executor._executor, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
    channel_layers.backends.clear()
    registry._default = None


@pytest.fixture
def group_messages(monkeypatch):
    """Everything sent to any channel-layer group during the test."""
    sent: list[dict] = []
    layer = get_channel_layer()
    real = layer.group_send

    async def group_send(group, message):
        sent.append(message)
        return await real(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)
    return sent


@pytest.fixture
async def sockets():
    opened: list[WebsocketCommunicator] = []

    async def open_(path: str, client: Client | None, *, connect: bool = True):
        headers = [ORIGIN, HOST]
        if client is not None:
            headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
        communicator = WebsocketCommunicator(application, path, headers=headers)
        opened.append(communicator)
        if connect:
            connected, code = await communicator.connect()
            assert connected, code
        return communicator

    yield open_
    await asyncio.gather(*(c.disconnect() for c in opened), return_exceptions=True)
    await default_registry().shutdown()
    # The thread sync_to_async runs ORM calls in keeps its connection; the test database can
    # only be dropped once it is closed.
    await sync_to_async(connections.close_all)()


def _start(name: str = "watched") -> dict:
    return aws_browser.start_session(SYSTEM, name=name)


def _path(session: dict) -> str:
    return f"/ws/agentcore/browsers/{SYSTEM}/sessions/{session['sessionId']}/"


async def _next_url(communicator, timeout: float = 5.0) -> tuple[str, str]:
    """The next presigned URL this socket receives (and its data-expires-at)."""
    while True:
        message = await communicator.receive_from(timeout=timeout)
        found = URL.search(message)
        if found:
            expires = re.search(r'data-expires-at="([^"]+)"', message).group(1)
            return html.unescape(found.group(1)), expires


def _check_presigned(url: str, expires_at: str, *, lifetime: int) -> None:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].endswith("/us-east-1/bedrock-agentcore/aws4_request")
    assert query["X-Amz-SignedHeaders"] == ["host"]
    assert re.fullmatch(r"[0-9a-f]{64}", query["X-Amz-Signature"][0])
    assert int(query["X-Amz-Expires"][0]) == lifetime <= 300
    signed = dt.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    said = dt.datetime.fromisoformat(expires_at)
    assert abs((said - signed).total_seconds() - lifetime) < 2
    # Rebased onto the console's own address, and accepted by the sandbox's stream endpoint.
    assert parts.netloc == "testserver"
    assert parts.path.endswith("/live-view")
    sigv4.verify(
        method="GET", path=parts.path, raw_query=parts.query, headers={"host": "testserver"}
    )


async def test_it_hands_the_socket_a_presigned_live_view_url(sockets, viewer_client):
    session = await sync_to_async(_start)()
    communicator = await sockets(_path(session), viewer_client)
    url, expires_at = await _next_url(communicator)
    _check_presigned(url, expires_at, lifetime=300)


async def test_the_url_goes_only_to_the_requesting_socket_never_to_a_group(
    sockets, viewer_client, operator_client, group_messages
):
    session = await sync_to_async(_start)()
    vera = await sockets(_path(session), viewer_client)
    await _next_url(vera)
    oscar = await sockets(_path(session), operator_client)
    await _next_url(oscar)
    # Oscar's URL went to Oscar alone: Vera's socket got nothing for it.
    assert await vera.receive_nothing(timeout=0.3)
    # Oscar asks for a fresh one: only Oscar's socket answers.
    consumers.RENEW_MIN_SECONDS = 0.0
    try:
        await oscar.send_to(text_data='{"live_view": "renew"}')
        await _next_url(oscar)
        assert await vera.receive_nothing(timeout=0.3)
    finally:
        consumers.RENEW_MIN_SECONDS = 5.0
    # A broadcast (take control) reaches both, and no group message carries a signature.
    await sync_to_async(operator_client.post)(
        f"/agentcore/browsers/{SYSTEM}/sessions/{session['sessionId']}/control/",
        {"action": "take"},
    )
    for socket in (vera, oscar):
        while "has control" not in await socket.receive_from(timeout=5):
            pass
    assert group_messages
    assert not any("X-Amz-Signature" in str(m) for m in group_messages)


async def test_it_renews_the_url_before_it_expires(sockets, viewer_client, settings, monkeypatch):
    settings.BROWSER_LIVE_VIEW_EXPIRES = 60
    monkeypatch.setattr(consumers, "RENEW_AT", 0.005)  # 0.3 s into the 60 s
    session = await sync_to_async(_start)()
    communicator = await sockets(_path(session), viewer_client)
    first, first_expiry = await _next_url(communicator)
    _check_presigned(first, first_expiry, lifetime=60)
    second, second_expiry = await _next_url(communicator, timeout=3)
    _check_presigned(second, second_expiry, lifetime=60)
    assert dt.datetime.fromisoformat(second_expiry) > dt.datetime.fromisoformat(first_expiry)


async def test_a_reconnecting_viewer_gets_a_fresh_url(sockets, viewer_client):
    session = await sync_to_async(_start)()
    first = await sockets(_path(session), viewer_client)
    _, first_expiry = await _next_url(first)
    await first.disconnect()
    await asyncio.sleep(0.01)
    again = await sockets(_path(session), viewer_client)
    url, expiry = await _next_url(again)
    _check_presigned(url, expiry, lifetime=300)
    assert dt.datetime.fromisoformat(expiry) > dt.datetime.fromisoformat(first_expiry)


async def test_renewal_requests_are_rate_limited(sockets, viewer_client):
    session = await sync_to_async(_start)()
    communicator = await sockets(_path(session), viewer_client)
    await _next_url(communicator)
    await communicator.send_to(text_data='{"live_view": "renew"}')
    await communicator.send_to(text_data="not json")
    assert await communicator.receive_nothing(timeout=0.3)


async def test_a_frame_nested_too_deep_does_not_kill_the_socket(
    sockets, viewer_client, monkeypatch
):
    session = await sync_to_async(_start)()
    communicator = await sockets(_path(session), viewer_client)
    await _next_url(communicator)
    monkeypatch.setattr(consumers, "RENEW_MIN_SECONDS", 0.0)
    # json.loads raises RecursionError (not ValueError) for this: it closed the page's socket.
    await communicator.send_to(text_data="[" * 100_000)
    await communicator.send_to(text_data='{"live_view": "renew"}')
    await _next_url(communicator)


async def test_an_ended_session_gets_no_url(sockets, viewer_client):
    session = await sync_to_async(_start)()
    await sync_to_async(aws_browser.stop_session)(SYSTEM, session["sessionId"])
    communicator = await sockets(_path(session), viewer_client)
    message = await communicator.receive_from(timeout=5)
    assert "data-ended" in message and "data-url" not in message


async def test_take_and_release_control_is_shown_to_every_viewer(
    sockets, viewer_client, operator_client, admin_client
):
    session = await sync_to_async(_start)()
    first = await sockets(_path(session), viewer_client)
    second = await sockets(_path(session), admin_client)
    for socket in (first, second):
        await _next_url(socket)
    control = f"/agentcore/browsers/{SYSTEM}/sessions/{session['sessionId']}/control/"

    async def status_fragment(socket) -> str:
        while True:
            message = await socket.receive_from(timeout=5)
            if f'id="browser-status-{session["sessionId"]}"' in message:
                return message

    await sync_to_async(operator_client.post)(control, {"action": "take"})
    for socket in (first, second):
        fragment = await status_fragment(socket)
        assert 'hx-swap-oob="true"' in fragment
        assert "<strong>oscar-operator</strong> has control" in fragment
        assert "Release control" in fragment  # operator-only, hidden by the page for viewers
        assert "csrfmiddlewaretoken" not in fragment
    await sync_to_async(operator_client.post)(control, {"action": "release"})
    for socket in (first, second):
        fragment = await status_fragment(socket)
        assert "Enabled: the agent drives the browser" in fragment
        assert "oscar-operator</strong> has control" not in fragment


async def test_a_stop_is_shown_to_every_viewer(sockets, viewer_client, operator_client):
    session = await sync_to_async(_start)()
    socket = await sockets(_path(session), viewer_client)
    await _next_url(socket)
    await sync_to_async(operator_client.post)(
        f"/agentcore/browsers/{SYSTEM}/sessions/{session['sessionId']}/stop/"
    )
    while 'data-status="TERMINATED"' not in (await socket.receive_from(timeout=5)):
        pass


async def test_anonymous_sockets_are_refused(sockets):
    session = await sync_to_async(_start)()
    communicator = await sockets(_path(session), None, connect=False)
    connected, code = await communicator.connect()
    assert not connected and code == 4401


async def test_malformed_ids_are_refused(sockets, viewer_client):
    communicator = await sockets(
        f"/ws/agentcore/browsers/{SYSTEM}/sessions/bad-id!/", viewer_client, connect=False
    )
    connected, code = await communicator.connect()
    assert not connected and code == 4404
