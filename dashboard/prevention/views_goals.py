"""Goals of an agent space: the list (by status and type, paging), one goal (description,
objectives, evaluation schedule with its reading, last evaluation, last tasks, its
recommendations), and enabling or disabling the evaluation schedule (all UpdateGoal allows),
with the same lost-update guard as recommendations.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard.aws import errors
from dashboard.aws import prevention as aws_prevention
from dashboard.aws import tasks as aws_tasks
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.views import wants_fragment

from . import live
from .common import get_choice, require_id, space_or_id
from .forms import SERVICE, GoalScheduleForm, valid_id

PAGE_SIZE = 50
GOAL_RECS = live.GOAL_RECS


@require_GET
@vary_on_headers("HX-Request")
def goal_list(request: HttpRequest, space_id: str) -> HttpResponse:
    q: dict[str, Any] = {
        "status": get_choice(request, "status", aws_prevention.GOAL_STATUSES),
        "type": get_choice(request, "type", aws_prevention.GOAL_TYPES),
        "notices": [],
    }
    q["querystring"] = urlencode({k: q[k] for k in ("status", "type") if q[k]})
    q["is_filtered"] = bool(q["status"] or q["type"])
    token = request.GET.get("next") or None
    filters = {"status": q["status"], "goal_type": q["type"]}
    try:
        page = aws_prevention.list_goals(space_id, **filters, limit=PAGE_SIZE, next_token=token)
    except errors.ValidationFailed:
        if not token:
            raise
        q["notices"].append("That page link no longer works; showing the first page.")
        token = None
        page = aws_prevention.list_goals(space_id, **filters, limit=PAGE_SIZE)
    context = {
        "space_id": space_id,
        "q": q,
        "goals": page["goals"],
        "next_token": page["nextToken"] or "",
        "statuses": aws_prevention.GOAL_STATUSES,
        "types": aws_prevention.GOAL_TYPES,
    }
    if wants_fragment(request):
        return render(request, "prevention/goals.html#" + ("page" if token else "list"), context)
    context["space"] = space_or_id(space_id)
    context["live_notice"] = live.notice(live.GOALS, space_id)
    return render(request, "prevention/goals.html", context)


def _task(space_id: str, task_id: Any) -> dict[str, Any] | None:
    if not task_id or not valid_id(str(task_id)):
        return None
    try:
        return aws_tasks.get_task(space_id, str(task_id))
    except errors.NotFound:
        return {"taskId": task_id, "missing": True}
    except (errors.AccessDenied, errors.Throttled, errors.Unavailable, errors.ValidationFailed):
        return {"taskId": task_id, "unreadable": True}


def _detail_context(space_id: str, goal: dict[str, Any]) -> dict[str, Any]:
    goal_id = goal["goalId"]
    try:
        page = aws_prevention.list_recommendations(space_id, goal_id=goal_id, limit=GOAL_RECS)
        recs, recs_error, more = page["recommendations"], "", bool(page["nextToken"])
    except (errors.AccessDenied, errors.Throttled, errors.Unavailable) as exc:
        recs, recs_error, more = [], exc.message, False
    last = _task(space_id, goal.get("lastTaskId"))
    if goal.get("lastSuccessfulTaskId") == goal.get("lastTaskId"):
        last_ok = last
    else:
        last_ok = _task(space_id, goal.get("lastSuccessfulTaskId"))
    return {
        "space_id": space_id,
        "goal": goal,
        "recs": recs,
        "recs_error": recs_error,
        "more_recs": more,
        "last_task": last,
        "last_ok_task": last_ok,
        "live_notice": live.notice(live.GOAL, space_id, goal_id),
    }


@require_GET
@vary_on_headers("HX-Request")
def goal_detail(request: HttpRequest, space_id: str, goal_id: str) -> HttpResponse:
    require_id(goal_id, "goal")
    goal = aws_prevention.find_goal(space_id, goal_id)
    context = _detail_context(space_id, goal)
    context["space"] = space_or_id(space_id)  # the breadcrumbs, re-rendered by a resync too
    if wants_fragment(request):
        return render(request, "prevention/goal.html#page", context)
    return render(request, "prevention/goal.html", context)


def _schedule_response(
    request: HttpRequest, space_id: str, goal: dict[str, Any], status: int = 200, **extra: Any
) -> HttpResponse:
    context = {"space_id": space_id, "goal": goal, **extra}
    if wants_fragment(request):
        return render(request, "prevention/goal.html#schedule_fragment", context, status=status)
    context["space"] = space_or_id(space_id)
    return render(request, "prevention/goal_schedule.html", context, status=status)


@require_POST
@roles.role_required(roles.OPERATOR)
def set_schedule(request: HttpRequest, space_id: str, goal_id: str) -> HttpResponse:
    require_id(goal_id, "goal")
    goal = aws_prevention.find_goal(space_id, goal_id)
    form = GoalScheduleForm(request.POST)
    if not form.is_valid():
        text = " ".join(str(e) for errs in form.errors.values() for e in errs)
        return _schedule_response(request, space_id, goal, 400, error=text)
    state = form.cleaned_data["state"]
    current = (goal.get("evaluationSchedule") or {}).get("state")
    seen = {"state": form.cleaned_data["seen_state"], "version": form.cleaned_data["version"]}
    if goal["version"] != seen["version"] or current != seen["state"]:
        conflict = {**seen, "target": state, "already": current == state}
        return _schedule_response(request, space_id, goal, 409, conflict=conflict)
    params = {"agentSpaceId": space_id, "goalId": goal_id, "evaluationSchedule": {"state": state}}
    try:
        with audited(request, SERVICE, "UpdateGoal", goal_id, params):
            updated = aws_prevention.set_goal_schedule(space_id, goal_id, state)
    except errors.Conflict as exc:
        fresh = aws_prevention.find_goal(space_id, goal_id)
        conflict = {**seen, "target": state, "reason": exc.message}
        conflict["already"] = (fresh.get("evaluationSchedule") or {}).get("state") == state
        return _schedule_response(request, space_id, fresh, 409, conflict=conflict)
    except (errors.ValidationFailed, errors.Throttled, errors.Unavailable) as exc:
        text = exc.message
        if not isinstance(exc, errors.ValidationFailed):
            text += " Nothing was changed; try again."
        return _schedule_response(request, space_id, goal, exc.status, error=text)
    live.goal_changed(space_id, updated)
    word = "enabled" if state == "ENABLED" else "disabled"
    messages.success(request, f"Evaluation schedule of “{updated['title']}” {word}.")
    if wants_fragment(request):
        return _schedule_response(request, space_id, updated, oob_summary=True)
    return redirect("prevention:goal", space_id=space_id, goal_id=goal_id)
