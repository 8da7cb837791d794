"""Live updates of the triage pages: the board, the task page and its journal timelines.

Changes made through this console are broadcast at once (`task_changed`, called by the views
after each successful write). Changes made elsewhere (the agent, another console) are found
by the watches below, polled by dashboard.live once per watched key per LIVE_POLL_INTERVAL
(however many tabs or processes watch), diffed against the shared snapshot, and only the
changed items are pushed to the key's websocket group.

The watches (their fetch runs in the AWS thread pool; their render in a worker thread and
touches no database):

``board:<spaceId>``
    fetch: every task of the space (ListBacklogTasks, pages of 1000: one call per interval for
    a space of up to 1000 tasks, one more call per further 1000), each cut down to what a board
    row shows, plus the tasks per status (item ``#counts``) computed from the same fetch.
    render: the row (``tasks/board.html#row``) appended to ``#task-rows`` marked
    ``data-live="created|updated|deleted"``; static/js/board.js then replaces the row the tab
    shows, drops rows the tab's filter (read from its filter form) excludes, places new ones
    where the tab's sort puts them and removes duplicate ids. The counts go out as one
    out-of-band ``<b>`` per status chip.

``task:<spaceId>:<taskId>``
    fetch: GetBacklogTask and ListExecutions (the 50 newest executions, as the page shows).
    render: the summary (``tasks/detail.html#summary``, out of band) and, when the status or
    version changed, the actions panel; a new execution's section at the top of
    ``#executions-<taskId>`` (the page then subscribes its socket to that execution's journal);
    an execution's header when its status changes.

``journal:<spaceId>:<executionId>``
    fetch: ListJournalRecords in ascending order, every page up to JOURNAL_MAX_PAGES x 100
    records (records past that are not watched).
    render: the record (``tasks/detail.html#record``) appended to ``#journal-<executionId>``
    marked ``data-live``; static/js/task.js drops it when the tab's record-type filter excludes
    it or the tab shows it already, and places it in the tab's order.

Fragments go to a group, so they are role-neutral: operator controls in them (a row's
checkbox, the actions panel, an approval form) are marked ``operator-only`` and shown only
inside a live region whose server-rendered page says the user may operate
(``data-can-operate``). The server still answers 403 to anyone else who submits them. Forms
in pushed fragments carry no CSRF field (a token must never go to a group): htmx sends the
page's own token in the X-CSRFToken header.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

from dashboard.aws import tasks as aws_tasks
from dashboard.live import (
    CREATED,
    DELETED,
    UPDATED,
    Change,
    make_key,
    publish,
    register,
    status_placeholder,
    store,
)
from dashboard.live.watch import split_key

from .filters import STATUSES
from .forms import transitions
from .templatetags.task_display import RECORD_TYPES, journal_view

logger = logging.getLogger(__name__)

BOARD = "board"
TASK = "task"
JOURNAL = "journal"

BOARD_PAGE = 1000  # ListBacklogTasks' maximum: one call per interval up to 1000 tasks
EXECUTIONS_SHOWN = 50  # as many as the task page shows
JOURNAL_PAGE = 100  # ListJournalRecords' maximum
JOURNAL_MAX_PAGES = 20  # a journal is watched up to its first 2000 records
COUNTS = "#counts"  # the board item holding tasks per status (no task id starts with "#")
TASK_ITEM = "task"
EXECUTION_PREFIX = "execution:"

# What a board row shows: the board snapshot keeps only this of each task.
ROW_FIELDS = (
    "taskId",
    "title",
    "taskType",
    "priority",
    "status",
    "statusReason",
    "createdAt",
    "updatedAt",
    "version",
    "reference",
    "primaryTaskId",
    "hasLinkedTasks",
)

# Rendering outside a request: controls render as for an operator (hidden by the page for
# anyone else). {% csrf_token %} gets a marker, and its field is cut out of the fragment.
_NO_TOKEN = "live-fragment-without-token"
_PUSHED = {"can_operate": True, "csrf_token": _NO_TOKEN}
_TOKEN_FIELD = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_NO_TOKEN}">'


def _render(template: str, context: dict[str, Any]) -> str:
    """A pushed fragment: no request, no database, no CSRF field."""
    return render_to_string(template, context).replace(_TOKEN_FIELD, "").strip()


# --- keys and page context -------------------------------------------------------------------


def board_key(space_id: str) -> str:
    return make_key(BOARD, space_id)


def task_key(space_id: str, task_id: str) -> str:
    return make_key(TASK, space_id, task_id)


def journal_key(space_id: str, execution_id: str) -> str:
    return make_key(JOURNAL, space_id, execution_id)


def _notice(make: Any, *parts: str) -> SafeString:
    try:
        return status_placeholder(make(*parts))
    except ValueError:  # an id no key can hold: such a page is never live anyway
        return mark_safe("")


def board_notice(space_id: str) -> SafeString:
    """The board's "live updates delayed" placeholder."""
    return _notice(board_key, space_id)


