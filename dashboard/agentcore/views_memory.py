"""The memory explorer: memory → actors → sessions → events (a conversation with its branches),
event detail, creating events (operators) and deleting them (admins); long-term records by
namespace, their detail and deletion (admins), and search by relevance.

Every id in a URL is checked against the model's pattern before AWS is called; a malformed one
is a 404 page that says what is wrong. Lists page with the API's nextToken ("Load more").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from dashboard.aws import agentcore_memory as memory_api
from dashboard.aws import errors
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.middleware import alert_response
from dashboard.core.paging import listed
from dashboard.core.views import wants_fragment

from .forms import EventForm, MemoryChooseForm, RecordScopeForm, SearchForm
from .recent import recent, remember
from .templatetags.agentcore_display import anchor

SERVICE = memory_api.SERVICE
PAGE = 50  # actors and sessions per page
MEMORY_PAGE = 20  # memories per page on the choose page
EVENT_PAGE = 50
RECORD_PAGE = 25
KIND_WORDS = {
    "memory": "memory id",
    "actor": "actor id",
    "session": "session id",
    "event": "event id",
    "record": "memory record id",
}


# --- ids, URLs and breadcrumbs ---------------------------------------------------------------


class _BadId(Exception):
    def __init__(self, kind: str, value: str, problems: list[str]) -> None:
        super().__init__(f"{kind} {value!r}: {' '.join(problems)}")
        self.kind, self.value, self.problems = kind, value, problems


def _check(**ids: str) -> None:
    for kind, value in ids.items():
        problems = memory_api.id_problems(kind, value)
        if problems:
            raise _BadId(kind, value, problems)


def checked_ids(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse, with a page saying why, URLs whose ids AWS would refuse."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, memory_id: str, **kwargs: str) -> HttpResponse:
        try:
            _check(memory=memory_id, **{k.removesuffix("_id"): v for k, v in kwargs.items()})
        except _BadId as bad:
            word = KIND_WORDS.get(bad.kind, bad.kind)
            message = f"“{bad.value[:200]}” is not a valid {word}: {' '.join(bad.problems)}"
            if getattr(request, "htmx", False):
                return alert_response(request, "Invalid address", message, status=404)
            context = {"message": message, "memory_id": memory_id if bad.kind != "memory" else ""}
            return render(request, "agentcore/bad_id.html", context, status=404)
        return view(request, memory_id, **kwargs)

    return wrapper


def _url(name: str, *args: str, query: dict[str, str] | None = None) -> str:
    """reverse() for ids that came from AWS: one no URL can hold gives "" (no link)."""
    try:
        url = reverse(f"agentcore:{name}", args=args)
    except NoReverseMatch:
        return ""
    query = {k: v for k, v in (query or {}).items() if v}
    return f"{url}?{urlencode(query)}" if query else url


def _crumbs(memory_id: str, actor_id: str = "", session_id: str = "") -> list[dict[str, str]]:
    crumbs = [
        {"label": "AgentCore", "url": reverse("agentcore:index")},
        {"label": "Memory", "url": reverse("agentcore:memory-choose")},
        {"label": memory_id, "url": _url("memory", memory_id), "mono": "1"},
    ]
    if actor_id:
        crumbs.append(
            {"label": actor_id, "url": _url("memory-actor", memory_id, actor_id), "mono": "1"}
        )
    if session_id:
        crumbs.append(
            {
                "label": session_id,
                "url": _url("memory-session", memory_id, actor_id, session_id),
                "mono": "1",
            }
        )
    return crumbs


def _more_url(base: str, params: dict[str, str], token: str | None) -> str:
    if not base or not token:
        return ""
    return f"{base}?{urlencode({**{k: v for k, v in params.items() if v}, 'next': token})}"


def _memory(memory_id: str) -> tuple[dict[str, Any] | None, list[dict[str, str]], str]:
    """(the memory from the control plane, its strategy scopes, why it could not be read)."""
    found, problem = listed(lambda _: memory_api.get_memory(memory_id), empty={})
    return found or None, memory_api.strategy_scopes(found or {}), problem


# --- choosing a memory -----------------------------------------------------------------------


def _choose_context(request: HttpRequest, form: MemoryChooseForm) -> dict[str, Any]:
    token = request.GET.get("next") or None
    page, problem = listed(
        lambda t: memory_api.list_memories(next_token=t, max_results=MEMORY_PAGE), token
    )
    base = reverse("agentcore:memory-choose")
    return {
        "form": form,
        "memories": page["items"],
        "memories_problem": problem,
        "memories_more": _more_url(base, {}, page["nextToken"]),
        "memories_paged": bool(token),
        "page_url": base,
        "recent": recent(request, "memories"),
    }


@require_GET
@vary_on_headers("HX-Request")
def choose(request: HttpRequest) -> HttpResponse:
    """The account's memories (ListMemories, paged), the ones opened lately, and an id or ARN
    to type; ?memory= opens one."""
    if "memory" in request.GET:
        form = MemoryChooseForm(request.GET)
        if form.is_valid():
            return redirect("agentcore:memory", memory_id=form.cleaned_data["memory"])
        return render(
            request, "agentcore/memory_choose.html", _choose_context(request, form), status=400
        )
    context = _choose_context(request, MemoryChooseForm())
    if request.GET.get("next") and wants_fragment(request):
        return render(request, "agentcore/memory_choose.html#memories", context)
    return render(request, "agentcore/memory_choose.html", context)


# --- memory, actor, session --------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@checked_ids
def memory(request: HttpRequest, memory_id: str) -> HttpResponse:
    """The memory's actors (paged), and the ways into its long-term records."""
    next_token = request.GET.get("next") or None
    try:
        page = memory_api.list_actors(memory_id, next_token=next_token, max_results=PAGE)
    except errors.NotFound as exc:
        if next_token:
            raise
        form = MemoryChooseForm(initial={"memory": memory_id})
        context = _choose_context(request, form)
        context["not_found"] = {"memory_id": memory_id, "message": exc.message}
        return render(request, "agentcore/memory_choose.html", context, status=404)
    remember(request, "memories", {"memoryId": memory_id})
    details, scopes, details_problem = _memory(memory_id) if not next_token else (None, [], "")
    base = _url("memory", memory_id)
    actors = [
        {
            "actorId": a.get("actorId", ""),
            "url": _url("memory-actor", memory_id, a.get("actorId", "")),
        }
        for a in page["items"]
    ]
    context = {
        "memory_id": memory_id,
        "memory": details,
        "memory_problem": details_problem,
        "scopes": [{**s, "url": _scope_url(memory_id, s)} for s in scopes],
        "actors": actors,
        "more_url": _more_url(base, {}, page["nextToken"]),
        "first_page": not next_token,
        "page_url": base,
        "crumbs": _crumbs(memory_id)[:-1],
        "search_form": SearchForm(scopes=scopes),
        "recent_namespaces": _recent_namespaces(request, memory_id),
    }
    if next_token and wants_fragment(request):
        return render(request, "agentcore/memory.html#rows", context)
    return render(request, "agentcore/memory.html", context)


