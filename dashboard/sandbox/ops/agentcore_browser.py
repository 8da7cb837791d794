"""Amazon Bedrock AgentCore (`bedrock-agentcore`): browser sessions and their streams.

A session of the system browser `aws.browser.v1` is a real headless Chromium on this host when
SANDBOX_CHROMIUM exists (`browser_host.py`), or a generated picture otherwise. Its stream
endpoints are served by the console's own daphne under /sandbox/browser-streams/ (see
`browser_streams.py`), at SANDBOX_STREAM_URL:

- automation: ws(s)://…/sandbox/browser-streams/<browser>/sessions/<id>/automation, the
  browser's Chrome DevTools Protocol (Playwright's `connect_over_cdp`), SigV4-signed;
- live view: http(s)://…/live-view, presigned (SigV4 query auth, at most 300 s), streaming
  screencast frames.

Behaviour as documented: sessions end after `sessionTimeoutSeconds` (computed when next read,
and the Chromium's guard ends the browser at that moment too); StopBrowserSession ends one at
once; UpdateBrowserStream DISABLED ("take control") pauses automation: the automation stream
refuses new connections and answers every command with an error until it is ENABLED again.
Only the system browser exists (the sandbox's control plane lists it; creating custom browsers
is not emulated). At most SANDBOX_BROWSER_MAX_SESSIONS sessions are READY at once
(ServiceQuotaExceededException beyond).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import browser_host
from ..models import BrowserSession
from ..wire import Context, SandboxError, operation
from .paging import page

logger = logging.getLogger(__name__)

SERVICE = "bedrock-agentcore"
SYSTEM_BROWSER = "aws.browser.v1"
# Without sessionTimeoutSeconds a session lasts an hour, as the model and the document say.
DEFAULT_TIMEOUT = 3600
DEFAULT_VIEWPORT = (1280, 720)
# Start parameters kept and echoed by GetBrowserSession, but not acted on.
KEPT = (
    "extensions",
    "profileConfiguration",
    "proxyConfiguration",
    "enterprisePolicies",
    "certificates",
    "filesystemConfigurations",
)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_session_id(at: dt.datetime) -> str:
    """A ULID (26 characters: 48-bit milliseconds, 80 random bits), as AgentCore's ids look."""
    value = (int(at.timestamp() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def group_name(session_id: str) -> str:
    """The channel-layer group of the session's open stream connections."""
    return f"sandbox-browser.{session_id}"


def _check_browser(identifier: str) -> None:
    if identifier != SYSTEM_BROWSER:
        raise SandboxError(
            "ResourceNotFoundException",
            f"Browser {identifier} was not found. The sandbox has the system browser "
            f"{SYSTEM_BROWSER} only (creating custom browsers through the control plane is "
            "not emulated).",
        )


def expire(now: dt.datetime) -> None:
    """Terminate READY sessions whose timeout has passed (their guard ends Chromium too)."""
    due = list(
        BrowserSession.objects.filter(status=BrowserSession.READY, expires_at__lte=now).only(
            "session_id", "expires_at", "guard_pid", "host"
        )
    )
    for session in due:
        BrowserSession.objects.filter(pk=session.pk, status=BrowserSession.READY).update(
            status=BrowserSession.TERMINATED, updated_at=session.expires_at
        )
        browser_host.stop(session.session_id, guard_pid=session.guard_pid, host=session.host)
        _notify_after_commit(session.session_id)


def _session(identifier: str, session_id: str) -> BrowserSession:
    _check_browser(identifier)
    expire(timezone.now())
    session = BrowserSession.objects.filter(pk=session_id, browser_identifier=identifier).first()
    if session is None:
        raise SandboxError(
            "ResourceNotFoundException",
            f"Browser session {session_id} was not found for browser {identifier}",
        )
    return session


def stream_base() -> str:
    base = str(getattr(settings, "SANDBOX_STREAM_URL", "") or "http://127.0.0.1:8000")
    return base.rstrip("/")


def endpoints(identifier: str, session_id: str) -> tuple[str, str]:
    """(automation, live view) endpoints of a session, served by the console's daphne."""
    base = urlsplit(stream_base())
    secure = base.scheme == "https"
    path = f"/sandbox/browser-streams/{quote(identifier, safe='')}/sessions/{session_id}"
    automation = f"{'wss' if secure else 'ws'}://{base.netloc}{path}/automation"
    live_view = f"{'https' if secure else 'http'}://{base.netloc}{path}/live-view"
    return automation, live_view


def streams(session: BrowserSession) -> dict[str, Any]:
    automation, live_view = endpoints(session.browser_identifier, session.session_id)
    return {
        "automationStream": {
            "streamEndpoint": automation,
            "streamStatus": session.automation_status,
        },
        "liveViewStream": {"streamEndpoint": live_view},
    }


def notify(session_id: str) -> None:
    """Tell the session's open stream connections to look at it again (status, control)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_name(session_id), {"type": "session.changed"})
    except Exception:
        # The streams also look at the session every second; a lost nudge costs that much.
        logger.exception("Could not notify the streams of browser session %s", session_id)


def _notify_after_commit(session_id: str) -> None:
    transaction.on_commit(lambda: notify(session_id))


def _digest(params: dict[str, Any]) -> str:
    asked = {k: v for k, v in params.items() if k not in ("clientToken", "traceId", "traceParent")}
    text = json.dumps(asked, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@operation(SERVICE, "StartBrowserSession")
def start_browser_session(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    identifier = params["browserIdentifier"]
    _check_browser(identifier)
    now = timezone.now()
    expire(now)
    token = params.get("clientToken") or ""
    digest = _digest(params)
    if token:
        earlier = BrowserSession.objects.filter(client_token=token).first()
        if earlier is not None:
            if earlier.request_digest != digest:
                raise SandboxError(
                    "ValidationException",
                    "The clientToken was used before with different parameters",
                    reason="IdempotentParameterMismatchException",
                )
            return _started(earlier)
    limit = int(getattr(settings, "SANDBOX_BROWSER_MAX_SESSIONS", 4))
    if BrowserSession.objects.filter(status=BrowserSession.READY).count() >= limit:
        raise SandboxError(
            "ServiceQuotaExceededException",
            f"The sandbox allows {limit} browser sessions at once "
            "(SANDBOX_BROWSER_MAX_SESSIONS). Stop a session and try again.",
        )
    width, height = DEFAULT_VIEWPORT
    if params.get("viewPort"):
        width, height = params["viewPort"]["width"], params["viewPort"]["height"]
    timeout = params.get("sessionTimeoutSeconds") or DEFAULT_TIMEOUT
    session = BrowserSession(
        session_id=new_session_id(now),
        browser_identifier=identifier,
        name=params.get("name", ""),
        viewport_width=width,
        viewport_height=height,
        timeout_seconds=timeout,
        expires_at=now + dt.timedelta(seconds=timeout),
        client_token=token,
        request_digest=digest,
        config={k: params[k] for k in KEPT if params.get(k) is not None},
        created_at=now,
        updated_at=now,
    )
    if browser_host.chromium_path():
        try:
            launched = browser_host.launch(
                session.session_id, name=session.name, width=width, height=height, timeout=timeout
            )
        except browser_host.LaunchFailed as exc:
            logger.warning("Sandbox browser %s: Chromium failed: %s", session.session_id, exc)
            session.engine_note = f"Chromium could not start ({exc}); showing generated frames."[
                :500
            ]
        else:
            session.engine = "chromium"
            session.guard_pid = launched.guard_pid
            session.cdp_port = launched.cdp_port
            session.cdp_path = launched.cdp_path
            session.host = launched.host
            session.owner_pid = launched.owner_pid
    try:
        session.save(force_insert=True)
    except Exception:
        browser_host.stop(session.session_id)
        raise
    return _started(session)


def _started(session: BrowserSession) -> dict[str, Any]:
    return {
        "browserIdentifier": session.browser_identifier,
        "sessionId": session.session_id,
        "createdAt": session.created_at,
        "streams": streams(session),
    }


@operation(SERVICE, "GetBrowserSession")
def get_browser_session(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    session = _session(params["browserIdentifier"], params["sessionId"])
    return {
        "browserIdentifier": session.browser_identifier,
        "sessionId": session.session_id,
        "name": session.name or None,
        "createdAt": session.created_at,
        "viewPort": {"width": session.viewport_width, "height": session.viewport_height},
        "sessionTimeoutSeconds": session.timeout_seconds,
        "status": session.status,
        "streams": streams(session),
        "lastUpdatedAt": session.updated_at,
        **session.config,
    }


@operation(SERVICE, "ListBrowserSessions")
def list_browser_sessions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    identifier = params["browserIdentifier"]
    _check_browser(identifier)
    expire(timezone.now())
    status = params.get("status") or ""
    rows = BrowserSession.objects.filter(browser_identifier=identifier)
    if status:
        rows = rows.filter(status=status)
    sessions, token = page(
        rows.order_by("-created_at", "-session_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListBrowserSessions:{identifier}:{status}",
        default=10,
    )
    return {
        "items": [
            {
                "browserIdentifier": s.browser_identifier,
                "sessionId": s.session_id,
                "name": s.name or None,
                "status": s.status,
                "createdAt": s.created_at,
                "lastUpdatedAt": s.updated_at,
            }
            for s in sessions
        ],
        "nextToken": token,
    }


def _ready(session: BrowserSession, action: str) -> None:
    if session.status != BrowserSession.READY:
        raise SandboxError(
            "ConflictException",
            f"Browser session {session.session_id} is {session.status}: cannot {action} it",
        )


@operation(SERVICE, "StopBrowserSession")
def stop_browser_session(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    session = _session(params["browserIdentifier"], params["sessionId"])
    _ready(session, "stop")
    now = timezone.now()
    session.status = BrowserSession.TERMINATED
    session.updated_at = now
    session.save(update_fields=["status", "updated_at"])
    browser_host.stop(session.session_id, guard_pid=session.guard_pid, host=session.host)
    _notify_after_commit(session.session_id)
    return {
        "browserIdentifier": session.browser_identifier,
        "sessionId": session.session_id,
        "lastUpdatedAt": now,
    }


@operation(SERVICE, "UpdateBrowserStream")
def update_browser_stream(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    session = _session(params["browserIdentifier"], params["sessionId"])
    update = (params.get("streamUpdate") or {}).get("automationStreamUpdate") or {}
    status = update.get("streamStatus")
    if not status:
        raise SandboxError(
            "ValidationException",
            "streamUpdate.automationStreamUpdate.streamStatus is required (ENABLED or DISABLED)",
            reason="FieldValidationFailed",
        )
    _ready(session, "update the streams of")
    now = timezone.now()
    if session.automation_status != status:
        session.automation_status = status
        session.updated_at = now
        session.save(update_fields=["automation_status", "updated_at"])
        _notify_after_commit(session.session_id)
    return {
        "browserIdentifier": session.browser_identifier,
        "sessionId": session.session_id,
        "streams": streams(session),
        "updatedAt": now,
    }
