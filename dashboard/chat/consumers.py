"""The chat page's websocket: ws/spaces/<space_id>/chat/<chat_id>/.

Everyone with the chat open watches the same replies (a StreamConsumer of the chat's stream
key: caught up from the log on hello, then live). Operators also send over it: the message
form's fields as JSON (htmx ws-send) with ``"action": "send"``; the answer is the message box
again for this socket only, emptied when the message went out, or with the typed text and the
reason when it did not.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.template.loader import render_to_string

from dashboard import streams
from dashboard.aws import chat as aws_chat
from dashboard.aws import executor
from dashboard.aws.errors import AwsError, NotFound, ValidationFailed

from . import exchanges, sending
from .forms import MessageForm, valid_chat_id, valid_space_id

logger = logging.getLogger(__name__)


class ChatConsumer(streams.StreamConsumer):
    def _ids(self) -> tuple[str, str]:
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        return str(kwargs.get("space_id", "")), str(kwargs.get("chat_id", ""))

    def stream_key(self) -> str:
        space_id, chat_id = self._ids()
        if not valid_space_id(space_id) or not valid_chat_id(chat_id):
            raise ValueError("Not a chat")
        return exchanges.stream_key(space_id, chat_id)

    async def has_access(self, user: Any) -> bool:
        space_id, chat_id = self._ids()
        try:
            await executor.run(aws_chat.get_chat, space_id, chat_id)
        except (NotFound, ValidationFailed):
            return False
        except AwsError as error:
            # AWS busy: let the page watch anyway; sending will say what is wrong.
            logger.warning("Could not check chat %s: %s", chat_id, error)
        return True

    async def receive_malformed(self, text: str | None) -> None:
        await self._alert("The console could not understand what this page sent (not JSON).")

    async def receive_message(self, message: dict[str, Any]) -> None:
        if message.get("action") != "send":
            await self._alert(
                "The console could not understand what this page sent (no known action). "
                "Reload the page and try again."
            )
            return
        # Sending waits on AWS and the audit log; meanwhile this socket must keep relaying
        # (its own reply among them), so the send runs beside the consumer's message loop.
        task = asyncio.get_running_loop().create_task(self._send_message(message))
        self._sending = getattr(self, "_sending", set())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _alert(self, message: str) -> None:
        """An error for this socket only, shown with the page's other alerts."""
        html = render_to_string("chat/detail.html#socket-alert", {"message": message})
        await self.push(html)

    async def _send_message(self, message: dict[str, Any]) -> None:
        space_id, chat_id = self._ids()
        fields = ("content", "answer", "last_message", "message_key")
        data = {k: message.get(k) or "" for k in fields}
        page = f"/spaces/{space_id}/chat/{chat_id}/"
        if not all(isinstance(value, str) for value in data.values()):
            text = {k: v if isinstance(v, str) else "" for k, v in data.items()}
            sent = sending.Sent(
                MessageForm(text), error="The message must be text; nothing was sent."
            )
            sent.status = 400
        else:
            try:
                sent = await sending.send(
                    self.scope["user"], space_id, chat_id, data, current_page=page
                )
            except Exception:  # never leave the Send button spinning: answer, keep the text
                logger.exception("Sending a message to chat %s failed", chat_id)
                sent = sending.Sent(
                    MessageForm(data),
                    error="The message could not be sent: the console hit an internal problem. "
                    "Your message is kept below; try again in a moment.",
                    status=500,
                )
        html = render_to_string(
            "chat/detail.html#composer",
            {
                "form": sent.form,
                "send_error": sent.error,
                "oob": True,
                "space_id": space_id,
                "chat_id": chat_id,
                "can_operate": True,
            },
        )
        await self.push(html)
