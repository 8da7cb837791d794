"""Escalation to AWS Support from an investigation: the support-case operations of AWS DevOps
Agent that botocore's model lacks (the sandbox's model extras, see `extras.py`) and the chat
they open, carried by Amazon Connect's participant API (`connectparticipant`), with a simulated
support engineer (`support_agent.py`).

Behaviour, as emulated:
- DescribeSupportLevel: the account has Business support (its "Mosaic" equivalent, Business
  Support+), subscription active.
- InitiateChatForCase opens one case chat per task; while it is open, initiating again answers
  the same contact and participant token (so a console that lost its connection can resume).
- CreateParticipantConnection trades the participant token for a connection token (24 hours)
  that authorizes SendMessage, GetTranscript and DisconnectParticipant. The sandbox has no
  websocket: a WEBSOCKET connection type is answered with a URL in the reserved `.invalid`
  domain, and the transcript is read with GetTranscript.
- EndChatForCase ends the chat (idempotent: again, it answers the same); afterwards the
  connection tokens are refused (AccessDeniedException), as Connect refuses them.
- AllowVendedLogDeliveryForResource allows delivery when the account has an agent space.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from django.utils import timezone

from .. import support_agent, tasks
from ..models import AgentSpace, SupportCase, SupportChatItem, SupportConnection
from ..wire import Context, SandboxError, operation
from .paging import make_token, read_token

DEVOPS = "devops-agent"
CONNECT = "connectparticipant"
CONNECTION_HOURS = 24
CONTENT_TYPES = ("text/plain", "text/markdown", "application/json")
DEFAULT_REASON = "Chat Ended by CloudSmith"
DEFAULT_REQUESTER = "CloudSmith"


def _instant(at: dt.datetime) -> str:
    """Connect's timestamps: ISO 8601 in UTC with milliseconds (2019-11-08T02:41:28.172Z)."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _open_case(space: AgentSpace, task_id: str) -> SupportCase | None:
    return (
        SupportCase.objects.filter(space=space, task_id=task_id, status=SupportCase.OPEN)
        .order_by("-created_at")
        .first()
    )


# --- devops-agent: the case --------------------------------------------------------------------


