"""What needs a person now, per agent space: the items of the inbox, read from AWS at most once
per space per poll interval, whoever asks (pages, pollers, processes).

`space_items(space_id)` is the entry point. It returns ``{item_id: item}`` for one space:

``approval:<approvalId>``
    a request the agent waits on (tasks in PENDING_CUSTOMER_APPROVAL, their current
    execution's APPROVAL_REQUEST records without an APPROVAL_RESPONSE);
``task:<taskId>``
    tasks waiting for triage (any type) and investigations queued, running or waiting;
``rootcause:<taskId>``
    investigations completed in the last 24 hours with a ROOT_CAUSE record;
``failed:<taskId>``
    tasks that failed or timed out in the last 24 hours;
``rec:<recommendationId>``
    recommendations proposed in the last 24 hours that nobody answered yet;
``#counts``
    tasks per status (for the space overview).

Cost per space: ListBacklogTasks (one call per 1,000 tasks) and ListRecommendations; journal
reads only for what changed: a waiting task's approval requests are read once per task version
(the version moves with every visible change), a completed investigation's root cause once.
The result is kept in the shared cache with the moment it was read: anyone asking within
`fresh_seconds()` (0.9 of LIVE_POLL_INTERVAL) gets it without a call, and a lock makes
concurrent askers wait for one read instead of each making their own.

Items are plain data (no URLs, no "5 minutes ago"), so two reads of an unchanged space compare
equal and the live watchers send nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone

from dashboard.aws import configuration as aws_configuration
from dashboard.aws import errors
from dashboard.aws import prevention as aws_prevention
from dashboard.aws import spaces as aws_spaces
from dashboard.aws import tasks as aws_tasks
from dashboard.tasks.templatetags.task_display import journal_view

logger = logging.getLogger(__name__)

T = TypeVar("T")

APPROVAL = "approval"
INVESTIGATION = "investigation"
ROOT_CAUSE = "root_cause"
FAILED = "failed"
RECOMMENDATION = "recommendation"
COUNTS = "#counts"
KINDS = (APPROVAL, INVESTIGATION, ROOT_CAUSE, FAILED, RECOMMENDATION)

RECENT = dt.timedelta(hours=24)  # root causes and failures this recent are shown
PROPOSED_RECENT = dt.timedelta(hours=24)  # recommendations proposed this recently
TASK_PAGE = 1000  # ListBacklogTasks' maximum
RECOMMENDATION_PAGE = 100  # ListRecommendations' maximum
APPROVAL_PAGE = 20  # the newest approval requests of an execution looked at
RESPONSE_PAGE = 100  # ListJournalRecords' maximum
SUMMARY_CHARS = 240  # a root cause's summary is cut to this in the inbox
ARGUMENT_CHARS = 4000  # arguments larger than this (as JSON) are shown on the task page only

WAITING = "PENDING_CUSTOMER_APPROVAL"
WORKING = ("PENDING_START", "IN_PROGRESS", "WAITING")
FAILED_STATUSES = ("FAILED", "TIMED_OUT")
RANK = {"CRITICAL": 5, "HIGH": 4, "MEDIUM": 3, "LOW": 2, "MINIMAL": 1}

_JOURNAL_TTL = 2 * 24 * 3600  # journal reads kept per task version: they never change
_NAME_TTL = 3600


# --- freshness ----------------------------------------------------------------------------


def interval() -> float:
    return float(getattr(settings, "LIVE_POLL_INTERVAL", 5.0))


def fresh_seconds() -> float:
    """How old a read may be and still count as this interval's (a poller's next tick comes a
    full interval after its last, so 0.9 of it never serves one poll's data to the next)."""
    return 0.9 * interval()


def _ttl() -> int:
    # The cache keeps reads a little longer than they are fresh (whole seconds: Redis).
    return max(2, int(2 * interval()) + 1)


def shared(key: str, read: Callable[[], T]) -> T:
    """`read()`'s result, read at most once per fresh_seconds() across processes (`key` names
    it in the shared cache)."""
    now = time.time()
    found = cache.get(key)
    if found is not None and now - found["at"] < fresh_seconds():
        return found["value"]
    lock = f"{key}:lock"
    token = uuid.uuid4().hex
    if not cache.add(lock, token, 30):
        # Another tab or process is reading it now: its answer comes in a moment.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.05)
            found = cache.get(key)
            if found is not None and time.time() - found["at"] < fresh_seconds():
                return found["value"]
            if cache.get(lock) is None:
                break
    try:
        started = time.time()
        value = read()
        cache.set(key, {"at": started, "value": value}, _ttl())
        return value
    finally:
        if cache.get(lock) == token:
            cache.delete(lock)


def forget(space_id: str) -> None:
    """A change made through the console: the next reader reads the space again."""
    cache.delete(_space_key(space_id))


def _space_key(space_id: str) -> str:
    return f"needs:space:{space_id}"


