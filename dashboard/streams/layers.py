"""The in-memory channel layer of a single-process console, at a cost per message that does not
grow with the number of open sockets.

channels' `InMemoryChannelLayer` walks every channel queue and every group member to expire old
messages on *every* `receive` and `group_send` (`_clean_expired`), and `group_send` starts one
task per member. A streamed reply sends a message per delta (or per batch) to each of its
viewers, and every viewer's consumer receives it, so with 100 replies streaming to 100 sockets
each delta paid for two walks over 100 queues and 100 groups: measured in one event loop
(bench/chat_stream.py's set-up without the sandbox), that expiry walk alone was the largest
single cost of relaying a delta, and it grows with every socket the process holds.

This layer keeps channels' semantics (messages expire after `expiry` seconds and a channel with
an expired message leaves its groups; a full channel raises ChannelFull on `send` and is
skipped by `group_send`; `capacity` per channel), but expires at most once every
`clean_interval` seconds (default 1 s: an expiry of 60 s is honoured within a second), and
delivers a group message to each member directly (each `send` finishes without waiting, so the
tasks bought nothing). Configure it as channels' layer (dashboard/settings.py does without
REDIS_URL); `CHANNEL_CAPACITY` sets the capacity.
"""

from __future__ import annotations

import asyncio
import time
from copy import deepcopy
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as _ChannelsInMemoryLayer


class InMemoryChannelLayer(_ChannelsInMemoryLayer):
    def __init__(self, *args: Any, clean_interval: float = 1.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clean_interval = float(clean_interval)
        self._cleaned = 0.0  # monotonic time of the last expiry walk

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._cleaned < self.clean_interval:
            return
        self._cleaned = now
        super()._clean_expired()

    async def flush(self) -> None:
        await super().flush()
        self._cleaned = 0.0

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, {})):
            try:
                self._put(channel, message)
            except ChannelFull:
                pass  # as channels does: a full channel misses the message

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        self._put(channel, message)

    def _put(self, channel: str, message: dict[str, Any]) -> None:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        try:
            queue.put_nowait((time.time() + self.expiry, deepcopy(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None
