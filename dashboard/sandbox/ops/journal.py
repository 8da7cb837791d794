"""AWS DevOps Agent (`devops-agent`): what the agent did for a task: executions, their journal
records, messages queued for them, and the answers to its approval requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from .. import tasks
from ..models import AgentSpace, Execution, JournalRecord
from ..wire import Context, SandboxError, operation
from . import chat
from .paging import page

SERVICE = "devops-agent"


def _execution(space: AgentSpace, execution_id: str) -> Execution:
    execution = Execution.objects.filter(space=space, pk=execution_id).first()
    if execution is None:
        raise tasks.not_found("Execution", execution_id)
    return execution


@operation(SERVICE, "ListExecutions")
def list_executions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = tasks.get_space(params["agentSpaceId"], timezone.now())
    task = tasks.get_task(space, params["taskId"])
    limit = params.get("limit")
    if limit is not None and not 1 <= limit <= 100:
        raise SandboxError("ValidationException", "limit must be between 1 and 100")
    rows, token = page(
        Execution.objects.filter(task=task).order_by("-created_at", "-execution_id"),
        params.get("nextToken"),
        limit,
        scope=f"ListExecutions:{space.pk}:{task.pk}",
        default=100,
    )
    return {
        "executions": [
            {
                "agentSpaceId": e.space_id,
                "executionId": e.execution_id,
                "agentSubTask": e.agent_sub_task,
                "agentType": e.agent_type or None,
                "createdAt": e.created_at,
                "updatedAt": e.updated_at,
                "executionStatus": e.status,
            }
            for e in rows
        ],
        "nextToken": token,
    }


@operation(SERVICE, "ListJournalRecords")
def list_journal_records(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = tasks.get_space(params["agentSpaceId"], timezone.now())
    try:
        execution = _execution(space, params["executionId"])
    except SandboxError:
        if chat.is_chat(space, params["executionId"]):
            return chat.list_chat_records(ctx, space, params)  # a chat's history is its journal
        raise
    record_type = params.get("recordType") or ""  # empty string: every type
    order = params.get("order", "DESC")
    sign = "-" if order == "DESC" else ""
    rows = JournalRecord.objects.filter(execution=execution)
    if record_type:
        rows = rows.filter(record_type=record_type)
    records, token = page(
        rows.order_by(sign + "created_at", sign + "id"),
        params.get("nextToken"),
        params.get("limit"),
        scope=f"ListJournalRecords:{execution.pk}:{record_type}:{order}",
        default=100,
    )
    return {
        "records": [
            {
                "agentSpaceId": r.space_id,
                "executionId": execution.execution_id,
                "recordId": r.record_id,
                "content": r.content,
                "createdAt": r.created_at,
                "recordType": r.record_type,
                "userReference": r.user_reference,
            }
            for r in records
        ],
        "nextToken": token,
    }


@operation(SERVICE, "ListPendingMessages")
def list_pending_messages(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = tasks.get_space(params["agentSpaceId"], timezone.now())
    execution = _execution(space, params["executionId"])
    messages = execution.pending_messages
    created = (
        min(dt.datetime.fromisoformat(m["createdAt"]) for m in messages)
        if messages
        else execution.updated_at
    )
    return {
        "agentSpaceId": space.pk,
        "executionId": execution.execution_id,
        "messages": [{"messageId": m["messageId"], "message": m["message"]} for m in messages],
        "createdAt": created,
    }


@operation(SERVICE, "UpdateApprovalAction")
def update_approval_action(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    space = tasks.get_space(params["agentSpaceId"], now)
    approval = tasks.answer_approval(
        space,
        params["approvalId"],
        action=params["action"],
        reason=params.get("reason", ""),
        ttl_seconds=params.get("ttlSeconds"),
        single_use=params.get("singleUse"),
        final_pattern=params.get("finalPattern"),
        at=now,
    )
    return {
        "approvalId": approval.approval_id,
        "status": approval.status,
        "expiresAt": approval.expires_at,
    }
