"""AWS DevOps Agent (`devops-agent`): chats. CreateChat, ListChats, GetChat, UpdateChat and
SendMessage, whose reply is an event stream produced token by token (see `chat_agent.py`).

Rules the service enforces, as emulated here:
- a chat belongs to the caller who created it (others get ResourceNotFoundException);
- archived chats leave the default list (ListChats without archiveStatus lists ACTIVE ones) and
  refuse messages with ConflictException (reason CHAT_ARCHIVED);
- one reply at a time per chat (ConflictException while one streams);
- at most SANDBOX_CHAT_CONCURRENCY replies in flight per agent space: more is
  ServiceQuotaExceededException (HTTP 402);
- the history is the chat's journal: ListJournalRecords with the chat's executionId returns
  CHAT_MESSAGE and CHAT_RESPONSE records (see `list_chat_records`).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import regex
from django.conf import settings
from django.utils import timezone

from .. import chat_agent, tasks
from ..models import AgentSpace, Chat, ChatRecord
from ..wire import Context, SandboxError, operation
from .paging import page

logger = logging.getLogger(__name__)

SERVICE = "devops-agent"
# A reply whose stream has not shown a sign of life for this long died with its process.
STALE_AFTER = dt.timedelta(seconds=30)
_ACCESS_KEY = regex.compile(r"Credential=([^/]+)/")


def _owner(ctx: Context) -> str:
    auth = next((v for k, v in ctx.headers.items() if k.lower() == "authorization"), "")
    found = _ACCESS_KEY.search(auth)
    return found.group(1) if found else "anonymous"


def _space(space_id: str) -> AgentSpace:
    space = AgentSpace.objects.filter(pk=space_id).first()
    if space is None:
        raise tasks.not_found("Agent space", space_id)
    return space


def _chat(ctx: Context, space: AgentSpace, execution_id: str) -> Chat:
    chat = Chat.objects.filter(space=space, pk=execution_id, owner=_owner(ctx)).first()
    if chat is None:
        raise tasks.not_found("Chat", execution_id)
    return chat


def _summary(chat: Chat) -> dict[str, Any]:
    return {
        "executionId": chat.execution_id,
        "createdAt": chat.created_at,
        "updatedAt": chat.updated_at,
        "summary": chat.summary or None,
        "archiveStatus": chat.archive_status,
    }


@operation(SERVICE, "CreateChat")
def create_chat(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _space(params["agentSpaceId"])
    now = timezone.now()
    chat = Chat.objects.create(
        execution_id=str(uuid.uuid4()),
        space=space,
        owner=_owner(ctx),
        user_type=params.get("userType") or "IAM",
        created_at=now,
        updated_at=now,
    )
    return {"executionId": chat.execution_id, "createdAt": chat.created_at}


@operation(SERVICE, "ListChats")
def list_chats(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _space(params["agentSpaceId"])
    status = params.get("archiveStatus") or "ACTIVE"
    rows, token = page(
        Chat.objects.filter(space=space, owner=_owner(ctx), archive_status=status).order_by(
            "-updated_at", "-execution_id"
        ),
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListChats:{space.pk}:{status}",
        default=20,
    )
    return {"executions": [_summary(chat) for chat in rows], "nextToken": token}


@operation(SERVICE, "GetChat")
def get_chat(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _space(params["agentSpaceId"])
    return _summary(_chat(ctx, space, params["executionId"]))


@operation(SERVICE, "UpdateChat")
def update_chat(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _space(params["agentSpaceId"])
    chat = _chat(ctx, space, params["executionId"])
    token = params.get("clientToken") or ""
    asked = {k: params[k] for k in ("summary", "archiveStatus") if params.get(k) is not None}
    if token and token in chat.update_tokens:
        if chat.update_tokens[token] != asked:
            raise SandboxError(
                "ConflictException",
                "This clientToken was used for a different UpdateChat request",
            )
        return _summary(chat)
    if "summary" in asked:
        chat.summary = asked["summary"]
    if "archiveStatus" in asked:
        chat.archive_status = asked["archiveStatus"]
    if token:
        kept = list(chat.update_tokens.items())[-19:]
        chat.update_tokens = {**dict(kept), token: asked}
    chat.updated_at = timezone.now()
    chat.save()
    return _summary(chat)


# --- SendMessage -------------------------------------------------------------------------------


def _live_replies(at: dt.datetime) -> Any:
    return ChatRecord.objects.filter(
        record_type=ChatRecord.RESPONSE, state=ChatRecord.IN_PROGRESS, beat_at__gte=at - STALE_AFTER
    )


@operation(SERVICE, "SendMessage")
def send_message(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    space = tasks.get_space(params["agentSpaceId"], now)  # the agent sees the backlog as of now
    chat = _chat(ctx, space, params["executionId"])
    if chat.archive_status == "ARCHIVED":
        raise SandboxError(
            "ConflictException",
            "This chat is archived. Unarchive it to send messages.",
            reason="CHAT_ARCHIVED",
        )
    context = params.get("context") or {}
    content = params["content"]
    action = context.get("userActionResponse") or ""
    if not content.strip() and not action:
        raise SandboxError(
            "ValidationException",
            "content must not be empty unless context.userActionResponse answers a prompt",
            fieldList=[{"path": "content", "message": "Member must not be empty"}],
        )
    live = _live_replies(now)
    if live.filter(chat=chat).exists():
        raise SandboxError(
            "ConflictException",
            "The agent is still replying in this chat. Wait for the reply to finish.",
        )
    limit = settings.SANDBOX_CHAT_CONCURRENCY
    if live.filter(chat__space=space).count() >= limit:
        raise SandboxError(
            "ServiceQuotaExceededException",
            f"This agent space already has {limit} chat replies in progress, the most it may "
            "have at once. Try again when one of them has finished.",
        )
    response_id = str(uuid.uuid4())
    user = {"userId": _owner(ctx), "userType": chat.user_type or "IAM"}
    # Records are ordered by time: a message never sorts before the reply it follows.
    latest = chat.records.order_by("-created_at").values_list("created_at", flat=True).first()
    at = max(now, latest + dt.timedelta(microseconds=1)) if latest else now
    message: dict[str, Any] = {"text": content, "responseId": response_id}
    for key in ("currentPage", "lastMessage", "userActionResponse"):
        if context.get(key):
            message[key] = context[key]
    ChatRecord.objects.create(
        record_id=str(uuid.uuid4()),
        chat=chat,
        record_type=ChatRecord.MESSAGE,
        content=message,
        user_reference=user,
        response_id=response_id,
        created_at=at,
    )
    reply = ChatRecord.objects.create(
        record_id=str(uuid.uuid4()),
        chat=chat,
        record_type=ChatRecord.RESPONSE,
        content={"responseId": response_id, "state": ChatRecord.IN_PROGRESS, "blocks": []},
        response_id=response_id,
        state=ChatRecord.IN_PROGRESS,
        beat_at=now,
        created_at=at + dt.timedelta(microseconds=1),
    )
    if not chat.summary:
        chat.summary = chat_agent._quote(content or action, 80)
    chat.updated_at = now
    chat.save(update_fields=["summary", "updated_at"])
    plan = chat_agent.plan_reply(space, content, action)
    fault, stall = chat_agent.draw_fault(settings.SANDBOX_CHAT_FAULTS)
    return {"events": _stream(reply.pk, plan, response_id, fault, stall)}


def _stream(
    reply_pk: int, plan: chat_agent.Plan, response_id: str, fault: str, stall: float
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Runs lazily in the reader's thread, after the handler's transaction has committed."""
    outcome = chat_agent.Outcome()

    def beat() -> None:
        _save(reply_pk, beat_at=timezone.now())

    try:
        yield from chat_agent.stream_reply(
            plan, response_id, outcome, fault=fault, stall_seconds=stall, beat=beat
        )
    except GeneratorExit:
        # The reader went away mid-reply (its console process died or was redeployed). The
        # agent does not depend on its reader: it finishes the reply and records it whole,
        # as AWS does, so a console can show it from the chat's journal. (Recorded at once
        # here, rather than when the remaining tokens would have been written.)
        if outcome.state == "IN_PROGRESS" and not fault:
            outcome = chat_agent.Outcome()
            for _ in chat_agent.stream_reply(plan, response_id, outcome, token_seconds=0):
                pass
        raise
    finally:
        # Completed, failed, cut, or closed by the reader (GeneratorExit): record what was said.
        state = outcome.state if outcome.state != "IN_PROGRESS" else "INTERRUPTED"
        try:
            _save(
                reply_pk,
                state=state,
                beat_at=timezone.now(),
                content={
                    "responseId": response_id,
                    "state": state,
                    "blocks": outcome.blocks,
                    "summary": outcome.summary or None,
                    "usage": outcome.usage or None,
                    "error": outcome.error or None,
                },
            )
        except Exception:  # the reader may be gone with its database; the record goes stale
            logger.exception("sandbox: could not record a chat reply")


