"""Bedrock Flows execution traces: choose an execution (ids or ARNs; the sandbox's executions
and the ones opened lately are offered), then read its timeline, filtered to Node or Flow events
or both together, paged by the API's maxResults (up to 1,000) and nextToken."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from dashboard.agentcore.recent import recent, remember
from dashboard.aws import errors
from dashboard.aws import flows as flows_api
from dashboard.core.middleware import alert_response
from dashboard.core.views import wants_fragment

from .forms import DEFAULT_PAGE, PAGE_SIZES, TYPES, ExecutionForm
from .templatetags.flow_trace import summarize

RECENT = "flow-executions"


def _trace_url(flow_id: str, alias_id: str, execution_id: str, **query: str) -> str:
    try:
        url = reverse("flows:trace", args=[flow_id, alias_id, execution_id])
    except NoReverseMatch:
        return ""
    query = {k: v for k, v in query.items() if v}
    return f"{url}?{urlencode(query)}" if query else url


def _choose_context(request: HttpRequest, form: ExecutionForm) -> dict[str, Any]:
    suggestions = [
        {**e, "url": _trace_url(e["flowId"], e["aliasId"], e["executionId"])}
        for e in flows_api.sandbox_executions()
    ]
    opened = [
        {
            **e,
            "url": _trace_url(e.get("flowId", ""), e.get("aliasId", ""), e.get("executionId", "")),
        }
        for e in recent(request, RECENT)
    ]
    return {
        "form": form,
        "suggestions": suggestions,
        "recent": [e for e in opened if e["url"]],
        "crumbs": [{"label": "AgentCore", "url": reverse("agentcore:index")}],
    }


@require_GET
def choose(request: HttpRequest) -> HttpResponse:
    if any(key in request.GET for key in ("flow", "alias", "execution")):
        form = ExecutionForm(request.GET)
        if form.is_valid():
            data = form.cleaned_data
            return redirect("flows:trace", data["flow"], data["alias"], data["execution"])
        return render(request, "flows/choose.html", _choose_context(request, form), status=400)
    return render(request, "flows/choose.html", _choose_context(request, ExecutionForm()))


def _query(request: HttpRequest) -> dict[str, Any]:
    """Event type, page size, token and merge point from the URL; odd values fall back."""
    event_type = request.GET.get("type", "All")
    if event_type not in TYPES:
        event_type = "All"
    try:
        size = int(request.GET.get("max", DEFAULT_PAGE))
    except ValueError:
        size = DEFAULT_PAGE
    size = min(max(size, 1), flows_api.MAX_PAGE)
    since = None
    if request.GET.get("since"):
        try:
            since = dt.datetime.fromisoformat(request.GET["since"])
        except ValueError:
            since = None
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
    return {
        "type": event_type,
        "max": size,
        "next": request.GET.get("next") or None,
        "since": since,
    }


def _origin(request: HttpRequest) -> dt.datetime | None:
    """The first event's time on the first page: later pages count their offsets from it."""
    try:
        found = dt.datetime.fromisoformat(request.GET.get("origin", ""))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)


@require_GET
@vary_on_headers("HX-Request")
def trace(request: HttpRequest, flow_id: str, alias_id: str, execution_id: str) -> HttpResponse:
    ids = {"flow": flow_id, "alias": alias_id, "execution": execution_id}
    for kind, value in ids.items():
        problems = flows_api.id_problems(kind, value)
        if problems:
            message = f"“{value[:200]}” is not a valid {kind} id: {' '.join(problems)}"
            if getattr(request, "htmx", False):
                return alert_response(request, "Invalid address", message, status=404)
            return render(request, "flows/bad_id.html", {"message": message}, status=404)
    query = _query(request)
    try:
        if query["type"] == "All":
            page = flows_api.timeline(
                flow_id,
                alias_id,
                execution_id,
                max_results=query["max"],
                next_token=query["next"],
                since=query["since"],
            )
        else:
            page = flows_api.list_events(
                flow_id,
                alias_id,
                execution_id,
                query["type"],
                max_results=query["max"],
                next_token=query["next"],
            )
    except errors.NotFound as exc:
        if query["next"]:
            raise
        form = ExecutionForm(
            initial={"flow": flow_id, "alias": alias_id, "execution": execution_id}
        )
        context = _choose_context(request, form)
        context["not_found"] = exc.message
        return render(request, "flows/choose.html", context, status=404)
    remember(request, RECENT, {"flowId": flow_id, "aliasId": alias_id, "executionId": execution_id})
    summary = summarize(page["events"])
    origin = _origin(request) or summary["first"]
    next_token = page.get("nextToken")
    since = page.get("since")
    more_url = (
        _trace_url(
            flow_id,
            alias_id,
            execution_id,
            type=query["type"],
            max=str(query["max"]),
            next=next_token,
            since=since.isoformat() if since else "",
            origin=origin.isoformat() if origin else "",
        )
        if next_token
        else ""
    )
    context = {
        "flow_id": flow_id,
        "alias_id": alias_id,
        "execution_id": execution_id,
        "query": query,
        "types": [
            {
                "name": t,
                "url": _trace_url(flow_id, alias_id, execution_id, type=t, max=str(query["max"])),
                "current": t == query["type"],
            }
            for t in TYPES
        ],
        "sizes": PAGE_SIZES,
        "summary": summary,
        "origin": origin,
        "more_url": more_url,
        "first_page": not query["next"],
        "first_url": _trace_url(
            flow_id, alias_id, execution_id, type=query["type"], max=str(query["max"])
        ),
        "crumbs": [
            {"label": "AgentCore", "url": reverse("agentcore:index")},
            {"label": "Flow traces", "url": reverse("flows:choose")},
        ],
    }
    if query["next"] and wants_fragment(request):
        return render(request, "flows/trace.html#events", context)
    return render(request, "flows/trace.html", context)
