"""AgentCore code interpreter sessions: list (per code interpreter, status filter, paging),
start, the session page (run code and tools, every run's output streaming live), stop.

The session page works without JavaScript: the tool form posts to `run`, which waits for the
run to end (at most AGENTCORE_WAIT_SECONDS) and shows the page again with its output and the
form as it was sent. With JavaScript the same form goes over the page's websocket
(dashboard/agentcore/consumers.py) and the output streams in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from dashboard import streams
from dashboard.aws import agentcore_code as code_api
from dashboard.aws import errors
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.paging import listed, page_or_restart
from dashboard.core.views import wants_fragment

from . import code_runs, running
from .forms_code import (
    DEFAULT_TOOL,
    TOOL_INFO,
    TOOL_ORDER,
    ListFilter,
    StartForm,
    ToolForm,
    valid_interpreter_id,
    valid_session_id,
)

SERVICE = code_api.SERVICE
PAGE_SIZE = 25


def _crumbs(interpreter_id: str = "", *extra: dict[str, Any]) -> list[dict[str, Any]]:
    crumbs: list[dict[str, Any]] = [{"label": "AgentCore", "url": reverse("agentcore:index")}]
    if interpreter_id:
        url = reverse("agentcore:code-list")
        if interpreter_id != code_api.SYSTEM_CODE_INTERPRETER:
            url += "?" + urlencode({"interpreter": interpreter_id})
        crumbs.append({"label": "Code interpreter", "url": url})
    return [*crumbs, *extra]


def _check_ids(interpreter_id: str, session_id: str | None = None) -> None:
    # A malformed id never reaches AWS (and never becomes part of a stream key).
    if not valid_interpreter_id(interpreter_id) or (
        session_id is not None and not valid_session_id(session_id)
    ):
        raise Http404("No such code interpreter session")


@require_GET
@vary_on_headers("HX-Request")
def session_list(request: HttpRequest) -> HttpResponse:
    form = ListFilter(request.GET)
    if not form.is_valid():
        context = {
            "form": form,
            "sessions": [],
            "interpreter_id": code_api.SYSTEM_CODE_INTERPRETER,
            "crumbs": _crumbs(),
            **_choices(),
        }
        return render(request, "agentcore/code_list.html", context, status=400)
    interpreter_id = form.cleaned_data["interpreter"]
    status = form.cleaned_data["status"]
    token = form.cleaned_data["next"] or None
    page, page_error = page_or_restart(
        lambda token: code_api.list_sessions(
            interpreter_id, status=status, max_results=PAGE_SIZE, next_token=token
        ),
        token,
    )
    context: dict[str, Any] = {
        "form": form,
        "interpreter_id": interpreter_id,
        "status": status,
        "sessions": page["items"],
        "next_token": page["nextToken"],
        "paged": bool(token),
        "page_error": page_error,
        "crumbs": _crumbs(),
    }
    if wants_fragment(request) and request.GET.get("fragment") == "rows":
        return render(
            request, "agentcore/code_list.html#results", context, status=400 if page_error else 200
        )
    context.update(_choices())
    return render(request, "agentcore/code_list.html", context, status=400 if page_error else 200)


def _choices() -> dict[str, Any]:
    """The account's code interpreters (control plane), offered for the identifier field."""
    found, problem = listed(lambda _: code_api.list_interpreters(), empty=[])
    return {"interpreters": found, "interpreters_problem": problem}


_START_FIELDS = {"name": "name", "sessionTimeoutSeconds": "timeout"}


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
def session_start(request: HttpRequest, interpreter_id: str) -> HttpResponse:
    _check_ids(interpreter_id)
    form = StartForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            name = form.cleaned_data.get("name") or ""
            timeout = form.cleaned_data["timeout"]
            params = {
                "codeInterpreterIdentifier": interpreter_id,
                "name": name,
                "sessionTimeoutSeconds": timeout,
            }
            try:
                with audited(
                    request, SERVICE, "StartCodeInterpreterSession", interpreter_id, params
                ):
                    started = code_api.start_session(
                        interpreter_id, name=name, timeout_seconds=timeout
                    )
            except (errors.ValidationFailed, errors.QuotaExceeded, errors.Conflict) as exc:
                placed = False
                for member, message in exc.fields.items():
                    if member in _START_FIELDS:
                        form.add_error(_START_FIELDS[member], message)
                        placed = True
                if not placed:
                    form.add_error(None, exc.message)
                status = exc.status
            except errors.AwsError as exc:
                # Not found, throttled, unavailable, access denied: keep what was typed.
                form.add_error(None, f"{exc.message} The session was not started.")
                status = exc.status
            else:
                messages.success(
                    request, f"Started code interpreter session “{name or started['sessionId']}”."
                )
                url = reverse("agentcore:code-session", args=[interpreter_id, started["sessionId"]])
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        else:
            status = 400
    context = {"form": form, "interpreter_id": interpreter_id, "crumbs": _crumbs(interpreter_id)}
    return render(request, "agentcore/code_start.html", context, status=status)


