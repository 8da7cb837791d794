"""One backlog task: its page (summary, linked tasks, executions and their journals), and the
operator's actions on it (create, change status, answer an approval).

Status changes carry the version and status the user saw. The task is read again before the
write; if either moved, the answer is 409 with both values side by side and a button that
re-applies the change over the new version: nothing is silently overwritten.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import regex
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces
from dashboard.aws import tasks as aws_tasks
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.views import wants_fragment

from . import approvals, glance, live
from .forms import (
    SERVICE,
    ApprovalForm,
    StatusForm,
    TaskForm,
    transition,
    transitions,
    valid_id,
)
from .forms import valid_approval_id as _valid_approval_id
from .templatetags.task_display import RECORD_TYPES, journal_view

JOURNAL_PAGE = 25  # records per page of a journal
_RECORD_TYPE = regex.compile(r"[A-Z][A-Z0-9_]{0,63}")

# --- reading -------------------------------------------------------------------------------


def _journal_query(request: HttpRequest) -> dict[str, str]:
    """The journal's record-type filter and order from the URL (anything odd is ignored)."""
    record_type = (request.GET.get("type") or "").strip().upper()
    if not _RECORD_TYPE.fullmatch(record_type):
        record_type = ""
    order = (request.GET.get("order") or "").strip().upper()
    if order not in ("ASC", "DESC"):
        order = "ASC"
    return {"type": record_type, "order": order}


def _url(name: str, *args: str) -> str:
    """reverse() for ids that came from AWS: one that no URL can hold gives "" (no link)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _space(space_id: str) -> dict[str, Any]:
    """The space, for the breadcrumbs. A busy AWS leaves them showing the id (the page's
    own calls say what failed); a missing or malformed space is an error page."""
    try:
        return aws_spaces.get_space(space_id)
    except (errors.Throttled, errors.Unavailable):
        return {"agentSpaceId": space_id, "name": ""}


def _answered(space_id: str, execution_id: str) -> dict[str, str]:
    """approvalId → action for the approvals this execution's journal shows answered."""
    page = aws_tasks.list_journal(
        space_id, execution_id, record_type="APPROVAL_RESPONSE", limit=100
    )
    out: dict[str, str] = {}
    for record in page["records"]:
        view = journal_view(record)
        if view["kind"] == "approval_response":
            out[view["approvalId"]] = view["action"]
    return out


def _journal(
    space_id: str,
    task_id: str,
    execution: dict[str, Any],
    query: dict[str, str],
    next_token: str | None = None,
) -> dict[str, Any]:
    """One page of an execution's journal, with what its template needs."""
    execution_id = str(execution.get("executionId", ""))
    page = aws_tasks.list_journal(
        space_id,
        execution_id,
        record_type=query["type"],
        order=query["order"],
        limit=JOURNAL_PAGE,
        next_token=next_token,
    )
    url = _url("tasks:journal", space_id, task_id, execution_id)
    token = page.get("nextToken") or ""
    params = {k: v for k, v in (("type", query["type"]), ("order", query["order"])) if v}
    return {
        "execution": execution,
        "records": page["records"],
        "next_token": token,
        "url": url,
        "more_url": f"{url}?{urlencode({**params, 'next': token})}" if url and token else "",
        "answered": _answered(space_id, execution_id),
        "query": query,
        "first_page": not next_token,
    }


def _pending(space_id: str, execution_id: str) -> dict[str, Any]:
    """The execution's pending messages; a failure here is said in place, not page-wide."""
    try:
        return {"messages": aws_tasks.pending_messages(space_id, execution_id), "error": ""}
    except (errors.Throttled, errors.Unavailable, errors.NotFound, errors.ValidationFailed) as exc:
        return {"messages": [], "error": exc.message}