@require_GET
@vary_on_headers("HX-Request")
@checked_ids
def actor(request: HttpRequest, memory_id: str, actor_id: str) -> HttpResponse:
    next_token = request.GET.get("next") or None
    page = memory_api.list_sessions(memory_id, actor_id, next_token=next_token, max_results=PAGE)
    base = _url("memory-actor", memory_id, actor_id)
    sessions = [
        {
            **s,
            "url": _url("memory-session", memory_id, actor_id, s.get("sessionId", "")),
        }
        for s in page["items"]
    ]
    context = {
        "memory_id": memory_id,
        "actor_id": actor_id,
        "sessions": sessions,
        "more_url": _more_url(base, {}, page["nextToken"]),
        "first_page": not next_token,
        "page_url": base,
        "crumbs": _crumbs(memory_id, actor_id)[:-1],
        "new_event_url": _url("memory-event-create", memory_id, query={"actor": actor_id}),
    }
    if next_token and wants_fragment(request):
        return render(request, "agentcore/actor.html#rows", context)
    return render(request, "agentcore/actor.html", context)


def _branch_query(request: HttpRequest) -> dict[str, Any]:
    """The branch filter from the URL; a name AWS would refuse is ignored, and said so."""
    name = (request.GET.get("branch") or "").strip()
    problems = memory_api.id_problems("branch", name) if name else []
    return {
        "name": "" if problems else name,
        "parents": request.GET.get("parents", "1") == "1",
        "ignored": name if problems else "",
    }


