"""The websocket end of the fan-out: a consumer fed by the hub, with bounded memory.

`FanoutConsumer` subscribes to topics in this process's hub; what the hub delivers goes into
the socket's `Outbox` and one writer task hands it to `handle` (subclasses), which sends frames
with `send_frame`.

Flow control. daphne never makes a send wait: a client that stops reading (a phone that lost
its network, a stuck tab) would make the server buffer everything sent to it. So pages
acknowledge what they receive (static/js/console.js sends ``{"ack": <characters received>}``
every `ACK_EVERY` characters) and a socket that has more than `window` characters
unacknowledged is *paused*: frames for it are dropped, not buffered. When its acknowledgements
catch up it is resumed with a resync: a stream re-reads its replay log, a live page re-renders
its live region. Nothing is lost and nothing waits for it; the others never notice.
Clients that never acknowledge (scripts, tests) simply get at most `window` characters beyond
their last acknowledgement, i.e. everything, for any page of ordinary size.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from .hub import Hub, Message, hub
from .outbox import OVERFLOW, Outbox

logger = logging.getLogger(__name__)

RESUME = "fanout.resume"  # a paused socket's client caught up
RESYNC = "fanout.resync"  # messages may have been lost between processes
ACK_EVERY = 65_536  # characters; console.js acknowledges this often


class FanoutConsumer(AsyncWebsocketConsumer):
    """Subclass: subscribe with `fan_subscribe(topic)` (after or before accept), implement
    `handle(item)` for what the hub delivered (`(topic, message)` pairs, or the markers
    OVERFLOW / RESUME / RESYNC), and send with `send_frame`."""

    outbox_capacity = 256
    # No channel layer: channels would give every socket a channel of its own and a receive
    # loop on it (with Redis, a blocking BZPOPMIN and a connection per socket, and a dead
    # socket when Redis restarts). Everything reaches these sockets through the hub.
    channel_layer_alias = "fanout-sockets-use-no-channel-layer"

    def _fan(self) -> None:
        if getattr(self, "_fan_ready", False):
            return
        self._fan_ready = True
        self._hub: Hub | None = None
        self._topics: list[str] = []
        self._outbox = Outbox(self._handle_item, capacity=self.outbox_capacity)
        self.sent_chars = 0
        self.acked_chars = 0
        self.paused = False
        self.dropped = 0

    @property
    def window(self) -> int:
        return int(getattr(settings, "FANOUT_WINDOW", 1_048_576))

    # --- subscriptions --------------------------------------------------------------------------

    async def fan_subscribe(self, topic: str) -> None:
        self._fan()
        self._hub = self._hub or hub()
        await self._hub.subscribe(topic, self)
        self._topics.append(topic)

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        """Accept the socket, then start handing it what was delivered (waiting till now)."""
        await super().accept(subprotocol, headers)
        self._fan()
        self._outbox.start()

    async def fan_unsubscribe_all(self) -> None:
        if not getattr(self, "_fan_ready", False):
            return
        topics, self._topics = self._topics, []
        for topic in topics:
            try:
                await self._hub.unsubscribe(topic, self)  # type: ignore[union-attr]
            except Exception:
                logger.exception("Could not leave %s", topic)
        await self._outbox.close()

    async def disconnect(self, code: int) -> None:
        await self.fan_unsubscribe_all()

    # --- from the hub (on the loop; never blocks) ---------------------------------------------

    def deliver(self, topic: str, message: Message) -> None:
        self._outbox.put((topic, message))

    def resync(self, topic: str) -> None:
        self._outbox.put(RESYNC)

    async def _handle_item(self, item: Any) -> None:
        await self.handle(item)

    async def handle(self, item: Any) -> None:
        """What the hub delivered: `(topic, message)`, or OVERFLOW, RESUME, RESYNC."""
        raise NotImplementedError

    # --- sending, with flow control -------------------------------------------------------------

    async def send_frame(self, text: str) -> bool:
        """Send `text` unless the client is too far behind (then it is dropped and the socket
        resyncs once the client catches up). False when not sent."""
        self._fan()
        if self.paused:
            self.dropped += 1
            return False
        if self.sent_chars - self.acked_chars > self.window:
            self.paused = True
            self.dropped += 1
            logger.info(
                "A socket is %d characters behind: paused", self.sent_chars - self.acked_chars
            )
            return False
        try:
            await self.send(text_data=text)
        except Exception:
            # daphne raises on a send after the client closed; its disconnect comes next.
            logger.debug("A socket has gone", exc_info=True)
            return False
        self.sent_chars += len(text)
        return True

    def take_ack(self, text: str | None) -> bool:
        """True when `text` was the page's acknowledgement (handled here)."""
        if not text or not text.startswith('{"ack":'):
            return False
        try:
            count = int(text[7:].rstrip("} "))
        except ValueError:
            return False
        self._fan()
        # Pages count UTF-16 code units, a little more than characters for emoji: clamp.
        if count >= self.acked_chars:
            self.acked_chars = min(count, self.sent_chars)
        if self.paused and self.sent_chars - self.acked_chars <= self.window // 2:
            self.paused = False
            self._outbox.put(RESUME)
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.take_ack(text_data):
            return
        await self.receive_frame(text_data, bytes_data)

    async def receive_frame(self, text_data: str | None, bytes_data: bytes | None) -> None:
        """What the page sent, other than acknowledgements (default: ignored)."""


__all__ = ["ACK_EVERY", "OVERFLOW", "RESUME", "RESYNC", "FanoutConsumer"]
