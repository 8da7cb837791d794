"""The goal pages: list by status and type with paging, the goal page (description, objectives,
schedule with its human reading, last evaluation and tasks, its recommendations), and the
schedule switch: operators only, the lost-update guard, audited, broadcast."""

from __future__ import annotations

import re

import pytest

from dashboard.aws import prevention as aws
from dashboard.core.models import AuditEntry
from dashboard.prevention import live

from .test_prevention_support import HX, make_goal, make_recs
from .test_views_task_support import form_with_button, forms, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def sid(space) -> str:
    return space["agentSpaceId"]


@pytest.fixture
def broadcasts(monkeypatch):
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(live, "goal_changed", lambda s, goal: sent.append((s, goal)))
    return sent


def _ids(body: str) -> list[str]:
    return re.findall(r'<tr id="goal-([^"]+)" class="goal-row"', body)


def _page(sid: str, goal: dict) -> str:
    return f"/spaces/{sid}/goals/{goal['goalId']}/"


def test_the_list_shows_goals_with_their_schedule_reading(viewer_client, sid):
    weekly = make_goal(sid)
    report = make_goal(
        sid,
        title="Weekly on-call report",
        goal_type="ONCALL_REPORT",
        expression="cron(0 8 ? * MON *)",
    )
    body = text(viewer_client.get(f"/spaces/{sid}/goals/"))
    assert _ids(body) == [weekly["goalId"], report["goalId"]]
    assert "rate(7 days)" in body and "every 7 days" in body
    assert "at 08:00, only on Monday (UTC)" in body and "On-call report" in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"status": "COMPLETE"}, [2]), ({"type": "ONCALL_REPORT"}, [1]), ({}, [0, 1, 2])],
)
def test_the_list_filters_by_status_and_type(viewer_client, sid, params, expected):
    goals = [
        make_goal(sid),
        make_goal(sid, title="Weekly on-call report", goal_type="ONCALL_REPORT"),
        make_goal(sid, title="Done", status="COMPLETE", schedule_state="DISABLED"),
    ]
    body = text(viewer_client.get(f"/spaces/{sid}/goals/", params))
    assert _ids(body) == [goals[i]["goalId"] for i in expected]


def test_the_list_pages(viewer_client, sid, monkeypatch):
    from dashboard.prevention import views_goals

    monkeypatch.setattr(views_goals, "PAGE_SIZE", 2)
    goals = [make_goal(sid, title=f"Goal {n}") for n in range(3)]
    body = text(viewer_client.get(f"/spaces/{sid}/goals/"))
    assert _ids(body) == [g["goalId"] for g in goals[:2]]
    more = re.search(r'hx-get="([^"]*next=[^"]+)"', body).group(1)
    assert _ids(text(viewer_client.get(more, headers=HX))) == [goals[2]["goalId"]]


def test_the_goal_page_shows_content_schedule_and_recommendations(viewer_client, sid):
    goal = make_goal(sid, description="Checkout *times out*.", objectives="- p99 under 500 ms")
    recs = make_recs(sid, 2, goal=goal)
    body = text(viewer_client.get(_page(sid, goal)))
    assert "Checkout <em>times out</em>." in body and "<li>p99 under 500 ms</li>" in body
    assert "rate(7 days)" in body and "Evaluated <strong>every 7 days</strong>" in body
    assert "Next evaluation about" in body
    for rec in recs:
        assert f'id="rec-{rec["recommendationId"]}"' in body
    assert "Never" in body  # not evaluated yet


def test_last_task_and_last_successful_task_link_to_the_board(viewer_client, sid):
    from dashboard.sandbox.models import Goal

    goal = make_goal(sid)
    recs = make_recs(sid, 1, goal=goal)
    Goal.objects.filter(pk=goal["goalId"]).update(
        last_task_id=recs[0]["taskId"], last_successful_task_id=recs[0]["taskId"]
    )
    body = text(viewer_client.get(_page(sid, goal)))
    assert body.count(f"/spaces/{sid}/tasks/{recs[0]['taskId']}/") >= 2
    assert "Evaluate alarm coverage for payments-api" in body


def test_an_unknown_goal_is_404(viewer_client, sid):
    assert viewer_client.get(f"/spaces/{sid}/goals/no-such-goal/").status_code == 404
    assert viewer_client.get(f"/spaces/{sid}/goals/bad%20id/").status_code == 404


