"""A PostgreSQL blip against a real daphne: the database refuses connections for a moment
(ALLOW_CONNECTIONS false, every session of it ended), as in a restart or a failover.

Meanwhile a page is a 503 with a retry notice and no trace, a posted form comes back as a form
that sends it again; afterwards the same daphne answers again by itself (kept connections are
checked before reuse), and sending the form again does what it said, once."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from html import unescape

import psycopg
import pytest
import requests

from tests.browser_support import LiveServer
from tests.test_backends import needs_backends

pytestmark = pytest.mark.backends


def _admin_url() -> str:
    return os.environ.get("DATABASE_URL", "").replace("postgres://", "postgresql://", 1)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of its own on the test server (so ending its sessions ends nobody else's)."""
    needs_backends()
    name = f"console_blip_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = re.sub(r"/[^/?]+(\?|$)", rf"/{name}\1", os.environ["DATABASE_URL"], count=1)
    try:
        yield url
    finally:
        with psycopg.connect(_admin_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _blip(url: str, *, down: bool) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if down else "true"}')
        if down:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[LiveServer]:
    live = LiveServer(
        tmp_path_factory.mktemp("blip"),
        extra_env={"DATABASE_URL": database, "DATABASE_CONN_MAX_AGE": "60"},
    )
    with live:
        yield live


def _signed_in(server: LiveServer) -> requests.Session:
    http = requests.Session()
    http.get(server.url + "/accounts/login/", timeout=10)
    response = http.post(
        server.url + "/accounts/login/",
        data={
            "username": server.username,
            "password": server.password,
            "csrfmiddlewaretoken": http.cookies["csrftoken"],
        },
        timeout=10,
    )
    assert response.url == server.url + "/inbox/"
    return http


def _hidden_fields(page: str) -> list[tuple[str, str]]:
    return [
        (unescape(name), unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    ]


def test_a_blip_loses_nothing_and_heals_by_itself(server, database):
    http = _signed_in(server)
    assert http.get(server.url + "/spaces/", timeout=10).status_code == 200  # a kept connection
    form = {
        "name": "Blip survivor",
        "description": "Typed while the database restarted",
        "locale": "en-US",
        "csrfmiddlewaretoken": http.cookies["csrftoken"],
    }
    _blip(database, down=True)
    try:
        page = http.get(server.url + "/spaces/", timeout=30)
        assert page.status_code == 503
        assert page.headers["Retry-After"]
        assert "The database is not answering" in page.text and "Traceback" not in page.text

        posted = http.post(server.url + "/spaces/new/", data=form, timeout=30)
        assert posted.status_code == 503
        assert "not saved" in posted.text
        fields = _hidden_fields(posted.text)
        assert ("description", form["description"]) in fields
        assert 'action="/spaces/new/"' in posted.text
    finally:
        _blip(database, down=False)

    # Back by itself: the same process answers again.
    assert http.get(server.url + "/spaces/", timeout=30).status_code == 200
    # "Send again" posts what the page kept, once.
    again = http.post(server.url + "/spaces/new/", data=fields, timeout=30)
    assert again.status_code == 200 and "Blip survivor" in again.text
    listing = http.get(server.url + "/spaces/", timeout=30).text
    assert listing.count("Blip survivor") == 1
    # One line per refused request in daphne's log, no trace.
    log = server.log_path.read_text(errors="replace")
    assert "Service Unavailable: /spaces/new/ (connection failed" in log
    assert "Traceback" not in log