# --- spaces ---------------------------------------------------------------------------------


def spaces() -> list[dict[str, str]]:
    """Every agent space as {"agentSpaceId", "name"}, by name; read once per interval."""

    def read() -> list[dict[str, str]]:
        found = [
            {"agentSpaceId": str(s["agentSpaceId"]), "name": str(s.get("name") or "")}
            for s in aws_spaces.all_spaces()
        ]
        cache.set_many({_name_key(s["agentSpaceId"]): s["name"] for s in found}, _NAME_TTL)
        return sorted(found, key=lambda s: (s["name"].lower(), s["agentSpaceId"]))

    return shared("needs:spaces", read)


def _name_key(space_id: str) -> str:
    return f"needs:name:{space_id}"


def space_name(space_id: str) -> str:
    name = cache.get(_name_key(space_id))
    if name is None:
        name = str(aws_spaces.get_space(space_id).get("name") or "")
        cache.set(_name_key(space_id), name, _NAME_TTL)
    return name


def usage() -> dict[str, Any]:
    """The account's usage this month (GetAccountUsage), read once per interval."""
    return shared("needs:usage", aws_configuration.get_account_usage)


# --- one space --------------------------------------------------------------------------------


def space_items(space_id: str) -> dict[str, Any]:
    """The space's items, read at most once per interval (see the module docstring)."""
    return shared(_space_key(space_id), lambda: fetch_space(space_id))


def gather(space_ids: Iterable[str]) -> dict[str, dict[str, Any] | errors.AwsError]:
    """`space_items` of several spaces, side by side (INBOX_FETCH_THREADS at once); a space
    AWS would not read gives its error instead of items."""

    def one(space_id: str) -> dict[str, Any] | errors.AwsError:
        try:
            return space_items(space_id)
        except errors.AwsError as exc:
            return exc

    ids = list(space_ids)
    return dict(zip(ids, _map(one, ids), strict=True))


def _map(fn: Callable[[str], T], values: list[str]) -> list[T]:
    threads = int(getattr(settings, "INBOX_FETCH_THREADS", 8))
    if threads <= 1 or len(values) <= 1:
        return [fn(v) for v in values]

    def run(value: str) -> T:
        # The sandbox answers through the ORM in this thread: no connection outlives the call.
        close_old_connections()
        try:
            return fn(value)
        finally:
            close_old_connections()

    with ThreadPoolExecutor(max_workers=min(threads, len(values))) as pool:
        return list(pool.map(run, values))


def fetch_space(space_id: str) -> dict[str, Any]:
    """Read the space from AWS now (use `space_items`, which shares the read)."""
    name = space_name(space_id)
    now = timezone.now()
    items: dict[str, Any] = {}
    counts: Counter[str] = Counter()
    for task in aws_tasks.iter_tasks(space_id, page_size=TASK_PAGE):
        status = str(task.get("status") or "")
        counts[status] += 1
        for item_id, item in _task_items(space_id, task, now):
            items[item_id] = {"spaceId": space_id, "spaceName": name, **item}
    page = aws_prevention.list_recommendations(
        space_id, status="PROPOSED", limit=RECOMMENDATION_PAGE
    )
    for rec in page["recommendations"]:
        created = rec.get("createdAt")
        if not isinstance(created, dt.datetime) or now - created > PROPOSED_RECENT:
            continue
        items[f"rec:{rec['recommendationId']}"] = {
            "kind": RECOMMENDATION,
            "spaceId": space_id,
            "spaceName": name,
            "recommendationId": str(rec["recommendationId"]),
            "title": str(rec.get("title") or ""),
            "priority": str(rec.get("priority") or ""),
            "taskId": str(rec.get("taskId") or ""),
            "goalId": str(rec.get("goalId") or ""),
            "at": created,
        }
    items[COUNTS] = dict(counts)
    return items


def _base(task: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "taskId": str(task["taskId"]),
        "title": str(task.get("title") or ""),
        "priority": str(task.get("priority") or ""),
        "taskType": str(task.get("taskType") or ""),
        "status": str(task.get("status") or ""),
    }


def _task_items(
    space_id: str, task: Mapping[str, Any], now: dt.datetime
) -> list[tuple[str, dict[str, Any]]]:
    status = str(task.get("status") or "")
    task_type = task.get("taskType")
    task_id = str(task["taskId"])
    updated = task.get("updatedAt")
    recent = isinstance(updated, dt.datetime) and now - updated <= RECENT
    if status == WAITING:
        found = [
            (f"approval:{a['approvalId']}", {"kind": APPROVAL, **_base(task), **a})
            for a in approvals(space_id, task)
        ]
        if found:
            return found
        # Waiting, but its request could not be found (yet): it still needs someone.
    if status in (WAITING, "PENDING_TRIAGE") or (
        task_type == "INVESTIGATION" and status in WORKING
    ):
        item = {
            "kind": INVESTIGATION,
            **_base(task),
            "statusReason": str(task.get("statusReason") or ""),
            "at": task.get("createdAt"),
            "updatedAt": updated,
        }
        return [(f"task:{task_id}", item)]
    if status == "COMPLETED" and task_type == "INVESTIGATION" and recent:
        cause = root_cause(space_id, task)
        if cause is not None:
            return [(f"rootcause:{task_id}", {"kind": ROOT_CAUSE, **_base(task), **cause})]
        return []
    if status in FAILED_STATUSES and recent:
        item = {
            "kind": FAILED,
            **_base(task),
            "statusReason": str(task.get("statusReason") or ""),
            "at": updated,
        }
        return [(f"failed:{task_id}", item)]
    return []


