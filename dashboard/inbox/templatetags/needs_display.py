"""Template helpers of the inbox and the space overview."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from dashboard.tasks.filters import STATUSES
from dashboard.tasks.templatetags.task_display import label

register = template.Library()


@register.filter
def status_counts(counts: Any) -> list[dict[str, Any]]:
    """Tasks per status as chips, in the model's order of statuses (only those with tasks)."""
    if not isinstance(counts, Mapping):
        return []
    order = list(STATUSES) + sorted(set(counts) - set(STATUSES))
    return [{"status": s, "label": label(s), "count": counts[s]} for s in order if counts.get(s)]
