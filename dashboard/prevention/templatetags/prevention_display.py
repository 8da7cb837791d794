"""Showing recommendations, goals and triggers: tones for badges, schedule readings, and the
parts of a trigger's free-form condition and action (nothing trusts their shape)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from dashboard.core.moments import as_datetime, relative
from dashboard.lib import schedule

register = template.Library()

_REC_TONE = {
    "PROPOSED": "triage",
    "ACCEPTED": "active",
    "UPDATE_IN_PROGRESS": "waiting",
    "COMPLETED": "ok",
    "REJECTED": "muted",
    "CLOSED": "muted",
}
_REC_PRIORITY_TONE = {"HIGH": "failed", "MEDIUM": "waiting", "LOW": "muted"}
_GOAL_TONE = {"ACTIVE": "ok", "PAUSED": "waiting", "COMPLETE": "muted"}
_REC_WORDS = {"UPDATE_IN_PROGRESS": "Being revised"}


@register.filter
def ago(value: Any) -> str:
    """ "5 hours ago" (dashboard/core/moments.py's words, for titles and short lists)."""
    when = as_datetime(value)
    return relative(when) if when else ""


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """`mapping[key]`, or "" (a goal's title by its id, for instance)."""
    if isinstance(mapping, dict):
        return mapping.get(key, "")
    return mapping if isinstance(mapping, str) else ""


@register.filter
def goal_name(rec: Any, titles: Any) -> str:
    """The title of a recommendation's goal: from the page's goals, or carried by a pushed row."""
    if not isinstance(rec, dict):
        return ""
    found = titles.get(rec.get("goalId"), "") if isinstance(titles, dict) else ""
    return str(found or rec.get("goalTitle") or "")


@register.filter
def rec_tone(value: Any) -> str:
    return _REC_TONE.get(str(value), "muted")


@register.filter
def rec_label(value: Any) -> str:
    text = str(value or "")
    return _REC_WORDS.get(text) or text.replace("_", " ").capitalize()


@register.filter
def rec_priority_tone(value: Any) -> str:
    return _REC_PRIORITY_TONE.get(str(value), "muted")


@register.filter
def goal_tone(value: Any) -> str:
    return _GOAL_TONE.get(str(value), "muted")


@register.filter
def trigger_tone(value: Any) -> str:
    return "ok" if str(value) == "Active" else "waiting"


@register.filter
def reading(expression: Any) -> str:
    """The human reading of a schedule expression ("every 7 days"); "" when it has none."""
    return schedule.describe(str(expression or ""))


@register.filter
def schedule_of(trigger: Any) -> str:
    """A trigger's schedule expression (its condition is a union: only schedule exists)."""
    condition = trigger.get("condition") if isinstance(trigger, dict) else None
    scheduled = condition.get("schedule") if isinstance(condition, dict) else None
    value = scheduled.get("expression") if isinstance(scheduled, dict) else None
    return value if isinstance(value, str) else ""


@register.filter
def agent_of(action: Any) -> str:
    """The custom agent a trigger's action runs ("" when the action says otherwise)."""
    task = action.get("task") if isinstance(action, dict) else None
    agent = task.get("agent") if isinstance(task, dict) else None
    return agent if isinstance(agent, str) else ""


@register.filter
def action_type(action: Any) -> str:
    value = action.get("actionType") if isinstance(action, dict) else None
    return value if isinstance(value, str) else ""


@register.filter
def next_run(trigger: Any) -> dt.datetime | None:
    """When an active trigger fires next (rates count from its creation)."""
    if not isinstance(trigger, dict) or trigger.get("status") != "Active":
        return None
    created = trigger.get("createdAt")
    anchor = created if isinstance(created, dt.datetime) else None
    return schedule.next_run(schedule_of(trigger), dt.datetime.now(dt.UTC), anchor=anchor)


@register.filter
def next_evaluation(goal: Any) -> dt.datetime | None:
    """When an enabled goal schedule comes round next (rates count from the last
    evaluation; an estimate: the service does not say)."""
    if not isinstance(goal, dict) or goal.get("status") != "ACTIVE":
        return None
    plan = goal.get("evaluationSchedule")
    if not isinstance(plan, dict) or plan.get("state") != "ENABLED":
        return None
    last = goal.get("lastEvaluatedAt")
    anchor = last if isinstance(last, dt.datetime) else None
    return schedule.next_run(
        str(plan.get("expression") or ""), dt.datetime.now(dt.UTC), anchor=anchor
    )


@register.filter
def goal_changed(rec: Any, goal: Any) -> bool:
    """The goal moved on since the recommendation was made (goalVersion older than now)."""
    if not isinstance(rec, dict) or not isinstance(goal, dict):
        return False
    made, now = rec.get("goalVersion"), goal.get("version")
    return isinstance(made, int) and isinstance(now, int) and made < now


@register.filter
def earlier_versions(rec: Any) -> list[int]:
    """Versions before the current one, newest first (GetRecommendation can read them)."""
    version = rec.get("version") if isinstance(rec, dict) else None
    if not isinstance(version, int) or version < 2:
        return []
    return list(range(version - 1, 0, -1))[:20]