def _event_rows(
    memory_id: str, actor_id: str, session_id: str, events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    forks: dict[str, list[str]] = {}
    for event in events:
        branch = event.get("branch") or {}
        root = branch.get("rootEventId")
        if root and branch.get("name") and branch["name"] not in forks.get(root, []):
            forks.setdefault(root, []).append(branch["name"])
    session_url = _url("memory-session", memory_id, actor_id, session_id)
    rows = []
    for event in events:
        event_id = str(event.get("eventId", ""))
        branch = (event.get("branch") or {}).get("name", "")
        rows.append(
            {
                "event": event,
                "anchor": "event-" + anchor(event_id),
                "branch": branch,
                "url": _url("memory-event", memory_id, actor_id, session_id, event_id),
                "forks": [
                    {"name": name, "url": f"{session_url}?{urlencode({'branch': name})}"}
                    for name in forks.get(event_id, [])
                ],
                "fork_url": _url(
                    "memory-event-create",
                    memory_id,
                    query={"actor": actor_id, "session": session_id, "root": event_id},
                ),
            }
        )
    return rows


@require_GET
@vary_on_headers("HX-Request")
@checked_ids
def session(request: HttpRequest, memory_id: str, actor_id: str, session_id: str) -> HttpResponse:
    """The session's events as a conversation, oldest first, with its branches."""
    query = _branch_query(request)
    next_token = request.GET.get("next") or None
    page = memory_api.list_events(
        memory_id,
        actor_id,
        session_id,
        branch=query["name"],
        include_parents=query["parents"],
        next_token=next_token,
        max_results=EVENT_PAGE,
    )
    base = _url("memory-session", memory_id, actor_id, session_id)
    params = {"branch": query["name"], "parents": "" if query["parents"] else "0"}
    branches = sorted(
        {(e.get("branch") or {}).get("name", "") for e in page["items"]} - {""}
        | ({query["name"]} - {""})
    )
    toggled = {"branch": query["name"], "parents": "0" if query["parents"] else "1"}
    context = {
        "memory_id": memory_id,
        "actor_id": actor_id,
        "session_id": session_id,
        "rows": _event_rows(memory_id, actor_id, session_id, page["items"]),
        "query": query,
        "branches": [
            {"name": b, "url": f"{base}?{urlencode({'branch': b})}", "current": b == query["name"]}
            for b in branches
        ],
        "main_url": f"{base}?{urlencode({'branch': 'main', 'parents': '0'})}",
        "parents_url": f"{base}?{urlencode(toggled)}",
        "more_url": _more_url(base, params, page["nextToken"]),
        "first_page": not next_token,
        "page_url": base,
        "crumbs": _crumbs(memory_id, actor_id, session_id)[:-1],
        "new_event_url": _url(
            "memory-event-create",
            memory_id,
            query={
                "actor": actor_id,
                "session": session_id,
                "branch": query["name"] if query["name"] != "main" else "",
            },
        ),
    }
    if next_token and wants_fragment(request):
        return render(request, "agentcore/session.html#rows", context)
    return render(request, "agentcore/session.html", context)


# --- one event -------------------------------------------------------------------------------


def _event_context(memory_id: str, actor_id: str, session_id: str, event: dict) -> dict:
    event_id = str(event.get("eventId", ""))
    branch = event.get("branch") or {}
    session_url = _url("memory-session", memory_id, actor_id, session_id)
    root = branch.get("rootEventId") or ""
    on_branch = (
        f"{session_url}?{urlencode({'branch': branch['name']})}"
        if branch.get("name")
        else session_url
    )
    return {
        "memory_id": memory_id,
        "actor_id": actor_id,
        "session_id": session_id,
        "event": event,
        "branch": branch,
        "root_url": _url("memory-event", memory_id, actor_id, session_id, root) if root else "",
        "in_conversation_url": f"{on_branch}#event-{anchor(event_id)}",
        "delete_url": _url("memory-event-delete", memory_id, actor_id, session_id, event_id),
        "fork_url": _url(
            "memory-event-create",
            memory_id,
            query={"actor": actor_id, "session": session_id, "root": event_id},
        ),
        "crumbs": _crumbs(memory_id, actor_id, session_id),
    }


@require_GET
@checked_ids
def event(
    request: HttpRequest, memory_id: str, actor_id: str, session_id: str, event_id: str
) -> HttpResponse:
    found = memory_api.get_event(memory_id, actor_id, session_id, event_id)
    context = _event_context(memory_id, actor_id, session_id, found)
    return render(request, "agentcore/event.html", context)


def _done(request: HttpRequest, target: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(target)
    return redirect(target)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
@checked_ids
def delete_event(
    request: HttpRequest, memory_id: str, actor_id: str, session_id: str, event_id: str
) -> HttpResponse:
    """Confirm (GET, or a POST without `confirm`), then delete the event."""
    session_url = _url("memory-session", memory_id, actor_id, session_id)
    try:
        found = memory_api.get_event(memory_id, actor_id, session_id, event_id)
    except errors.NotFound:
        messages.info(request, "That event no longer exists: nothing to delete.")
        return _done(request, session_url)
    context = _event_context(memory_id, actor_id, session_id, found)
    if request.method == "GET" or request.POST.get("confirm") != "1":
        return render(request, "agentcore/event_delete.html", context)
    params = {
        "memoryId": memory_id,
        "actorId": actor_id,
        "sessionId": session_id,
        "eventId": event_id,
    }
    try:
        with audited(
            request, SERVICE, "DeleteEvent", f"{memory_id}/{actor_id}/{session_id}", params
        ):
            memory_api.delete_event(memory_id, actor_id, session_id, event_id)
    except errors.NotFound:
        messages.info(request, "That event was already deleted.")
        return _done(request, session_url)
    except (errors.Throttled, errors.Unavailable, errors.ValidationFailed) as exc:
        context["error"] = f"{exc.message} The event was not deleted."
        if getattr(request, "htmx", False):
            return alert_response(request, "Not deleted", context["error"], status=exc.status)
        return render(request, "agentcore/event_delete.html", context, status=exc.status)
    messages.success(request, f"Deleted event {event_id}.")
    return _done(request, session_url)


# --- creating an event -------------------------------------------------------------------------


def _place_errors(form: EventForm, exc: errors.AwsError) -> None:
    placed = False
    for name, message in exc.fields.items():
        field = EventForm.AWS_FIELDS.get(name)
        if field:
            form.add_error(field, message)
            placed = True
    if not placed:
        lowered = exc.message.lower()
        if "root event" in lowered or "rootevent" in lowered:
            form.add_error("root_event_id", exc.message)
        elif "branch" in lowered:
            form.add_error("branch", exc.message)
        else:
            form.add_error(None, exc.message)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
@checked_ids
def create_event(request: HttpRequest, memory_id: str) -> HttpResponse:
    """Write an event: a message and/or JSON blob, optionally on a (new) branch."""
    if request.method == "POST":
        form = EventForm(request.POST)
    else:
        initial = {
            "actor_id": request.GET.get("actor", ""),
            "session_id": request.GET.get("session", ""),
            "branch": request.GET.get("branch", ""),
            "root_event_id": request.GET.get("root", ""),
        }
        form = EventForm(initial={k: v[:300] for k, v in initial.items() if v})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        params = memory_api.create_event_params(
            memory_id,
            data["actor_id"],
            data["session_id"],
            payload=form.payload(),
            timestamp=data["timestamp"],
            branch=data.get("branch") or "",
            root_event_id=data.get("root_event_id") or "",
            client_token=data.get("client_token") or "",
        )
        target = f"{memory_id}/{data['actor_id']}/{data['session_id']}"
        try:
            # The audit log keeps JSON: the time as ISO text (the payload is redacted by the model).
            logged = {**params, "eventTimestamp": data["timestamp"].isoformat()}
            with audited(request, SERVICE, "CreateEvent", target, logged):
                created = memory_api.create_event(params)
        except (errors.ValidationFailed, errors.NotFound, errors.Conflict) as exc:
            _place_errors(form, exc)
            status = exc.status
        except (errors.Throttled, errors.Unavailable, errors.QuotaExceeded) as exc:
            form.add_error(None, f"{exc.message} The event was not created; submit again.")
            status = exc.status
        except errors.AwsError as exc:
            # Access denied, credentials: say so on the form, and keep what was typed.
            form.add_error(None, f"{exc.message} The event was not created.")
            status = exc.status
        else:
            messages.success(request, f"Created event {created.get('eventId', '')}.")
            session_url = _url(
                "memory-session",
                memory_id,
                data["actor_id"],
                data["session_id"],
                query={"branch": data.get("branch") or ""},
            )
            return redirect(f"{session_url}#event-{anchor(created.get('eventId', ''))}")
    elif request.method == "POST":
        status = 400
    context = {
        "memory_id": memory_id,
        "form": form,
        "crumbs": _crumbs(memory_id),
    }
    return render(request, "agentcore/event_form.html", context, status=status)


# --- long-term records -------------------------------------------------------------------------


def _recent_namespaces(request: HttpRequest, memory_id: str) -> list[str]:
    return [
        e["namespace"]
        for e in recent(request, "namespaces")
        if e.get("memoryId") == memory_id and isinstance(e.get("namespace"), str)
    ]


def _record_rows(memory_id: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        namespaces = record.get("namespaces") or []
        namespace = namespaces[0] if namespaces and isinstance(namespaces[0], str) else ""
        rows.append(
            {
                "record": record,
                "namespace": namespace,
                "url": _url(
                    "memory-record",
                    memory_id,
                    str(record.get("memoryRecordId", "")),
                    query={"namespace": namespace},
                ),
                "namespace_url": _url("memory-records", memory_id, query={"namespace": namespace})
                if namespace
                else "",
            }
        )
    return rows


def _scope_params(data: dict[str, Any]) -> dict[str, str]:
    return {
        "namespace": data.get("namespace") or "",
        "scope": "path" if data.get("scope") == "path" else "",
        "strategy": data.get("strategy") or "",
    }


def _scope_url(memory_id: str, scope: dict[str, str]) -> str:
    """The records of one strategy: its namespace path and below."""
    return _url(
        "memory-records",
        memory_id,
        query={"namespace": scope["path"], "scope": "path", "strategy": scope["strategyId"]},
    )


@require_GET
@vary_on_headers("HX-Request")
@checked_ids
def records(request: HttpRequest, memory_id: str) -> HttpResponse:
    """Records of a namespace (or a namespace path), newest first."""
    form = RecordScopeForm(request.GET or None)
    next_token = request.GET.get("next") or None
    base = _url("memory-records", memory_id)
    _, scopes, scopes_problem = _memory(memory_id)
    context: dict[str, Any] = {
        "memory_id": memory_id,
        "form": form,
        "crumbs": _crumbs(memory_id),
        "scopes": [{**s, "url": _scope_url(memory_id, s)} for s in scopes],
        "scopes_problem": scopes_problem,
        "recent_namespaces": _recent_namespaces(request, memory_id),
        "rows": None,
        "page_url": base,
        "first_page": not next_token,
    }
    status = 200
    if form.is_bound and form.is_valid() and form.cleaned_data.get("namespace"):
        data = form.cleaned_data
        try:
            page = memory_api.list_records(
                memory_id,
                data["namespace"],
                path=data["scope"] == "path",
                strategy_id=data.get("strategy") or "",
                next_token=next_token,
                max_results=RECORD_PAGE,
            )
        except errors.ValidationFailed as exc:
            context["error"] = exc.message
            status = exc.status
        else:
            remember(request, "namespaces", {"memoryId": memory_id, "namespace": data["namespace"]})
            params = _scope_params(data)
            context.update(
                rows=_record_rows(memory_id, page["items"]),
                more_url=_more_url(base, params, page["nextToken"]),
                scope=params,
                first_url=f"{base}?{urlencode({k: v for k, v in params.items() if v})}",
            )
            if next_token and wants_fragment(request):
                return render(request, "agentcore/records.html#rows", context)
    elif form.is_bound and not form.is_valid():
        status = 400
    return render(request, "agentcore/records.html", context, status=status)


def _record_namespace(request: HttpRequest) -> str:
    namespace = request.GET.get("namespace") or request.POST.get("namespace") or ""
    return "" if memory_api.id_problems("namespace", namespace) else namespace


def _record_context(memory_id: str, record: dict[str, Any], namespace: str) -> dict[str, Any]:
    record_id = str(record.get("memoryRecordId", ""))
    namespaces = record.get("namespaces") or []
    home = namespaces[0] if namespaces and isinstance(namespaces[0], str) else namespace
    return {
        "memory_id": memory_id,
        "record": record,
        "namespace": home,
        "namespace_url": _url("memory-records", memory_id, query={"namespace": home})
        if home
        else "",
        "delete_url": _url("memory-record-delete", memory_id, record_id, query={"namespace": home}),
        "crumbs": [
            *_crumbs(memory_id),
            {
                "label": "Records",
                "url": _url("memory-records", memory_id, query={"namespace": home}),
            },
        ],
    }


@require_GET
@checked_ids
def record(request: HttpRequest, memory_id: str, record_id: str) -> HttpResponse:
    namespace = _record_namespace(request)
    found = memory_api.get_record(memory_id, record_id, namespace)
    return render(request, "agentcore/record.html", _record_context(memory_id, found, namespace))


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
@checked_ids
def delete_record(request: HttpRequest, memory_id: str, record_id: str) -> HttpResponse:
    namespace = _record_namespace(request)
    records_url = _url("memory-records", memory_id, query={"namespace": namespace})
    try:
        found = memory_api.get_record(memory_id, record_id, namespace)
    except errors.NotFound:
        messages.info(request, "That memory record no longer exists: nothing to delete.")
        return _done(request, records_url)
    context = _record_context(memory_id, found, namespace)
    if request.method == "GET" or request.POST.get("confirm") != "1":
        return render(request, "agentcore/record_delete.html", context)
    params = {"memoryId": memory_id, "memoryRecordId": record_id}
    if namespace:
        params["namespace"] = namespace
    try:
        with audited(request, SERVICE, "DeleteMemoryRecord", f"{memory_id}/{record_id}", params):
            memory_api.delete_record(memory_id, record_id, namespace)
    except errors.NotFound:
        messages.info(request, "That memory record was already deleted.")
        return _done(request, records_url)
    except (errors.Throttled, errors.Unavailable, errors.ValidationFailed) as exc:
        context["error"] = f"{exc.message} The record was not deleted."
        if getattr(request, "htmx", False):
            return alert_response(request, "Not deleted", context["error"], status=exc.status)
        return render(request, "agentcore/record_delete.html", context, status=exc.status)
    messages.success(request, f"Deleted memory record {record_id}.")
    return _done(
        request, _url("memory-records", memory_id, query={"namespace": context["namespace"]})
    )


@require_GET
@vary_on_headers("HX-Request")
@checked_ids
def search(request: HttpRequest, memory_id: str) -> HttpResponse:
    """Semantic retrieval (RetrieveMemoryRecords): the records most relevant to a query, within
    one of the memory's strategies (its namespace path), chosen from GetMemory. When the
    strategies cannot be read, a namespace is typed instead."""
    _, scopes, scopes_problem = _memory(memory_id)
    bound = bool(request.GET.get("q"))
    form = SearchForm(request.GET if bound else None, scopes=scopes)
    next_token = request.GET.get("next") or None
    base = _url("memory-search", memory_id)
    context: dict[str, Any] = {
        "memory_id": memory_id,
        "form": form,
        "crumbs": _crumbs(memory_id),
        "scopes_problem": scopes_problem,
        "no_strategies": not scopes and not scopes_problem,
        "recent_namespaces": _recent_namespaces(request, memory_id),
        "results": None,
        "first_page": not next_token,
    }
    status = 200
    if bound and form.is_valid():
        data = form.cleaned_data
        try:
            page = memory_api.retrieve(
                memory_id,
                data["q"],
                data["namespace"],
                path=data["scope"] == "path",
                strategy_id=data.get("strategy") or "",
                top_k=data["top_k"],
                next_token=next_token,
            )
        except errors.ValidationFailed as exc:
            context["error"] = exc.message
            status = exc.status
        else:
            params = {**form.query(), "q": data["q"], "top_k": str(data["top_k"])}
            context.update(
                results=_record_rows(memory_id, page["items"]),
                more_url=_more_url(base, params, page["nextToken"]),
                query=data["q"],
                first_url=f"{base}?{urlencode({k: v for k, v in params.items() if v})}",
            )
            if next_token and wants_fragment(request):
                return render(request, "agentcore/search.html#rows", context)
    elif bound:
        status = 400
    return render(request, "agentcore/search.html", context, status=status)
