"""The sandbox's browser stream endpoints, served by the console's own daphne.

    /sandbox/browser-streams/<browser>/sessions/<id>/automation   Chrome DevTools Protocol
    /sandbox/browser-streams/<browser>/sessions/<id>/live-view    screencast frames

`route(app)` puts them in front of the console's websocket routes (dashboard/asgi.py), outside
the console's sign-in and Origin checks: like AWS's, they are authorized by a SigV4 signature
made with the sandbox's credential (`sigv4.py`), presigned for the live view (at most 300 s)
or in headers or query for automation. They exist only with DASHBOARD_BACKEND=sandbox.

Automation relays the client's CDP messages to the session's Chromium (`browser_host.py`) and
back, so `playwright.chromium.connect_over_cdp(endpoint, headers=signed)` drives it. While the
automation stream is DISABLED (someone took control) it refuses new connections (close 4409)
and answers every command with a CDP error; ENABLED again, commands pass.

Live view sends, after a JSON ``{"type": "hello", ...}`` text message, one binary message per
frame: a JPEG from Chromium's `Page.startScreencast` (a frame whenever the page changes), or,
without Chromium, an SVG picture drawn here twice a second. JSON text messages report
``automation`` status changes and ``ended`` (then the socket closes). A refused connection is
accepted, told why (``{"type": "error", "code", "message"}``) and closed with 4401/4403/4404/4410,
because a browser's WebSocket cannot read an HTTP status.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any
from xml.sax.saxutils import escape

import websockets
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.conf import settings
from django.db import transaction
from django.urls import re_path
from django.utils import timezone

from . import browser_host, sigv4
from .models import BrowserSession

logger = logging.getLogger(__name__)

PREFIX = "/sandbox/browser-streams/"
REFRESH_SECONDS = 1.0
GENERATED_FPS = 2.0
CDP_OPEN_TIMEOUT = 10.0
# Close codes (4000-4999 are the application's).
UNAUTHORIZED = 4401
FORBIDDEN = 4403
NOT_FOUND = 4404
DISABLED = 4409
GONE = 4410
UNAVAILABLE = 4503


@database_sync_to_async
def _load(browser_id: str, session_id: str) -> BrowserSession | None:
    from .ops.agentcore_browser import expire

    now = timezone.now()
    # Looked at every second by every open stream: take SQLite's write lock only when a
    # session is actually due to time out.
    if BrowserSession.objects.filter(status=BrowserSession.READY, expires_at__lte=now).exists():
        with transaction.atomic():
            expire(now)
    return BrowserSession.objects.filter(pk=session_id, browser_identifier=browser_id).first()


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class _Stream(AsyncWebsocketConsumer):
    """What both endpoints share: the signature check, the session, its changes."""

    session: BrowserSession | None = None

    def _ids(self) -> tuple[str, str]:
        kwargs = self.scope["url_route"]["kwargs"]
        return kwargs["browser_id"], kwargs["session_id"]

    async def _refuse(self, code: int, error: str, message: str) -> None:
        await self.accept()
        await self.send(text_data=json.dumps({"type": "error", "code": error, "message": message}))
        await self.close(code=code)

    async def _authorize(self) -> bool:
        """Check the signature and find a READY session; refuse and return False otherwise."""
        self.tasks: list[asyncio.Task[Any]] = []
        self.group = ""
        try:
            sigv4.verify(
                method="GET",
                path=self.scope["path"],
                raw_query=self.scope.get("query_string", b"").decode("latin-1"),
                headers=_headers(self.scope),
            )
        except sigv4.SignatureError as error:
            code = UNAUTHORIZED if "Missing" in error.code else FORBIDDEN
            await self._refuse(code, error.code, error.message)
            return False
        browser_id, session_id = self._ids()
        session = await _load(browser_id, session_id)
        if session is None:
            await self._refuse(
                NOT_FOUND, "ResourceNotFoundException", f"Browser session {session_id} not found"
            )
            return False
        if session.status != BrowserSession.READY:
            await self._refuse(GONE, "ConflictException", f"Browser session is {session.status}")
            return False
        self.session = session
        return True

    async def _join(self) -> None:
        from .ops.agentcore_browser import group_name

        assert self.session is not None
        self.group = group_name(self.session.session_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self._spawn(self._refresh_forever())

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        self.tasks.append(asyncio.ensure_future(coroutine))

    async def _refresh_forever(self) -> None:
        # Group messages make changes immediate; this catches those a lost message or a
        # timeout (nobody calls the API when a session times out) would leave unseen.
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            await self._refresh()

    async def session_changed(self, event: dict[str, Any]) -> None:
        await self._refresh()

    async def _refresh(self) -> None:
        assert self.session is not None
        before = self.session
        now = await _load(before.browser_identifier, before.session_id)
        if now is None or now.status != BrowserSession.READY:
            await self.ended()
            return
        self.session = now
        if now.automation_status != before.automation_status:
            await self.automation_changed(now.automation_status)

    async def automation_changed(self, status: str) -> None:
        pass

    async def ended(self) -> None:
        with contextlib.suppress(Exception):
            await self.send(text_data=json.dumps({"type": "ended"}))
        await self.close(code=1000)

    async def disconnect(self, code: int) -> None:
        for task in getattr(self, "tasks", []):
            task.cancel()
        if getattr(self, "group", ""):
            await self.channel_layer.group_discard(self.group, self.channel_name)


class _Cdp:
    """A small Chrome DevTools Protocol client: commands by id, events to a callback."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}

    @classmethod
    async def open(cls, url: str) -> _Cdp:
        socket = await websockets.connect(
            url, max_size=None, ping_interval=None, open_timeout=CDP_OPEN_TIMEOUT
        )
        return cls(socket)

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.socket.send(
            json.dumps({"id": self.next_id, "method": method, "params": params or {}})
        )
        return await future

    async def send(self, method: str, params: dict[str, Any]) -> None:
        self.next_id += 1
        await self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))

    async def run(self, on_event: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            future = self.pending.pop(message.get("id", -1), None)
            if future is not None:
                if "error" in message:
                    future.set_exception(RuntimeError(str(message["error"])))
                else:
                    future.set_result(message.get("result"))
            elif "method" in message:
                await on_event(message)

    async def close(self) -> None:
        await self.socket.close()


def _page_socket(port: int) -> str | None:
    """The DevTools websocket of the browser's first page (the one the live view shows)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
        targets = json.loads(answer.read())
    pages = [t for t in targets if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
    return pages[0]["webSocketDebuggerUrl"] if pages else None


def generated_frame(session: BrowserSession, at: dt.datetime) -> bytes:
    """An SVG picture that moves (a clock and a ball), for sessions without Chromium."""
    width, height = session.viewport_width, session.viewport_height
    seconds = at.timestamp()
    x = 40 + (seconds * 160) % max(1, width - 80)
    y = height * 0.75
    label = escape(session.name or session.session_id)
    note = escape(session.engine_note or "No Chromium at SANDBOX_CHROMIUM: a generated picture.")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="#0f172a"/>'
        f'<text x="40" y="70" fill="#e2e8f0" font-family="sans-serif" font-size="28">'
        f"AgentCore sandbox browser</text>"
        f'<text x="40" y="110" fill="#94a3b8" font-family="sans-serif" font-size="18">'
        f"Session {label}</text>"
        f'<text x="40" y="140" fill="#94a3b8" font-family="sans-serif" font-size="14">{note}</text>'
        f'<text x="40" y="{height / 2:.0f}" fill="#e2e8f0" font-family="monospace" '
        f'font-size="48">{at:%H:%M:%S}.{at.microsecond // 100000}</text>'
        f'<circle cx="{x:.0f}" cy="{y:.0f}" r="24" fill="#38bdf8"/></svg>'
    ).encode()


class LiveViewStream(_Stream):
    async def connect(self) -> None:
        if not await self._authorize():
            return
        assert self.session is not None
        self.cdp: _Cdp | None = None
        await self.accept()
        await self._join()
        session = self.session
        await self.send(
            text_data=json.dumps(
                {
                    "type": "hello",
                    "sessionId": session.session_id,
                    "viewPort": {
                        "width": session.viewport_width,
                        "height": session.viewport_height,
                    },
                    "engine": session.engine,
                    "note": session.engine_note,
                    "automation": session.automation_status,
                }
            )
        )
        pump = self._screencast if session.engine == "chromium" else self._generate
        self._spawn(pump())

    async def automation_changed(self, status: str) -> None:
        await self.send(text_data=json.dumps({"type": "automation", "status": status}))

    async def _generate(self) -> None:
        assert self.session is not None
        while True:
            await self.send(bytes_data=generated_frame(self.session, timezone.now()))
            await asyncio.sleep(1 / GENERATED_FPS)

    async def _screencast(self) -> None:
        # Page targets come and go (a script may close the first page): follow them while the
        # session lives.
        assert self.session is not None
        while True:
            session = self.session
            try:
                url = await asyncio.to_thread(_page_socket, session.cdp_port or 0)
                if url:
                    self.cdp = await _Cdp.open(url)
                    await self._cast(self.cdp, session)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.info("Live view of %s: screencast interrupted: %s", session.session_id, exc)
            finally:
                if self.cdp is not None:
                    with contextlib.suppress(Exception):
                        await self.cdp.close()
                    self.cdp = None
            await asyncio.sleep(0.5)

    async def _cast(self, cdp: _Cdp, session: BrowserSession) -> None:
        async def on_event(message: dict[str, Any]) -> None:
            if message["method"] != "Page.screencastFrame":
                return
            params = message["params"]
            import base64

            await self.send(bytes_data=base64.b64decode(params["data"]))
            # Chromium sends the next frame only once this one is acknowledged: a slow viewer
            # slows its own stream, nobody else's.
            await cdp.send("Page.screencastFrameAck", {"sessionId": params["sessionId"]})

        reader = asyncio.ensure_future(cdp.run(on_event))
        try:
            await cdp.call(
                "Page.startScreencast",
                {
                    "format": "jpeg",
                    "quality": 70,
                    "maxWidth": session.viewport_width,
                    "maxHeight": session.viewport_height,
                    "everyNthFrame": 1,
                },
            )
            await reader
        finally:
            reader.cancel()

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        cdp = getattr(self, "cdp", None)
        if cdp is not None:
            with contextlib.suppress(Exception):
                await cdp.close()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        return  # the sandbox's live view only shows


class AutomationStream(_Stream):
    async def connect(self) -> None:
        if not await self._authorize():
            return
        session = self.session
        assert session is not None
        if session.automation_status != "ENABLED":
            await self._refuse(
                DISABLED,
                "ConflictException",
                "The automation stream is DISABLED: a person has taken control of this browser "
                "session. It accepts automation again when control is released.",
            )
            return
        if session.engine != "chromium" or not session.cdp_port:
            await self._refuse(
                UNAVAILABLE,
                "ServiceUnavailableException",
                "This sandbox session has no real browser (no Chromium at SANDBOX_CHROMIUM), so "
                "it has no automation stream.",
            )
            return
        if session.host and session.host != browser_host.hostname():
            await self._refuse(
                UNAVAILABLE,
                "ServiceUnavailableException",
                f"This session's Chromium runs on host {session.host}; connect there.",
            )
            return
        try:
            self.cdp = await websockets.connect(
                f"ws://127.0.0.1:{session.cdp_port}{session.cdp_path}",
                max_size=None,
                ping_interval=None,
                open_timeout=CDP_OPEN_TIMEOUT,
            )
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            await self._refuse(
                UNAVAILABLE, "ServiceUnavailableException", f"The browser is not reachable: {exc}"
            )
            return
        await self.accept()
        await self._join()
        self._spawn(self._relay())

    async def _relay(self) -> None:
        try:
            async for message in self.cdp:
                if isinstance(message, bytes):
                    await self.send(bytes_data=message)
                else:
                    await self.send(text_data=message)
        except websockets.WebSocketException:
            pass
        await self.close(code=1011)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        assert self.session is not None
        if self.session.automation_status != "ENABLED":
            await self._deny(text_data)
            return
        try:
            await self.cdp.send(text_data if text_data is not None else bytes_data)
        except websockets.WebSocketException:
            await self.close(code=1011)

    async def _deny(self, text_data: str | None) -> None:
        try:
            command = json.loads(text_data or "")
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            return
        if not isinstance(command, dict) or "id" not in command:
            return
        reply: dict[str, Any] = {
            "id": command["id"],
            "error": {
                "code": -32000,
                "message": "Automation stream is DISABLED: a person has taken control of this "
                "browser session (UpdateBrowserStream). Commands are refused until control "
                "is released.",
            },
        }
        if "sessionId" in command:
            reply["sessionId"] = command["sessionId"]
        await self.send(text_data=json.dumps(reply))

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        cdp = getattr(self, "cdp", None)
        if cdp is not None:
            with contextlib.suppress(Exception):
                await cdp.close()


_SESSION = (
    r"^sandbox/browser-streams/(?P<browser_id>[A-Za-z0-9._-]{1,128})"
    r"/sessions/(?P<session_id>[0-9A-Za-z]{1,40})"
)
_streams = URLRouter(
    [
        re_path(_SESSION + r"/live-view/?$", LiveViewStream.as_asgi()),
        re_path(_SESSION + r"/automation/?$", AutomationStream.as_asgi()),
    ]
)


def route(app: Any) -> Any:
    """`app` with the sandbox's stream endpoints in front (sandbox backend only)."""

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if (
            scope["type"] == "websocket"
            and scope.get("path", "").startswith(PREFIX)
            and settings.DASHBOARD_BACKEND == "sandbox"
        ):
            return await _streams(scope, receive, send)
        return await app(scope, receive, send)

    return application
