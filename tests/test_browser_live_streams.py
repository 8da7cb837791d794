"""The sandbox's browser stream endpoints on the console's daphne: SigV4 checks (signature,
expiry at most 300 s), live-view frames (generated without Chromium, real screencast JPEGs
with it), the CDP automation relay and how taking control pauses it, timeouts and stops that
end the real browser."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from asgiref.sync import sync_to_async
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connections

from dashboard.asgi import application
from dashboard.aws import browser as aws_browser
from dashboard.sandbox import browser_host, sigv4

pytestmark = pytest.mark.django_db(transaction=True)

SYSTEM = "aws.browser.v1"
HOST = (b"host", b"testserver")
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _isolated():
    cache.clear()
    channel_layers.backends.clear()
    yield
    browser_host.stop_all()
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    # The thread sync_to_async runs ORM calls in keeps its connection; the test database can
    # only be dropped once it is closed.
    await sync_to_async(connections.close_all)()


@pytest.fixture
def no_chromium(settings):
    settings.SANDBOX_CHROMIUM = ""


@pytest.fixture
def chromium(settings):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: /usr/bin/chromium is required for the real sandbox browser")
        pytest.skip("no /usr/bin/chromium")
    settings.SANDBOX_CHROMIUM = str(CHROMIUM)


@pytest.fixture
async def streams():
    opened: list[WebsocketCommunicator] = []

    async def open_(url: str, headers: list | None = None) -> WebsocketCommunicator:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        communicator = WebsocketCommunicator(application, path, headers=headers or [HOST])
        opened.append(communicator)
        connected, code = await communicator.connect(timeout=10)
        assert connected, code
        return communicator

    yield open_
    await asyncio.gather(*(c.disconnect() for c in opened), return_exceptions=True)


def _start(**kwargs) -> dict:
    return aws_browser.start_session(SYSTEM, name="stream test", **kwargs)


def _live_view(session: dict, expires: int = 300) -> str:
    endpoint = session["streams"]["liveViewStream"]["streamEndpoint"]
    return aws_browser.live_view_url(endpoint, expires=expires, origin="http://testserver")["url"]


def _automation(session: dict) -> tuple[str, list]:
    endpoint = session["streams"]["automationStream"]["streamEndpoint"]
    url, headers = aws_browser.automation_connection(endpoint, origin="http://testserver")
    return url, [HOST, *((k.lower().encode(), v.encode()) for k, v in headers.items())]


async def _json(communicator, timeout: float = 10.0) -> dict:
    while True:
        message = await communicator.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            raise AssertionError(f"closed: {message}")
        if message.get("text") is not None:
            return json.loads(message["text"])


async def _frame(communicator, timeout: float = 10.0) -> bytes:
    while True:
        message = await communicator.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            raise AssertionError(f"closed: {message}")
        if message.get("bytes") is not None:
            return message["bytes"]


async def _refusal(communicator) -> tuple[dict, int]:
    error = json.loads((await communicator.receive_output(timeout=5))["text"])
    close = await communicator.receive_output(timeout=5)
    assert close["type"] == "websocket.close"
    return error, close["code"]


# --- signatures --------------------------------------------------------------------------


async def test_an_unsigned_live_view_is_refused(streams, no_chromium):
    session = await sync_to_async(_start)()
    endpoint = session["streams"]["liveViewStream"]["streamEndpoint"]
    communicator = await streams(aws_browser.rebase(endpoint, "http://testserver"))
    error, code = await _refusal(communicator)
    assert code == 4401 and error["code"] == "MissingAuthenticationTokenException"


async def test_a_tampered_signature_is_refused(streams, no_chromium):
    session = await sync_to_async(_start)()
    url = await sync_to_async(_live_view)(session)
    signature = url.rsplit("=", 1)[1]
    forged = url[: -len(signature)] + ("0" if signature[0] != "0" else "1") + signature[1:]
    error, code = await _refusal(await streams(forged))
    assert code == 4403 and error["code"] == "SignatureDoesNotMatch"


async def test_a_url_for_another_session_is_refused(streams, no_chromium):
    first, second = await sync_to_async(_start)(), await sync_to_async(_start)()
    url = await sync_to_async(_live_view)(first)
    swapped = url.replace(first["sessionId"], second["sessionId"])
    error, code = await _refusal(await streams(swapped))
    assert code == 4403 and error["code"] == "SignatureDoesNotMatch"


async def test_an_expired_url_is_refused(streams, no_chromium):
    session = await sync_to_async(_start)(timeout_seconds=3600)
    url = await sync_to_async(_live_view)(session, 60)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61), tick=False):
        error, code = await _refusal(await streams(url))
    assert code == 4403 and error["code"] == "AccessDeniedException"
    assert "expired" in error["message"]


async def test_a_url_valid_longer_than_300_seconds_is_refused(streams, no_chromium):
    session = await sync_to_async(_start)()
    endpoint = aws_browser.rebase(
        session["streams"]["liveViewStream"]["streamEndpoint"], "http://testserver"
    )
    request = AWSRequest(method="GET", url=endpoint)
    credentials = ReadOnlyCredentials(sigv4.ACCESS_KEY_ID, sigv4.secret_access_key(), None)
    SigV4QueryAuth(credentials, "bedrock-agentcore", "us-east-1", expires=301).add_auth(request)
    error, code = await _refusal(await streams(request.url))
    assert code == 4403 and "300" in error["message"]


async def test_another_secret_is_refused(streams, no_chromium):
    session = await sync_to_async(_start)()
    endpoint = aws_browser.rebase(
        session["streams"]["liveViewStream"]["streamEndpoint"], "http://testserver"
    )
    request = AWSRequest(method="GET", url=endpoint)
    credentials = ReadOnlyCredentials(sigv4.ACCESS_KEY_ID, "not-the-secret", None)
    SigV4QueryAuth(credentials, "bedrock-agentcore", "us-east-1", expires=60).add_auth(request)
    error, code = await _refusal(await streams(request.url))
    assert code == 4403 and error["code"] == "SignatureDoesNotMatch"


async def test_an_ended_session_has_no_stream(streams, no_chromium):
    session = await sync_to_async(_start)()
    await sync_to_async(aws_browser.stop_session)(SYSTEM, session["sessionId"])
    error, code = await _refusal(await streams(await sync_to_async(_live_view)(session)))
    assert code == 4410 and "TERMINATED" in error["message"]


# --- generated frames (no Chromium) ------------------------------------------------------


async def test_without_chromium_the_live_view_streams_a_moving_picture(streams, no_chromium):
    session = await sync_to_async(_start)(viewport=(800, 600))
    communicator = await streams(await sync_to_async(_live_view)(session))
    hello = await _json(communicator)
    assert hello["type"] == "hello" and hello["engine"] == "generated"
    assert hello["viewPort"] == {"width": 800, "height": 600}
    first = await _frame(communicator)
    second = await _frame(communicator)
    assert first.startswith(b"<svg") and second.startswith(b"<svg")
    assert first != second


async def test_without_chromium_there_is_no_automation_stream(streams, no_chromium):
    session = await sync_to_async(_start)()
    url, headers = await sync_to_async(_automation)(session)
    error, code = await _refusal(await streams(url, headers))
    assert code == 4503 and "Chromium" in error["message"]


async def test_the_live_view_ends_when_the_session_stops(streams, no_chromium):
    session = await sync_to_async(_start)()
    communicator = await streams(await sync_to_async(_live_view)(session))
    await _json(communicator)
    await sync_to_async(aws_browser.stop_session)(SYSTEM, session["sessionId"])
    while True:
        message = await communicator.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            break
        if message.get("text"):
            assert json.loads(message["text"])["type"] in ("ended", "automation")
    assert message["code"] == 1000


# --- a real Chromium ---------------------------------------------------------------------


def _running(session_id: str) -> bool:
    needle = f"agentcore-browser-{session_id}-".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes():
                    return True
            except OSError:
                continue
    return False


async def _command(communicator, id_: int, method: str, params: dict | None = None) -> dict:
    await communicator.send_to(
        text_data=json.dumps({"id": id_, "method": method, "params": params or {}})
    )
    while True:
        message = await _json(communicator)
        if message.get("id") == id_:
            return message


async def _until_automation(communicator, first_id: int, refused: bool) -> dict:
    """Send commands until the stream has seen the session's automation change (it looks at
    the session about once a second): the first answer that is (or is not) a refusal."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    for id_ in itertools.count(first_id):
        answer = await _command(communicator, id_, "Browser.getVersion")
        if ("error" in answer) == refused:
            return answer
        assert loop.time() < deadline, f"automation still {'on' if refused else 'off'}: {answer}"
        await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def test_a_session_is_a_real_chromium_that_streams_jpeg_frames(streams, chromium):
    session = await sync_to_async(_start)(viewport=(800, 600))  # the smallest documented
    assert _running(session["sessionId"])
    communicator = await streams(await sync_to_async(_live_view)(session))
    hello = await _json(communicator)
    assert hello["engine"] == "chromium"
    frame = await _frame(communicator, timeout=20)
    assert frame[:2] == b"\xff\xd8"  # JPEG
    # The start page has a clock: the picture keeps changing.
    assert await _frame(communicator, timeout=20) != frame


