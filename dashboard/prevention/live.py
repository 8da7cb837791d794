"""Live updates of the prevention pages, through dashboard.live (one poller per watched key
per LIVE_POLL_INTERVAL, however many tabs or processes watch; changes made through the
console are published at once by the views).

The watches (fetch in the AWS thread pool; render touches no database):

``recs:<spaceId>``
    fetch: every recommendation of the space (ListRecommendations, pages of 100), cut down to
    what a row shows. render: the row (``prevention/recommendations.html#row``) appended to
    ``#rec-rows`` marked ``data-live``; static/js/prevention.js replaces the tab's copy, puts
    new rows on top and drops rows the tab's filter excludes.
``rec:<spaceId>:<recommendationId>``
    fetch: GetRecommendation, and its goal (ListGoals) for the goal-changed notice.
    render: the summary, the spec (when the version changed) and the actions, out of band.
``goals:<spaceId>``
    fetch: every goal (ListGoals). render: the row appended to ``#goal-rows`` like above.
``goal:<spaceId>:<goalId>``
    fetch: the goal (ListGoals: there is no GetGoal) and its recommendations (up to 100).
    render: the goal's summary and schedule panel out of band; its recommendations' rows
    appended to ``#goal-rec-rows``.
``triggers:<spaceId>``
    fetch: every trigger (ListTriggers). render: rows appended to ``#trigger-rows``
    (deleted ones marked ``data-live="deleted"``).
``trigger:<spaceId>:<triggerId>``
    fetch: GetTrigger ({} once it is gone). render: the summary and actions out of band, or
    the notice that it was deleted.

Fragments go to a group: operator and admin controls in them are marked ``operator-only`` /
``admin-only`` and shown only inside a live region whose page says the user may use them;
forms in them carry no CSRF field (htmx sends the page's token in a header).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from dashboard.aws import errors
from dashboard.aws import prevention as aws_prevention
from dashboard.live import (
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

from .forms import rec_transitions

logger = logging.getLogger(__name__)

RECS, REC, GOALS, GOAL, TRIGGERS, TRIGGER = "recs", "rec", "goals", "goal", "triggers", "trigger"
REC_ITEM, GOAL_ITEM, TRIGGER_ITEM = "rec", "goal", "trigger"
GOAL_RECS = 100  # a goal page shows its 100 newest recommendations
REC_PREFIX = "rec:"

# What a recommendation row shows: the list snapshot keeps only this.
REC_ROW = (
    "recommendationId",
    "title",
    "status",
    "priority",
    "rankPosition",
    "goalId",
    "taskId",
    "createdAt",
    "updatedAt",
    "version",
)

_NO_TOKEN = "live-fragment-without-token"
_PUSHED = {"can_operate": True, "can_admin": True, "csrf_token": _NO_TOKEN}
_TOKEN_FIELD = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_NO_TOKEN}">'


def _render(template: str, context: dict[str, Any]) -> str:
    return render_to_string(template, {**_PUSHED, **context}).replace(_TOKEN_FIELD, "").strip()


def key(name: str, *parts: str) -> str:
    return make_key(name, *parts)


def notice(name: str, *parts: str) -> SafeString:
    """The page's "live updates delayed" placeholder ("" for ids no key can hold)."""
    try:
        return status_placeholder(make_key(name, *parts))
    except ValueError:
        return mark_safe("")


def rec_row(rec: Mapping[str, Any], goal_title: str = "") -> dict[str, Any]:
    """A recommendation as a list row shows it (with its goal's title when known)."""
    out = {name: rec.get(name) for name in REC_ROW}
    summary = str((rec.get("content") or {}).get("summary") or rec.get("summary") or "")
    out["summary"] = summary[:300]
    out["goalTitle"] = goal_title or rec.get("goalTitle") or ""
    return out


# --- recommendations -------------------------------------------------------------------------


