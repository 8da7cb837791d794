"""Websocket messages over the limit close the socket with 1009 ("message too big") and the
page says so and reconnects; messages as large as the biggest form get through. Against real
daphne processes: the limit and the close code are daphne's (dashboard/core/daphne_options)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from dashboard.agentcore.checks import largest_input
from tests.browser_support import LiveServer, require_chromium, shot, wait_until

pytestmark = pytest.mark.browser

LIMIT = 8 * 1024 * 1024  # the default WEBSOCKET_MAX_MESSAGE_BYTES


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("wslimits")) as live:
        yield live


def session_cookie(server: LiveServer) -> str:
    http = requests.Session()
    http.get(server.url + "/accounts/login/", timeout=10)
    http.post(
        server.url + "/accounts/login/",
        data={
            "username": server.username,
            "password": server.password,
            "csrfmiddlewaretoken": http.cookies["csrftoken"],
        },
        headers={"Referer": server.url + "/accounts/login/"},
        timeout=10,
    )
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def open_socket(server: LiveServer):  # type: ignore[no-untyped-def]
    return connect(
        server.url.replace("http", "ws") + "/ws/spaces/",
        additional_headers={"Cookie": session_cookie(server), "Origin": server.url},
        max_size=None,
        open_timeout=10,
        close_timeout=10,
    )


def test_over_the_limit_closes_with_1009_and_a_reason(server):
    with open_socket(server) as socket:
        socket.send("x" * (LIMIT + 1))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=20)
    assert closed.value.rcvd is not None, "the connection was dropped without a close frame"
    assert closed.value.rcvd.code == 1009
    assert "exceeds payload limit" in closed.value.rcvd.reason


def test_the_largest_form_fits_in_the_worst_encoding(server):
    # The code form's maximum, every character escaped as JSON escapes it at worst (6 bytes).
    message = json.dumps({"code": "\u0001" * largest_input(), "HEADERS": {"HX-Request": "true"}})
    assert len(message.encode()) > 5 * 1024 * 1024  # far over daphne's old 1 MiB
    with open_socket(server) as socket:
        socket.send(message)
        socket.ping().wait(timeout=20)  # still open: the server answered after reading it


def test_the_page_says_so_and_reconnects(server, new_page):  # type: ignore[no-untyped-def]
    page = new_page()
    page.add_init_script(
        'document.addEventListener("htmx:wsOpen", (e) => { window.__ws = e.detail.socketWrapper })'
    )
    page.goto(server.url + "/spaces/")
    wait_until(page, "window.__ws !== undefined")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.evaluate("window.__opened = window.__ws; window.__ws = undefined")
    page.evaluate(f"window.__opened.send('x'.repeat({LIMIT + 1}))")
    alert = page.locator("#alerts .alert-error")
    expect(alert).to_contain_text("too large to send over the live connection", timeout=30_000)
    expect(alert).to_contain_text("at most 8 MiB")
    shot(page, "ws-too-large")
    wait_until(page, "window.__ws !== undefined")  # reconnected
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
