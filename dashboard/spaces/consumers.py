"""Live agent-space list: pushes rows changed through the console as out-of-band fragments."""

from __future__ import annotations

from typing import Any

from dashboard.fanout.socket import FanoutConsumer
from dashboard.live.fragments import RESYNC_FRAME

from .live import TOPIC


class SpacesConsumer(FanoutConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.fan_subscribe(TOPIC)
        await self.accept()

    async def handle(self, item: Any) -> None:
        if isinstance(item, tuple):
            await self.send_frame(item[1]["html"])
        else:  # rows may have been lost on the way: the page re-renders its list
            await self.send_frame(RESYNC_FRAME)
