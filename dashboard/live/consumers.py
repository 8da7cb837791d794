"""The websocket end of a live page: a signed-in user's socket subscribed to watched keys.

Subclass, name the keys, route it:

    class BoardConsumer(LiveConsumer):
        key_templates = ("board:{space_id}",)

    path("ws/spaces/<str:space_id>/board/", BoardConsumer.as_asgi())

Delivery is at-most-once: a socket misses whatever was sent while it was away. So after a
reconnect the page re-renders its whole live region: static/js/console.js dispatches
`console:resync` on <body> when the websocket reopens, and the page's live region carries
`hx-get=... hx-trigger="console:resync from:body"` (see templates/spaces/list.html). This
consumer needs nothing for that.
"""

from __future__ import annotations

import logging
from typing import Any

from dashboard.fanout.socket import FanoutConsumer

from .fragments import RESYNC_FRAME
from .registry import Registry, default_registry

logger = logging.getLogger(__name__)

UNAUTHENTICATED = 4401
FORBIDDEN = 4403
BAD_KEY = 4404


class LiveConsumer(FanoutConsumer):
    """Forwards the fragments of its keys to the socket; listens to nothing.

    `key_templates` are formatted with the URL route kwargs. Override `live_keys` for anything
    else and `has_access` to check the user may see those resources.
    """

    key_templates: tuple[str, ...] = ()
    # None: the process-wide default registry (tests give their own).
    registry: Registry | None = None

    def live_keys(self) -> list[str]:
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        for value in kwargs.values():
            # A ":" would shift the key's parts and fetch the wrong resource.
            if ":" in str(value):
                raise ValueError(f"Route value {value!r} cannot be part of a live key")
        return [template.format(**kwargs) for template in self.key_templates]

    async def has_access(self, user: Any, keys: list[str]) -> bool:
        return True

    def get_registry(self) -> Registry:
        return self.registry or default_registry()

    async def connect(self) -> None:
        self.subscribed: list[str] = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        registry = self.get_registry()
        try:
            keys = self.live_keys()
            for key in keys:
                registry.watch_for(key)
        except (LookupError, ValueError):
            await self.close(code=BAD_KEY)
            return
        if not await self.has_access(user, keys):
            await self.close(code=FORBIDDEN)
            return
        # Subscribe before accepting, so the page misses nothing sent once its socket is open;
        # what arrives meanwhile waits in the socket's outbox until the writer runs.
        try:
            for key in keys:
                await self.live_subscribe(key)
        except Exception:
            logger.exception("Could not subscribe a live socket to %s", keys)
            await self._unsubscribe_all()
            await self.close(code=1011)
            return
        await self.accept()

    async def live_subscribe(self, key: str) -> None:
        """Watch one more key (its fragments come to this socket; it is polled)."""
        self._fan()
        await self.get_registry().subscribe(key, self)
        self.subscribed.append(key)

    async def disconnect(self, code: int) -> None:
        await self._unsubscribe_all()

    async def _unsubscribe_all(self) -> None:
        registry = self.get_registry()
        for key in getattr(self, "subscribed", []):
            await registry.unsubscribe(key, self)
        self.subscribed = []
        await self.fan_unsubscribe_all()

    async def handle(self, item: Any) -> None:
        if isinstance(item, tuple):
            html = item[1].get("html")
            if html:
                await self.send_frame(html)
            return
        # Lost on the way, overflowed, or paused: the page re-renders its live region.
        await self.send_frame(RESYNC_FRAME)
