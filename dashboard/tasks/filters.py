"""The board's filter and sort, kept in the URL, and the API's documented restrictions.

ListBacklogTasks rejects some combinations (ValidationException). The board never sends one:
options that would build one are disabled, with the reason, and a hand-edited URL that asks
for one is narrowed (the conflicting part dropped) with a notice saying what was dropped.

The board opens on **open work** (status `OPEN`, the default): the tasks pending triage,
pending start, in progress or waiting for approval, critical and high first, then the oldest.
The API filters by one status at a time and sorts by priority only without a status filter
(or with a task type), so open work is one call per open status (and per task type when a
priority is chosen without one), sorted by creation time, merged and ordered here
(`api_calls()`, `order_key()`). `ALL` is every status, one call sorted by the API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from dashboard.aws.model import input_constraint, service_model
from dashboard.aws.tasks import task_filter

_TASK_ID = input_constraint("devops-agent", "GetBacklogTask", "taskId")

_MODEL = service_model("devops-agent")
PRIORITIES: list[str] = list(_MODEL.shape_for("Priority").enum)
STATUSES: list[str] = list(_MODEL.shape_for("TaskStatus").enum)
TASK_TYPES: list[str] = list(_MODEL.shape_for("TaskType").enum)
SORT_FIELDS = ["CREATED_AT", "PRIORITY"]
ORDERS = ["DESC", "ASC"]
# Work someone still has to look at, in the order a task moves through them.
OPEN_STATUSES = [
    s
    for s in ("PENDING_TRIAGE", "PENDING_START", "IN_PROGRESS", "PENDING_CUSTOMER_APPROVAL")
    if s in STATUSES
]
OPEN = "OPEN"  # the default: every open status, merged by the console
ALL = "ALL"  # every status, as the API lists them
SCOPES = [OPEN, ALL]
RANK = {p: len(PRIORITIES) - i for i, p in enumerate(PRIORITIES)}  # CRITICAL highest

WHY_PRIORITY_AND_STATUS = "Choose a task type to filter by priority and status together."
WHY_NO_PRIORITY_SORT_WITH_DATES = "Sorting by priority can't be combined with a created-date range."
WHY_NO_PRIORITY_SORT_WITHOUT_TYPE = (
    "Sorting by priority needs a task type when filtering by priority or status."
)
WHY_NO_DATES_WITH_PRIORITY_SORT = "A created-date range can't be combined with sorting by priority."


def label(value: str) -> str:
    """CODE_CHANGE_RISK_ANALYSIS → Code change risk analysis."""
    return value.replace("_", " ").capitalize()


def _when(text: str, *, end: bool = False) -> dt.datetime | None:
    if not text:
        return None
    day = parse_date(text) if len(text) == 10 else None
    try:
        if day is not None:
            moment = dt.datetime.combine(day, dt.time.min)
            if end:
                # A date as the upper bound means "through that day" (the API's bound is
                # exclusive).
                moment += dt.timedelta(days=1)
        else:
            moment = parse_datetime(text)
            if moment is None:
                raise ValueError(text)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, dt.UTC)
        return moment.astimezone(dt.UTC)
    except OverflowError:
        # Past the last day a datetime holds (9999-12-31 as an upper bound, or in UTC).
        raise ValueError(text) from None


def default_sort(status: str) -> str:
    """Open work is triage: priority first. A list of one status or all: newest first."""
    return "PRIORITY" if status == OPEN else "CREATED_AT"


@dataclass(frozen=True)
class BoardQuery:
    priority: str = ""
    status: str = OPEN  # OPEN, ALL or one of the API's statuses
    task_type: str = ""
    primary: str = ""
    created_after: str = ""
    created_before: str = ""
    sort: str = "PRIORITY"
    order: str = "DESC"
    notices: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, query: QueryDict | dict[str, str]) -> BoardQuery:
        """Read the URL; unknown values are ignored and conflicting parts dropped, with notices."""
        get = query.get
        notices: list[str] = []

        def pick(name: str, allowed: list[str], default: str = "") -> str:
            value = (get(name) or "").strip().upper()
            if value and value not in allowed:
                notices.append(f"Ignored unknown {name} {value!r}.")
                return default
            return value or default

        # Tasks linked to a primary are LINKED, never open: that list shows every status.
        primary_given = bool((get("primary") or "").strip())
        status = pick("status", SCOPES + STATUSES, ALL if primary_given else OPEN)
        values: dict[str, Any] = {
            "priority": pick("priority", PRIORITIES),
            "status": status,
            "task_type": pick("type", TASK_TYPES),
            "sort": pick("sort", SORT_FIELDS, default_sort(status)),
            "order": pick("order", ORDERS, "DESC"),
            "primary": (get("primary") or "").strip()[:128],
        }
        if values["primary"] and _TASK_ID.errors(values["primary"]):
            notices.append(f"Ignored primary task {values['primary']!r}: not a task id.")
            values["primary"] = ""
        for name, end in (("created_after", False), ("created_before", True)):
            text = (get(name) or "").strip()
            try:
                _when(text, end=end)
            except ValueError:
                notices.append(f"Ignored {name.replace('_', ' ')} {text!r}: not a date.")
                text = ""
            values[name] = text
        query_obj = cls(**values)
        return query_obj._narrowed(notices)

    def _narrowed(self, notices: list[str]) -> BoardQuery:
        q = self
        if q.is_open:
            # Open work is merged and sorted by the console: every combination is allowed.
            return replace(q, notices=tuple(notices))
        if q.priority and q.one_status and not q.task_type:
            notices.append(f"{WHY_PRIORITY_AND_STATUS} Showing priority {q.priority} only.")
            q = replace(q, status=ALL)
        if q.sort == "PRIORITY" and q.has_dates:
            notices.append(f"{WHY_NO_PRIORITY_SORT_WITH_DATES} Sorted by created time instead.")
            q = replace(q, sort="CREATED_AT")
        if q.sort == "PRIORITY" and (q.priority or q.one_status) and not q.task_type:
            notices.append(f"{WHY_NO_PRIORITY_SORT_WITHOUT_TYPE} Sorted by created time instead.")
            q = replace(q, sort="CREATED_AT")
        return replace(q, notices=tuple(notices))

    @property
    def has_dates(self) -> bool:
        return bool(self.created_after or self.created_before)

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def one_status(self) -> str:
        """The one API status filtered by, or "" (open work, all statuses)."""
        return "" if self.status in SCOPES else self.status

    @property
    def is_filtered(self) -> bool:
        """Narrower than its scope (open work, all statuses or one status)."""
        return bool(self.priority or self.task_type or self.primary or self.has_dates)

    @property
    def is_default(self) -> bool:
        return self.params() == {}

    @property
    def statuses(self) -> list[str]:
        """The statuses this query shows (board.js keeps live rows to them)."""
        if self.is_open:
            return OPEN_STATUSES
        return [self.status] if self.one_status else list(STATUSES)

    def active(self) -> list[str]:
        """The filters set, in words, for the folded filter bar's summary."""
        out = []
        if self.task_type:
            out.append(label(self.task_type))
        if self.priority:
            out.append(f"{label(self.priority)} priority")
        if self.created_after or self.created_before:
            out.append(f"created {self.created_after or '…'} to {self.created_before or '…'}")
        if self.primary:
            out.append("linked to one task")
        return out

    def disabled(self) -> dict[str, str]:
        """Controls that would build a rejected request, with the reason shown beside them.
        `one_status`: the single statuses in the status list (open work and all statuses stay
        allowed)."""
        out: dict[str, str] = {}
        if not self.task_type:
            if self.priority:
                out["one_status"] = WHY_PRIORITY_AND_STATUS
            if self.one_status:
                out["priority"] = WHY_PRIORITY_AND_STATUS
        if self.is_open:
            return out  # merged and sorted by the console: any sort, with dates or not
        if self.has_dates:
            out["sort_priority"] = WHY_NO_PRIORITY_SORT_WITH_DATES
        elif (self.priority or self.one_status) and not self.task_type:
            out["sort_priority"] = WHY_NO_PRIORITY_SORT_WITHOUT_TYPE
        if self.sort == "PRIORITY":
            out["dates"] = WHY_NO_DATES_WITH_PRIORITY_SORT
        return out

    def api(self) -> dict[str, Any]:
        """Keyword arguments for dashboard.aws.tasks.list_tasks / iter_tasks (one call: not
        for open work, see `api_calls`)."""
        return {
            "filter": self._filter(self.one_status, self.task_type),
            "sort_field": self.sort,
            "order": self.order,
        }

    def _filter(self, status: str, task_type: str) -> dict[str, Any]:
        return task_filter(
            priority=self.priority,
            status=status,
            task_type=task_type,
            primary_task_id=self.primary,
            created_after=_when(self.created_after),
            created_before=_when(self.created_before, end=True),
        )

    def api_calls(self) -> list[dict[str, Any]]:
        """The calls whose answers, merged, are what this query shows: one for all statuses or
        one status; for open work one per open status, sorted by creation time (the only sort
        a status filter allows), and per task type as well when a priority is chosen without
        one (priority and status together need a type)."""
        if not self.is_open:
            return [self.api()]
        types = [self.task_type] if self.task_type or not self.priority else TASK_TYPES
        return [
            {"filter": self._filter(status, task_type), "sort_field": "CREATED_AT", "order": "ASC"}
            for status in OPEN_STATUSES
            for task_type in types
        ]

    def order_key(self, task: dict[str, Any]) -> tuple[Any, ...]:
        """Where a task of merged open work goes: by priority (highest first, or lowest with
        ASC), then the oldest first; or by creation time alone. The task id breaks ties."""
        created = task.get("createdAt")
        stamp = created.timestamp() if isinstance(created, dt.datetime) else 0.0
        sign = -1 if self.order == "DESC" else 1
        if self.sort == "PRIORITY":
            return (sign * RANK.get(task.get("priority", ""), 0), stamp, task.get("taskId", ""))
        return (sign * stamp, task.get("taskId", ""))

    def params(self, **overrides: str) -> dict[str, str]:
        """The URL parameters that reproduce this query (defaults left out)."""
        values = {
            "priority": self.priority,
            "type": self.task_type,
            "primary": self.primary,
            "created_after": self.created_after,
            "created_before": self.created_before,
            "status": "" if self.status == OPEN else self.status,
            "sort": "" if self.sort == default_sort(self.status) else self.sort,
            "order": "" if self.order == "DESC" else self.order,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v}

    def querystring(self, **overrides: str) -> str:
        return urlencode(self.params(**overrides))