@operation(DEVOPS, "DescribeSupportLevel")
def describe_support_level(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = tasks.get_space(params["agentSpaceId"], timezone.now())
    tasks.get_task(space, params["taskId"])
    return {
        "supportLevel": {"code": "business", "name": "Business"},
        "mosaicSupportLevel": {"code": "business-plus", "name": "Business Support+"},
        "activeSubscription": True,
    }


@operation(DEVOPS, "InitiateChatForCase")
def initiate_chat_for_case(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    space = tasks.get_space(params["agentSpaceId"], now)
    task = tasks.get_task(space, params["taskId"])
    case = _open_case(space, task.task_id)
    if case is None:
        case = SupportCase.objects.create(
            contact_id=str(uuid.uuid4()),
            space=space,
            task_id=task.task_id,
            execution_id=task.execution_id,
            participant_id=str(uuid.uuid4()),
            participant_token="sbx-pt-" + secrets.token_urlsafe(32),
            engineer=support_agent.engineer_for(task.task_id),
            engineer_id=str(uuid.uuid4()),
            joins_at=now + dt.timedelta(seconds=support_agent.JOIN_SECONDS / support_agent.pace()),
            client_tokens=[params["clientToken"]] if params.get("clientToken") else [],
            created_at=now,
        )
        support_agent.event(case, now, support_agent.JOINED, "CUSTOMER", "Customer")
    return {
        "chatParticipantConnection": {
            "initialContactId": case.contact_id,
            "participantId": case.participant_id,
            "participantToken": case.participant_token,
        }
    }


@operation(DEVOPS, "EndChatForCase")
def end_chat_for_case(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    space = tasks.get_space(params["agentSpaceId"], now)
    task = tasks.get_task(space, params["taskId"])
    case = (
        SupportCase.objects.filter(space=space, task_id=task.task_id)
        .order_by("-created_at")
        .first()
    )
    if case is None:
        return {
            "isDisconnected": False,
            "errorMessage": f"No support chat was opened for task {task.task_id}.",
        }
    if case.status == SupportCase.OPEN:
        support_agent.advance(case, now)
        reason = params.get("reason") or DEFAULT_REASON
        requester = params.get("requester") or DEFAULT_REQUESTER
        if case.joined:
            support_agent.event(case, now, support_agent.LEFT, "AGENT", case.engineer)
        SupportChatItem.objects.create(
            case=case,
            item_id=support_agent.new_item_id(),
            at=now,
            item_type="EVENT",
            content_type=support_agent.ENDED,
            content=f"{reason} (requested by {requester})",
            participant_role="SYSTEM",
            display_name="SYSTEM_MESSAGE",
        )
        case.status = SupportCase.ENDED
        case.ended_at = now
        case.save(update_fields=["status", "ended_at"])
    out: dict[str, Any] = {"isDisconnected": True}
    if case.execution_id:
        out["executionId"] = case.execution_id
    return out


@operation(DEVOPS, "AllowVendedLogDeliveryForResource")
def allow_vended_log_delivery(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if not AgentSpace.objects.exists():
        raise SandboxError(
            "AccessDeniedException",
            "Vended log delivery needs an agent space in the account, and it has none.",
        )
    kind = params.get("logType") or "logs"
    return {
        "message": f"Delivery of {kind} from {params['deliverySourceArn']} is allowed for "
        f"{params['resourceArnBeingAuthorized']}."
    }


# --- connectparticipant: the chat --------------------------------------------------------------


def _denied() -> SandboxError:
    return SandboxError(
        "AccessDeniedException", "The connection token is not valid, or the chat has ended."
    )


def _connection(token: str, now: dt.datetime) -> SupportConnection:
    found = SupportConnection.objects.select_related("case").filter(connection_token=token).first()
    if (
        found is None
        or found.disconnected
        or found.expires_at <= now
        or found.case.status != SupportCase.OPEN
    ):
        raise _denied()
    return found


@operation(CONNECT, "CreateParticipantConnection")
def create_participant_connection(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    case = SupportCase.objects.filter(
        participant_token=params["ParticipantToken"], status=SupportCase.OPEN
    ).first()
    if case is None:
        raise _denied()
    kinds = params.get("Type") or ["CONNECTION_CREDENTIALS"]
    expires = now + dt.timedelta(hours=CONNECTION_HOURS)
    connection = SupportConnection.objects.create(
        connection_token="sbx-ct-" + secrets.token_urlsafe(32), case=case, expires_at=expires
    )
    out: dict[str, Any] = {}
    if "CONNECTION_CREDENTIALS" in kinds:
        out["ConnectionCredentials"] = {
            "ConnectionToken": connection.connection_token,
            "Expiry": _instant(expires),
        }
    if "WEBSOCKET" in kinds:
        out["Websocket"] = {
            "Url": f"wss://participant-connect.sandbox.invalid/{case.contact_id}",
            "ConnectionExpiry": _instant(expires),
        }
    return out


@operation(CONNECT, "SendMessage")
def send_message(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    connection = _connection(params["ConnectionToken"], now)
    case = connection.case
    if params["ContentType"] not in CONTENT_TYPES:
        raise SandboxError(
            "ValidationException",
            f"ContentType must be one of {', '.join(CONTENT_TYPES)}.",
        )
    token = params.get("ClientToken") or ""
    if token:
        earlier = case.items.filter(client_token=token).first()
        if earlier is not None:
            return {"Id": earlier.item_id, "AbsoluteTime": _instant(earlier.at)}
    support_agent.advance(case, now)
    item = SupportChatItem.objects.create(
        case=case,
        item_id=support_agent.new_item_id(),
        at=now,
        item_type="MESSAGE",
        content_type=params["ContentType"],
        content=params["Content"],
        participant_role="CUSTOMER",
        participant_id=case.participant_id,
        display_name="Customer",
        client_token=token,
    )
    return {"Id": item.item_id, "AbsoluteTime": _instant(item.at)}


def _item(item: SupportChatItem, contact_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AbsoluteTime": _instant(item.at),
        "ContentType": item.content_type,
        "Id": item.item_id,
        "Type": item.item_type,
        "ParticipantRole": item.participant_role,
        "ContactId": contact_id,
    }
    if item.content:
        out["Content"] = item.content
    if item.participant_id:
        out["ParticipantId"] = item.participant_id
    if item.display_name:
        out["DisplayName"] = item.display_name
    return out


@operation(CONNECT, "GetTranscript")
def get_transcript(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """The chat so far. FORWARD reads from the start (or StartPosition) onward; BACKWARD, the
    default, reads the most recent items first; each page is sorted by SortOrder (ASCENDING by
    default), at most MaxResults (15 by default) items."""
    now = timezone.now()
    connection = _connection(params["ConnectionToken"], now)
    case = connection.case
    if params.get("ContactId") and params["ContactId"] != case.contact_id:
        raise _denied()
    support_agent.advance(case, now)
    items = list(case.items.filter(at__lte=now).order_by("at", "id"))
    size = params.get("MaxResults") or 15
    forward = params.get("ScanDirection") == "FORWARD"
    scope = f"GetTranscript:{case.contact_id}:{forward}:{params.get('StartPosition')!r}"
    offset = read_token(params.get("NextToken"), scope)
    start = _start_index(items, params.get("StartPosition") or {}, forward)
    if forward:
        begin = start + offset
        page = items[begin : begin + size]
        more = begin + size < len(items)
    else:
        end = start - offset
        page = items[max(end - size, 0) : max(end, 0)]
        more = end - size > 0
    if params.get("SortOrder") == "DESCENDING":
        page.reverse()
    out: dict[str, Any] = {
        "InitialContactId": case.contact_id,
        "Transcript": [_item(i, case.contact_id) for i in page],
    }
    if more and size:
        out["NextToken"] = make_token(offset + size, scope)
    return out


def _start_index(items: list[SupportChatItem], start: dict[str, Any], forward: bool) -> int:
    """Where a scan starts: the index to read from (FORWARD) or up to (BACKWARD)."""
    if start.get("Id"):
        for index, item in enumerate(items):
            if item.item_id == start["Id"]:
                return index if forward else index + 1
        raise SandboxError("ValidationException", "StartPosition.Id is not an item of this chat.")
    if start.get("AbsoluteTime"):
        try:
            moment = dt.datetime.fromisoformat(start["AbsoluteTime"].replace("Z", "+00:00"))
        except ValueError:
            raise SandboxError(
                "ValidationException", "StartPosition.AbsoluteTime is not ISO 8601."
            ) from None
        later = [i for i, item in enumerate(items) if item.at >= moment]
        return later[0] if later else len(items)
    if start.get("MostRecent") is not None:
        return max(len(items) - int(start["MostRecent"]), 0) if forward else len(items)
    return 0 if forward else len(items)


@operation(CONNECT, "DisconnectParticipant")
def disconnect_participant(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    found = (
        SupportConnection.objects.select_related("case")
        .filter(connection_token=params["ConnectionToken"])
        .first()
    )
    if found is None or found.expires_at <= now:
        raise _denied()
    if not found.disconnected:
        found.disconnected = True
        found.save(update_fields=["disconnected"])
        if found.case.status == SupportCase.OPEN:
            support_agent.event(found.case, now, support_agent.LEFT, "CUSTOMER", "Customer")
    return {}
