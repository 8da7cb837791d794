"""Secrets are write-only: typed in once, never shown again anywhere.

Setups (SECRET_SETUPS) put known secrets into AWS through the console: every service type with
every authorization variant, each with unique client secrets, API keys, tokens and header
values; associations whose webhooks get generated secrets and API keys. Then the console is
crawled as an admin, an operator and a viewer: every page and htmx fragment reachable by
following links (href, hx-get), and every URL pattern that can be filled with the ids the
setups made. Websockets of every route are open while the secrets are written, and those of
every crawled page afterwards. None of the secrets may appear in a page, a fragment, a
websocket message, the logs (captured at DEBUG), the audit log, or a Django error report of
the requests that carried them.

To cover another secret, append a setup: `SECRET_SETUPS.append(my_setup)`, where
`my_setup(admin_client, world) -> list[str]` writes secrets through the console, returns them
and may add ids to `world` (e.g. world["space_id"]) for the URL patterns to use.
"""

from __future__ import annotations

import asyncio
import gc
import html
import logging
import re
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.db import connection, connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.debug import ExceptionReporter

from dashboard.asgi import application
from dashboard.aws import clients as aws_clients
from dashboard.aws import executor as aws_executor
from dashboard.core.audit import AuditEntry
from dashboard.core.shapeforms import walk
from dashboard.integrations import catalog
from dashboard.live import default_registry, registry
from dashboard.routing import websocket_urlpatterns
from dashboard.sandbox.models import AssociationWebhook, RegisteredService
from dashboard.sandbox.ops.integrations import _WEBHOOKS as WEBHOOK_TYPES
from tests.integrations_support import post_data

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")
World = dict[str, Any]
Setup = Callable[[Client, World], list[str]]
MAX_REQUESTS_PER_ROLE = 700
_LINK = re.compile(r'(?:href|hx-get)="(/[^"#]*)')
_WS = re.compile(r'ws-connect="(/[^"]*)"')
_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


# --- the setups ---------------------------------------------------------------------------------


def _error_report(request: Any) -> str:
    """What Django would mail or log for an error in this request."""
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        report = ExceptionReporter(request, *sys.exc_info())
        # The report's data (filtered POST, META, frames), not its rendering: rendering logs
        # every missing template variable at DEBUG with the whole context.
        return repr(report.get_traceback_data())


def register_every_service_type(admin: Client, world: World) -> list[str]:
    """Each registrable type with each authorization variant, all optional members filled."""
    found: list[str] = []
    skip = (
        "kmsKeyArn",
        "privateConnectionName",
        "targetUrlPrivateConnectionName",
        "exchangeUrlPrivateConnectionName",
    )
    assert catalog.registrable_types(), "the model offers no registrable type"
    for service_type in catalog.registrable_types():
        layout = catalog.register_layout(service_type)
        auth = next(
            (
                n
                for n in walk(layout)
                if n.kind == "union" and n.path.endswith("authorizationConfig")
            ),
            None,
        )
        for variant in [c.name for c in auth.children] if auth else [""]:
            secrets: list[str] = []
            variants = {auth.path: variant} if auth else {}
            data = post_data(layout, variants=variants, secrets=secrets, full=True, skip=skip)
            name_key = f"serviceDetails.{service_type}.name"
            if name_key in data:
                data[name_key] = f"{service_type}-{variant}".lower()
            url = f"/services/new/{service_type}/"
            # A post that fails validation first: the secrets must not come back with the form.
            bad = {**data, "name": "not a valid name ✗"}
            refused = admin.post(url, bad)
            assert refused.status_code == 400, (service_type, variant)
            assert not any(s in refused.content.decode() for s in secrets), (service_type, variant)
            assert not any(s in _error_report(refused.wsgi_request) for s in secrets)
            response = admin.post(url, data)
            assert response.status_code == 302, (service_type, variant, response.content[:500])
            assert not any(s in _error_report(response.wsgi_request) for s in secrets)
            if response["Location"].startswith("/sandbox/oauth/"):
                world.setdefault("flow_id", response["Location"].rstrip("/").rsplit("/", 1)[1])
                back = admin.post(response["Location"], {"decision": "allow"})
                admin.get(back["Location"])
            found.extend(secrets)
    world["service_id"] = RegisteredService.objects.order_by("created_at").first().service_id
    return found


