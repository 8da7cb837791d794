"""Sending a message: validate, call SendMessage through the stream relay, audit, and say what
went wrong in words a person can act on. Shared by the websocket (the page with JavaScript)
and the plain POST (without), so both behave alike; the typed message is never lost: every
failure comes back with it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from dashboard import streams
from dashboard.aws import chat as aws_chat
from dashboard.aws import errors, executor
from dashboard.core import roles
from dashboard.core.audit import record
from dashboard.core.models import AuditEntry
from dashboard.tasks import refs

from .exchanges import stream_key
from .forms import SERVICE, MessageForm

logger = logging.getLogger(__name__)

AUDIT_TEXT = 500  # characters of a message kept in the audit log
KEY_LIFETIME = dt.timedelta(days=1)


@dataclass
class Sent:
    form: MessageForm
    relay: streams.Relay | None = None
    error: str = ""
    status: int = 200
    fields: dict[str, str] = field(default_factory=dict)
    # The same message box sent this message before (its idempotency key): nothing was sent
    # again; the message is in the chat once.
    repeated: bool = False

    @property
    def ok(self) -> bool:
        return self.relay is not None or self.repeated


class _Who:
    """What audit.record needs of a request: the user."""

    def __init__(self, user: Any) -> None:
        self.user = user


def _latest_response(key: str) -> str:
    for run in reversed(streams.read_runs(key)):
        for event in run["events"]:
            if event["type"] == "responseCreated":
                return str(event["data"].get("responseId") or "")
    return ""


async def send(
    user: Any, space_id: str, chat_id: str, data: dict[str, Any], *, current_page: str
) -> Sent:
    form = MessageForm(data)
    # Blocking ORM work goes to the AWS pool, not sync_to_async's one shared thread, where it
    # would queue behind (and hold up) every other consumer's database work.
    if not await executor.run(roles.has_role_now, user, roles.OPERATOR):
        return Sent(form, error="Sending messages needs the operator role.", status=403)
    if not form.is_valid():
        return Sent(form, status=400)
    content = form.cleaned_data["content"] or ""
    answer = form.cleaned_data["answer"] or ""
    message_key = form.cleaned_data["message_key"]
    if message_key:
        try:
            fresh = await executor.run(_take_key, message_key, user, space_id, chat_id)
        except Exception:  # the database is away: AWS is not asked either
            logger.exception("Could not record the message key for chat %s", chat_id)
            return Sent(
                form,
                error="The message could not be sent: the console cannot reach its database. "
                "Your message is kept below; try again in a moment.",
                status=503,
            )
        if not fresh:
            return Sent(MessageForm(), repeated=True)
    sent = await _send(user, space_id, chat_id, form, content, answer, current_page)
    if message_key and sent.relay is None:
        try:  # not sent: the same box may send it again
            await executor.run(_give_back_key, message_key)
        except Exception:
            logger.exception("Could not give back the message key for chat %s", chat_id)
    return sent


def _take_key(key: str, user: Any, space_id: str, chat_id: str) -> bool:
    """Record `key` as sent; False when it was already (the same message again)."""
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from .models import SentMessage

    if random.random() < 0.01:  # keys are kept a day
        SentMessage.objects.filter(created_at__lt=timezone.now() - KEY_LIFETIME).delete()
    try:
        with transaction.atomic():
            SentMessage.objects.create(
                key=key, user=user, space_id=space_id[:2048], chat_id=chat_id[:64]
            )
    except IntegrityError:
        return False
    return True


def _give_back_key(key: str) -> None:
    from .models import SentMessage

    SentMessage.objects.filter(key=key).delete()


async def _send(
    user: Any,
    space_id: str,
    chat_id: str,
    form: MessageForm,
    content: str,
    answer: str,
    current_page: str,
) -> Sent:
    key = stream_key(space_id, chat_id)
    try:
        last = await asyncio.to_thread(_latest_response, key)
    except Exception:  # the stream log (Redis) unreachable: the form's copy will do
        logger.warning("Could not read the stream log of %s", key, exc_info=True)
        last = ""
    params = aws_chat.send_params(
        space_id,
        chat_id,
        content,
        current_page=current_page,
        last_message=last or form.cleaned_data["last_message"],
        user_action_response=answer,
    )
    meta = {
        "content": content,
        "answer": answer,
        "user": user.get_username(),
        "at": time.time(),
    }
    audit_params = dict(params, content=content[:AUDIT_TEXT])
    try:
        # The reply is rendered on the event loop, where task ids are linked only from what
        # this process read lately (dashboard/tasks/refs.py).
        await executor.run(refs.warm, space_id)
    except Exception:  # no links then; the message goes out all the same
        logger.warning("Could not read the task ids of %s", space_id, exc_info=True)
    try:
        relay = await streams.start(key, lambda: aws_chat.open_reply(params), meta=meta)
    except streams.PoolFull as exc:
        return await _failed(user, chat_id, audit_params, form, str(exc), 503, "PoolFull")
    except streams.AlreadyStreaming:
        message = (
            "The agent is still replying in this chat. Your message was not sent; it is kept "
            "below: send it when the reply has finished."
        )
        return await _failed(user, chat_id, audit_params, form, message, 409, "Busy")
    except errors.AwsError as exc:
        return await _failed(user, chat_id, audit_params, form, _explain(exc), exc.status, exc)
    except Exception as exc:
        # Anything else (Redis unreachable for the stream lock, a bug): the person is told and
        # keeps the message; the details go to the log, not the page.
        if streams.log.unreachable(exc):
            logger.warning("Sending to chat %s: the stream log is unreachable: %s", chat_id, exc)
            message = (
                "The message was not sent: the console cannot reach its Redis, which relays "
                "replies, at the moment. Your message is kept below; try again in a moment."
            )
            # The page itself is fine (200): it shows the chat, the kept message and why.
            return await _failed(user, chat_id, audit_params, form, message, 200, exc)
        else:
            logger.exception("Sending a message to chat %s failed", chat_id)
            message = (
                "The message could not be sent: the console hit an internal problem (the "
                "details are in its log). Your message is kept below; try again in a moment."
            )
        return await _failed(user, chat_id, audit_params, form, message, 503, exc)
    try:
        await executor.run(
            record,
            _Who(user),
            "SendMessage",
            chat_id,
            AuditEntry.OK,
            detail=_redacted(audit_params),
        )
    except Exception:  # the message went out: say so, whatever the audit log's trouble
        logger.exception("Could not audit SendMessage to chat %s", chat_id)
    return Sent(MessageForm(), relay=relay)


def _redacted(params: dict[str, Any]) -> dict[str, Any]:
    from dashboard.aws.model import redact

    return redact(SERVICE, "SendMessage", params)


def _explain(exc: errors.AwsError) -> str:
    kept = "Your message was not sent; it is kept below."
    if isinstance(exc, errors.QuotaExceeded):
        return f"{exc.message} {kept} Send it again when a reply has finished."
    if isinstance(exc, errors.Throttled):
        return f"{exc.message} {kept}"
    if isinstance(exc, errors.Conflict):
        if exc.reason == "CHAT_ARCHIVED":
            return f"This chat is archived: unarchive it to continue. {kept}"
        return f"{exc.message} {kept}"
    if isinstance(exc, errors.Unavailable):
        return f"{exc.message} {kept} Try again in a moment."
    return f"{exc.message} {kept}"


async def _failed(
    user: Any,
    chat_id: str,
    params: dict[str, Any],
    form: MessageForm,
    message: str,
    status: int,
    cause: Any,
) -> Sent:
    fields: dict[str, str] = {}
    if isinstance(cause, errors.AwsError):
        fields = dict(cause.fields)
        error_text = str(cause)
    elif isinstance(cause, Exception):
        error_text = f"{message} ({type(cause).__name__})"
    else:
        error_text = message
    try:
        await executor.run(
            record,
            _Who(user),
            "SendMessage",
            chat_id,
            AuditEntry.FAILED,
            detail=_redacted(params),
            error=error_text,
        )
    except Exception:  # the database may be what failed: the person still gets the answer
        logger.exception("Could not audit a failed SendMessage to chat %s", chat_id)
    if "content" in fields:
        form.add_error("content", fields["content"])
    return Sent(form, error=message, status=status, fields=fields)


def wait_seconds() -> float:
    return float(getattr(settings, "CHAT_WAIT_SECONDS", 120.0))
