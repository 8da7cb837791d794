"""The websocket of a browser session's live view page.

ws/agentcore/browsers/<browserId>/sessions/<sessionId>/ subscribes to the session's watch
(status, viewport, streams and who has control, the same fragments for every viewer) and,
on this socket alone, hands the page a presigned live-view URL:

- at once when the socket opens (so every reconnect gets a fresh one),
- again before it expires (at 80 % of BROWSER_LIVE_VIEW_EXPIRES),
- and when the page asks, ``{"live_view": "renew"}`` (its viewer found the URL expired or
  was refused), at most once every RENEW_MIN_SECONDS.

The URL is a credential: it is sent with `self.send` to this socket only, never to the
session's group, and never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from django.conf import settings
from django.utils.html import format_html

from dashboard.aws import browser as aws_browser
from dashboard.aws import executor
from dashboard.aws.errors import AwsError, NotFound, ValidationFailed
from dashboard.core.forms import loads as loads_json
from dashboard.live import LiveConsumer
from dashboard.live.consumers import BAD_KEY

from . import live
from .forms import valid_browser_id, valid_session_id

logger = logging.getLogger(__name__)

RENEW_MIN_SECONDS = 5.0
# A URL is renewed when this share of its lifetime has passed (at 240 s of 300).
RENEW_AT = 0.8
ENDPOINT_ID = "live-view-endpoint"


def endpoint_fragment(
    *, url: str = "", expires_at: Any = None, error: str = "", ended: bool = False
) -> str:
    if ended:
        return format_html('<div id="{}" hx-swap-oob="true" hidden data-ended></div>', ENDPOINT_ID)
    if error:
        return format_html(
            '<div id="{}" hx-swap-oob="true" hidden data-error="{}"></div>', ENDPOINT_ID, error
        )
    return format_html(
        '<div id="{}" hx-swap-oob="true" hidden data-url="{}" data-expires-at="{}"></div>',
        ENDPOINT_ID,
        url,
        expires_at.isoformat(),
    )


class BrowserSessionConsumer(LiveConsumer):
    key_templates = (live.WATCH + ":{browser_id}:{session_id}",)

    def _ids(self) -> tuple[str, str]:
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        return str(kwargs.get("browser_id", "")), str(kwargs.get("session_id", ""))

    async def connect(self) -> None:
        self._tasks: list[asyncio.Task[Any]] = []
        self._last_sent = 0.0
        browser_id, session_id = self._ids()
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            if not valid_browser_id(browser_id) or not valid_session_id(session_id):
                await self.close(code=BAD_KEY)
                return
        await super().connect()
        if not getattr(self, "subscribed", None):
            return  # refused (signed out, bad key)
        await self.send_live_view()
        self._tasks.append(asyncio.ensure_future(self._renew_forever()))

    async def disconnect(self, code: int) -> None:
        for task in getattr(self, "_tasks", []):
            task.cancel()
        await super().disconnect(code)

    def _origin(self) -> str:
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.scope["headers"]
        }
        secure = self.scope.get("scheme") == "wss"
        proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        if proxy and headers.get("x-forwarded-proto", "") == "https":
            secure = True
        host = headers.get("host", "")
        return f"{'https' if secure else 'http'}://{host}" if host else ""

    async def _live_view_endpoint(self) -> str | None:
        """The session's (unsigned) live-view endpoint; None once the session has ended."""
        browser_id, session_id = self._ids()
        session = await executor.run(aws_browser.get_session, browser_id, session_id)
        if session.get("status") != "READY":
            return None
        streams = session.get("streams") or {}
        endpoint = (streams.get("liveViewStream") or {}).get("streamEndpoint")
        if not endpoint:
            endpoint = await executor.run(
                aws_browser.default_endpoint, browser_id, session_id, "live-view"
            )
        return endpoint

    async def send_live_view(self) -> None:
        """A freshly presigned live-view URL, to this socket only."""
        self._last_sent = time.monotonic()
        try:
            endpoint = await self._live_view_endpoint()
            if endpoint is None:
                await self.send_frame(endpoint_fragment(ended=True))
                return
            signed = await executor.run(
                aws_browser.live_view_url,
                endpoint,
                expires=settings.BROWSER_LIVE_VIEW_EXPIRES,
                origin=self._origin(),
            )
        except (NotFound, ValidationFailed):
            await self.send_frame(endpoint_fragment(ended=True))
            return
        except AwsError as error:
            logger.warning("Could not sign a live-view URL: %s", error.message)
            await self.send_frame(endpoint_fragment(error=error.message))
            return
        await self.send_frame(endpoint_fragment(url=signed["url"], expires_at=signed["expiresAt"]))

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(settings.BROWSER_LIVE_VIEW_EXPIRES * RENEW_AT)
            await self.send_live_view()

    async def receive_frame(self, text_data: str | None, bytes_data: bytes | None) -> None:
        """``{"live_view": "renew"}``: the page's viewer needs a fresh URL now."""
        try:
            message = loads_json(text_data or "")
        except ValueError:  # also nesting too deep (the reader refuses it without recursion)
            return
        if not isinstance(message, dict) or message.get("live_view") != "renew":
            return
        if time.monotonic() - self._last_sent < RENEW_MIN_SECONDS:
            return
        await self.send_live_view()
