"""Shared fixtures: one signed-in client per role, and a clean sandbox per test (the sandbox
lives in the test database, which pytest-django rolls back after each test)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, User
from django.test import Client

from dashboard.aws.clients import reset_clients

# channels' test communicator gives a consumer's connect one second; on a loaded machine (the
# suite runs on every core) that says nothing about the console. Ten, as for other waits.
_connect = WebsocketCommunicator.connect


async def _patient_connect(self, timeout: float = 10):  # type: ignore[no-untyped-def]
    return await _connect(self, timeout)


WebsocketCommunicator.connect = _patient_connect  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fresh_clients():
    # Settings may differ per test (override_settings); clients are cached per settings.
    reset_clients()
    yield
    reset_clients()


@pytest.fixture(autouse=True)
def _fresh_stream_log():
    # The in-memory replay log lives as long as the process: each test starts without streams.
    from dashboard.streams import log

    if not log.store().__class__.__name__.startswith("Redis"):
        log.reset()


def _user(username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def admin_user(db) -> User:
    return _user("alice-admin", "admin")


@pytest.fixture
def operator_user(db) -> User:
    return _user("oscar-operator", "operator")


@pytest.fixture
def viewer_user(db) -> User:
    return _user("vera-viewer", "viewer")


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def operator_client(operator_user) -> Client:
    client = Client()
    client.force_login(operator_user)
    return client


@pytest.fixture
def viewer_client(viewer_user) -> Client:
    client = Client()
    client.force_login(viewer_user)
    return client


@pytest.fixture
def anon_client(db) -> Client:
    return Client()


@pytest.fixture
def console_log() -> Iterator[io.StringIO]:
    """What the console's log handler (settings.LOGGING) writes."""
    (handler,) = [h for h in logging.getLogger().handlers if h.name == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.fixture
def space(db) -> dict:
    """One agent space created through the sandbox, as boto3 returns it."""
    from dashboard.aws import spaces

    return spaces.create_space(
        name="Payments", description="Card processing", locale="en-US", tags={"team": "pay"}
    )


# --- browser tests (marked `browser`; each module defines its own `server`) -----------------


@pytest.fixture(scope="module")
def browser(server):  # type: ignore[no-untyped-def]
    """Debian's chromium, driven by Playwright, for one module's browser tests."""
    from playwright.sync_api import sync_playwright

    from tests.browser_support import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser, server):  # type: ignore[no-untyped-def]
    """`new_page(color_scheme="light", javascript=True, signed_in=True)`: a page in a fresh
    context; JavaScript errors on any of them fail the test."""
    from tests.browser_support import Pages

    pages = Pages(browser, server)
    yield pages.new
    pages.close()
