"""The backlog board of an agent space: filters, paging, counts, bulk status changes, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import regex
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces
from dashboard.aws import tasks as aws_tasks
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.views import wants_fragment

from . import live, saved_views
from .filters import ALL, OPEN, OPEN_STATUSES, PRIORITIES, STATUSES, TASK_TYPES, BoardQuery, label

logger = logging.getLogger(__name__)
VERSION = regex.compile(r"[0-9]{1,18}")

PAGE_SIZE = 50
# Open work is merged by the console from one list per open status: at most this many tasks
# are gathered (more says so; a space with thousands of open tasks needs a narrower filter).
OPEN_LIMIT = 2000
EXPORT_PAGE_SIZE = 1000  # the API's maximum: fewest calls for a full export
SERVICE = "devops-agent"
# Targets a person may pick for several tasks at once (the API changes status only).
BULK_TARGETS = ["PENDING_START", "CANCELED", "SKIPPED"]
# Changes that cannot be undone: asked again before they are made (as for one task).
CONFIRM_TARGETS = ("CANCELED",)
EXPORT_COLUMNS = [
    "taskId",
    "title",
    "taskType",
    "priority",
    "status",
    "statusReason",
    "createdAt",
    "updatedAt",
    "version",
    "referenceSystem",
    "referenceId",
    "referenceUrl",
    "primaryTaskId",
    "hasLinkedTasks",
]


def status_counts(space_id: str) -> dict[str, int]:
    """Tasks per status over the whole space. Counting needs every task: while the board is
    watched, the watch's poller has counted them already (no AWS call here); otherwise the
    figures are shared through the cache for one live-poll interval."""
    watched = live.watched_counts(space_id)
    if watched is not None:
        return watched
    key = f"board-counts:{space_id}"
    counts = cache.get(key)
    if counts is None:
        counts = live.counts_of(aws_tasks.iter_tasks(space_id))
        cache.set(key, counts, timeout=getattr(settings, "LIVE_POLL_INTERVAL", 5.0))
    return counts


def forget_counts(space_id: str) -> None:
    cache.delete(f"board-counts:{space_id}")


def _status_links(q: BoardQuery, counts: dict[str, int]) -> list[dict[str, Any]]:
    """One chip per status; following it filters by that status, dropping what would conflict.

    Every status gets its chip, `shown` only while it counts something (or is the filter):
    live counts then only change numbers (static/js/board.js shows and hides the chips)."""
    links = []
    for status in STATUSES:
        overrides = {"status": "" if q.status == status else status}
        if overrides["status"] and q.priority and not q.task_type:
            overrides["priority"] = ""  # priority + status needs a type: keep the status asked for
        if overrides["status"] and q.sort == "PRIORITY" and not q.task_type:
            overrides["sort"] = ""
        links.append(
            {
                "status": status,
                "label": label(status),
                "count": counts.get(status, 0),
                "active": q.status == status,
                "open": status in OPEN_STATUSES,
                "query": q.querystring(**overrides),
                "shown": bool(counts.get(status, 0) or q.status == status),
            }
        )
    return links


def _scope_links(q: BoardQuery, counts: dict[str, int]) -> list[dict[str, Any]]:
    """ "Open work" and "All statuses": the two views one click away, with their counts."""
    return [
        {
            "scope": OPEN,
            "label": "Open work",
            "count": sum(counts.get(s, 0) for s in OPEN_STATUSES),
            "active": q.status == OPEN,
            "query": q.querystring(status="", sort="" if q.sort == "CREATED_AT" else q.sort),
            "statuses": " ".join(OPEN_STATUSES),
        },
        {
            "scope": ALL,
            "label": "All statuses",
            "count": sum(counts.values()),
            "active": q.status == ALL,
            "query": q.querystring(status=ALL, sort="" if q.sort == "PRIORITY" else q.sort),
            "statuses": " ".join(STATUSES),
        },
    ]


def open_work(space_id: str, q: BoardQuery) -> tuple[list[dict[str, Any]], bool]:
    """Every open task the query matches, merged from one list per open status and ordered by
    `q.order_key`; and whether `OPEN_LIMIT` cut it short."""
    found: dict[str, dict[str, Any]] = {}
    for params in q.api_calls():
        for task in aws_tasks.iter_tasks(space_id, **params, page_size=EXPORT_PAGE_SIZE):
            found[task["taskId"]] = task
            if len(found) >= OPEN_LIMIT:
                return sorted(found.values(), key=q.order_key), True
    return sorted(found.values(), key=q.order_key), False


def _offset(request: HttpRequest) -> int:
    try:
        return max(0, min(int(request.GET.get("offset", "0")), OPEN_LIMIT))
    except ValueError:
        return 0


def _context(
    request: HttpRequest, space_id: str, q: BoardQuery, *, restart: bool = True
) -> dict[str, Any]:
    """One page of the board. An old or edited "next" link starts again from the first page
    with a notice (`restart`); "load more" (restart False) says what failed instead, since
    its rows are appended to those shown."""
    more = ""
    if q.is_open:
        merged, cut = open_work(space_id, q)
        offset = _offset(request)
        tasks = merged[offset : offset + PAGE_SIZE]
        if offset + PAGE_SIZE < len(merged):
            more = f"offset={offset + PAGE_SIZE}"
        if cut:
            notice = (
                f"Showing the first {OPEN_LIMIT} open tasks: filter by type or priority to "
                "see the rest."
            )
            q = replace(q, notices=(*q.notices, notice))
    else:
        token = request.GET.get("next") or None
        try:
            page = aws_tasks.list_tasks(space_id, **q.api(), limit=PAGE_SIZE, next_token=token)
        except errors.ValidationFailed:
            if not token or not restart:
                raise
            notice = "That page link no longer works; showing the first page."
            q = replace(q, notices=(*q.notices, notice))
            page = aws_tasks.list_tasks(space_id, **q.api(), limit=PAGE_SIZE)
        tasks = page["tasks"]
        if page["nextToken"]:
            more = urlencode({"next": page["nextToken"]})
    if more and q.querystring():
        more = f"{q.querystring()}&{more}"
    return {
        "space_id": space_id,
        "q": q,
        "tasks": tasks,
        "more_query": more,
        "disabled": q.disabled(),
        "priorities": PRIORITIES,
        "statuses": STATUSES,
        "task_types": TASK_TYPES,
        "bulk_targets": BULK_TARGETS,
        "open_statuses": OPEN_STATUSES,
        "now": timezone.now(),
    }


@require_GET
@vary_on_headers("HX-Request")
def board(request: HttpRequest, space_id: str) -> HttpResponse:
    view, q = saved_views.query_of(request)
    if wants_fragment(request) and (request.GET.get("next") or request.GET.get("offset")):
        context = _context(request, space_id, q, restart=False)
        return render(request, "tasks/board.html#page", context)
    context = _context(request, space_id, q)
    context["space"] = aws_spaces.get_space(space_id)
    counts = status_counts(space_id)
    context["counts"] = _status_links(q, counts)
    context["scopes"] = _scope_links(q, counts)
    context["total"] = sum(counts.values())
    context["live_notice"] = live.board_notice(space_id)
    context.update(saved_views.board_context(request, space_id, view, q))
    # A filter changed from the open panel: it stays open for the next change.
    context["filters_open"] = request.headers.get("HX-Trigger") == "board-filters"
    if wants_fragment(request):
        return render(request, "tasks/board.html#board", context)
    return render(request, "tasks/board.html", context)


# --- bulk -------------------------------------------------------------------------------------


MALFORMED = -1  # a version no task has: the guard refuses the change


def _parse_selection(values: list[str]) -> list[tuple[str, int | None]]:
    """Checkbox values are "<taskId>:<version seen>" (the version may be left out: no guard).
    A version that is not a plain number (edited, truncated) changes nothing."""
    out = []
    for value in values:
        task_id, colon, version = value.partition(":")
        if not task_id:
            continue
        if not colon:
            out.append((task_id, None))
        elif VERSION.fullmatch(version):
            out.append((task_id, int(version)))
        else:
            out.append((task_id, MALFORMED))
    return out


@require_POST
@roles.role_required(roles.OPERATOR)
def bulk_status(request: HttpRequest, space_id: str) -> HttpResponse:
    target = request.POST.get("target", "")
    selection = _parse_selection(request.POST.getlist("task"))
    results: list[dict[str, Any]] = []
    if target not in BULK_TARGETS:
        messages.error(request, "Choose the status to set.")
    elif not selection:
        messages.error(request, "Select at least one task.")
    elif target in CONFIRM_TARGETS and not request.htmx and request.POST.get("confirm") != "1":
        # htmx asks in the browser (hx-confirm); a plain post asks with a page of its own.
        return _bulk_confirm(request, space_id, target, request.POST.getlist("task"))
    else:
        for task_id, seen in selection:
            results.append(_bulk_one(request, space_id, task_id, seen, target))
        forget_counts(space_id)
    done = sum(1 for r in results if r["ok"])
    context = {"results": results, "target": target, "done": done, "space_id": space_id}
    if request.htmx:
        return render(request, "tasks/board.html#bulk-results", context)
    if results:
        summary = f"{done} of {len(results)} tasks set to {label(target)}."
        (messages.success if done == len(results) else messages.warning)(request, summary)
        for r in results:
            if not r["ok"]:
                messages.error(request, f"{r['title']}: {r['message']}")
    return redirect(reverse("tasks:board", kwargs={"space_id": space_id}))


def _bulk_confirm(
    request: HttpRequest, space_id: str, target: str, values: list[str]
) -> HttpResponse:
    picked = []
    for value in values:
        task_id = value.partition(":")[0]
        title = task_id
        try:
            title = aws_tasks.get_task(space_id, task_id)["title"]
        except errors.AwsError:
            pass  # the list still says which task; the change itself reports what fails
        picked.append({"value": value, "title": title})
    context = {"space_id": space_id, "target": target, "picked": picked}
    context["space"] = {"agentSpaceId": space_id, "name": ""}
    try:
        context["space"] = aws_spaces.get_space(space_id)
    except (errors.Throttled, errors.Unavailable):
        pass
    return render(request, "tasks/bulk_confirm.html", context)


def _bulk_one(
    request: HttpRequest, space_id: str, task_id: str, seen: int | None, target: str
) -> dict[str, Any]:
    result: dict[str, Any] = {"taskId": task_id, "title": task_id, "ok": False}
    try:
        current = aws_tasks.get_task(space_id, task_id)
        result["title"] = current["title"]
        if seen == MALFORMED:
            result["message"] = "not changed: the selection was garbled; reload the board."
            return result
        if seen is not None and current["version"] != seen:
            # Lost-update guard: someone (or the agent) changed it since the board was drawn.
            result["message"] = (
                f"changed since you selected it (now {label(current['status'])}, "
                f"version {current['version']}); not changed — review it and try again."
            )
            result["conflict"] = True
            return result
        if current["status"] == target:
            result.update(ok=True, message=f"already {label(target)}")
            return result
        params = {"agentSpaceId": space_id, "taskId": task_id, "taskStatus": target}
        with audited(request, SERVICE, "UpdateBacklogTask", task_id, params):
            task = aws_tasks.update_status(space_id, task_id, target)
    except errors.AwsError as exc:
        result["message"] = exc.message
        return result
    live.task_changed(space_id, task)
    result.update(ok=True, message=f"now {label(task['status'])}")
    return result


# --- export -----------------------------------------------------------------------------------


# A cell starting with one of these runs as a formula when the file is opened in a
# spreadsheet; titles and references come from agents, tickets and people (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_row(task: dict[str, Any]) -> dict[str, Any]:
    return {k: _cell(v) for k, v in _row(task).items()}


def _row(task: dict[str, Any]) -> dict[str, Any]:
    reference = task.get("reference") or {}
    return {
        **{k: task.get(k, "") for k in EXPORT_COLUMNS},
        "createdAt": _iso(task.get("createdAt")),
        "updatedAt": _iso(task.get("updatedAt")),
        "referenceSystem": reference.get("system", ""),
        "referenceId": reference.get("referenceId", ""),
        "referenceUrl": reference.get("referenceUrl", ""),
        "hasLinkedTasks": bool(task.get("hasLinkedTasks")),
    }


def _iso(value: Any) -> str:
    """Exports say times in UTC (ISO 8601), whatever zone the server or reader is in."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    return value or ""


