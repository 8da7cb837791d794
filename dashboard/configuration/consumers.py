"""Websockets of the live private-connection pages (the watches are in live.py).

- ws/private-connections/ watches the account's list.
- ws/private-connections/<name>/ watches one connection.

Any signed-in user may watch (viewers read private connections; nothing in them is secret).
They catch up like the triage pages (dashboard.tasks.consumers.CatchUpConsumer): when a key had
no baseline yet, the page is told to re-render once the first poll has taken it, so a state
reached between the page's render and that poll is not missed.
"""

from __future__ import annotations

import regex

from dashboard.live.consumers import BAD_KEY
from dashboard.tasks.consumers import CatchUpConsumer

from . import live

_NAME = regex.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


class PrivateConnectionsConsumer(CatchUpConsumer):
    key_templates = (live.LIST,)


class PrivateConnectionConsumer(CatchUpConsumer):
    key_templates = (live.DETAIL + ":{name}",)

    async def connect(self) -> None:
        name = str(self.scope.get("url_route", {}).get("kwargs", {}).get("name", ""))
        user = self.scope.get("user")
        signed_in = user is not None and user.is_authenticated
        if signed_in and (not _NAME.fullmatch(name) or len(name) > 30):
            await self.close(code=BAD_KEY)
            return
        await super().connect()
