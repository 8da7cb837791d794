"""AgentCore browser sessions (`bedrock-agentcore`): list, start, get, stop, take/release
control, and the signed URLs of their streams; the account's browsers from the control plane
(`bedrock-agentcore-control` ListBrowsers).

`live_view_url()` presigns a session's live-view endpoint with SigV4 query authentication, as
the AgentCore SDK's `BrowserClient.generate_live_view_url` does (service `bedrock-agentcore`,
at most 300 s). The result is a credential: callers hand it to the one user who asked and
never log it. With the sandbox backend it is signed with the sandbox's credential, and the
sandbox checks signature and expiry when the URL is used.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import boto3
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import BotoCoreError
from django.conf import settings

from . import errors
from .clients import call, client, collect, sandbox_credentials

SERVICE = "bedrock-agentcore"
CONTROL = "bedrock-agentcore-control"
SYSTEM_BROWSER = "aws.browser.v1"
MAX_LIVE_VIEW_EXPIRES = 300
STATUSES = ("READY", "TERMINATED")
AUTOMATION_STATUSES = ("ENABLED", "DISABLED")

_lock = threading.Lock()


def list_browsers(*, limit: int = 200) -> list[dict[str, Any]]:
    """The browsers (system and custom) to choose from, every page up to `limit`."""
    return collect(CONTROL, "ListBrowsers", "browserSummaries", limit=limit)


def list_sessions(
    browser_id: str, *, status: str = "", max_results: int = 25, next_token: str | None = None
) -> dict[str, Any]:
    """One page: {"items": [...], "nextToken": str | None}."""
    params: dict[str, Any] = {"browserIdentifier": browser_id, "maxResults": max_results}
    if status:
        params["status"] = status
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListBrowserSessions", **params)
    return {"items": page.get("items", []), "nextToken": page.get("nextToken")}


def get_session(browser_id: str, session_id: str) -> dict[str, Any]:
    return call(SERVICE, "GetBrowserSession", browserIdentifier=browser_id, sessionId=session_id)


def start_session(
    browser_id: str,
    *,
    name: str = "",
    timeout_seconds: int | None = None,
    viewport: tuple[int, int] | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"browserIdentifier": browser_id}
    if name:
        params["name"] = name
    if timeout_seconds:
        params["sessionTimeoutSeconds"] = timeout_seconds
    if viewport:
        params["viewPort"] = {"width": viewport[0], "height": viewport[1]}
    return call(SERVICE, "StartBrowserSession", **params)


def stop_session(browser_id: str, session_id: str) -> dict[str, Any]:
    return call(SERVICE, "StopBrowserSession", browserIdentifier=browser_id, sessionId=session_id)


def set_automation(browser_id: str, session_id: str, status: str) -> dict[str, Any]:
    """UpdateBrowserStream: DISABLED takes control from the agent, ENABLED gives it back."""
    if status not in AUTOMATION_STATUSES:
        raise errors.ValidationFailed(
            f"Automation status must be ENABLED or DISABLED, not {status!r}"
        )
    return call(
        SERVICE,
        "UpdateBrowserStream",
        browserIdentifier=browser_id,
        sessionId=session_id,
        streamUpdate={"automationStreamUpdate": {"streamStatus": status}},
    )


# --- signed stream URLs ------------------------------------------------------------------


@functools.cache
def _aws_session(profile: str, region: str) -> boto3.session.Session:
    return boto3.session.Session(profile_name=profile or None, region_name=region or None)


def _credentials() -> ReadOnlyCredentials:
    if settings.DASHBOARD_BACKEND == "sandbox":
        return sandbox_credentials()
    try:
        with _lock:
            found = _aws_session(settings.AWS_PROFILE, settings.AWS_REGION).get_credentials()
        # Refreshable credentials (SSO, roles) renew themselves here when close to expiry.
        frozen = found.get_frozen_credentials() if found is not None else None
    except BotoCoreError as exc:
        raise errors.NotConfigured(
            f"Could not load AWS credentials to sign the live view: {exc}", code="NoCredentials"
        ) from exc
    if frozen is None or not frozen.access_key:
        raise errors.NotConfigured(
            "No AWS credentials were found to sign the live-view URL. Provide them through the "
            "usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, a role).",
            code="NoCredentials",
        )
    return frozen


def _region() -> str:
    return client(SERVICE).meta.region_name


def default_endpoint(browser_id: str, session_id: str, stream: str) -> str:
    """The data-plane URL of a stream ("live-view" or "automation"), as the SDK builds it."""
    base = client(SERVICE).meta.endpoint_url.rstrip("/")
    return f"{base}/browser-streams/{quote(browser_id, safe='')}/sessions/{session_id}/{stream}"


def rebase(endpoint: str, origin: str) -> str:
    """The sandbox's stream endpoint on the origin the user reached the console by.

    The sandbox's streams are served by this console's own daphne; the address in the endpoint
    (SANDBOX_STREAM_URL) may not be the one the user's browser can reach. AWS endpoints are
    never rebased.
    """
    if settings.DASHBOARD_BACKEND != "sandbox" or not origin:
        return endpoint
    target = urlsplit(origin)
    parts = urlsplit(endpoint)
    secure = target.scheme == "https"
    scheme = parts.scheme
    if scheme in ("ws", "wss"):
        scheme = "wss" if secure else "ws"
    else:
        scheme = "https" if secure else "http"
    return urlunsplit((scheme, target.netloc, parts.path, parts.query, ""))


def live_view_url(
    endpoint: str, *, expires: int = MAX_LIVE_VIEW_EXPIRES, origin: str = ""
) -> dict[str, Any]:
    """{"url": presigned live-view URL, "expiresAt": datetime}. A credential: never log it."""
    if not 1 <= expires <= MAX_LIVE_VIEW_EXPIRES:
        raise ValueError(f"expires must be between 1 and {MAX_LIVE_VIEW_EXPIRES} seconds")
    url = rebase(endpoint, origin)
    credentials = _credentials()
    request = AWSRequest(method="GET", url=url)
    signed_at = dt.datetime.now(dt.UTC)
    SigV4QueryAuth(credentials, SERVICE, _region(), expires=expires).add_auth(request)
    return {"url": request.url, "expiresAt": signed_at + dt.timedelta(seconds=expires)}


def automation_connection(endpoint: str, *, origin: str = "") -> tuple[str, dict[str, str]]:
    """(websocket URL, SigV4 headers) for the automation stream, as the SDK's
    `generate_ws_headers` makes them: for Playwright's `connect_over_cdp(url, headers=...)`."""
    url = rebase(endpoint, origin)
    parts = urlsplit(url)
    http_url = urlunsplit(
        ("https" if parts.scheme in ("wss", "https") else "http", parts.netloc, parts.path, "", "")
    )
    request = AWSRequest(method="GET", url=http_url)
    SigV4Auth(_credentials(), SERVICE, _region()).add_auth(request)
    headers = {
        "X-Amz-Date": request.headers["X-Amz-Date"],
        "Authorization": request.headers["Authorization"],
    }
    if "X-Amz-Security-Token" in request.headers:
        headers["X-Amz-Security-Token"] = request.headers["X-Amz-Security-Token"]
    return url, headers
