"""The agent runtime playground: choose a runtime (ARN, qualifier) and a runtime session, send
payloads, and watch the answers stream in (InvokeAgentRuntime).

The page's state is its URL (?arn=&qualifier=&session=): a deep link opens the same runtime
session for a teammate, who sees the same answers live. Opening a runtime without a session id
gives it a new one (a redirect to the URL that names it). The account's runtimes
(ListAgentRuntimes, paged by ?runtimes=) and the chosen runtime's endpoints
(ListAgentRuntimeEndpoints) are offered to pick from; a typed ARN works all the same. Without
JavaScript the invoke form
posts to `invoke`, which waits for the answer (at most AGENTCORE_WAIT_SECONDS) and shows the
page with it and with the payload as it was sent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard import streams
from dashboard.aws import agentcore_runtime as runtime_api
from dashboard.core.paging import listed
from dashboard.core.views import wants_fragment

from . import running, runtime_runs
from .forms_runtime import InvokeForm, TargetForm
from .recent import recent, remember

RUNTIME_PAGE = 20  # agent runtimes listed per page


def _with_query(request: HttpRequest, **changes: str) -> str:
    """This page's address with `changes` made to its query (empty values dropped)."""
    query = {**request.GET.dict(), **changes}
    query.pop("fragment", None)
    return reverse("agentcore:runtime") + "?" + urlencode({k: v for k, v in query.items() if v})


def _url(arn: str, qualifier: str, session_id: str) -> str:
    query = {"arn": arn, "qualifier": qualifier, "session": session_id}
    return reverse("agentcore:runtime") + "?" + urlencode({k: v for k, v in query.items() if v})


def _context(
    request: HttpRequest, target: TargetForm, invoke: InvokeForm | None = None
) -> dict[str, Any]:
    token = request.GET.get("runtimes") or None
    runtimes, runtimes_problem = listed(
        lambda t: runtime_api.list_runtimes(next_token=t, max_results=RUNTIME_PAGE), token
    )
    context: dict[str, Any] = {
        "target": target,
        "recent": recent(request, "runtime"),
        "runtimes": runtimes["items"],
        "runtimes_problem": runtimes_problem,
        "runtimes_more": _with_query(request, runtimes=runtimes["nextToken"] or ""),
        "runtimes_first": _with_query(request, runtimes="") if token else "",
        "chosen": False,
        "crumbs": [{"label": "AgentCore", "url": reverse("agentcore:index")}],
    }
    if not runtimes["nextToken"]:
        context["runtimes_more"] = ""
    typed = (target.data.get("arn") or "").strip() if target.is_bound else ""
    if typed and not runtime_api.arn_problems(typed):
        context["endpoints"], context["endpoints_problem"] = listed(
            lambda _: runtime_api.list_endpoints(typed), empty=[]
        )
        context["endpoint_links"] = [
            {**e, "url": _url(typed, e.get("name", ""), "")} for e in context["endpoints"]
        ]
    if not target.is_bound or not target.is_valid():
        return context
    arn = target.cleaned_data["arn"]
    qualifier = target.cleaned_data["qualifier"]
    session_id = target.cleaned_data["session"]
    key = runtime_runs.stream_key(arn, qualifier, session_id)
    runs, unreachable = streams.read_runs_or_notice(key)
    if unreachable:
        messages.warning(request, unreachable)
    if invoke is None:
        invoke = InvokeForm(initial={"arn": arn, "qualifier": qualifier, "session": session_id})
        # The last payload sent in this session is the likeliest next one to edit.
        if runs:
            last = runs[-1]["meta"]
            for name, meta_key in (
                ("payload", "payload"),
                ("content_type", "contentType"),
                ("accept", "accept"),
            ):
                if last.get(meta_key):
                    invoke.initial[name] = last[meta_key]
    context.update(
        chosen=True,
        arn=arn,
        qualifier=qualifier,
        session_id=session_id,
        invoke=invoke,
        invocations=[runtime_runs.fold(key, r["run"], r["events"]) for r in reversed(runs)],
        position=streams.page_position(key, runs),
        ws_url=f"/ws/agentcore/runtime/{runtime_runs.digest(arn, qualifier, session_id)}/",
        self_url=_url(arn, qualifier, session_id),
        runtime_name=runtime_api.runtime_name(arn),
        new_session_url=_url(arn, qualifier, ""),
        idle_seconds=int(3 * float(getattr(settings, "STREAM_HEARTBEAT_SECONDS", 10.0)) + 5),
    )
    return context


@require_GET
@vary_on_headers("HX-Request")
def playground(request: HttpRequest) -> HttpResponse:
    if not request.GET.get("arn"):
        return render(request, "agentcore/runtime.html", _context(request, TargetForm()))
    target = TargetForm(request.GET)
    if not target.is_valid():
        return render(request, "agentcore/runtime.html", _context(request, target), status=400)
    data = target.cleaned_data
    if not data["session"]:
        # A new runtime session: its id goes into the URL, so the page can be shared.
        session_id = runtime_api.new_session_id()
        return redirect(_url(data["arn"], data["qualifier"], session_id))
    remember(request, "runtime", {"arn": data["arn"], "qualifier": data["qualifier"]})
    context = _context(request, target)
    if wants_fragment(request) and request.GET.get("fragment") == "runs":
        return render(request, "agentcore/runtime.html#runs", context)
    return render(request, "agentcore/runtime.html", context)


@require_POST
async def invoke(request: HttpRequest) -> HttpResponse:
    """Without JavaScript: invoke, wait for the answer, show the page with it."""
    user = await request.auser()
    started = await running.invoke_runtime(user, request.POST.dict())
    if started.status == 403:
        raise PermissionDenied(started.error)
    notice = ""
    if started.relay is not None:
        try:
            how = await started.relay.wait(running.wait_seconds())
        except TimeoutError:
            notice = "The agent is still answering; reload the page to see the rest."
        else:
            if how != streams.END:
                notice = "The answer did not finish: see below."
    return await sync_to_async(_invoke_page)(request, started, notice)


def _invoke_page(request: HttpRequest, started: running.Started, notice: str) -> HttpResponse:
    form = started.form
    assert isinstance(form, InvokeForm)
    target = TargetForm(
        {
            "arn": form.data.get("arn", ""),
            "qualifier": form.data.get("qualifier", ""),
            "session": form.data.get("session", ""),
        }
    )
    context = _context(request, target, invoke=form)
    context["run_error"] = started.error
    context["run_notice"] = notice
    status = 200 if started.ok else started.status
    return render(request, "agentcore/runtime.html", context, status=status)