def fetch_recs(space_id: str) -> dict[str, Any]:
    titles = {g["goalId"]: g.get("title", "") for g in aws_prevention.iter_goals(space_id)}
    return {
        rec["recommendationId"]: rec_row(rec, titles.get(rec.get("goalId") or "", ""))
        for rec in aws_prevention.iter_recommendations(space_id)
    }


def render_recs(change: Change) -> str:
    _, (space_id,) = split_key(change.key)
    context = {
        "space_id": space_id,
        "rec_id": change.item_id,
        "rec": change.item,
        "kind": change.kind,
        "goal_titles": {},  # the row carries its goal's title
    }
    return _render("prevention/recommendations.html#live-row", context)


def _goal_of(space_id: str, rec: Mapping[str, Any]) -> dict[str, Any] | None:
    goal_id = rec.get("goalId")
    if not goal_id:
        return None
    try:
        goal = aws_prevention.find_goal(space_id, str(goal_id))
    except errors.NotFound:
        return {"goalId": goal_id, "missing": True}
    return {k: goal.get(k) for k in ("goalId", "title", "version", "updatedAt", "status")}


def fetch_rec(space_id: str, rec_id: str) -> dict[str, Any]:
    """{"rec": the recommendation with its goal's version under "_goal"}."""
    rec = aws_prevention.get_recommendation(space_id, rec_id)
    return {REC_ITEM: {**rec, "_goal": _goal_of(space_id, rec)}}


def render_rec(change: Change) -> str:
    _, (space_id, _rec_id) = split_key(change.key)
    if change.kind == DELETED or change.item is None:
        return ""
    rec = dict(change.item)
    goal = rec.pop("_goal", None)
    context = {
        "space_id": space_id,
        "rec": rec,
        "goal": goal,
        "transitions": rec_transitions(str(rec.get("status"))),
        "oob": True,
    }
    html = _render("prevention/recommendation.html#summary", context)
    previous = change.previous or {}
    if previous.get("version") != rec.get("version"):
        html += _render("prevention/recommendation.html#spec", context)
        html += _render("prevention/recommendation.html#actions", context)
    return html


# --- goals -----------------------------------------------------------------------------------


def fetch_goals(space_id: str) -> dict[str, Any]:
    return {goal["goalId"]: goal for goal in aws_prevention.iter_goals(space_id)}


def render_goals(change: Change) -> str:
    _, (space_id,) = split_key(change.key)
    context = {
        "space_id": space_id,
        "goal_id": change.item_id,
        "goal": change.item,
        "kind": change.kind,
    }
    return _render("prevention/goals.html#live-row", context)


def fetch_goal(space_id: str, goal_id: str) -> dict[str, Any]:
    items: dict[str, Any] = {GOAL_ITEM: aws_prevention.find_goal(space_id, goal_id)}
    page = aws_prevention.list_recommendations(space_id, goal_id=goal_id, limit=GOAL_RECS)
    for rec in page["recommendations"]:
        items[REC_PREFIX + rec["recommendationId"]] = rec_row(rec)
    return items


def render_goal(change: Change) -> str:
    _, (space_id, _goal_id) = split_key(change.key)
    if change.item_id == GOAL_ITEM:
        if change.item is None:
            return ""
        context = {"space_id": space_id, "goal": change.item, "oob": True}
        return _render("prevention/goal.html#summary", context) + _render(
            "prevention/goal.html#schedule", context
        )
    context = {
        "space_id": space_id,
        "rec_id": change.item_id[len(REC_PREFIX) :],
        "rec": change.item,
        "kind": change.kind,
        "rows_id": "goal-rec-rows",
        "hide_goal": True,
    }
    return _render("prevention/recommendations.html#live-row", context)


# --- triggers --------------------------------------------------------------------------------


def fetch_triggers(space_id: str) -> dict[str, Any]:
    return {t["triggerId"]: t for t in aws_prevention.iter_triggers(space_id)}


def render_triggers(change: Change) -> str:
    _, (space_id,) = split_key(change.key)
    context = {
        "space_id": space_id,
        "trigger_id": change.item_id,
        "trigger": change.item,
        "kind": change.kind,
    }
    return _render("prevention/triggers.html#live-row", context)