def _linked(space_id: str, task: dict[str, Any]) -> dict[str, Any]:
    """The task's primary (if it is linked to one) and the tasks linked to it."""
    out: dict[str, Any] = {"primary": None, "linked": [], "linked_error": ""}
    primary_id = task.get("primaryTaskId")
    if primary_id:
        try:
            out["primary"] = aws_tasks.get_task(space_id, primary_id)
        except (errors.NotFound, errors.ValidationFailed):
            out["primary"] = {"taskId": primary_id, "missing": True}
    if task.get("hasLinkedTasks") is not False:
        try:
            page = aws_tasks.list_tasks(
                space_id, filter={"primaryTaskId": task["taskId"]}, limit=100
            )
        except (errors.Throttled, errors.Unavailable, errors.ValidationFailed) as exc:
            out["linked_error"] = exc.message
        else:
            out["linked"] = [t for t in page["tasks"] if t.get("taskId") != task["taskId"]]
            out["more_linked"] = bool(page.get("nextToken"))
    return out


def _glance(space_id: str, task: dict[str, Any]) -> dict[str, Any]:
    """The investigation at a glance (dashboard/tasks/glance.py); a busy AWS leaves the page
    with its journal and a note instead."""
    try:
        return glance.read(space_id, task)
    except (errors.Throttled, errors.Unavailable, errors.AccessDenied) as exc:
        return {**glance.empty(), "glance_error": exc.message}


