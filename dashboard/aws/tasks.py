"""Backlog tasks, executions, journal records and approvals (AWS DevOps Agent)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from .clients import call, pages

SERVICE = "devops-agent"

PRIORITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "MINIMAL"]
TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "CANCELED", "SKIPPED"}


def task_filter(
    *,
    priority: str = "",
    status: str = "",
    task_type: str = "",
    primary_task_id: str = "",
    created_after: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
) -> dict[str, Any]:
    """The API's `filter` structure (each list holds one value, as the service requires)."""
    out: dict[str, Any] = {}
    if priority:
        out["priority"] = [priority]
    if status:
        out["status"] = [status]
    if task_type:
        out["taskType"] = [task_type]
    if primary_task_id:
        out["primaryTaskId"] = primary_task_id
    if created_after:
        out["createdAfter"] = created_after
    if created_before:
        out["createdBefore"] = created_before
    return out


def _list_params(
    space_id: str, filter: dict[str, Any], sort_field: str, order: str
) -> dict[str, Any]:
    params: dict[str, Any] = {"agentSpaceId": space_id, "order": order}
    if sort_field:
        params["sortField"] = sort_field
    if filter:
        params["filter"] = filter
    return params


def list_tasks(
    space_id: str,
    *,
    filter: dict[str, Any] | None = None,
    sort_field: str = "CREATED_AT",
    order: str = "DESC",
    limit: int = 50,
    next_token: str | None = None,
) -> dict[str, Any]:
    """One page: {"tasks": [...], "nextToken": str | None}."""
    params = _list_params(space_id, filter or {}, sort_field, order)
    params["limit"] = limit
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListBacklogTasks", **params)
    return {"tasks": page.get("tasks", []), "nextToken": page.get("nextToken")}


def iter_tasks(
    space_id: str,
    *,
    filter: dict[str, Any] | None = None,
    sort_field: str = "CREATED_AT",
    order: str = "DESC",
    page_size: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Every task the filter matches, page by page (for exports and counts)."""
    params = _list_params(space_id, filter or {}, sort_field, order)
    params["limit"] = page_size
    for page in pages(SERVICE, "ListBacklogTasks", **params):
        yield from page.get("tasks", [])


def get_task(space_id: str, task_id: str) -> dict[str, Any]:
    return call(SERVICE, "GetBacklogTask", agentSpaceId=space_id, taskId=task_id)["task"]


def create_task(
    space_id: str,
    *,
    task_type: str,
    title: str,
    priority: str,
    description: str = "",
    reference: dict[str, str] | None = None,
    client_token: str = "",
) -> dict[str, Any]:
    """`client_token` (the form's): the same form sent twice creates one task."""
    params: dict[str, Any] = {
        "agentSpaceId": space_id,
        "taskType": task_type,
        "title": title,
        "priority": priority,
    }
    if client_token:
        params["clientToken"] = client_token
    if description:
        params["description"] = description
    if reference:
        params["reference"] = reference
    return call(SERVICE, "CreateBacklogTask", **params)["task"]


def update_status(space_id: str, task_id: str, status: str) -> dict[str, Any]:
    """UpdateBacklogTask changes the status only (the API allows nothing else)."""
    return call(
        SERVICE, "UpdateBacklogTask", agentSpaceId=space_id, taskId=task_id, taskStatus=status
    )["task"]


def list_executions(
    space_id: str, task_id: str, *, next_token: str | None = None, limit: int = 50
) -> dict[str, Any]:
    params: dict[str, Any] = {"agentSpaceId": space_id, "taskId": task_id, "limit": limit}
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListExecutions", **params)
    return {"executions": page.get("executions", []), "nextToken": page.get("nextToken")}


def list_journal(
    space_id: str,
    execution_id: str,
    *,
    record_type: str = "",
    order: str = "ASC",
    limit: int = 100,
    next_token: str | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "agentSpaceId": space_id,
        "executionId": execution_id,
        "order": order,
        "limit": limit,
    }
    if record_type:
        params["recordType"] = record_type
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListJournalRecords", **params)
    return {"records": page.get("records", []), "nextToken": page.get("nextToken")}


def pending_messages(space_id: str, execution_id: str) -> list[dict[str, Any]]:
    answer = call(SERVICE, "ListPendingMessages", agentSpaceId=space_id, executionId=execution_id)
    return answer.get("messages", [])


def answer_approval(
    space_id: str,
    approval_id: str,
    *,
    action: str,
    reason: str = "",
    ttl_seconds: int | None = None,
    single_use: bool | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"agentSpaceId": space_id, "approvalId": approval_id, "action": action}
    if reason:
        params["reason"] = reason
    if ttl_seconds:
        params["ttlSeconds"] = ttl_seconds
    if single_use is not None:
        params["singleUse"] = single_use
    return call(SERVICE, "UpdateApprovalAction", **params)