def fetch_trigger(space_id: str, trigger_id: str) -> dict[str, Any]:
    try:
        return {TRIGGER_ITEM: aws_prevention.get_trigger(space_id, trigger_id)}
    except errors.NotFound:
        return {}  # deleted: the diff says so


def render_trigger(change: Change) -> str:
    _, (space_id, trigger_id) = split_key(change.key)
    context = {"space_id": space_id, "trigger": change.item, "trigger_id": trigger_id, "oob": True}
    if change.kind == DELETED or change.item is None:
        return _render("prevention/trigger.html#gone", context)
    return _render("prevention/trigger.html#summary", context) + _render(
        "prevention/trigger.html#actions", context
    )


register(RECS, fetch=fetch_recs, render=render_recs)
register(REC, fetch=fetch_rec, render=render_rec)
register(GOALS, fetch=fetch_goals, render=render_goals)
register(GOAL, fetch=fetch_goal, render=render_goal)
register(TRIGGERS, fetch=fetch_triggers, render=render_triggers)
register(TRIGGER, fetch=fetch_trigger, render=render_trigger)


# --- broadcast on write ----------------------------------------------------------------------


def _send(watch_key: str, item_id: str, item: Any, render: Any) -> None:
    """Record one changed item in the key's snapshot and publish its fragment. Never raises:
    the change is made in AWS already."""
    try:
        state = store.load(watch_key)
        known = state["items"] if state is not None else None
        if item is None:
            kind = DELETED
        elif known is not None and item_id not in known:
            kind = "created"
        else:
            kind = UPDATED
        previous = known.get(item_id) if known else None
        html = render(Change(watch_key, kind, item_id, item, previous))
        store.merge(watch_key, {item_id: item})
    except Exception:
        logger.exception("Could not record a live change of %s in %s", item_id, watch_key)
        return
    publish(watch_key, html)


def recommendation_changed(space_id: str, rec: dict[str, Any]) -> None:
    """A recommendation changed through the console: its list, its page and its goal's page."""
    rec_id = str(rec.get("recommendationId") or "")
    list_key = key(RECS, space_id)
    _send(list_key, rec_id, rec_row(rec, _known_goal_title(list_key, rec_id)), render_recs)
    try:
        detail_key = key(REC, space_id, rec_id)
        state = store.load(detail_key)
        previous = (state["items"] or {}).get(REC_ITEM) if state else None
        goal = previous.get("_goal") if isinstance(previous, dict) else None
        if goal is None and rec.get("goalId") and state is not None:
            goal = _goal_of(space_id, rec)
        _send(detail_key, REC_ITEM, {**rec, "_goal": goal}, render_rec)
    except Exception:
        logger.exception("Could not publish the change of recommendation %s", rec_id)
    if rec.get("goalId"):
        _send(
            key(GOAL, space_id, str(rec["goalId"])), REC_PREFIX + rec_id, rec_row(rec), render_goal
        )


def _known_goal_title(list_key: str, rec_id: str) -> str:
    try:
        state = store.load(list_key)
        row = (state["items"] or {}).get(rec_id) if state else None
    except Exception:
        return ""
    return str(row.get("goalTitle") or "") if isinstance(row, dict) else ""


def goal_changed(space_id: str, goal: dict[str, Any]) -> None:
    goal_id = str(goal.get("goalId") or "")
    _send(key(GOALS, space_id), goal_id, goal, render_goals)
    _send(key(GOAL, space_id, goal_id), GOAL_ITEM, goal, render_goal)


def trigger_changed(space_id: str, trigger_id: str, trigger: dict[str, Any] | None) -> None:
    """A trigger was created, changed or (None) deleted through the console."""
    _send(key(TRIGGERS, space_id), trigger_id, trigger, render_triggers)
    _send(key(TRIGGER, space_id, trigger_id), TRIGGER_ITEM, trigger, render_trigger)
