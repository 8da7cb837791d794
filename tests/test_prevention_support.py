"""Helpers for the prevention tests (no tests here): goals and recommendations made through the
sandbox's own rules, as the service would have made them, and reading what the pages draw."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from dashboard.aws import prevention as aws_prevention

HX = {"HX-Request": "true"}


def _space(space_id: str):  # type: ignore[no-untyped-def]
    from dashboard.sandbox.models import AgentSpace

    return AgentSpace.objects.get(pk=space_id)


def make_goal(space_id: str, **extra: Any) -> dict[str, Any]:
    """A goal with an enabled weekly evaluation schedule (override with `extra`)."""
    from dashboard.sandbox import prevention

    values: dict[str, Any] = {
        "title": "Keep p99 latency of payments-api under 500 ms",
        "description": "Checkout times out when payments-api is slow.",
        "objectives": "- p99 under 500 ms\n- a page within 5 minutes",
        "goal_type": "CUSTOMER_DEFINED",
        "schedule_state": "ENABLED",
        "expression": "rate(7 days)",
        "at": timezone.now() - dt.timedelta(days=1),
        **extra,
    }
    goal = prevention.create_goal(_space(space_id), **values)
    return aws_prevention.find_goal(space_id, goal.goal_id)


def make_recs(
    space_id: str,
    count: int = 3,
    *,
    goal: dict[str, Any] | None = None,
    title: str = "Evaluate alarm coverage for payments-api",
    at: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """`count` recommendations filed by a (finished) evaluation task, as boto3 returns them."""
    from dashboard.sandbox import prevention, tasks
    from dashboard.sandbox.models import Goal

    when = at or timezone.now()
    task = tasks.create_task(
        _space(space_id),
        task_type="EVALUATION",
        title=title,
        priority="MEDIUM",
        at=when,
        status="COMPLETED",
    )
    row = Goal.objects.get(pk=goal["goalId"]) if goal else None
    made = prevention.file_recommendations(task, when, row, count=count, skip_open=False)
    assert len(made) == count, made
    return [aws_prevention.get_recommendation(space_id, r.recommendation_id) for r in made]


def make_rec(space_id: str, **extra: Any) -> dict[str, Any]:
    return make_recs(space_id, 1, **extra)[0]


def set_spec(space_id: str, rec_id: str, spec: str, summary: str | None = None) -> dict:
    """Put `spec` into a recommendation (as the agent would have written it)."""
    from dashboard.sandbox.models import Recommendation

    changes: dict[str, Any] = {"spec": spec}
    if summary is not None:
        changes["summary"] = summary
    Recommendation.objects.filter(pk=rec_id).update(**changes)
    return aws_prevention.get_recommendation(space_id, rec_id)


def rec_page(space_id: str, rec_id: str) -> str:
    return f"/spaces/{space_id}/recommendations/{rec_id}/"


def status_url(space_id: str, rec_id: str) -> str:
    return f"/spaces/{space_id}/recommendations/{rec_id}/status/"


def context_url(space_id: str, rec_id: str) -> str:
    return f"/spaces/{space_id}/recommendations/{rec_id}/context/"