def _save(reply_pk: int, **changes: Any) -> None:
    """Write to a reply's record from the reader's thread (outside the handler's transaction)."""
    ChatRecord.objects.filter(pk=reply_pk).update(**changes)


# --- history -----------------------------------------------------------------------------------


def is_chat(space: AgentSpace, execution_id: str) -> bool:
    return Chat.objects.filter(space=space, pk=execution_id).exists()


def list_chat_records(ctx: Context, space: AgentSpace, params: dict[str, Any]) -> dict[str, Any]:
    """ListJournalRecords for a chat execution: its messages and replies."""
    chat = _chat(ctx, space, params["executionId"])
    now = timezone.now()
    # Replies whose stream died with its process are over: say so once, for every reader.
    ChatRecord.objects.filter(
        chat=chat, state=ChatRecord.IN_PROGRESS, beat_at__lt=now - STALE_AFTER
    ).update(state="INTERRUPTED")
    record_type = params.get("recordType") or ""
    order = params.get("order", "DESC")
    sign = "-" if order == "DESC" else ""
    rows = ChatRecord.objects.filter(chat=chat)
    if record_type:
        rows = rows.filter(record_type=record_type)
    records, token = page(
        rows.order_by(sign + "created_at", sign + "id"),
        params.get("nextToken"),
        params.get("limit"),
        scope=f"ListJournalRecords:{chat.pk}:{record_type}:{order}",
        default=100,
    )
    out = []
    for r in records:
        content = dict(r.content)
        if r.record_type == ChatRecord.RESPONSE:
            content["state"] = r.state
        out.append(
            {
                "agentSpaceId": space.pk,
                "executionId": chat.execution_id,
                "recordId": r.record_id,
                "content": content,
                "createdAt": r.created_at,
                "recordType": r.record_type,
                "userReference": r.user_reference,
            }
        )
    return {"records": out, "nextToken": token}
