"""AWS DevOps Agent (`devops-agent`): the backlog of tasks (create, get, list, update).

The rules live in `..tasks` and the life of a task in `..lifecycle`; this module reads the
wire parameters, enforces ListBacklogTasks' documented filter/sort restrictions and writes the
model's Task shape.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from .. import tasks
from ..models import BacklogTask
from ..wire import Context, SandboxError, operation
from .paging import page

SERVICE = "devops-agent"


def task_shape(task: BacklogTask) -> dict[str, Any]:
    """The model's Task structure; every member comes from the row itself (no extra queries)."""
    return {
        "agentSpaceId": task.space_id,
        "taskId": task.task_id,
        "executionId": task.execution_id or None,
        "title": task.title,
        "description": task.description or None,
        "reference": task.reference,
        "taskType": task.task_type,
        "priority": task.priority,
        "status": task.status,
        "createdAt": task.created_at,
        "updatedAt": task.updated_at,
        "version": task.version,
        "supportMetadata": task.support_metadata,
        "metadata": task.metadata,
        "primaryTaskId": task.primary_task_id or None,
        "statusReason": task.status_reason or None,
        "hasLinkedTasks": task.has_linked_tasks,
    }


@operation(SERVICE, "CreateBacklogTask")
def create_backlog_task(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    space = tasks.get_space(params["agentSpaceId"], now)
    task = tasks.create_task(
        space,
        task_type=params["taskType"],
        title=params["title"],
        priority=params["priority"],
        description=params.get("description", ""),
        reference=params.get("reference"),
        client_token=params.get("clientToken", ""),
        at=now,
    )
    return {"task": task_shape(task)}


@operation(SERVICE, "GetBacklogTask")
def get_backlog_task(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = tasks.get_space(params["agentSpaceId"], timezone.now())
    return {"task": task_shape(tasks.get_task(space, params["taskId"]))}


@operation(SERVICE, "UpdateBacklogTask")
def update_backlog_task(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    space = tasks.get_space(params["agentSpaceId"], now)
    task = tasks.get_task(space, params["taskId"])
    task = tasks.update_status(
        task, params.get("taskStatus"), now, client_token=params.get("clientToken", "")
    )
    return {"task": task_shape(task)}


def _check_list_restrictions(filters: dict[str, Any], sort_field: str) -> None:
    """The service's documented restrictions on combining filters and sorting."""
    by_type = bool(filters.get("taskType"))
    by_priority_or_status = bool(filters.get("priority") or filters.get("status"))
    if filters.get("priority") and filters.get("status") and not by_type:
        raise SandboxError(
            "ValidationException",
            "Filtering by priority and status at the same time is only supported together "
            "with a taskType filter",
        )
    if sort_field == "PRIORITY":
        if filters.get("createdAfter") or filters.get("createdBefore"):
            raise SandboxError(
                "ValidationException",
                "Sorting by priority is not supported when using timestamp filters "
                "(createdAfter, createdBefore)",
            )
        if by_priority_or_status and not by_type:
            raise SandboxError(
                "ValidationException",
                "Only sorting on createdAt is supported when using priority or status "
                "filters alone",
            )


def _filtered(space_id: str, filters: dict[str, Any]) -> QuerySet[BacklogTask]:
    rows = BacklogTask.objects.filter(space_id=space_id)
    if filters.get("createdAfter"):
        rows = rows.filter(created_at__gte=filters["createdAfter"])  # inclusive
    if filters.get("createdBefore"):
        rows = rows.filter(created_at__lt=filters["createdBefore"])  # exclusive
    for member, column in (
        ("priority", "priority"),
        ("status", "status"),
        ("taskType", "task_type"),
    ):
        if filters.get(member):
            rows = rows.filter(**{column: filters[member][0]})
    if filters.get("primaryTaskId"):
        rows = rows.filter(primary_task_id=filters["primaryTaskId"])
    return rows


def _scope(space_id: str, filters: dict[str, Any], sort_field: str, order: str) -> str:
    """What a nextToken is good for: this space, these filters, this sort."""
    canonical = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in filters.items()}
    return "ListBacklogTasks:" + json.dumps(
        [space_id, canonical, sort_field, order], sort_keys=True, separators=(",", ":")
    )


@operation(SERVICE, "ListBacklogTasks")
def list_backlog_tasks(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = tasks.get_space(params["agentSpaceId"], timezone.now())
    filters = params.get("filter") or {}
    sort_field = params.get("sortField", "CREATED_AT")
    order = params.get("order", "DESC")
    _check_list_restrictions(filters, sort_field)
    sign = "-" if order == "DESC" else ""
    keys = ["created_at", "task_id"]
    if sort_field == "PRIORITY":
        keys.insert(0, "priority_rank")  # ties broken by creation time, in the same order
    rows, token = page(
        _filtered(space.pk, filters).order_by(*(sign + k for k in keys)),
        params.get("nextToken"),
        params.get("limit"),
        scope=_scope(space.pk, filters, sort_field, order),
        default=100,
    )
    return {"tasks": [task_shape(t) for t in rows], "nextToken": token}
