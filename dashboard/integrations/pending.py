"""OAuth (3LO) registrations waiting for the admin's consent at the provider, per session.

RegisterService answers an authorization URL instead of a service id; the service appears once
the admin allows access there. The console remembers the flow in the admin's session (never a
credential: type, name, the URL and when it started) to show it as pending, to offer to continue
it, and to notice when it has finished.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from dashboard.aws import integrations as aws_integrations
from dashboard.aws.model import REDACTED, service_model, strip_credentials

KEY = "integrations.pending"
RETRY_KEY = "integrations.retry"
# What a flow id in a return address may look like (the sandbox's are token_urlsafe).
FLOW_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
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


def add(
    request: HttpRequest,
    *,
    service_type: str,
    name: str,
    url: str,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Remember a flow; `values` is what the admin typed (credentials are dropped here), so
    the form can be filled in again if the provider refuses or the flow expires."""
    flow = {
        "key": uuid.uuid4().hex[:12],
        "type": service_type,
        "name": name,
        "url": url,
        "started": timezone.now().isoformat(),
        "values": without_credentials(values or {}),
    }
    _save(request, [*flows(request), flow])
    return flow


def remove(request: HttpRequest, key: str) -> dict[str, Any] | None:
    items = flows(request)
    found = next((f for f in items if f["key"] == key), None)
    _save(request, [f for f in items if f["key"] != key])
    return found


def without_credentials(values: dict[str, Any]) -> dict[str, Any]:
    """RegisterService input with every credential (client secrets, API keys, tokens, header
    values the model marks sensitive) left out, not even masked."""
    shape = service_model(aws_integrations.SERVICE).shape_for("RegisterServiceInput")
    return _drop_redacted(strip_credentials(shape, values)) or {}


def _drop_redacted(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: _drop_redacted(v) for k, v in value.items() if v != REDACTED}
        return {k: v for k, v in kept.items() if v is not None}
    if isinstance(value, list):
        kept_items = [_drop_redacted(v) for v in value if v != REDACTED]
        return [v for v in kept_items if v is not None] or None
    return value


def _flow_id_ok(flow_id: Any) -> bool:
    return isinstance(flow_id, str) and bool(FLOW_ID.fullmatch(flow_id))


def for_flow_id(request: HttpRequest, flow_id: str) -> dict[str, Any] | None:
    """The pending entry whose authorization URL carries `flow_id` (the sandbox's return)."""
    if not _flow_id_ok(flow_id):
        return None
    return next((f for f in flows(request) if f"/{flow_id}/" in f["url"]), None)


def expired_flow(request: HttpRequest, flow_id: str) -> dict[str, Any] | None:
    """The flow for `flow_id` this session started but forgot because it was too old (its
    entry is dropped from the session here)."""
    if not _flow_id_ok(flow_id) or for_flow_id(request, flow_id) is not None:
        return None
    items = [f for f in request.session.get(KEY, []) if isinstance(f, dict)]
    found = next((f for f in items if f"/{flow_id}/" in str(f.get("url", ""))), None)
    if found is not None:
        request.session[KEY] = [f for f in items if f is not found]
    return found


def take_values(request: HttpRequest, key: str) -> dict[str, Any] | None:
    """The typed values of a flow that did not finish (kept after its removal for one retry)."""
    kept = request.session.get(RETRY_KEY) or {}
    if not isinstance(kept, dict) or kept.get("key") != key:
        return None
    return kept.get("values") if isinstance(kept.get("values"), dict) else None


def keep_for_retry(request: HttpRequest, flow: dict[str, Any]) -> None:
    request.session[RETRY_KEY] = {"key": flow.get("key"), "values": flow.get("values") or {}}


def _service_name(service: dict[str, Any]) -> str:
    details = next(iter((service.get("additionalServiceDetails") or {}).values()), {}) or {}
    return service.get("name") or details.get("name") or ""


def finished_by(flow: dict[str, Any], service: dict[str, Any]) -> bool:
    """Whether `service` is the one `flow` registers: same type and name, created since."""
    return (
        service.get("serviceType") == flow["type"]
        and _service_name(service) == flow["name"]
        and service["createdAt"] >= flow["started_at"] - SKEW
    )


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
                if finished_by(flow, {"serviceType": flow["type"], **s})
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
