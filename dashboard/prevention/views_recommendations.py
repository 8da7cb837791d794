"""Recommendations of an agent space: the list (the API's filters and paging), one
recommendation (spec, task and goal, versions, the tasks started about it) and the operator's
actions on it (accept, reject, close, complete, send back with more context).

Changes carry the version and status the user saw. The recommendation is read again before
the write; if either moved, the answer is 409 with both values side by side and a button that
re-applies the change over the new version (typed context kept): nothing is silently
overwritten. UpdateRecommendation itself has no version parameter, so this check is the
console's own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from dashboard.aws import errors
from dashboard.aws import prevention as aws_prevention
from dashboard.aws import tasks as aws_tasks
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.views import wants_fragment

from . import links, live
from .common import get_choice, require_id, space_or_id
from .forms import (
    SEND_BACK_FROM,
    SERVICE,
    ContextForm,
    RecommendationStatusForm,
    rec_transition,
    rec_transitions,
    valid_id,
)

PAGE_SIZE = 50

# --- the list --------------------------------------------------------------------------------


def _query(request: HttpRequest) -> dict[str, Any]:
    """The list's filters from the URL; values the API would refuse are dropped, with a note."""
    notices = []
    q = {
        "status": get_choice(request, "status", aws_prevention.REC_STATUSES),
        "priority": get_choice(request, "priority", aws_prevention.REC_PRIORITIES),
        "goal": (request.GET.get("goal") or "").strip(),
        "task": (request.GET.get("task") or "").strip(),
    }
    for name, what in (("goal", "goal"), ("task", "task")):
        if q[name] and not valid_id(q[name]):
            notices.append(f"“{q[name][:80]}” is not a {what} id; that filter is ignored.")
            q[name] = ""
    q["querystring"] = urlencode({k: v for k, v in q.items() if v})
    q["is_filtered"] = any(q[k] for k in ("status", "priority", "goal", "task"))
    q["notices"] = notices
    return q


def _goal_choices(space_id: str) -> tuple[list[dict[str, Any]] | None, str]:
    """The space's goals for the goal filter; None (a text box instead) when unreadable."""
    try:
        return list(aws_prevention.iter_goals(space_id)), ""
    except (errors.AccessDenied, errors.Throttled, errors.Unavailable) as exc:
        return None, exc.message


@require_GET
@vary_on_headers("HX-Request")
def recommendation_list(request: HttpRequest, space_id: str) -> HttpResponse:
    q = _query(request)
    token = request.GET.get("next") or None
    filters = {"task_id": q["task"], "goal_id": q["goal"], "status": q["status"]}
    filters["priority"] = q["priority"]
    try:
        page = aws_prevention.list_recommendations(
            space_id, **filters, limit=PAGE_SIZE, next_token=token
        )
    except errors.ValidationFailed:
        if not token:
            raise
        # An old or edited "next" link: start again from the first page.
        q["notices"].append("That page link no longer works; showing the first page.")
        token = None
        page = aws_prevention.list_recommendations(space_id, **filters, limit=PAGE_SIZE)
    context: dict[str, Any] = {
        "space_id": space_id,
        "q": q,
        "recs": page["recommendations"],
        "next_token": page["nextToken"] or "",
        "statuses": aws_prevention.REC_STATUSES,
        "priorities": aws_prevention.REC_PRIORITIES,
    }
    goals, goals_error = _goal_choices(space_id)
    context.update(goals=goals, goals_error=goals_error)
    context["goal_titles"] = {g["goalId"]: g.get("title", "") for g in goals or []}
    if wants_fragment(request) and token:
        return render(request, "prevention/recommendations.html#page", context)
    if wants_fragment(request):
        return render(request, "prevention/recommendations.html#list", context)
    context["space"] = space_or_id(space_id)
    context["live_notice"] = live.notice(live.RECS, space_id)
    return render(request, "prevention/recommendations.html", context)


# --- one recommendation ----------------------------------------------------------------------


def _version(request: HttpRequest) -> int | None:
    text = (request.GET.get("version") or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 18) or int(text) < 1:
        raise Http404("No such version")
    return int(text)


