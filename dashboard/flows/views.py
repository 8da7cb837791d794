"""Bedrock Flows execution traces: choose a flow (the account's flows, ListFlows, paged), then
one of its executions (ListFlowExecutions, newest first, by alias), or type ids or ARNs; then
read the execution's status (GetFlowExecution) and its timeline, filtered to Node or Flow
events or both together, paged by the API's nextToken."""

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
from dashboard.core.paging import listed
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


def _flow_url(flow_id: str, **query: str) -> str:
    try:
        url = reverse("flows:flow", args=[flow_id])
    except NoReverseMatch:
        return ""
    query = {k: v for k, v in query.items() if v}
    return f"{url}?{urlencode(query)}" if query else url


def _bad_id(request: HttpRequest, ids: dict[str, str]) -> HttpResponse | None:
    """A page saying which id AWS would refuse, or None when all are well formed."""
    for kind, value in ids.items():
        problems = flows_api.id_problems(kind, value)
        if problems:
            message = f"“{value[:200]}” is not a valid {kind} id: {' '.join(problems)}"
            if getattr(request, "htmx", False):
                return alert_response(request, "Invalid address", message, status=404)
            return render(request, "flows/bad_id.html", {"message": message}, status=404)
    return None


def _choose_context(request: HttpRequest, form: ExecutionForm) -> dict[str, Any]:
    token = request.GET.get("next") or None
    page, problem = listed(lambda t: flows_api.list_flows(next_token=t), token)
    opened = [
        {
            **e,
            "url": _trace_url(e.get("flowId", ""), e.get("aliasId", ""), e.get("executionId", "")),
        }
        for e in recent(request, RECENT)
    ]
    base = reverse("flows:choose")
    return {
        "form": form,
        "flows": [{**f, "url": _flow_url(str(f.get("id", "")))} for f in page["items"]],
        "flows_problem": problem,
        "flows_more": f"{base}?{urlencode({'next': page['nextToken']})}"
        if page["nextToken"]
        else "",
        "flows_paged": bool(token),
        "page_url": base,
        "recent": [e for e in opened if e["url"]],
        "crumbs": [{"label": "AgentCore", "url": reverse("agentcore:index")}],
    }


@require_GET
@vary_on_headers("HX-Request")
def choose(request: HttpRequest) -> HttpResponse:
    if any(key in request.GET for key in ("flow", "alias", "execution")):
        form = ExecutionForm(request.GET)
        if form.is_valid():
            data = form.cleaned_data
            return redirect("flows:trace", data["flow"], data["alias"], data["execution"])
        return render(request, "flows/choose.html", _choose_context(request, form), status=400)
    context = _choose_context(request, ExecutionForm())
    if request.GET.get("next") and wants_fragment(request):
        return render(request, "flows/choose.html#flows", context)
    return render(request, "flows/choose.html", context)


@require_GET
@vary_on_headers("HX-Request")
def flow(request: HttpRequest, flow_id: str) -> HttpResponse:
    """A flow's executions, newest first (ListFlowExecutions, 10 a page), narrowed to one of
    its aliases (ListFlowAliases) by ?alias=."""
    bad = _bad_id(request, {"flow": flow_id})
    if bad is not None:
        return bad
    alias_id = request.GET.get("alias") or ""
    if alias_id and flows_api.id_problems("alias", alias_id):
        alias_id = ""  # a mangled filter is dropped, not sent
    token = request.GET.get("next") or None
    try:
        details = flows_api.get_flow(flow_id)
    except errors.NotFound as exc:
        context = _choose_context(request, ExecutionForm(initial={"flow": flow_id}))
        context["not_found"] = exc.message
        return render(request, "flows/choose.html", context, status=404)
    except errors.AwsError as exc:
        details = {"id": flow_id, "problem": exc.message}
    aliases, aliases_problem = listed(lambda _: flows_api.list_aliases(flow_id), empty=[])
    try:
        page = flows_api.list_executions(flow_id, alias_id=alias_id, next_token=token)
        page_problem = ""
    except errors.ValidationFailed as exc:
        if not token:
            raise
        page, page_problem = (
            {"items": [], "nextToken": None},
            (f"This page link is no longer valid ({exc.message})."),
        )
    executions = [
        {**e, "url": _trace_url(e["flowId"], e["aliasId"], e["executionId"])} for e in page["items"]
    ]
    context = {
        "flow_id": flow_id,
        "flow": details,
        "alias_id": alias_id,
        "aliases": [{**a, "url": _flow_url(flow_id, alias=str(a.get("id", "")))} for a in aliases],
        "aliases_problem": aliases_problem,
        "all_url": _flow_url(flow_id),
        "executions": executions,
        "page_problem": page_problem,
        "more_url": _flow_url(flow_id, alias=alias_id, next=page["nextToken"] or "")
        if page["nextToken"]
        else "",
        "first_url": _flow_url(flow_id, alias=alias_id),
        "paged": bool(token),
        "crumbs": [
            {"label": "AgentCore", "url": reverse("agentcore:index")},
            {"label": "Flow traces", "url": reverse("flows:choose")},
        ],
    }
    if token and wants_fragment(request):
        return render(request, "flows/flow.html#executions", context)
    return render(request, "flows/flow.html", context)


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
    bad = _bad_id(request, {"flow": flow_id, "alias": alias_id, "execution": execution_id})
    if bad is not None:
        return bad
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
    execution, execution_problem = (
        listed(lambda _: flows_api.get_execution(flow_id, alias_id, execution_id), empty={})
        if not query["next"]
        else ({}, "")
    )
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
        "execution": execution,
        "execution_problem": execution_problem,
        "flow_url": _flow_url(flow_id, alias=alias_id),
        "crumbs": [
            {"label": "AgentCore", "url": reverse("agentcore:index")},
            {"label": "Flow traces", "url": reverse("flows:choose")},
            {"label": flow_id, "url": _flow_url(flow_id), "mono": "1"},
        ],
    }
    if query["next"] and wants_fragment(request):
        return render(request, "flows/trace.html#events", context)
    return render(request, "flows/trace.html", context)
