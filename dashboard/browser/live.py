"""Live updates of a browser session's page: status, viewport, streams and who has control.

``browser-session:<browserId>:<sessionId>``
    fetch: GetBrowserSession, plus who took control (the console's audit log: the latest
    successful UpdateBrowserStream of the session; AWS itself does not say who).
    render: the status panel (``browser/detail.html#status``, out of band), the same fragment
    the page renders, for every viewer of the session. Controls in it are ``operator-only``:
    shown only in a live region whose page says the user may operate.

Presigned live-view URLs never travel this way: they are per user (see consumers.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.template.loader import render_to_string

from dashboard.aws import browser as aws_browser
from dashboard.core.models import AuditEntry
from dashboard.live import Change, make_key, register, status_placeholder

WATCH = "browser-session"
ITEM = "session"
_NO_TOKEN = "live-fragment-without-token"
_TOKEN_FIELD = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_NO_TOKEN}">'


def session_key(browser_id: str, session_id: str) -> str:
    return make_key(WATCH, browser_id, session_id)


def notice(browser_id: str, session_id: str) -> str:
    return status_placeholder(session_key(browser_id, session_id))


def audit_target(browser_id: str, session_id: str) -> str:
    return f"{browser_id}/{session_id}"


def controller(browser_id: str, session_id: str, automation: str) -> dict[str, Any] | None:
    """Who took control, when the automation stream is DISABLED: {"username", "at"}, or
    {"username": ""} when it was disabled outside this console."""
    if automation != "DISABLED":
        return None
    entry = (
        AuditEntry.objects.filter(
            operation="UpdateBrowserStream",
            target=audit_target(browser_id, session_id),
            outcome=AuditEntry.OK,
        )
        .only("username", "at", "detail")
        .first()
    )
    status = (
        ((entry.detail or {}).get("streamUpdate") or {})
        .get("automationStreamUpdate", {})
        .get("streamStatus")
        if entry
        else None
    )
    if entry is None or status != "DISABLED":
        return {"username": "", "at": None}
    return {"username": entry.username, "at": entry.at}


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value or "")


def session_item(session: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of a session (the watch's snapshot; comparable, picklable)."""
    streams = session.get("streams") or {}
    automation = (streams.get("automationStream") or {}).get("streamStatus", "")
    browser_id, session_id = session["browserIdentifier"], session["sessionId"]
    created = session.get("createdAt")
    timeout = session.get("sessionTimeoutSeconds")
    ends = (
        created + dt.timedelta(seconds=timeout)
        if isinstance(created, dt.datetime) and timeout
        else None
    )
    return {
        "browserIdentifier": browser_id,
        "sessionId": session_id,
        "name": session.get("name") or "",
        "status": session.get("status", ""),
        "viewPort": session.get("viewPort") or {},
        "sessionTimeoutSeconds": timeout,
        "createdAt": _iso(created),
        "lastUpdatedAt": _iso(session.get("lastUpdatedAt")),
        "endsAt": _iso(ends),
        "automation": automation,
        "automationEndpoint": (streams.get("automationStream") or {}).get("streamEndpoint", ""),
        "liveViewEndpoint": (streams.get("liveViewStream") or {}).get("streamEndpoint", ""),
        "controller": controller(browser_id, session_id, automation),
        "replay": session.get("sessionReplayArtifact") or "",
    }


def fetch(browser_id: str, session_id: str) -> dict[str, Any]:
    return {ITEM: session_item(aws_browser.get_session(browser_id, session_id))}


def status_context(item: dict[str, Any]) -> dict[str, Any]:
    def parse(text: str) -> dt.datetime | None:
        return dt.datetime.fromisoformat(text) if text else None

    controller_info = item.get("controller") or None
    return {
        "s": item,
        "created": parse(item["createdAt"]),
        "updated": parse(item["lastUpdatedAt"]),
        "ends": parse(item["endsAt"]),
        "controller": controller_info,
        "ready": item["status"] == "READY",
    }


def render_status(item: dict[str, Any], *, oob: bool, can_operate: bool = True) -> str:
    context = {**status_context(item), "oob": oob, "can_operate": can_operate}
    context["csrf_token"] = _NO_TOKEN
    html = render_to_string("browser/detail.html#status", context)
    return html.replace(_TOKEN_FIELD, "").strip()


def render(change: Change) -> str:
    if change.item is None:
        return ""
    return render_status(change.item, oob=True)


register(WATCH, fetch=fetch, render=render)
