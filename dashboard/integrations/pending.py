"""OAuth (3LO) registrations waiting for the admin's consent at the provider, per session.

RegisterService answers an authorization URL instead of a service id; the service appears once
the admin allows access there. The console remembers the flow in the admin's session (never a
credential: type, name, the URL and when it started) to show it as pending, to offer to continue
it, and to notice when it has finished.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from dashboard.aws import integrations as aws_integrations

KEY = "integrations.pending"
SANDBOX_AUTHORIZE = "/sandbox/oauth/authorize/"
# A flow the provider never finished is forgotten after this long.
MAX_AGE = dt.timedelta(hours=1)
# Clocks differ: a service created a little "before" the flow started is still its result.
SKEW = dt.timedelta(minutes=5)


def safe_authorization_url(url: Any) -> str | None:
    """`url` if the console may send the admin there: an https:// address (or, on the sandbox,
    the sandbox's own consent page); None for anything else (javascript:, http:, odd text)."""
    if not isinstance(url, str) or not url or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname and not parts.username and not parts.password:
        return url
    if (
        settings.DASHBOARD_BACKEND == "sandbox"
        and url.startswith(SANDBOX_AUTHORIZE)
        and not parts.scheme
        and not parts.netloc
        and ".." not in url
    ):
        return url
    return None


def flows(request: HttpRequest) -> list[dict[str, Any]]:
    now = timezone.now()
    kept = []
    for flow in request.session.get(KEY, []):
        try:
            started = dt.datetime.fromisoformat(flow["started"])
        except (KeyError, TypeError, ValueError):
            continue
        if now - started < MAX_AGE:
            kept.append({**flow, "started_at": started})
    return kept


def _save(request: HttpRequest, items: list[dict[str, Any]]) -> None:
    request.session[KEY] = [{k: v for k, v in item.items() if k != "started_at"} for item in items]


def add(request: HttpRequest, *, service_type: str, name: str, url: str) -> dict[str, Any]:
    flow = {
        "key": uuid.uuid4().hex[:12],
        "type": service_type,
        "name": name,
        "url": url,
        "started": timezone.now().isoformat(),
    }
    _save(request, [*flows(request), flow])
    return flow


def remove(request: HttpRequest, key: str) -> dict[str, Any] | None:
    items = flows(request)
    found = next((f for f in items if f["key"] == key), None)
    _save(request, [f for f in items if f["key"] != key])
    return found


def for_flow_id(request: HttpRequest, flow_id: str) -> dict[str, Any] | None:
    """The pending entry whose authorization URL carries `flow_id` (the sandbox's return)."""
    if not flow_id:
        return None
    return next((f for f in flows(request) if f"/{flow_id}/" in f["url"]), None)


def _service_name(service: dict[str, Any]) -> str:
    details = next(iter((service.get("additionalServiceDetails") or {}).values()), {}) or {}
    return service.get("name") or details.get("name") or ""


def settle(request: HttpRequest) -> list[dict[str, Any]]:
    """Drop flows whose service now exists; return them with their `service`."""
    done = []
    remaining = []
    by_type: dict[str, list[dict[str, Any]]] = {}
    for flow in flows(request):
        if flow["type"] not in by_type:
            by_type[flow["type"]] = aws_integrations.list_services(
                service_type=flow["type"], max_results=100
            )["services"]
        match = next(
            (
                s
                for s in by_type[flow["type"]]
                if _service_name(s) == flow["name"] and s["createdAt"] >= flow["started_at"] - SKEW
            ),
            None,
        )
        if match is not None:
            done.append({**flow, "service": match})
        else:
            remaining.append(flow)
    if done:
        _save(request, remaining)
    return done