# --- the schedule switch -------------------------------------------------------------------------


def test_an_operator_disables_and_enables_the_schedule(operator_client, sid, broadcasts):
    goal = make_goal(sid)
    form = form_with_button(text(operator_client.get(_page(sid, goal))), "Disable the schedule")
    assert form["data"] == {
        "version": str(goal["version"]),
        "seen_state": "ENABLED",
        "state": "DISABLED",
    }
    response = operator_client.post(form["action"], form["data"])
    assert response.status_code == 302
    now = aws.find_goal(sid, goal["goalId"])
    assert (
        now["evaluationSchedule"]["state"] == "DISABLED" and now["version"] == goal["version"] + 1
    )
    assert broadcasts == [(sid, now)]
    entry = AuditEntry.objects.get(operation="UpdateGoal")
    assert entry.detail["evaluationSchedule"] == {"state": "DISABLED"}

    body = text(operator_client.get(response["Location"]))
    assert "Evaluation schedule of" in body and "disabled" in body
    form = form_with_button(body, "Enable the schedule")
    response = operator_client.post(form["action"], form["data"], headers=HX)
    assert response.status_code == 200
    html = text(response)
    assert "<html" not in html and "Disable the schedule" in html
    assert f'id="goal-summary-{goal["goalId"]}"' in html and 'hx-swap-oob="outerHTML"' in html
    assert aws.find_goal(sid, goal["goalId"])["evaluationSchedule"]["state"] == "ENABLED"


def test_a_schedule_changed_meanwhile_is_not_overwritten(operator_client, sid, broadcasts):
    goal = make_goal(sid)
    form = form_with_button(text(operator_client.get(_page(sid, goal))), "Disable the schedule")
    aws.set_goal_schedule(sid, goal["goalId"], "DISABLED")  # someone else, first
    aws.set_goal_schedule(sid, goal["goalId"], "ENABLED")  # ...and back: the version moved
    response = operator_client.post(form["action"], form["data"])
    assert response.status_code == 409
    body = text(response)
    assert "This goal changed since you looked at it" in body and "Nothing was changed" in body
    assert f"<td>{goal['version']}</td><td>{goal['version'] + 2}</td>" in body
    reapply = form_with_button(body, "Re-apply: disable")
    assert reapply["data"]["version"] == str(goal["version"] + 2)
    assert broadcasts == [] and not AuditEntry.objects.exists()
    assert operator_client.post(reapply["action"], reapply["data"]).status_code == 302
    assert aws.find_goal(sid, goal["goalId"])["evaluationSchedule"]["state"] == "DISABLED"


def test_a_change_to_the_same_state_meanwhile_says_there_is_nothing_to_do(operator_client, sid):
    goal = make_goal(sid)
    form = form_with_button(text(operator_client.get(_page(sid, goal))), "Disable the schedule")
    aws.set_goal_schedule(sid, goal["goalId"], "DISABLED")
    body = text(operator_client.post(form["action"], form["data"]))
    assert "It is already disabled: there is nothing to re-apply." in body


def test_a_complete_goal_has_no_switch(operator_client, sid):
    goal = make_goal(sid, status="COMPLETE", schedule_state="DISABLED")
    body = text(operator_client.get(_page(sid, goal)))
    assert "its schedule no longer changes" in body
    assert not [f for f in forms(body) if "/schedule/" in f["action"]]


def test_a_viewer_reads_the_schedule_but_cannot_switch_it(viewer_client, sid):
    goal = make_goal(sid)
    body = text(viewer_client.get(_page(sid, goal)))
    assert "every 7 days" in body and "Disable the schedule" not in body
    response = viewer_client.post(
        f"/spaces/{sid}/goals/{goal['goalId']}/schedule/",
        {"state": "DISABLED", "version": goal["version"], "seen_state": "ENABLED"},
    )
    assert response.status_code == 403
    assert aws.find_goal(sid, goal["goalId"])["evaluationSchedule"]["state"] == "ENABLED"
    assert not AuditEntry.objects.exists()


def test_a_malformed_switch_is_refused(operator_client, sid):
    goal = make_goal(sid)
    response = operator_client.post(
        f"/spaces/{sid}/goals/{goal['goalId']}/schedule/", {"state": "SOMETIMES", "version": "x"}
    )
    assert response.status_code == 400
    assert aws.find_goal(sid, goal["goalId"])["version"] == goal["version"]
