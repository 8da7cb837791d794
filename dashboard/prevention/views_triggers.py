"""Triggers of an agent space (schedule-based runs of a custom agent): list, create, one
trigger, pause or resume it (UpdateTrigger changes the status only), delete it.

Triggers configure what the agent does on its own, so changing them needs the admin role;
everyone signed in reads them. Schedule expressions are checked by EventBridge's rules before
anything is sent. Triggers have no version: the guard compares the status and last update the
person saw with the trigger's current ones.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard.aws import errors
from dashboard.aws import prevention as aws_prevention
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.views import wants_fragment
from dashboard.lib import schedule

from . import live
from .common import field_errors, require_id, space_or_id
from .forms import SERVICE, TriggerDeleteForm, TriggerForm, TriggerStatusForm

PAGE_SIZE = 50


def _stamp(trigger: dict[str, Any]) -> str:
    """What "the trigger as the person saw it" is compared by (there is no version)."""
    value = trigger.get("updatedAt")
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


@require_GET
@vary_on_headers("HX-Request")
def trigger_list(request: HttpRequest, space_id: str) -> HttpResponse:
    status = request.GET.get("status") or ""
    if status not in ("Active", "Inactive"):
        status = ""
    token = request.GET.get("next") or None
    notices = []
    try:
        page = aws_prevention.list_triggers(
            space_id, status=status, limit=PAGE_SIZE, next_token=token
        )
    except errors.ValidationFailed:
        if not token:
            raise
        notices.append("That page link no longer works; showing the first page.")
        token = None
        page = aws_prevention.list_triggers(space_id, status=status, limit=PAGE_SIZE)
    context = {
        "space_id": space_id,
        "status": status,
        "notices": notices,
        "triggers": page["triggers"],
        "next_token": page["nextToken"] or "",
    }
    if wants_fragment(request):
        return render(request, "prevention/triggers.html#" + ("page" if token else "list"), context)
    context["space"] = space_or_id(space_id)
    context["live_notice"] = live.notice(live.TRIGGERS, space_id)
    return render(request, "prevention/triggers.html", context)


@require_GET
def check_expression(request: HttpRequest, space_id: str) -> HttpResponse:
    """The create form's live check of a schedule expression (its reading, or what is wrong)."""
    expression = request.GET.get("expression", "")
    context: dict[str, Any] = {"expression": expression}
    try:
        parsed = schedule.parse(expression)
    except schedule.ScheduleError as exc:
        context["problem"] = str(exc) if expression.strip() else ""
    else:
        context["reading"] = schedule.describe(parsed.expression)
    return render(request, "prevention/trigger_form.html#check", context)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def trigger_create(request: HttpRequest, space_id: str) -> HttpResponse:
    form = TriggerForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        params = aws_prevention.trigger_create_params(
            space_id, data["trigger_type"], data["expression"], form.action(), data["status"]
        )
        try:
            with audited(request, SERVICE, "CreateTrigger", space_id, params):
                trigger = aws_prevention.create_trigger(
                    space_id,
                    trigger_type=data["trigger_type"],
                    expression=data["expression"],
                    action=form.action(),
                    status=data["status"],
                    client_token=data["client_token"],
                )
        except (errors.ValidationFailed, errors.QuotaExceeded, errors.Conflict) as exc:
            field_errors(form, exc, TriggerForm.AWS_FIELDS)
            status = exc.status
        except (errors.Throttled, errors.Unavailable) as exc:
            form.add_error(None, f"{exc.message} The trigger was not created; submit again.")
            status = exc.status
        except errors.AccessDenied as exc:
            form.add_error(None, f"{exc.message} The trigger was not created.")
            status = exc.status
        else:
            live.trigger_changed(space_id, trigger["triggerId"], trigger)
            messages.success(request, f"Created the trigger “{data['expression']}”.")
            return redirect(
                "prevention:trigger", space_id=space_id, trigger_id=trigger["triggerId"]
            )
    elif request.method == "POST":
        status = 400
    expression = form["expression"].value() or ""
    context = {
        "space": space_or_id(space_id),
        "space_id": space_id,
        "form": form,
        "expression": expression,
        "reading": schedule.describe(expression),
        "examples": schedule.EXAMPLES,
    }
    return render(request, "prevention/trigger_form.html", context, status=status)


@require_GET
@vary_on_headers("HX-Request")
def trigger_detail(request: HttpRequest, space_id: str, trigger_id: str) -> HttpResponse:
    require_id(trigger_id, "trigger")
    trigger = aws_prevention.get_trigger(space_id, trigger_id)
    context = {
        "space_id": space_id,
        "trigger": trigger,
        "trigger_id": trigger_id,
        "stamp": _stamp(trigger),
        "live_notice": live.notice(live.TRIGGER, space_id, trigger_id),
        "space": space_or_id(space_id),  # the breadcrumbs, re-rendered by a resync too
    }
    if wants_fragment(request):
        return render(request, "prevention/trigger.html#page", context)
    return render(request, "prevention/trigger.html", context)