def _tool(request: HttpRequest) -> str:
    tool = request.GET.get("tool") or DEFAULT_TOOL
    return tool if tool in TOOL_INFO and tool in TOOL_ORDER else DEFAULT_TOOL


def _session_context(
    request: HttpRequest,
    interpreter_id: str,
    session_id: str,
    form: ToolForm | None = None,
    *,
    tolerant: bool = False,
) -> dict[str, Any]:
    try:
        session = code_api.get_session(interpreter_id, session_id)
    except (errors.Throttled, errors.Unavailable):
        if not tolerant:
            raise
        # Showing what could not run matters more than the session's details.
        session = {"sessionId": session_id, "codeInterpreterIdentifier": interpreter_id}
    key = code_runs.stream_key(interpreter_id, session_id)
    runs, unreachable = streams.read_runs_or_notice(key)
    if unreachable:
        messages.warning(request, unreachable)
    tool = form["tool"].value() if form is not None and form.is_bound else _tool(request)
    if tool not in TOOL_ORDER:
        tool = DEFAULT_TOOL
    initial = {"tool": tool, "language": "python"}
    if request.GET.get("task"):  # "Check its status" of a task, without JavaScript
        initial["task_id"] = request.GET["task"][:200]
    form = form or ToolForm(initial=initial)
    created = session.get("createdAt")
    timeout = session.get("sessionTimeoutSeconds")
    ends = None
    if created and timeout:
        ends = created + dt.timedelta(seconds=int(timeout))
    return {
        "interpreter_id": interpreter_id,
        "session_id": session_id,
        "session": session,
        "ready": session.get("status", "READY") == "READY",
        "ends": ends,
        "runs": [code_runs.fold(key, r["run"], r["events"]) for r in reversed(runs)],
        "streaming": any(r["open"] for r in runs),
        "position": streams.page_position(key, runs),
        "form": form,
        "tool": tool,
        "tools": [(name, TOOL_INFO[name]) for name in TOOL_ORDER],
        "tool_help": TOOL_INFO[tool]["help"],
        "ws_url": f"/ws/agentcore/code-interpreters/{interpreter_id}/sessions/{session_id}/",
        "idle_seconds": int(3 * float(getattr(settings, "STREAM_HEARTBEAT_SECONDS", 10.0)) + 5),
        "crumbs": _crumbs(interpreter_id),
    }


@require_GET
@vary_on_headers("HX-Request")
def session_detail(request: HttpRequest, interpreter_id: str, session_id: str) -> HttpResponse:
    _check_ids(interpreter_id, session_id)
    context = _session_context(request, interpreter_id, session_id)
    if wants_fragment(request) and request.GET.get("fragment") == "runs":
        return render(request, "agentcore/code_session.html#runs", context)
    return render(request, "agentcore/code_session.html", context)


@require_POST
async def session_run(request: HttpRequest, interpreter_id: str, session_id: str) -> HttpResponse:
    """Without JavaScript: run the tool, wait for it to end, show the page with its output."""
    _check_ids(interpreter_id, session_id)
    user = await request.auser()
    started = await running.run_tool(user, interpreter_id, session_id, request.POST.dict())
    if started.status == 403:
        raise PermissionDenied(started.error)
    notice = ""
    if started.relay is not None:
        try:
            how = await started.relay.wait(running.wait_seconds())
        except TimeoutError:
            notice = "The run is still going; reload the page to see the rest of its output."
        else:
            if how != streams.END:
                notice = "The run did not finish: see its output below."
    return await sync_to_async(_run_page)(request, interpreter_id, session_id, started, notice)


def _run_page(
    request: HttpRequest,
    interpreter_id: str,
    session_id: str,
    started: running.Started,
    notice: str,
) -> HttpResponse:
    assert isinstance(started.form, ToolForm)
    context = _session_context(
        request, interpreter_id, session_id, form=started.form, tolerant=True
    )
    context["run_error"] = started.error
    context["run_notice"] = notice
    status = 200 if started.ok else started.status
    return render(request, "agentcore/code_session.html", context, status=status)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
def session_stop(request: HttpRequest, interpreter_id: str, session_id: str) -> HttpResponse:
    _check_ids(interpreter_id, session_id)
    session = code_api.get_session(interpreter_id, session_id)
    detail_url = reverse("agentcore:code-session", args=[interpreter_id, session_id])
    name = session.get("name") or session_id
    if request.method == "GET":
        context = {
            "s": session,
            "interpreter_id": interpreter_id,
            "detail": detail_url,
            "name": name,
            "crumbs": _crumbs(interpreter_id, {"label": name, "url": detail_url}),
        }
        return render(request, "agentcore/code_stop.html", context)
    params = {"codeInterpreterIdentifier": interpreter_id, "sessionId": session_id}
    try:
        with audited(
            request,
            SERVICE,
            "StopCodeInterpreterSession",
            f"{interpreter_id}/{session_id}",
            params,
        ):
            code_api.stop_session(interpreter_id, session_id)
    except errors.Conflict:
        messages.info(request, "The session had already ended.")
    else:
        messages.success(request, f"Stopped code interpreter session “{name}”.")
    return HttpResponseClientRedirect(detail_url) if request.htmx else redirect(detail_url)
