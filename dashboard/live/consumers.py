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

from channels.generic.websocket import AsyncWebsocketConsumer

from .fragments import EVENT_TYPE
from .registry import Registry, default_registry

logger = logging.getLogger(__name__)

UNAUTHENTICATED = 4401
FORBIDDEN = 4403
BAD_KEY = 4404


class LiveConsumer(AsyncWebsocketConsumer):
    """Forwards `live.fragment` group messages of its keys to the socket; listens to nothing.

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
        # Join the groups before accepting, so the page misses nothing sent once its socket is
        # open. Nothing is forwarded early: channels dispatches one message at a time, so group
        # messages wait until this handler (and its accept) is done.
        try:
            for key in keys:
                await registry.subscribe(key, self.channel_name)
                self.subscribed.append(key)
        except Exception:
            logger.exception("Could not subscribe a live socket to %s", keys)
            await self._unsubscribe_all()
            await self.close(code=1011)
            return
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._unsubscribe_all()

    async def _unsubscribe_all(self) -> None:
        registry = self.get_registry()
        for key in getattr(self, "subscribed", []):
            await registry.unsubscribe(key, self.channel_name)
        self.subscribed = []

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Live pages only listen; anything sent is ignored.
        return

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Forwarding a fragment touches no database, so skip channels' per-message
        # close_old_connections: a hop through the one thread-sensitive thread for every socket
        # and fragment (500 sockets, 500 hops), queued behind whatever ORM call runs there.
        if message.get("type") == EVENT_TYPE:
            await self.live_fragment(message)
            return
        await super().dispatch(message)

    async def live_fragment(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["html"])