def associate_webhooks(admin: Client, world: World) -> list[str]:
    """Associations whose webhooks get secrets or API keys the sandbox generates."""
    space_id = world["space_id"]
    # The types whose associations get a webhook (the sandbox's table, as AWS hands them out).
    event_sources = sorted(WEBHOOK_TYPES)
    assert event_sources
    for service in RegisteredService.objects.filter(service_type__in=event_sources):
        layout = catalog.association_layout(service.service_type)
        data = post_data(layout, full=False)
        response = admin.post(f"/spaces/{space_id}/associations/new/{service.service_id}/", data)
        assert response.status_code == 302, (service.service_type, response.content[:800])
        world["association_id"] = response["Location"].rstrip("/").rsplit("/", 1)[1]
    hooks = list(AssociationWebhook.objects.select_related("association"))
    assert sorted(h.association.service_type for h in hooks) == event_sources
    return [h.webhook_secret or h.api_key for h in hooks]


def set_operator_app_idp_secret(admin: Client, world: World) -> list[str]:
    """The space's Operator App on an external IdP, its client secret set and then replaced."""
    from tests.test_configuration_secrets import IDP_SECRET, set_idp_secret

    set_idp_secret(admin, world["space_id"])
    return [IDP_SECRET]


SECRET_SETUPS: list[Setup] = [
    register_every_service_type,
    associate_webhooks,
    set_operator_app_idp_secret,
]


# --- crawling -----------------------------------------------------------------------------------


def _patterns(resolver: URLResolver | None = None, prefix: str = ""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def filled(route: str, world: World) -> str | None:
    """`route` with its parameters from `world`; None when one is unknown."""
    missing = []

    def fill(match: re.Match[str]) -> str:
        value = world.get(match.group("name"))
        if value is None:
            missing.append(match.group("name"))
            return ""
        return str(value)

    path = _PARAM.sub(fill, route)
    if missing or "^" in route or "(?P" in route:
        return None
    return "/" + path


def _links(body: str) -> list[str]:
    out = []
    for raw in _LINK.findall(body):
        url = html.unescape(raw)
        if url.startswith(("/static/", "/accounts/logout")) or url.startswith("//"):
            continue
        out.append(url)
    return out


def crawl(client: Client, world: World) -> tuple[dict[str, str], set[str]]:
    """Every page and fragment reachable from the console's start and its URL patterns."""
    seeds = ["/"] + [u for u in (filled(r, world) for r in _patterns()) if u]
    queue = deque(dict.fromkeys(seeds))
    seen: set[str] = set()
    bodies: dict[str, str] = {}
    sockets: set[str] = set()
    while queue and len(seen) < MAX_REQUESTS_PER_ROLE:
        url = queue.popleft()
        if url in seen or "logout" in url:
            continue
        seen.add(url)
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(url, **headers)
            if response.status_code in (301, 302):
                location = response["Location"]
                if location.startswith("/") and location not in seen:
                    queue.append(location)
                continue
            body = b"".join(response) if response.streaming else response.content
            text = body.decode(errors="replace")
            bodies[f"{url} {headers}"] = text
            sockets.update(_WS.findall(text))
            queue.extend(u for u in _links(text) if u not in seen)
    return bodies, sockets


# --- the test -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_layer_and_registry():
    channel_layers.backends.clear()
    registry._default = None
    yield
    channel_layers.backends.clear()
    registry._default = None


@pytest.fixture(autouse=True)
def _own_aws_pool():
    aws_executor._executor = None
    yield
    pool, aws_executor._executor = aws_executor._executor, None
    if pool is not None:
        pool.submit(connections.close_all).result()
        pool.shutdown(wait=True, cancel_futures=True)
    # Connections of finished threads close when collected (else PostgreSQL keeps a session
    # on the test database and it cannot be dropped).
    gc.collect()


@pytest.fixture
def serialized(monkeypatch, settings):
    """SQLite's in-memory test database refuses a second writer at once ("table is locked")
    instead of waiting: pollers' sandbox calls and the test's own requests take turns, the
    requests holding the turn for their whole run. PostgreSQL keeps the real concurrency."""
    settings.LIVE_POLL_INTERVAL = 0.2
    lock = threading.RLock()

    def locked(fn):
        def run(*args, **kwargs):
            with lock:
                return fn(*args, **kwargs)

        return run

    if connection.vendor != "sqlite":
        return lambda fn: fn
    real = aws_clients.call

    def call(*args, **kwargs):
        with lock:
            return real(*args, **kwargs)

    monkeypatch.setattr(aws_clients, "call", call)
    for module in list(sys.modules.values()):
        if (
            getattr(module, "__name__", "").startswith("dashboard.aws.")
            and getattr(module, "call", None) is real
        ):
            monkeypatch.setattr(module, "call", call)
    return locked


def _cookie(client: Client) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def _open(path: str, client: Client) -> WebsocketCommunicator | None:
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, _cookie(client)])
    connected, _ = await communicator.connect()
    return communicator if connected else None


