"""The board's filter and sort, kept in the URL, and the API's documented restrictions.

ListBacklogTasks rejects some combinations (ValidationException). The board never sends one:
options that would build one are disabled, with the reason, and a hand-edited URL that asks
for one is narrowed (the conflicting part dropped) with a notice saying what was dropped.
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
    if day is not None:
        moment = dt.datetime.combine(day, dt.time.min)
        if end:
            # A date as the upper bound means "through that day" (the API's bound is exclusive).
            moment += dt.timedelta(days=1)
    else:
        moment = parse_datetime(text)
        if moment is None:
            raise ValueError(text)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return moment


@dataclass(frozen=True)
class BoardQuery:
    priority: str = ""
    status: str = ""
    task_type: str = ""
    primary: str = ""
    created_after: str = ""
    created_before: str = ""
    sort: str = "CREATED_AT"
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

        values: dict[str, Any] = {
            "priority": pick("priority", PRIORITIES),
            "status": pick("status", STATUSES),
            "task_type": pick("type", TASK_TYPES),
            "sort": pick("sort", SORT_FIELDS, "CREATED_AT"),
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
        if q.priority and q.status and not q.task_type:
            notices.append(f"{WHY_PRIORITY_AND_STATUS} Showing priority {q.priority} only.")
            q = replace(q, status="")
        if q.sort == "PRIORITY" and q.has_dates:
            notices.append(f"{WHY_NO_PRIORITY_SORT_WITH_DATES} Sorted by created time instead.")
            q = replace(q, sort="CREATED_AT")
        if q.sort == "PRIORITY" and (q.priority or q.status) and not q.task_type:
            notices.append(f"{WHY_NO_PRIORITY_SORT_WITHOUT_TYPE} Sorted by created time instead.")
            q = replace(q, sort="CREATED_AT")
        return replace(q, notices=tuple(notices))

    @property
    def has_dates(self) -> bool:
        return bool(self.created_after or self.created_before)

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.priority or self.status or self.task_type or self.primary or self.has_dates
        )

    def disabled(self) -> dict[str, str]:
        """Controls that would build a rejected request, with the reason shown beside them."""
        out: dict[str, str] = {}
        if not self.task_type:
            if self.priority:
                out["status"] = WHY_PRIORITY_AND_STATUS
            if self.status:
                out["priority"] = WHY_PRIORITY_AND_STATUS
        if self.has_dates:
            out["sort_priority"] = WHY_NO_PRIORITY_SORT_WITH_DATES
        elif (self.priority or self.status) and not self.task_type:
            out["sort_priority"] = WHY_NO_PRIORITY_SORT_WITHOUT_TYPE
        if self.sort == "PRIORITY":
            out["dates"] = WHY_NO_DATES_WITH_PRIORITY_SORT
        return out

    def api(self) -> dict[str, Any]:
        """Keyword arguments for dashboard.aws.tasks.list_tasks / iter_tasks."""
        return {
            "filter": task_filter(
                priority=self.priority,
                status=self.status,
                task_type=self.task_type,
                primary_task_id=self.primary,
                created_after=_when(self.created_after),
                created_before=_when(self.created_before, end=True),
            ),
            "sort_field": self.sort,
            "order": self.order,
        }

    def params(self, **overrides: str) -> dict[str, str]:
        """The URL parameters that reproduce this query (defaults left out)."""
        values = {
            "priority": self.priority,
            "status": self.status,
            "type": self.task_type,
            "primary": self.primary,
            "created_after": self.created_after,
            "created_before": self.created_before,
            "sort": "" if self.sort == "CREATED_AT" else self.sort,
            "order": "" if self.order == "DESC" else self.order,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v}

    def querystring(self, **overrides: str) -> str:
        return urlencode(self.params(**overrides))