def _goal(space_id: str, rec: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    goal_id = rec.get("goalId")
    if not goal_id:
        return None, ""
    try:
        return aws_prevention.find_goal(space_id, str(goal_id)), ""
    except errors.NotFound:
        return {"goalId": goal_id, "missing": True}, ""
    except (errors.AccessDenied, errors.Throttled, errors.Unavailable) as exc:
        return None, exc.message


def _producer(space_id: str, rec: dict[str, Any]) -> dict[str, Any] | None:
    task_id = str(rec.get("taskId") or "")
    if not valid_id(task_id):
        return None
    try:
        return aws_tasks.get_task(space_id, task_id)
    except errors.NotFound:
        return {"taskId": task_id, "missing": True}
    except (errors.AccessDenied, errors.Throttled, errors.Unavailable, errors.ValidationFailed):
        return {"taskId": task_id, "unreadable": True}


def _about(space_id: str, rec: dict[str, Any]) -> dict[str, Any]:
    try:
        return links.tasks_about(space_id, rec)
    except (errors.AccessDenied, errors.Throttled, errors.Unavailable) as exc:
        return {"tasks": [], "truncated": False, "error": exc.message}


@require_GET
@vary_on_headers("HX-Request")
def recommendation_detail(request: HttpRequest, space_id: str, rec_id: str) -> HttpResponse:
    require_id(rec_id, "recommendation")
    version = _version(request)
    current = aws_prevention.get_recommendation(space_id, rec_id)
    rec = current
    if version is not None and version != current["version"]:
        if version > current["version"]:
            raise Http404("No such version")
        rec = aws_prevention.get_recommendation(space_id, rec_id, version)
    goal, goal_error = _goal(space_id, current)
    context = {
        "space_id": space_id,
        "rec": rec,
        "current": current,
        "old_version": rec is not current,
        "goal": goal,
        "goal_error": goal_error,
        "producer": _producer(space_id, current),
        "about": _about(space_id, current),
        "transitions": rec_transitions(current["status"]),
        "live_notice": live.notice(live.REC, space_id, rec_id),
        # The page's breadcrumbs; a resync (htmx) re-renders them too.
        "space": space_or_id(space_id),
    }
    if wants_fragment(request):
        return render(request, "prevention/recommendation.html#page", context)
    return render(request, "prevention/recommendation.html", context)


# --- the operator's actions ------------------------------------------------------------------


def _actions_context(space_id: str, rec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "space_id": space_id,
        "rec": rec,
        "current": rec,
        "transitions": rec_transitions(rec["status"]),
        **extra,
    }


def _actions_response(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """htmx: the actions panel (with the summary refreshed out of band); else a page."""
    if wants_fragment(request):
        return render(
            request, "prevention/recommendation.html#actions_fragment", context, status=status
        )
    context["space"] = space_or_id(context["space_id"])
    return render(request, "prevention/recommendation_action.html", context, status=status)


def _conflict(
    request: HttpRequest,
    space_id: str,
    current: dict[str, Any],
    seen: dict[str, Any],
    change: dict[str, Any],
    reason: str = "",
) -> HttpResponse:
    """409: the recommendation now beside what the user saw, and a way to re-apply."""
    target = change.get("target", "")
    if change.get("context") is not None:
        reapply = current["status"] in SEND_BACK_FROM
        label = "Send back with your context"
    else:
        reapply = rec_transition(current["status"], target) is not None
        label = (rec_transition(str(seen.get("status")), target) or {}).get("label", target)
    conflict = {
        "seen_status": seen.get("status"),
        "seen_version": seen.get("version"),
        "target": target,
        "label": label,
        "context": change.get("context"),
        "reapply": reapply,
        "already": target and current["status"] == target,
        "reason": reason,
        "spec_changed": seen.get("version") != current.get("version"),
    }
    context = _actions_context(space_id, current, conflict=conflict, oob_summary=True)
    return _actions_response(request, context, status=409)


def _done(request: HttpRequest, space_id: str, rec: dict[str, Any], text: str) -> HttpResponse:
    live.recommendation_changed(space_id, rec)
    messages.success(request, text)
    if wants_fragment(request):
        context = _actions_context(space_id, rec, oob_summary=True, oob_spec=True)
        return _actions_response(request, context)
    return redirect("prevention:recommendation", space_id=space_id, rec_id=rec["recommendationId"])


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
def change_status(request: HttpRequest, space_id: str, rec_id: str) -> HttpResponse:
    require_id(rec_id, "recommendation")
    rec = aws_prevention.get_recommendation(space_id, rec_id)
    if request.method == "GET":
        chosen = rec_transition(rec["status"], (request.GET.get("to") or "").upper())
        return _actions_response(request, _actions_context(space_id, rec, confirming=chosen))

    form = RecommendationStatusForm(request.POST)
    if not form.is_valid():
        text = " ".join(str(e) for errs in form.errors.values() for e in errs)
        return _actions_response(request, _actions_context(space_id, rec, error=text), status=400)
    target = form.cleaned_data["status"]
    seen = {"status": form.cleaned_data["seen_status"], "version": form.cleaned_data["version"]}
    if rec["version"] != seen["version"] or rec["status"] != seen["status"]:
        return _conflict(request, space_id, rec, seen, {"target": target})
    chosen = rec_transition(rec["status"], target)
    assert chosen is not None  # the form checked the transition from seen_status
    if chosen["confirm"] and not form.cleaned_data["confirm"]:
        return _actions_response(request, _actions_context(space_id, rec, confirming=chosen))

    params = aws_prevention.recommendation_update_params(space_id, rec_id, target, None)
    try:
        with audited(request, SERVICE, "UpdateRecommendation", rec_id, params):
            updated = aws_prevention.update_recommendation(space_id, rec_id, status=target)
    except errors.Conflict as exc:
        current = aws_prevention.get_recommendation(space_id, rec_id)
        return _conflict(request, space_id, current, seen, {"target": target}, exc.message)
    except (errors.ValidationFailed, errors.Throttled, errors.Unavailable) as exc:
        text = exc.message
        if not isinstance(exc, errors.ValidationFailed):
            text += " Nothing was changed; try again."
        return _actions_response(
            request, _actions_context(space_id, rec, error=text), status=exc.status
        )
    word = updated["status"].replace("_", " ").lower()
    return _done(request, space_id, updated, f"Recommendation “{updated['title']}” is now {word}.")


# What AWS may answer to the re-read or the write of a send-back: the typed text comes back.
KEEP_TEXT_ON = (errors.Throttled, errors.Unavailable, errors.AccessDenied)


def _text_kept(
    request: HttpRequest,
    space_id: str,
    rec_id: str,
    form: ContextForm,
    exc: errors.AwsError,
    rec: dict[str, Any] | None = None,
) -> HttpResponse:
    """The send-back form again, with the text as typed and what AWS said. Without a fresh
    read (`rec` None) the panel is drawn from what the person saw (the form's hidden fields),
    so submitting again still carries the version and status they saw."""
    message = exc.message
    if isinstance(exc, errors.Throttled | errors.Unavailable):
        message += " Nothing was sent; your text is still here, submit again."
    elif isinstance(exc, errors.AccessDenied):
        message += " Nothing was sent; your text is still here."
    form.add_error(None, message)
    if rec is None:
        rec = {
            "recommendationId": rec_id,
            "title": "Recommendation",
            "status": str(form.data.get("seen_status", "")),
            "version": str(form.data.get("version", "")),
        }
    context = _actions_context(space_id, rec, context_form=form)
    return _actions_response(request, context, status=exc.status)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
def send_back(request: HttpRequest, space_id: str, rec_id: str) -> HttpResponse:
    """More context for the agent: the recommendation goes to UPDATE_IN_PROGRESS and comes
    back PROPOSED with a revised spec."""
    require_id(rec_id, "recommendation")
    if request.method == "GET":
        rec = aws_prevention.get_recommendation(space_id, rec_id)
        form = ContextForm(initial={"version": rec["version"], "seen_status": rec["status"]})
        return _actions_response(request, _actions_context(space_id, rec, context_form=form))

    form = ContextForm(request.POST)
    try:
        rec = aws_prevention.get_recommendation(space_id, rec_id)
    except KEEP_TEXT_ON as exc:
        return _text_kept(request, space_id, rec_id, form, exc)
    if not form.is_valid():
        context = _actions_context(space_id, rec, context_form=form)
        return _actions_response(request, context, status=400)
    text = form.cleaned_data["additional_context"]
    seen = {"status": form.cleaned_data["seen_status"], "version": form.cleaned_data["version"]}
    change = {"target": "UPDATE_IN_PROGRESS", "context": text}
    if rec["version"] != seen["version"] or rec["status"] != seen["status"]:
        return _conflict(request, space_id, rec, seen, change)
    params = aws_prevention.recommendation_update_params(
        space_id, rec_id, "UPDATE_IN_PROGRESS", text
    )
    try:
        with audited(request, SERVICE, "UpdateRecommendation", rec_id, params):
            updated = aws_prevention.update_recommendation(
                space_id, rec_id, status="UPDATE_IN_PROGRESS", additional_context=text
            )
    except errors.Conflict as exc:
        try:
            current = aws_prevention.get_recommendation(space_id, rec_id)
        except KEEP_TEXT_ON as again:
            return _text_kept(request, space_id, rec_id, form, again)
        return _conflict(request, space_id, current, seen, change, exc.message)
    except (errors.ValidationFailed, *KEEP_TEXT_ON) as exc:
        return _text_kept(request, space_id, rec_id, form, exc, rec)
    return _done(
        request,
        space_id,
        updated,
        f"Sent “{updated['title']}” back to the agent; it proposes a revised spec shortly.",
    )


# --- the task page's side of the link --------------------------------------------------------


@require_GET
def task_links(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    """For the task page (loaded by htmx): the recommendations the task produced, and the
    recommendation it was started about. Failures are said in place."""
    require_id(task_id, "task")
    if not wants_fragment(request):
        return redirect(reverse("prevention:recommendations", args=[space_id]) + f"?task={task_id}")
    context: dict[str, Any] = {"space_id": space_id, "task_id": task_id, "error": ""}
    try:
        task = aws_tasks.get_task(space_id, task_id)
        page = aws_prevention.list_recommendations(space_id, task_id=task_id, limit=20)
    except (errors.AccessDenied, errors.Throttled, errors.Unavailable, errors.NotFound) as exc:
        context["error"] = exc.message
        return render(request, "prevention/task_links.html", context)
    context["produced"] = page["recommendations"]
    context["more"] = bool(page["nextToken"])
    about_id = links.recommendation_id_in(task.get("description"))
    if about_id:
        try:
            context["about"] = aws_prevention.get_recommendation(space_id, about_id)
        except errors.NotFound:
            context["about"] = {"recommendationId": about_id, "missing": True}
        except (errors.AccessDenied, errors.Throttled, errors.Unavailable) as exc:
            context["about"] = {"recommendationId": about_id, "error": exc.message}
    return render(request, "prevention/task_links.html", context)