async def _drain(sockets: list[WebsocketCommunicator], seconds: float = 0.6) -> list[str]:
    out: list[str] = []

    async def one(communicator: WebsocketCommunicator) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            if await communicator.receive_nothing(timeout=0.05):
                continue
            out.append(await communicator.receive_from())

    await asyncio.gather(*(one(c) for c in sockets))
    return out


def _world(space: dict[str, Any]) -> World:
    from tests.test_views_task_support import create

    task = create(space["agentSpaceId"])
    return {
        "space_id": space["agentSpaceId"],
        "task_id": task["taskId"],
        "service_type": "mcpserver",
        "fmt": "csv",
        "key": "none",
    }


def _force_login(client: Client, user) -> Client:
    client.force_login(user)
    return client


async def test_no_secret_is_ever_shown(
    space, admin_user, operator_user, viewer_user, caplog, serialized
):
    caplog.set_level(logging.DEBUG)
    for name in ("dashboard", "django", "channels"):
        caplog.set_level(logging.DEBUG, logger=name)
    admin = await sync_to_async(serialized(_force_login))(Client(), admin_user)
    world = await sync_to_async(_world)(space)

    # Every websocket route that can be filled is open while the secrets are written.
    routes = [filled(str(p.pattern), world) for p in websocket_urlpatterns]
    sockets = [s for s in [await _open(r, admin) for r in routes if r] if s is not None]
    assert sockets, "no websocket route could be opened"

    secrets: list[str] = []
    for setup in SECRET_SETUPS:
        secrets.extend(await sync_to_async(serialized(setup))(admin, world))
    assert len(secrets) > 30 and all(secrets)
    messages = await _drain(sockets)

    bodies: dict[str, str] = {}
    for user in (admin_user, operator_user, viewer_user):
        client = await sync_to_async(serialized(_force_login))(Client(), user)
        found, pages_sockets = await sync_to_async(serialized(crawl))(client, world)
        assert len(found) > 40, f"the crawl as {user} found too little: {list(found)[:5]}"
        bodies.update({f"{user.username} {k}": v for k, v in found.items()})
        more = [s for s in [await _open(p, client) for p in pages_sockets] if s is not None]
        messages += await _drain(more, 0.3)
        sockets += more
    await asyncio.gather(*(c.disconnect() for c in sockets), return_exceptions=True)
    await default_registry().shutdown()

    # The crawl saw the pages that matter.
    visited = " ".join(bodies)
    assert f"/services/{world['service_id']}/" in visited
    assert f"/associations/{world['association_id']}/" in visited
    assert "/services/new/mcpserver/" in visited

    audit = await sync_to_async(
        lambda: [f"{e.operation} {e.target} {e.detail} {e.error}" for e in AuditEntry.objects.all()]
    )()
    # The requests and this read ran in asgiref's thread: let its connection go, or PostgreSQL
    # keeps a session on the test database and it cannot be dropped afterwards.
    await sync_to_async(connections.close_all)()
    places = {
        **bodies,
        **{f"websocket message {i}": m for i, m in enumerate(messages)},
        "logs": caplog.text,
        "audit log": "\n".join(audit),
    }
    leaks = [
        (secret, where) for secret in secrets for where, text in places.items() if secret in text
    ]
    excerpts = [
        f"{where}: …{text[max(0, text.index(secret) - 200) : text.index(secret) + 60]}…"
        for secret, where in leaks[:3]
        for text in [places[where]]
    ]
    assert not leaks, f"secrets disclosed: {leaks[:10]}\n" + "\n".join(excerpts)
    assert len(audit) >= len(catalog.registrable_types())