# --- journal reads, once per task version -------------------------------------------------


def _journal_key(what: str, task: Mapping[str, Any]) -> str:
    return f"needs:{what}:{task.get('executionId')}:{task.get('version')}"


def approvals(space_id: str, task: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The unanswered approval requests of the task's current execution, oldest first."""
    execution_id = task.get("executionId")
    if not execution_id:
        return []
    key = _journal_key("approvals", task)
    found = cache.get(key)
    if found is not None:
        return found
    asked = aws_tasks.list_journal(
        space_id,
        str(execution_id),
        record_type="APPROVAL_REQUEST",
        order="DESC",
        limit=APPROVAL_PAGE,
    )["records"]
    answered = answered_ids(space_id, str(execution_id)) if asked else set()
    out = []
    for record in reversed(asked):
        view = journal_view(record)
        if view["kind"] != "approval_request" or view["approvalId"] in answered:
            continue
        arguments = view.get("arguments")
        out.append(
            {
                "approvalId": view["approvalId"],
                "executionId": str(execution_id),
                "recordId": str(record.get("recordId") or ""),
                "tool": view.get("tool") or "",
                "arguments": arguments if _small(arguments) else None,
                "argumentsCut": not _small(arguments),
                "reason": view.get("reason") or "",
                "ttlSecondsAllowed": view["ttlSecondsAllowed"],
                "singleUseAllowed": view["singleUseAllowed"],
                "expiresAt": view.get("expires"),
                "at": record.get("createdAt"),
            }
        )
    if out:
        # Not an empty answer: the request may be written a moment after the status changed.
        cache.set(key, out, _JOURNAL_TTL)
    return out


def answered_ids(space_id: str, execution_id: str) -> set[str]:
    records = aws_tasks.list_journal(
        space_id, execution_id, record_type="APPROVAL_RESPONSE", order="DESC", limit=RESPONSE_PAGE
    )["records"]
    out = set()
    for record in records:
        view = journal_view(record)
        if view["kind"] == "approval_response":
            out.add(view["approvalId"])
    return out


def _small(value: Any) -> bool:
    try:
        return len(json.dumps(value, default=str)) <= ARGUMENT_CHARS
    except (TypeError, ValueError):
        return False


def root_cause(space_id: str, task: Mapping[str, Any]) -> dict[str, Any] | None:
    """The newest ROOT_CAUSE record of the task's current execution, cut down; None if none."""
    execution_id = task.get("executionId")
    if not execution_id:
        return None
    key = _journal_key("rootcause", task)
    found = cache.get(key)
    if found is not None:
        return found["cause"]
    records = aws_tasks.list_journal(
        space_id, str(execution_id), record_type="ROOT_CAUSE", order="DESC", limit=1
    )["records"]
    cause = None
    if records:
        record = records[0]
        view = journal_view(record)
        if view["kind"] == "root_cause":
            summary = view.get("summary") or ""
            cause = {
                "rootCause": view.get("title") or "",
                "confidence": view.get("confidence") or "",
                "summary": summary[:SUMMARY_CHARS] + ("…" if len(summary) > SUMMARY_CHARS else ""),
                "executionId": str(execution_id),
                "recordId": str(record.get("recordId") or ""),
                "at": record.get("createdAt"),
            }
    # A completed investigation without a root cause stays so; still, look again now and then.
    cache.set(key, {"cause": cause}, _JOURNAL_TTL if cause else 600)
    return cause


# --- reading items ------------------------------------------------------------------------


def sort_key(item: Mapping[str, Any]) -> tuple[Any, ...]:
    """The order within a section: approvals soonest to lapse first (then oldest), work by
    priority (critical and high first) then oldest first, the rest newest first."""
    at = item.get("at")
    stamp = at.timestamp() if isinstance(at, dt.datetime) else 0.0
    kind = item.get("kind")
    if kind == APPROVAL:
        expires = item.get("expiresAt")
        lapse = expires.timestamp() if isinstance(expires, dt.datetime) else float("inf")
        return (lapse, stamp)
    if kind == INVESTIGATION:
        return (-RANK.get(str(item.get("priority")), 0), stamp)
    return (-stamp,)
