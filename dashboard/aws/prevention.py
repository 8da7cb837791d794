"""Recommendations, goals and triggers (AWS DevOps Agent): plain dicts as boto3 parses them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import errors
from .clients import call, pages
from .model import service_model

SERVICE = "devops-agent"

# Filter choices, as the model lists them (a value a newer model adds is offered too).
_MODEL = service_model(SERVICE)
REC_STATUSES: list[str] = list(_MODEL.shape_for("RecommendationStatus").enum)
REC_PRIORITIES: list[str] = list(_MODEL.shape_for("RecommendationPriority").enum)
GOAL_STATUSES: list[str] = list(_MODEL.shape_for("GoalStatus").enum)
GOAL_TYPES: list[str] = list(_MODEL.shape_for("GoalType").enum)

# --- recommendations -------------------------------------------------------------------------


def _rec_filter(
    task_id: str = "", goal_id: str = "", status: str = "", priority: str = ""
) -> dict[str, str]:
    return {
        name: value
        for name, value in (
            ("taskId", task_id),
            ("goalId", goal_id),
            ("status", status),
            ("priority", priority),
        )
        if value
    }


def list_recommendations(
    space_id: str,
    *,
    task_id: str = "",
    goal_id: str = "",
    status: str = "",
    priority: str = "",
    limit: int = 50,
    next_token: str | None = None,
) -> dict[str, Any]:
    """One page: {"recommendations": [...], "nextToken": str | None}."""
    params: dict[str, Any] = {
        "agentSpaceId": space_id,
        "limit": limit,
        **_rec_filter(task_id, goal_id, status, priority),
    }
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListRecommendations", **params)
    return {"recommendations": page.get("recommendations", []), "nextToken": page.get("nextToken")}


def iter_recommendations(
    space_id: str, *, task_id: str = "", goal_id: str = "", page_size: int = 100
) -> Iterator[dict[str, Any]]:
    """Every recommendation of the space (or of one task or goal), page by page."""
    params = {
        "agentSpaceId": space_id,
        "limit": page_size,
        **_rec_filter(task_id=task_id, goal_id=goal_id),
    }
    for page in pages(SERVICE, "ListRecommendations", **params):
        yield from page.get("recommendations", [])


def get_recommendation(space_id: str, rec_id: str, version: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"agentSpaceId": space_id, "recommendationId": rec_id}
    if version is not None:
        params["recommendationVersion"] = version
    return call(SERVICE, "GetRecommendation", **params)["recommendation"]


def update_recommendation(
    space_id: str,
    rec_id: str,
    *,
    status: str | None = None,
    additional_context: str | None = None,
) -> dict[str, Any]:
    params = recommendation_update_params(space_id, rec_id, status, additional_context)
    return call(SERVICE, "UpdateRecommendation", **params)["recommendation"]


def recommendation_update_params(
    space_id: str, rec_id: str, status: str | None, additional_context: str | None
) -> dict[str, Any]:
    """The request as the API names it (also what the audit log records)."""
    params: dict[str, Any] = {"agentSpaceId": space_id, "recommendationId": rec_id}
    if status:
        params["status"] = status
    if additional_context:
        params["additionalContext"] = additional_context
    return params


# --- goals -----------------------------------------------------------------------------------


def list_goals(
    space_id: str,
    *,
    status: str = "",
    goal_type: str = "",
    limit: int = 50,
    next_token: str | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"agentSpaceId": space_id, "limit": limit}
    if status:
        params["status"] = status
    if goal_type:
        params["goalType"] = goal_type
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListGoals", **params)
    return {"goals": page.get("goals", []), "nextToken": page.get("nextToken")}


def iter_goals(space_id: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
    for page in pages(SERVICE, "ListGoals", agentSpaceId=space_id, limit=page_size):
        yield from page.get("goals", [])


def find_goal(space_id: str, goal_id: str) -> dict[str, Any]:
    """One goal. The API has no GetGoal: the space's goals are listed until it is found."""
    for goal in iter_goals(space_id):
        if goal.get("goalId") == goal_id:
            return goal
    raise errors.NotFound(
        f"Goal {goal_id} was not found in this agent space.",
        code="ResourceNotFoundException",
        operation="ListGoals",
        service=SERVICE,
    )


def set_goal_schedule(space_id: str, goal_id: str, state: str) -> dict[str, Any]:
    """UpdateGoal: enable or disable the evaluation schedule (the API allows nothing else)."""
    return call(
        SERVICE,
        "UpdateGoal",
        agentSpaceId=space_id,
        goalId=goal_id,
        evaluationSchedule={"state": state},
    )["goal"]


# --- triggers --------------------------------------------------------------------------------


def list_triggers(
    space_id: str, *, status: str = "", limit: int = 50, next_token: str | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {"agentSpaceId": space_id, "maxResults": limit}
    if status:
        params["status"] = status
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListTriggers", **params)
    return {"triggers": page.get("items", []), "nextToken": page.get("nextToken")}


def iter_triggers(space_id: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
    for page in pages(SERVICE, "ListTriggers", agentSpaceId=space_id, maxResults=page_size):
        yield from page.get("items", [])


def get_trigger(space_id: str, trigger_id: str) -> dict[str, Any]:
    return call(SERVICE, "GetTrigger", agentSpaceId=space_id, triggerId=trigger_id)["trigger"]


def create_trigger(
    space_id: str,
    *,
    trigger_type: str,
    expression: str,
    action: Any,
    status: str = "",
    client_token: str = "",
) -> dict[str, Any]:
    """`client_token` (the form's): the same form sent twice creates one trigger."""
    params = trigger_create_params(space_id, trigger_type, expression, action, status)
    if client_token:
        params["clientToken"] = client_token
    return call(SERVICE, "CreateTrigger", **params)["trigger"]


def trigger_create_params(
    space_id: str, trigger_type: str, expression: str, action: Any, status: str = ""
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "agentSpaceId": space_id,
        "type": trigger_type,
        "condition": {"schedule": {"expression": expression}},
        "action": action,
    }
    if status:
        params["status"] = status
    return params


def set_trigger_status(space_id: str, trigger_id: str, status: str) -> dict[str, Any]:
    """UpdateTrigger changes the status only (Active / Inactive)."""
    return call(
        SERVICE, "UpdateTrigger", agentSpaceId=space_id, triggerId=trigger_id, status=status
    )["trigger"]


def delete_trigger(space_id: str, trigger_id: str) -> None:
    call(SERVICE, "DeleteTrigger", agentSpaceId=space_id, triggerId=trigger_id)