@require_GET
@vary_on_headers("HX-Request")
def detail(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    space = aws_spaces.get_space(space_id)
    task = aws_tasks.get_task(space_id, task_id)
    query = _journal_query(request)
    page = aws_tasks.list_executions(space_id, task_id)
    executions = []
    for execution in page["executions"]:
        journal = _journal(space_id, task_id, execution, query)
        execution_id = str(execution.get("executionId", ""))
        journal["pending"] = _pending(space_id, execution_id)
        journal["live_notice"] = live.journal_notice(space_id, execution_id)
        executions.append(journal)
    context = {
        "space": space,
        "space_id": space_id,
        "task": task,
        "transitions": transitions(task["status"]),
        "executions": executions,
        "more_executions": bool(page.get("nextToken")),
        "query": query,
        "record_types": RECORD_TYPES,
        "live_notice": live.task_notice(space_id, task_id),
        **_linked(space_id, task),
        **_glance(space_id, task),
    }
    if wants_fragment(request):
        return render(request, "tasks/detail.html#page", context)
    return render(request, "tasks/detail.html", context)


@require_GET
@vary_on_headers("HX-Request")
def journal(request: HttpRequest, space_id: str, task_id: str, execution_id: str) -> HttpResponse:
    """One execution's journal: the filter and the first page, or (with `next`) a later page.

    htmx asks for the section (filter and order) or the next page ("Load more"); without
    JavaScript the same links lead to this journal as a page of its own.
    """
    if not valid_id(execution_id):
        raise Http404("No such execution")
    query = _journal_query(request)
    next_token = request.GET.get("next") or None
    task = aws_tasks.get_task(space_id, task_id)
    execution = _find_execution(space_id, task_id, execution_id)
    context = {
        "space_id": space_id,
        "task": task,
        "query": query,
        "record_types": RECORD_TYPES,
        "journal": _journal(space_id, task_id, execution, query, next_token),
    }
    if wants_fragment(request):
        template = "tasks/journal.html#page" if next_token else "tasks/journal.html#section"
        return render(request, template, context)
    context["space"] = _space(space_id)
    return render(request, "tasks/journal.html", context)


def _find_execution(space_id: str, task_id: str, execution_id: str) -> dict[str, Any]:
    """The task's execution with this id (404 when the task has none such)."""
    token = None
    for _ in range(20):  # a task has a handful of executions; never loop for ever
        page = aws_tasks.list_executions(space_id, task_id, next_token=token)
        for execution in page["executions"]:
            if execution.get("executionId") == execution_id:
                return execution
        token = page.get("nextToken")
        if not token:
            break
    raise Http404("This task has no such execution")


# --- writing -------------------------------------------------------------------------------


def _apply_field_errors(form: TaskForm, exc: errors.AwsError) -> None:
    placed = False
    for name, message in exc.fields.items():
        field = TaskForm.AWS_FIELDS.get(name, name)
        if field in form.fields:
            form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
def create(request: HttpRequest, space_id: str) -> HttpResponse:
    space = _space(space_id)
    # From a recommendation (?recommendation=<id>&type=...): the form comes pre-filled.
    from dashboard.prevention.links import about_recommendation

    about, initial = about_recommendation(request, space_id)
    form = TaskForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        params = form.api_params(space_id)
        try:
            with audited(request, SERVICE, "CreateBacklogTask", space_id, params):
                task = aws_tasks.create_task(space_id, **form.params())
        except (errors.ValidationFailed, errors.QuotaExceeded, errors.Conflict) as exc:
            _apply_field_errors(form, exc)
            status = exc.status
        except (errors.Throttled, errors.Unavailable) as exc:
            # Keep what the person typed: the form comes back with the reason on top.
            form.add_error(None, f"{exc.message} Your task was not created; submit again.")
            status = exc.status
        except errors.AccessDenied as exc:
            form.add_error(None, f"{exc.message} Your task was not created.")
            status = exc.status
        else:
            live.task_changed(space_id, task)
            messages.success(request, f"Created task “{task['title']}”.")
            return redirect("tasks:detail", space_id=space_id, task_id=task["taskId"])
    elif request.method == "POST":
        status = 400
    context = {"mode": "create", "space": space, "space_id": space_id, "form": form}
    context["recommendation"] = about
    return render(request, "tasks/form.html", context, status=status)


def _status_context(
    request: HttpRequest,
    space_id: str,
    task: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "mode": "status",
        "space_id": space_id,
        "task": task,
        "transitions": transitions(task["status"]),
        **extra,
    }


def _status_response(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """htmx: the task's action panel (and the summary, refreshed out of band); else a page."""
    if wants_fragment(request):
        return render(request, "tasks/form.html#status_fragment", context, status=status)
    context["space"] = _space(context["space_id"])
    return render(request, "tasks/form.html", context, status=status)


def _conflict(
    request: HttpRequest,
    space_id: str,
    current: dict[str, Any],
    seen: dict[str, Any],
    target: str,
    reason: str = "",
) -> HttpResponse:
    """409: what the task is now beside the change the user asked for, and a way to re-apply
    it over the current version (when the change still makes sense from the current status)."""
    conflict = {
        "seen_status": seen.get("status"),
        "seen_version": seen.get("version"),
        "target": target,
        "target_label": (transition(str(seen.get("status")), target) or {}).get("label", ""),
        "reapply": transition(current["status"], target),
        "already": current["status"] == target,
        "reason": reason,
    }
    context = _status_context(request, space_id, current, conflict=conflict, oob_summary=True)
    return _status_response(request, context, status=409)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
def change_status(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    task = aws_tasks.get_task(space_id, task_id)
    if request.method == "GET":
        target = (request.GET.get("to") or "").upper()
        chosen = transition(task["status"], target)
        context = _status_context(request, space_id, task, confirming=chosen)
        return _status_response(request, context)

    form = StatusForm(request.POST)
    if not form.is_valid():
        errors_text = " ".join(
            str(e) for field_errors in form.errors.values() for e in field_errors
        )
        context = _status_context(request, space_id, task, error=errors_text)
        return _status_response(request, context, status=400)
    target = form.cleaned_data["status"]
    seen = {"status": form.cleaned_data["seen_status"], "version": form.cleaned_data["version"]}
    if task["version"] != seen["version"] or task["status"] != seen["status"]:
        return _conflict(request, space_id, task, seen, target)
    chosen = transition(task["status"], target)
    assert chosen is not None  # StatusForm.clean checked the transition from seen_status
    if chosen["confirm"] and not form.cleaned_data["confirm"]:
        context = _status_context(request, space_id, task, confirming=chosen)
        return _status_response(request, context)

    params = {"agentSpaceId": space_id, "taskId": task_id, "taskStatus": target}
    try:
        with audited(request, SERVICE, "UpdateBacklogTask", task_id, params):
            updated = aws_tasks.update_status(space_id, task_id, target)
    except errors.Conflict as exc:
        current = aws_tasks.get_task(space_id, task_id)
        return _conflict(request, space_id, current, seen, target, reason=exc.message)
    except errors.ValidationFailed as exc:
        context = _status_context(request, space_id, task, error=exc.message)
        return _status_response(request, context, status=400)
    live.task_changed(space_id, updated)
    done = f"Task “{updated['title']}” is now {updated['status'].replace('_', ' ').lower()}."
    if wants_fragment(request):
        messages.success(request, done)
        context = _status_context(request, space_id, updated, oob_summary=True)
        return _status_response(request, context)
    messages.success(request, done)
    return redirect("tasks:detail", space_id=space_id, task_id=task_id)


# What AWS may answer to the reads before an approval's answer, or to the answer itself: the
# form comes back with what the person typed (the reason) and what went wrong.
KEEP_ANSWER_ON = (errors.Throttled, errors.Unavailable, errors.AccessDenied)
_NOT_SENT = {
    False: "Your answer was not sent; submit again.",
    True: "Your answer was not sent.",
}


_DOM = regex.compile(r"approval(-[a-z]+)?-[0-9a-fA-F-]{36}")
NEXT_INBOX = "inbox"


def _approval_place(request: HttpRequest) -> dict[str, Any]:
    """Where the form was shown: its element (the banner's, the inbox's or the journal's) and
    where to go afterwards, so an answer comes back in the same place."""
    source = request.POST if request.method == "POST" else request.GET
    target = getattr(getattr(request, "htmx", None), "target", None) or ""
    place: dict[str, Any] = {
        "approval_dom": target if _DOM.fullmatch(target) else "",
        "approval_next": NEXT_INBOX if source.get("next") == NEXT_INBOX else "",
    }
    place["compact"] = bool(place["approval_next"])
    return place


def _published(space_id: str, approval_id: str, task: dict[str, Any] | None) -> None:
    """Every open page learns at once: the board, task pages and inboxes (the task's new
    status), and every inbox and top bar (the approval is gone)."""
    from dashboard.inbox import live as inbox_live

    if task is not None:
        live.task_changed(space_id, task)
    inbox_live.approval_answered(space_id, approval_id)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
def answer_approval(request: HttpRequest, space_id: str, approval_id: str) -> HttpResponse:
    """Approve or reject, from wherever the request is shown: the same guard for all
    (dashboard/tasks/approvals.py)."""
    if not _valid_approval_id(approval_id):
        raise Http404("No such approval")
    source = request.POST if request.method == "POST" else request.GET
    task_id = source.get("task", "") if valid_id(source.get("task", "")) else ""
    execution_id = source.get("execution", "") if valid_id(source.get("execution", "")) else ""
    task, asked, answered = None, None, None
    unread: errors.AwsError | None = None
    try:
        task = aws_tasks.get_task(space_id, task_id) if task_id else None
        if execution_id:
            asked, answered = approvals.find(space_id, execution_id, approval_id)
    except KEEP_ANSWER_ON as exc:
        if request.method == "GET":
            raise
        unread = exc  # said in the form below, with what the person typed
    offers = journal_view(asked) if asked else {}
    form_kwargs = {
        "offers_ttl": bool(offers.get("ttlSecondsAllowed")),
        "offers_single_use": bool(offers.get("singleUseAllowed")),
    }
    context: dict[str, Any] = {
        "mode": "approval",
        "space_id": space_id,
        "task": task,
        "task_id": task_id,  # kept in the form when the task could not be read
        "approval_id": approval_id,
        "record": asked,
        "execution_id": execution_id,
        "answered_record": answered,
        "approval_url": reverse("tasks:approval", args=[space_id, approval_id]),
        **_approval_place(request),
        **form_kwargs,
    }
    initial = {"task": task_id, "execution": execution_id}
    if request.method == "GET":
        action = (source.get("action") or "").upper()
        if action in ("APPROVED", "REJECTED"):
            initial["action"] = action
        context["form"] = ApprovalForm(initial=initial, **form_kwargs)
        context["closed"] = approvals.closed(approval_id, asked, answered, task)
        return _approval_response(request, context)

    form = ApprovalForm(request.POST, **form_kwargs)
    context["form"] = form
    if unread is not None:
        form.add_error(None, f"{unread.message} {_NOT_SENT[type(unread) is errors.AccessDenied]}")
        return _approval_response(request, context, status=unread.status)
    if not form.is_valid():
        return _approval_response(request, context, status=400)
    shut = approvals.closed(approval_id, asked, answered, task)
    if shut is not None:
        return _closed_response(request, context, shut, space_id, approval_id)
    params = form.params()
    api_names = {"ttl_seconds": "ttlSeconds", "single_use": "singleUse"}
    audit_params = {
        "agentSpaceId": space_id,
        "approvalId": approval_id,
        **{api_names.get(k, k): v for k, v in params.items() if v not in ("", None)},
    }
    try:
        with audited(request, SERVICE, "UpdateApprovalAction", approval_id, audit_params):
            result = aws_tasks.answer_approval(space_id, approval_id, **params)
    except errors.Conflict as exc:
        # Answered or expired between our reads and the answer: read again to say which.
        shut = _closed_now(space_id, task_id, execution_id, approval_id)
        if shut is not None:
            return _closed_response(request, context, shut, space_id, approval_id)
        form.add_error(None, f"This approval can no longer be answered: {exc.message}")
        context["conflict"] = True
        return _approval_response(request, context, status=409)
    except errors.NotFound as exc:
        form.add_error(None, f"This approval no longer exists: {exc.message}")
        return _approval_response(request, context, status=404)
    except errors.ValidationFailed as exc:
        placed = False
        for name, message in exc.fields.items():
            field = {"ttlSeconds": "ttl_seconds", "singleUse": "single_use"}.get(name, name)
            if field in form.fields:
                form.add_error(field, message)
                placed = True
        if not placed:
            form.add_error(None, exc.message)
        return _approval_response(request, context, status=400)
    except KEEP_ANSWER_ON as exc:
        form.add_error(None, f"{exc.message} {_NOT_SENT[type(exc) is errors.AccessDenied]}")
        return _approval_response(request, context, status=exc.status)
    if task_id:
        try:
            task = aws_tasks.get_task(space_id, task_id)
        except errors.AwsError:
            task = None
    _published(space_id, approval_id, task if task_id else None)
    word = "Approved" if params["action"] == "APPROVED" else "Rejected"
    status = str(result.get("status") or "").lower()
    done = f"{word} the request{f' (now {status})' if status else ''}."
    messages.success(request, done)
    if context["approval_next"] == NEXT_INBOX:
        if wants_fragment(request):
            context["done"] = done
            return render(request, "tasks/form.html#approval_done", context)
        return redirect("inbox:inbox")
    if task_id:
        target = reverse("tasks:detail", args=[space_id, task_id])
        if asked and asked.get("recordId"):
            target += f"#record-{asked['recordId']}"
    else:
        target = reverse("tasks:board", args=[space_id])
    if request.htmx:
        # A whole new page: the browser would only scroll for a change of #fragment.
        return HttpResponseClientRedirect(target.partition("#")[0])
    return redirect(target)


def _closed_now(
    space_id: str, task_id: str, execution_id: str, approval_id: str
) -> approvals.Closed | None:
    try:
        task = aws_tasks.get_task(space_id, task_id) if task_id else None
        asked, answered = (
            approvals.find(space_id, execution_id, approval_id) if execution_id else (None, None)
        )
    except errors.AwsError:
        return None
    return approvals.closed(approval_id, asked, answered, task)


def _closed_response(
    request: HttpRequest,
    context: dict[str, Any],
    shut: approvals.Closed,
    space_id: str,
    approval_id: str,
) -> HttpResponse:
    """409 (answered) or 410 (expired), said in the form; open pages drop the stale request."""
    from dashboard.inbox import live as inbox_live

    context["form"].add_error(None, shut.message)
    context["conflict"] = True
    context["closed"] = shut
    inbox_live.approval_answered(space_id, approval_id)
    return _approval_response(request, context, status=409 if shut.reason == "answered" else 410)


def _approval_response(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    if wants_fragment(request):
        return render(request, "tasks/form.html#approval_fragment", context, status=status)
    context["space"] = _space(context["space_id"])
    return render(request, "tasks/form.html", context, status=status)
