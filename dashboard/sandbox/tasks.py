"""Backlog rules the service enforces: creating tasks (idempotency, linked duplicates), the
status changes a caller may make, and answering approval requests. The wire handlers
(`ops/backlog.py`, `ops/journal.py`) and the seed command both go through here; every function
takes the moment it happens (`at`) so the seed can write history."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from . import lifecycle
from .models import AgentSpace, Approval, BacklogTask, Execution
from .wire import SandboxError

PRIORITY_RANK = {"CRITICAL": 5, "HIGH": 4, "MEDIUM": 3, "LOW": 2, "MINIMAL": 1}

# Status changes a caller may ask for, by current status (the service's triage rules).
ALLOWED = {
    "PENDING_TRIAGE": {"PENDING_START", "CANCELED", "SKIPPED"},
    "PENDING_START": {"CANCELED"},
    "IN_PROGRESS": {"CANCELED"},
    "PENDING_CUSTOMER_APPROVAL": {"CANCELED"},
    "WAITING": {"CANCELED"},
}
_OPEN_FOR_LINKING = ("PENDING_TRIAGE", "PENDING_START", "IN_PROGRESS", "PENDING_CUSTOMER_APPROVAL")
_TOKENS_KEPT = 20


def not_found(kind: str, ident: str) -> SandboxError:
    return SandboxError("ResourceNotFoundException", f"{kind} {ident} was not found")


def get_space(space_id: str, at: dt.datetime) -> AgentSpace:
    """The space, advanced to `at` (every task operation starts here)."""
    space = AgentSpace.objects.filter(pk=space_id).first()
    if space is None:
        raise not_found("Agent space", space_id)
    lifecycle.advance(space_id, at)
    return space


def get_task(space: AgentSpace, task_id: str) -> BacklogTask:
    task = BacklogTask.objects.filter(space=space, pk=task_id).first()
    if task is None:
        raise not_found("Task", task_id)
    return task


def create_task(
    space: AgentSpace,
    *,
    task_type: str,
    title: str,
    priority: str,
    at: dt.datetime,
    description: str = "",
    reference: dict[str, Any] | None = None,
    client_token: str = "",
    status: str = "PENDING_START",
    metadata: dict[str, Any] | None = None,
    task_id: str | None = None,
) -> BacklogTask:
    """A new task. Investigations about the same external reference as an open investigation
    are LINKED to it instead of being worked twice."""
    if client_token:
        existing = BacklogTask.objects.filter(space=space, client_token=client_token).first()
        if existing is not None:
            return existing
    task = BacklogTask(
        task_id=task_id or str(uuid.uuid4()),
        space=space,
        title=title,
        description=description,
        task_type=task_type,
        priority=priority,
        priority_rank=PRIORITY_RANK[priority],
        status=status,
        reference=reference or None,
        reference_system=(reference or {}).get("system", ""),
        reference_key=(reference or {}).get("referenceId", ""),
        metadata=metadata if metadata is not None else {"source": "API"},
        client_token=client_token,
        created_at=at,
        updated_at=at,
    )
    primary = _primary_for(task)
    if primary is not None:
        task.status = "LINKED"
        task.primary_task_id = primary.task_id
        task.status_reason = (
            f"Linked to task {primary.task_id}: same {task.reference_system} reference "
            f"{task.reference_key}."
        )
        if not primary.has_linked_tasks:
            lifecycle.touch(primary, at, has_linked_tasks=True)
            primary.save()
    elif task.status == "PENDING_START":
        task.next_due_at = lifecycle.later(at, lifecycle.script(task).start_delay)
    task.save(force_insert=True)
    return task


def _primary_for(task: BacklogTask) -> BacklogTask | None:
    if task.task_type != "INVESTIGATION" or not task.reference_key:
        return None
    return (
        BacklogTask.objects.filter(
            space_id=task.space_id,
            task_type="INVESTIGATION",
            reference_system=task.reference_system,
            reference_key=task.reference_key,
            status__in=_OPEN_FOR_LINKING,
        )
        .order_by("created_at", "task_id")
        .first()
    )


def update_status(
    task: BacklogTask, target: str | None, at: dt.datetime, client_token: str = ""
) -> BacklogTask:
    """Change a task's status as a caller may; a repeated clientToken changes nothing."""
    if target is None:
        return task  # nothing asked for, nothing changes
    if client_token in task.update_tokens:
        if task.update_tokens[client_token] != target:
            raise SandboxError(
                "ConflictException",
                "The clientToken was already used for a different change of this task.",
            )
        return task  # a retry of a change already made
    if task.status in lifecycle.TERMINAL:
        raise SandboxError(
            "ConflictException",
            f"Task {task.task_id} is {task.status}; a finished task cannot change status.",
        )
    allowed = ALLOWED.get(task.status, set())
    if target not in allowed:
        raise SandboxError(
            "ValidationException",
            f"Cannot change task {task.task_id} from {task.status} to {target}. "
            f"Allowed: {', '.join(sorted(allowed)) or 'none'}.",
        )
    if target == "PENDING_START":
        lifecycle.touch(task, at, status=target, status_reason="Accepted for investigation.")
        task.next_due_at = lifecycle.later(at, lifecycle.script(task).start_delay)
    elif target == "CANCELED":
        _cancel(task, at)
    else:
        lifecycle.touch(task, at, status=target, status_reason="Skipped during triage.")
    if client_token:
        tokens = dict(list(task.update_tokens.items())[-(_TOKENS_KEPT - 1) :])
        tokens[client_token] = target
        task.update_tokens = tokens
    task.save()
    return task