def task_notice(space_id: str, task_id: str) -> SafeString:
    return _notice(task_key, space_id, task_id)


def journal_notice(space_id: str, execution_id: str) -> SafeString:
    return _notice(journal_key, space_id, execution_id)


# --- board -----------------------------------------------------------------------------------


def board_item(task: Mapping[str, Any]) -> dict[str, Any]:
    """A task as the board snapshot holds it (what the fetch returns, and views publish)."""
    return {name: task.get(name) for name in ROW_FIELDS}


def counts_of(items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return dict(Counter(str(item.get("status")) for item in items))


def watched_counts(space_id: str) -> dict[str, int] | None:
    """Tasks per status from the board watch, while a poller keeps them current (a lease is
    held, so the snapshot is at most one interval old); None when nobody watches the board."""
    key = board_key(space_id)
    if store.lease_holder(key) is None:
        return None
    state = store.load(key)
    items = state["items"] if state else None
    return items.get(COUNTS) if items else None


def fetch_board(space_id: str) -> dict[str, Any]:
    """{taskId: row, ..., "#counts": {status: n}} for the whole space."""
    items: dict[str, Any] = {}
    for task in aws_tasks.iter_tasks(space_id, page_size=BOARD_PAGE):
        items[task["taskId"]] = board_item(task)
    items[COUNTS] = counts_of(items.values())
    return items


def render_board(change: Change) -> str:
    _, (space_id,) = split_key(change.key)
    if change.item_id == COUNTS:
        counts = change.item or {}
        context = {
            "live_counts": [{"status": s, "count": counts.get(s, 0)} for s in STATUSES],
            "total": sum(counts.values()),
        }
        return _render("tasks/board.html#live-counts", context)
    context = {
        **_PUSHED,
        "space_id": space_id,
        "task_id": change.item_id,
        "task": change.item,
        "kind": change.kind,
    }
    return _render("tasks/board.html#live-row", context)


# --- task ------------------------------------------------------------------------------------


def fetch_task(space_id: str, task_id: str) -> dict[str, Any]:
    """{"task": the task, "execution:<id>": execution, ...}."""
    items: dict[str, Any] = {TASK_ITEM: aws_tasks.get_task(space_id, task_id)}
    page = aws_tasks.list_executions(space_id, task_id, limit=EXECUTIONS_SHOWN)
    for execution in page["executions"]:
        execution_id = execution.get("executionId")
        if execution_id:
            items[EXECUTION_PREFIX + str(execution_id)] = execution
    return items


def execution_ids(space_id: str, task_id: str) -> list[str]:
    """The task's executions (newest first): from the task watch's snapshot when there is one
    (no AWS call), else from ListExecutions."""
    state = store.load(task_key(space_id, task_id))
    if state is not None and state["items"] is not None:
        items = state["items"]
    else:
        items = {
            EXECUTION_PREFIX + str(e.get("executionId")): e
            for e in aws_tasks.list_executions(space_id, task_id, limit=EXECUTIONS_SHOWN)[
                "executions"
            ]
        }
    return [key[len(EXECUTION_PREFIX) :] for key in items if key.startswith(EXECUTION_PREFIX)]


def _journal_url(space_id: str, task_id: str, execution_id: str) -> str:
    try:
        return reverse("tasks:journal", args=[space_id, task_id, execution_id])
    except NoReverseMatch:
        return ""


def render_task(change: Change) -> str:
    _, (space_id, task_id) = split_key(change.key)
    if change.kind == DELETED:
        # A task is never deleted; an execution that left the 50 newest stays on the pages.
        return ""
    if change.item_id == TASK_ITEM:
        task = change.item
        html = _render("tasks/detail.html#summary", {"task": task, "oob": True})
        if task.get("status") != "PENDING_CUSTOMER_APPROVAL":
            # Answered, expired or canceled: no approval is waited for any more.
            html += _render("tasks/detail.html#banner", {"approval": None, "oob": True})
            html += _render("tasks/detail.html#actions-approval", {"approval": None, "oob": True})
        previous = change.previous
        if previous is None or any(
            previous.get(name) != task.get(name) for name in ("status", "version")
        ):
            context = {
                **_PUSHED,
                "space_id": space_id,
                "task": task,
                "transitions": transitions(str(task.get("status"))),
                "oob": True,
            }
            html += _render("tasks/form.html#status_panel", context)
        return html
    execution = change.item
    if change.kind == UPDATED:
        return _render("tasks/detail.html#execution-head", {"execution": execution, "oob": True})
    execution_id = str(execution.get("executionId", ""))
    query = {"type": "", "order": "ASC"}
    journal = {
        "execution": execution,
        "records": [],
        "next_token": "",
        "url": _journal_url(space_id, task_id, execution_id),
        "more_url": "",
        "answered": {},
        "query": query,
        "first_page": True,
        "pending": {"messages": [], "error": ""},
        "live_notice": journal_notice(space_id, execution_id),
    }
    context = {
        **_PUSHED,
        "space_id": space_id,
        "task": {"taskId": task_id},
        "journal": journal,
        "query": query,
        "record_types": RECORD_TYPES,
        "live": CREATED,
    }
    return _render("tasks/detail.html#live-execution", context)


# --- journal ---------------------------------------------------------------------------------


def fetch_journal(space_id: str, execution_id: str) -> dict[str, Any]:
    """{recordId: record} in ascending order, up to JOURNAL_MAX_PAGES pages."""
    items: dict[str, Any] = {}
    token = None
    for _ in range(JOURNAL_MAX_PAGES):
        page = aws_tasks.list_journal(
            space_id, execution_id, order="ASC", limit=JOURNAL_PAGE, next_token=token
        )
        for record in page["records"]:
            record_id = record.get("recordId")
            if record_id:
                items[str(record_id)] = record
        token = page.get("nextToken")
        if not token:
            break
    return items


def render_journal(change: Change) -> str:
    _, (_space_id, execution_id) = split_key(change.key)
    record = change.item
    context = {
        **_PUSHED,
        "execution_id": execution_id,
        "record_id": change.item_id,
        "record": record,
        "kind": change.kind,
        "answered": {},
    }
    html = _render("tasks/detail.html#live-record", context)
    if change.kind != CREATED or not isinstance(record, Mapping):
        return html
    return html + _glance_fragments(record)


def _glance_fragments(record: Mapping[str, Any]) -> str:
    """What a new record changes above the journal: the latest line always; the approval
    banner and the Actions panel's approval for a request or an answer; the root cause card;
    the findings list."""
    glance = {**_PUSHED, "oob": True}
    html = _render("tasks/detail.html#latest", {**glance, "latest": record})
    kind = journal_view(record)["kind"]
    if kind in ("approval_request", "approval_response"):
        approval = record if kind == "approval_request" else None
        html += _render("tasks/detail.html#banner", {**glance, "approval": approval})
        html += _render("tasks/detail.html#actions-approval", {**glance, "approval": approval})
    elif kind == "root_cause":
        html += _render("tasks/detail.html#root-cause", {**glance, "root_cause": record})
    elif kind == "finding":
        html += _render("tasks/detail.html#live-finding", {"record": record})
    return html


register(BOARD, fetch=fetch_board, render=render_board)
register(TASK, fetch=fetch_task, render=render_task)
register(JOURNAL, fetch=fetch_journal, render=render_journal)


# --- broadcast on write ----------------------------------------------------------------------


def task_changed(space_id: str, task: dict[str, Any]) -> None:
    """A task changed through the console: tell every open board, task page and inbox at once.

    The board gets the row and (when a snapshot tells the other tasks' statuses) the new
    counts in one message; the task pages get the summary and actions. Both are recorded in
    the snapshots first, so the watcher does not send them again. Never raises: the change is
    made in AWS already.
    """
    task_id = str(task.get("taskId") or "")
    try:
        key = board_key(space_id)
        row = board_item(task)
        state = store.load(key)
        known = state["items"] if state is not None and state["items"] is not None else None
        kind = UPDATED if known is not None and task_id in known else CREATED
        changes = {task_id: row}
        html = render_board(Change(key, kind, task_id, row))
        if known is not None:
            rows = {k: v for k, v in known.items() if k != COUNTS}
            rows[task_id] = row
            counts = counts_of(rows.values())
            if counts != known.get(COUNTS):
                changes[COUNTS] = counts
                html += render_board(Change(key, UPDATED, COUNTS, counts))
        store.merge(key, changes)
    except Exception:
        logger.exception("Could not record the change of task %s on the board", task_id)
    else:
        publish(key, html)
    try:
        key = task_key(space_id, task_id)
        html = render_task(Change(key, UPDATED, TASK_ITEM, task))
        store.merge(key, {TASK_ITEM: task})
    except Exception:
        logger.exception("Could not record the change of task %s", task_id)
    else:
        publish(key, html)
    # The inbox and the overview follow too (triaged, skipped, canceled: it leaves or moves).
    from dashboard.inbox import live as inbox_live

    inbox_live.task_changed(space_id, task)