def _trigger_response(
    request: HttpRequest, space_id: str, trigger: dict[str, Any], status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "space_id": space_id,
        "trigger": trigger,
        "trigger_id": trigger["triggerId"],
        "stamp": _stamp(trigger),
        **extra,
    }
    if wants_fragment(request):
        return render(request, "prevention/trigger.html#actions_fragment", context, status=status)
    context["space"] = space_or_id(space_id)
    return render(request, "prevention/trigger_action.html", context, status=status)


@require_POST
@roles.role_required(roles.ADMIN)
def trigger_status(request: HttpRequest, space_id: str, trigger_id: str) -> HttpResponse:
    require_id(trigger_id, "trigger")
    trigger = aws_prevention.get_trigger(space_id, trigger_id)
    form = TriggerStatusForm(request.POST)
    if not form.is_valid():
        text = " ".join(str(e) for errs in form.errors.values() for e in errs)
        return _trigger_response(request, space_id, trigger, 400, error=text)
    target = form.cleaned_data["status"]
    seen = {
        "status": form.cleaned_data["seen_status"],
        "updated": form.cleaned_data["seen_updated"],
    }
    if trigger["status"] != seen["status"] or _stamp(trigger) != seen["updated"]:
        conflict = {**seen, "target": target, "already": trigger["status"] == target}
        return _trigger_response(request, space_id, trigger, 409, conflict=conflict)
    params = {"agentSpaceId": space_id, "triggerId": trigger_id, "status": target}
    try:
        with audited(request, SERVICE, "UpdateTrigger", trigger_id, params):
            updated = aws_prevention.set_trigger_status(space_id, trigger_id, target)
    except (errors.Conflict, errors.ValidationFailed, errors.Throttled, errors.Unavailable) as exc:
        text = exc.message
        if not isinstance(exc, errors.ValidationFailed):
            text += " Nothing was changed; try again."
        return _trigger_response(request, space_id, trigger, exc.status, error=text)
    live.trigger_changed(space_id, trigger_id, updated)
    word = "resumed" if target == "Active" else "paused"
    messages.success(request, f"Trigger {word}.")
    if wants_fragment(request):
        return _trigger_response(request, space_id, updated, oob_summary=True)
    return redirect("prevention:trigger", space_id=space_id, trigger_id=trigger_id)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def trigger_delete(request: HttpRequest, space_id: str, trigger_id: str) -> HttpResponse:
    """GET: the confirmation page (also what works without JavaScript). POST: delete, unless
    the trigger changed since the person looked at it."""
    require_id(trigger_id, "trigger")
    trigger = aws_prevention.get_trigger(space_id, trigger_id)
    context: dict[str, Any] = {
        "space": space_or_id(space_id),
        "space_id": space_id,
        "trigger": trigger,
        "trigger_id": trigger_id,
        "stamp": _stamp(trigger),
    }
    if request.method == "GET":
        return render(request, "prevention/trigger_delete.html", context)
    form = TriggerDeleteForm(request.POST)
    if not form.is_valid():
        context["error"] = "The form was incomplete; look at the trigger and confirm again."
        return render(request, "prevention/trigger_delete.html", context, status=400)
    if (
        trigger["status"] != form.cleaned_data["seen_status"]
        or context["stamp"] != (form.cleaned_data["seen_updated"])
    ):
        context["conflict"] = {"status": form.cleaned_data["seen_status"]}
        return render(request, "prevention/trigger_delete.html", context, status=409)
    params = {"agentSpaceId": space_id, "triggerId": trigger_id}
    try:
        with audited(request, SERVICE, "DeleteTrigger", trigger_id, params):
            aws_prevention.delete_trigger(space_id, trigger_id)
    except errors.NotFound:
        pass  # deleted meanwhile: what was asked for is done
    except (errors.Conflict, errors.ValidationFailed, errors.Throttled, errors.Unavailable) as exc:
        context["error"] = exc.message + " The trigger was not deleted."
        return render(request, "prevention/trigger_delete.html", context, status=exc.status)
    live.trigger_changed(space_id, trigger_id, None)
    messages.success(request, f"Deleted the trigger “{trigger_expression(trigger)}”.")
    return redirect("prevention:triggers", space_id=space_id)


def trigger_expression(trigger: dict[str, Any]) -> str:
    from .templatetags.prevention_display import schedule_of

    return schedule_of(trigger) or trigger.get("triggerId", "")