def _json_default(value: Any) -> Any:
    return _iso(value) if isinstance(value, dt.datetime) else str(value)


def _csv_stream(first: list[dict[str, Any]], rest: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    for task in first:
        writer.writerow(_csv_row(task))
    yield flush()
    try:
        for task in rest:
            writer.writerow(_csv_row(task))
            if buffer.tell() > 16384:
                yield flush()
    except errors.AwsError as exc:
        # The 200 is sent already: say in the file itself that it is incomplete.
        logger.warning("export stopped: %s", exc)
        buffer.write(f"# EXPORT INCOMPLETE: {exc.message}\n")
    yield flush()


def _json_stream(first: list[dict[str, Any]], rest: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    sep = "\n"
    for task in first:
        yield sep + json.dumps(task, default=_json_default)
        sep = ",\n"
    try:
        for task in rest:
            yield sep + json.dumps(task, default=_json_default)
            sep = ",\n"
    except errors.AwsError as exc:
        logger.warning("export stopped: %s", exc)
        yield sep + json.dumps({"exportError": f"EXPORT INCOMPLETE: {exc.message}"})
    yield "\n]\n"


@require_GET
def export(request: HttpRequest, space_id: str, fmt: str) -> HttpResponse:
    """Everything the current filter matches (all pages), streamed as it is fetched."""
    if fmt not in ("csv", "json"):
        raise Http404("Export as .csv or .json")
    q = BoardQuery.from_query(request.GET)
    if q.is_open:
        tasks: Iterator[dict[str, Any]] = iter(open_work(space_id, q)[0])
    else:
        tasks = aws_tasks.iter_tasks(space_id, **q.api(), page_size=EXPORT_PAGE_SIZE)
    # Fetch the first page before answering, so an error there is a proper error page.
    first: list[dict[str, Any]] = []
    for task in tasks:
        first.append(task)
        if len(first) >= EXPORT_PAGE_SIZE:
            break
    stream = _csv_stream(first, tasks) if fmt == "csv" else _json_stream(first, tasks)
    response = StreamingHttpResponse(
        stream, content_type="text/csv" if fmt == "csv" else "application/json"
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="tasks-{space_id}-{stamp}.{fmt}"'
    return response