async def test_automation_relays_cdp_and_pauses_while_someone_has_control(streams, chromium):
    session = await sync_to_async(_start)()
    url, headers = await sync_to_async(_automation)(session)
    agent = await streams(url, headers)
    version = await _command(agent, 1, "Browser.getVersion")
    assert "Chrome" in version["result"]["product"] or "Chromium" in version["result"]["product"]

    await sync_to_async(aws_browser.set_automation)(SYSTEM, session["sessionId"], "DISABLED")
    refused = await _until_automation(agent, 2, refused=True)
    assert "DISABLED" in refused["error"]["message"]
    late, _ = await sync_to_async(_automation)(session)
    error, code = await _refusal(await streams(late, _[:]))
    assert code == 4409 and "taken control" in error["message"]

    await sync_to_async(aws_browser.set_automation)(SYSTEM, session["sessionId"], "ENABLED")
    again = await _until_automation(agent, 100, refused=False)
    assert "Chrome" in again["result"]["product"] or "Chromium" in again["result"]["product"]


async def test_a_frame_nested_too_deep_while_paused_does_not_kill_automation(streams, chromium):
    session = await sync_to_async(_start)()
    url, headers = await sync_to_async(_automation)(session)
    agent = await streams(url, headers)
    await sync_to_async(aws_browser.set_automation)(SYSTEM, session["sessionId"], "DISABLED")
    await _until_automation(agent, 2, refused=True)
    # json.loads raises RecursionError (not ValueError) for this: it closed the agent's socket.
    await agent.send_to(text_data="[" * 100_000)
    refused = await _command(agent, 100, "Browser.getVersion")
    assert "DISABLED" in refused["error"]["message"]


async def test_stop_and_timeout_end_the_browser_process(chromium):
    stopped = await sync_to_async(_start)()
    timed = await sync_to_async(_start)(timeout_seconds=60)
    assert _running(stopped["sessionId"]) and _running(timed["sessionId"])
    await sync_to_async(aws_browser.stop_session)(SYSTEM, stopped["sessionId"])
    assert not _running(stopped["sessionId"])
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61), tick=False):
        found = await sync_to_async(aws_browser.get_session)(SYSTEM, timed["sessionId"])
    assert found["status"] == "TERMINATED"
    for _ in range(50):
        if not _running(timed["sessionId"]):
            break
        await asyncio.sleep(0.1)
    assert not _running(timed["sessionId"])