def _cancel(task: BacklogTask, at: dt.datetime) -> None:
    held_slot = lifecycle.takes_slot(task) and task.status in lifecycle.SLOT_STATUSES
    lifecycle.touch(
        task, at, status="CANCELED", status_reason="Canceled by an operator.", next_due_at=None
    )
    if task.execution_id:
        execution = Execution.objects.get(pk=task.execution_id)
        if execution.status in ("RUNNING", "WAITING"):
            execution.status = "CANCELED"
            execution.updated_at = at
            execution.save(update_fields=["status", "updated_at"])
            lifecycle.record(
                execution, "UPDATE", {"text": "Canceled by an operator.", "status": "CANCELED"}, at
            ).save()
        Approval.objects.filter(task=task, status="PENDING").update(status="REVOKED")
    if held_slot:
        lifecycle.queue_next(task.space_id, at)


def answer_approval(
    space: AgentSpace,
    approval_id: str,
    *,
    action: str,
    at: dt.datetime,
    reason: str = "",
    ttl_seconds: int | None = None,
    single_use: bool | None = None,
    final_pattern: dict[str, Any] | None = None,
) -> Approval:
    """Approve or reject a pending request; the waiting task resumes either way."""
    approval = (
        Approval.objects.select_related("task", "execution")
        .filter(space=space, pk=approval_id)
        .first()
    )
    if approval is None:
        raise not_found("Approval", approval_id)
    if approval.status != "PENDING":
        raise SandboxError(
            "ConflictException", f"Approval {approval_id} is already {approval.status}."
        )
    if ttl_seconds is not None and not approval.ttl_allowed:
        raise SandboxError("ValidationException", "This approval does not allow ttlSeconds.")
    if single_use and not approval.single_use_allowed:
        raise SandboxError("ValidationException", "This approval does not allow singleUse.")
    approval.status = action
    approval.decision_reason = reason
    approval.ttl_seconds = ttl_seconds
    approval.single_use = single_use
    approval.final_pattern = final_pattern
    approval.answered_at = at
    if action == "APPROVED" and ttl_seconds:
        approval.expires_at = at + dt.timedelta(seconds=ttl_seconds)
    approval.save()
    _resume(approval, at)
    return approval


def _resume(approval: Approval, at: dt.datetime) -> None:
    task, execution = approval.task, approval.execution
    lifecycle.record(
        execution,
        "APPROVAL_RESPONSE",
        {
            "approvalId": approval.approval_id,
            "action": approval.status,
            "reason": approval.decision_reason,
        },
        at,
    ).save()
    if task.status != "PENDING_CUSTOMER_APPROVAL":
        return
    steps = lifecycle.script(task).steps
    gap = steps[task.script_step].offset - steps[task.script_step - 1].offset
    execution.status = "RUNNING"
    execution.updated_at = at
    execution.save(update_fields=["status", "updated_at"])
    lifecycle.touch(task, at, status="IN_PROGRESS", next_due_at=lifecycle.later(at, gap))
    task.save()
