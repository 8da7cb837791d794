"""AWS DevOps Agent (`devops-agent`): recommendations, goals and triggers.

The rules live in `..prevention`; this module reads the wire parameters, pages, filters and
writes the model's shapes. Every call first brings the space up to now (`tasks.get_space`
advances the backlog, and with it scheduled goal evaluations and revisions).
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from .. import prevention, tasks
from ..models import AgentSpace, Goal, Recommendation, Trigger
from ..wire import Context, SandboxError, operation
from .paging import page

SERVICE = "devops-agent"


def _space_arn(ctx: Context, space: AgentSpace) -> str:
    return ctx.arn(f"agentspace/{space.pk}")


def _scope(operation_name: str, *parts: Any) -> str:
    return operation_name + ":" + json.dumps(parts, sort_keys=True, separators=(",", ":"))


# --- recommendations -------------------------------------------------------------------------


@operation(SERVICE, "ListRecommendations")
def list_recommendations(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = tasks.get_space(params["agentSpaceId"], timezone.now())
    rows = Recommendation.objects.filter(space=space)
    filters = {}
    for member, column in (
        ("taskId", "task_id"),
        ("goalId", "goal_id"),
        ("status", "status"),
        ("priority", "priority"),
    ):
        if params.get(member):
            rows = rows.filter(**{column: params[member]})
            filters[member] = params[member]
    found, token = page(
        rows.order_by("-created_at", "recommendation_id"),
        params.get("nextToken"),
        params.get("limit"),
        scope=_scope("ListRecommendations", space.pk, filters),
        default=50,
    )
    arn = _space_arn(ctx, space)
    ranks = prevention.ranks(space.pk)
    return {
        "recommendations": [prevention.recommendation_shape(r, arn, ranks) for r in found],
        "nextToken": token,
    }


@operation(SERVICE, "GetRecommendation")
def get_recommendation(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = tasks.get_space(params["agentSpaceId"], timezone.now())
    rec = prevention.get_recommendation(space, params["recommendationId"])
    version = params.get("recommendationVersion")
    if version is not None:
        rec = prevention.at_version(rec, version)
    ranks = prevention.ranks(space.pk) if version in (None, rec.version) else {}
    return {"recommendation": prevention.recommendation_shape(rec, _space_arn(ctx, space), ranks)}


@operation(SERVICE, "UpdateRecommendation")
def update_recommendation(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    space = tasks.get_space(params["agentSpaceId"], now)
    rec = prevention.get_recommendation(space, params["recommendationId"])
    rec = prevention.update_recommendation(
        rec,
        at=now,
        status=params.get("status"),
        additional_context=params.get("additionalContext"),
        client_token=params.get("clientToken", ""),
    )
    ranks = prevention.ranks(space.pk)
    return {"recommendation": prevention.recommendation_shape(rec, _space_arn(ctx, space), ranks)}


# --- goals -----------------------------------------------------------------------------------


@operation(SERVICE, "ListGoals")
def list_goals(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = tasks.get_space(params["agentSpaceId"], timezone.now())
    rows = Goal.objects.filter(space=space)
    filters = {}
    if params.get("status"):
        rows = rows.filter(status=params["status"])
        filters["status"] = params["status"]
    if params.get("goalType"):
        rows = rows.filter(goal_type=params["goalType"])
        filters["goalType"] = params["goalType"]
    found, token = page(
        rows.order_by("created_at", "goal_id"),
        params.get("nextToken"),
        params.get("limit"),
        scope=_scope("ListGoals", space.pk, filters),
        default=50,
    )
    arn = _space_arn(ctx, space)
    return {"goals": [prevention.goal_shape(g, arn) for g in found], "nextToken": token}


@operation(SERVICE, "UpdateGoal")
def update_goal(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    space = tasks.get_space(params["agentSpaceId"], now)
    goal = prevention.get_goal(space, params["goalId"])
    schedule = params.get("evaluationSchedule") or {}
    goal = prevention.update_goal_schedule(
        goal, schedule.get("state"), now, client_token=params.get("clientToken", "")
    )
    return {"goal": prevention.goal_shape(goal, _space_arn(ctx, space))}


# --- triggers --------------------------------------------------------------------------------


def _trigger_space(space_id: str) -> AgentSpace:
    # Triggers do not touch the backlog: no need to advance it.
    space = AgentSpace.objects.filter(pk=space_id).first()
    if space is None:
        raise SandboxError("ResourceNotFoundException", f"Agent space {space_id} was not found")
    return space


@operation(SERVICE, "CreateTrigger")
def create_trigger(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _trigger_space(params["agentSpaceId"])
    trigger = prevention.create_trigger(
        space,
        trigger_type=params["type"],
        condition=params["condition"],
        action=params["action"],
        status=params.get("status"),
        client_token=params.get("clientToken", ""),
        at=timezone.now(),
    )
    return {"trigger": prevention.trigger_shape(trigger)}


@operation(SERVICE, "GetTrigger")
def get_trigger(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _trigger_space(params["agentSpaceId"])
    return {"trigger": prevention.trigger_shape(prevention.get_trigger(space, params["triggerId"]))}


@operation(SERVICE, "ListTriggers")
def list_triggers(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _trigger_space(params["agentSpaceId"])
    rows = Trigger.objects.filter(space=space)
    if params.get("status"):
        rows = rows.filter(status=params["status"])
    found, token = page(
        rows.order_by("created_at", "trigger_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope=_scope("ListTriggers", space.pk, params.get("status") or ""),
        default=50,
    )
    return {"items": [prevention.trigger_shape(t) for t in found], "nextToken": token}


@operation(SERVICE, "UpdateTrigger")
def update_trigger(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _trigger_space(params["agentSpaceId"])
    trigger = prevention.get_trigger(space, params["triggerId"])
    trigger = prevention.update_trigger(
        trigger, params.get("status"), timezone.now(), client_token=params.get("clientToken", "")
    )
    return {"trigger": prevention.trigger_shape(trigger)}


@operation(SERVICE, "DeleteTrigger")
def delete_trigger(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _trigger_space(params["agentSpaceId"])
    prevention.get_trigger(space, params["triggerId"]).delete()
    return {}
