"""Per-row facts of the board, worked out in Python once per row.

The board row partial is rendered for every task of a page and for every live push; resolving
URLs, date formats and an include per row in the template language cost ~0.23 ms a row
(bench/board_render.py), most of a 200-row page.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from dashboard.core.moments import moment_html

register = template.Library()

_RANK = {"CRITICAL": 5, "HIGH": 4, "MEDIUM": 3, "LOW": 2, "MINIMAL": 1}


def _words(value: Any) -> str:
    """PENDING_CUSTOMER_APPROVAL → Pending customer approval (as the `human` filter)."""
    text = str(value or "")
    return text.replace("_", " ").capitalize()


@functools.lru_cache(maxsize=1024)
def _tasks_prefix(space_id: str) -> str:
    """/spaces/<space_id>/tasks/ — a task's page is this plus its id and a slash."""
    return reverse("tasks:board", args=[space_id])


@register.filter
def board_row(task: dict[str, Any], space_id: str) -> dict[str, Any]:
    prefix = _tasks_prefix(str(space_id))
    created = task.get("createdAt")
    facts: dict[str, Any] = {
        "url": f"{prefix}{quote(str(task.get('taskId', '')), safe='')}/",
        "primary_url": (
            f"{prefix}{quote(str(task['primaryTaskId']), safe='')}/"
            if task.get("primaryTaskId")
            else ""
        ),
        "linked_url": f"{prefix}?primary={quote(str(task.get('taskId', '')), safe='')}",
        "rank": _RANK.get(str(task.get("priority", "")), 0),
        "type": _words(task.get("taskType")) or "—",
        "priority": _words(task.get("priority")),
        "status": _words(task.get("status")),
        "priority_class": str(task.get("priority", "")).lower(),
        "status_class": str(task.get("status", "")).lower(),
        "created_iso": "",
        "created_us": "",
        "moment": "",
    }
    if isinstance(created, dt.datetime):
        local = timezone.localtime(created) if timezone.is_aware(created) else created
        facts.update(
            created_iso=local.isoformat(),
            created_us=date_format(local, "Uu"),
            moment=moment_html(created),
        )
    return facts
