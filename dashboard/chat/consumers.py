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
from .forms import valid_chat_id, valid_space_id

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

    async def receive_message(self, message: dict[str, Any]) -> None:
        if message.get("action") != "send":
            return
        # Sending waits on AWS and the audit log; meanwhile this socket must keep relaying
        # (its own reply among them), so the send runs beside the consumer's message loop.
        task = asyncio.get_running_loop().create_task(self._send_message(message))
        self._sending = getattr(self, "_sending", set())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_message(self, message: dict[str, Any]) -> None:
        space_id, chat_id = self._ids()
        data = {k: str(message.get(k) or "") for k in ("content", "answer", "last_message")}
        page = f"/spaces/{space_id}/chat/{chat_id}/"
        sent = await sending.send(self.scope["user"], space_id, chat_id, data, current_page=page)
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
