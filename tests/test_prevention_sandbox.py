"""The sandbox's recommendations, goals and triggers, through boto3 as the console calls them:
filters and paging, each status transition and refusal, versions (and earlier versions),
more context → UPDATE_IN_PROGRESS → PROPOSED with a revised spec, scheduled goal evaluations
filing recommendations over time, the goal schedule switch, and triggers' checks."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.aws import errors
from dashboard.aws import prevention as aws
from dashboard.aws import tasks as aws_tasks
from dashboard.aws.clients import client
from tests.model_support import enum, missing

from .test_prevention_support import make_goal, make_rec, make_recs

pytestmark = pytest.mark.django_db


@pytest.fixture
def sid(space) -> str:
    return space["agentSpaceId"]


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


# --- listing -----------------------------------------------------------------------------------


def test_recommendations_are_filtered_by_status_priority_task_and_goal(sid):
    goal = make_goal(sid)
    from_goal = make_recs(sid, 3, goal=goal)
    other = make_recs(sid, 2, title="Evaluate the failover runbook for ledger-service")
    aws.update_recommendation(sid, other[0]["recommendationId"], status="ACCEPTED")

    def ids(**filters):
        return {
            r["recommendationId"]
            for r in aws.list_recommendations(sid, **filters)["recommendations"]
        }

    assert ids() == {r["recommendationId"] for r in from_goal + other}
    assert ids(goal_id=goal["goalId"]) == {r["recommendationId"] for r in from_goal}
    assert ids(task_id=other[0]["taskId"]) == {r["recommendationId"] for r in other}
    assert ids(status="ACCEPTED") == {other[0]["recommendationId"]}
    high = {r["recommendationId"] for r in from_goal + other if r["priority"] == "HIGH"}
    assert ids(priority="HIGH") == high
    assert ids(status="ACCEPTED", task_id=from_goal[0]["taskId"]) == set()


def test_recommendations_come_in_pages_with_tokens_bound_to_their_filter(sid):
    made = []
    for n in range(4):
        made += make_recs(sid, 3, title=f"Evaluate service {n} alarm coverage")
    first = aws.list_recommendations(sid, limit=5)
    assert len(first["recommendations"]) == 5 and first["nextToken"]
    seen = [r["recommendationId"] for r in first["recommendations"]]
    token = first["nextToken"]
    while token:
        page = aws.list_recommendations(sid, limit=5, next_token=token)
        seen += [r["recommendationId"] for r in page["recommendations"]]
        token = page["nextToken"]
    assert sorted(seen) == sorted(r["recommendationId"] for r in made)
    assert len(seen) == len(set(seen)) == 12
    # A token is only good for the filter it was made for.
    with pytest.raises(errors.ValidationFailed):
        aws.list_recommendations(sid, status="PROPOSED", limit=5, next_token=first["nextToken"])


def test_open_recommendations_are_ranked_by_priority(sid):
    recs = make_recs(sid, 3)
    ranked = sorted(
        aws.list_recommendations(sid)["recommendations"], key=lambda r: r["rankPosition"]
    )
    order = {"HIGH": 3, "MEDIUM": 2, "LOW": 1}
    assert [order[r["priority"]] for r in ranked] == sorted(
        (order[r["priority"]] for r in recs), reverse=True
    )
    aws.update_recommendation(sid, ranked[0]["recommendationId"], status="ACCEPTED")
    accepted = aws.get_recommendation(sid, ranked[0]["recommendationId"])
    assert accepted.get("rankPosition") is None  # only open ones are ranked


def test_goals_are_filtered_by_status_and_type_and_paged(sid):
    active = make_goal(sid)
    report = make_goal(sid, title="Weekly on-call report", goal_type="ONCALL_REPORT")
    done = make_goal(sid, title="Old goal", status="COMPLETE", schedule_state="DISABLED")

    def ids(**filters):
        return [g["goalId"] for g in aws.list_goals(sid, **filters)["goals"]]

    assert ids() == [active["goalId"], report["goalId"], done["goalId"]]
    assert ids(goal_type="ONCALL_REPORT") == [report["goalId"]]
    assert ids(status="COMPLETE") == [done["goalId"]]
    page = aws.list_goals(sid, limit=2)
    assert len(page["goals"]) == 2 and page["nextToken"]
    rest = aws.list_goals(sid, limit=2, next_token=page["nextToken"])
    assert [g["goalId"] for g in rest["goals"]] == [done["goalId"]] and rest["nextToken"] is None


# --- status transitions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "final"),
    [
        (["ACCEPTED"], "ACCEPTED"),
        (["REJECTED"], "REJECTED"),
        (["CLOSED"], "CLOSED"),
        (["ACCEPTED", "COMPLETED"], "COMPLETED"),
        (["ACCEPTED", "CLOSED"], "CLOSED"),
    ],
)
def test_each_allowed_transition_raises_the_version_by_one(sid, path, final):
    rec = make_rec(sid)
    version = rec["version"]
    for target in path:
        rec = aws.update_recommendation(sid, rec["recommendationId"], status=target)
        version += 1
        assert rec["status"] == target and rec["version"] == version
    assert aws.get_recommendation(sid, rec["recommendationId"])["status"] == final


@pytest.mark.parametrize("final", ["REJECTED", "CLOSED", "COMPLETED"])
def test_a_final_recommendation_cannot_change_any_more(sid, final):
    rec = make_rec(sid)
    if final == "COMPLETED":
        aws.update_recommendation(sid, rec["recommendationId"], status="ACCEPTED")
    aws.update_recommendation(sid, rec["recommendationId"], status=final)
    with pytest.raises(errors.Conflict, match="cannot change any more"):
        aws.update_recommendation(sid, rec["recommendationId"], status="ACCEPTED")
    with pytest.raises(errors.Conflict):
        aws.update_recommendation(sid, rec["recommendationId"], additional_context="again")


@pytest.mark.parametrize(
    ("before", "target", "message"),
    [
        ([], "COMPLETED", "Cannot change recommendation"),  # complete before accepting
        (["ACCEPTED"], "PROPOSED", "Cannot change recommendation"),  # the agent's status
        (["ACCEPTED"], "REJECTED", "Cannot change recommendation"),
        ([], "UPDATE_IN_PROGRESS", "needs additionalContext"),
    ],
)
def test_transitions_the_service_does_not_allow_are_refused(sid, before, target, message):
    rec = make_rec(sid)
    for step in before:
        rec = aws.update_recommendation(sid, rec["recommendationId"], status=step)
    with pytest.raises(errors.ValidationFailed, match=message):
        aws.update_recommendation(sid, rec["recommendationId"], status=target)
    assert aws.get_recommendation(sid, rec["recommendationId"])["version"] == rec["version"]


def test_more_context_sends_it_back_and_the_agent_proposes_a_revised_spec(sid, clock):
    rec = make_rec(sid)
    rec_id = rec["recommendationId"]
    sent = aws.update_recommendation(
        sid, rec_id, status="UPDATE_IN_PROGRESS", additional_context="We deploy on Tuesdays only."
    )
    assert sent["status"] == "UPDATE_IN_PROGRESS" and sent["version"] == rec["version"] + 1
    assert sent["additionalContext"] == "We deploy on Tuesdays only."
    # While the agent revises, nobody may change it.
    with pytest.raises(errors.Conflict, match="being revised"):
        aws.update_recommendation(sid, rec_id, status="ACCEPTED")

    clock.shift(20)
    assert aws.get_recommendation(sid, rec_id)["status"] == "UPDATE_IN_PROGRESS"
    clock.shift(60)
    revised = aws.get_recommendation(sid, rec_id)
    assert revised["status"] == "PROPOSED" and revised["version"] == rec["version"] + 2
    assert "We deploy on Tuesdays only." in revised["content"]["spec"]
    assert "Revision 1" in revised["content"]["spec"]
    assert revised["content"]["spec"] != rec["content"]["spec"]
    # Every earlier version stays readable as it was.
    first = aws.get_recommendation(sid, rec_id, version=rec["version"])
    assert first["content"]["spec"] == rec["content"]["spec"] and first["status"] == "PROPOSED"
    second = aws.get_recommendation(sid, rec_id, version=rec["version"] + 1)
    assert second["status"] == "UPDATE_IN_PROGRESS"
    with pytest.raises(errors.NotFound):
        aws.get_recommendation(sid, rec_id, version=rec["version"] + 5)
    # And it can be accepted again like any proposal.
    assert aws.update_recommendation(sid, rec_id, status="ACCEPTED")["status"] == "ACCEPTED"


def test_context_with_another_status_is_refused(sid):
    rec = make_rec(sid)
    with pytest.raises(errors.ValidationFailed, match="additionalContext"):
        aws.update_recommendation(
            sid, rec["recommendationId"], status="ACCEPTED", additional_context="why not"
        )


def test_a_repeated_client_token_changes_nothing_twice(sid):
    rec = make_rec(sid)
    devops = client("devops-agent")
    kwargs = {"agentSpaceId": sid, "recommendationId": rec["recommendationId"]}
    first = devops.update_recommendation(**kwargs, status="ACCEPTED", clientToken="t-1")
    again = devops.update_recommendation(**kwargs, status="ACCEPTED", clientToken="t-1")
    assert first["recommendation"]["version"] == again["recommendation"]["version"]
    with pytest.raises(Exception, match="ConflictException"):
        devops.update_recommendation(**kwargs, status="CLOSED", clientToken="t-1")


def test_unknown_recommendations_are_not_found(sid):
    with pytest.raises(errors.NotFound):
        aws.get_recommendation(sid, "no-such-recommendation")
    with pytest.raises(errors.ValidationFailed):
        aws.get_recommendation(sid, "bad id!")


# --- goals over time ---------------------------------------------------------------------------


def test_a_scheduled_goal_files_an_evaluation_that_files_recommendations(sid, clock):
    goal = make_goal(sid, expression="rate(1 day)", at=timezone.now())
    assert aws.list_recommendations(sid, goal_id=goal["goalId"])["recommendations"] == []

    clock.shift(dt.timedelta(days=1, minutes=10))
    now_goal = aws.find_goal(sid, goal["goalId"])
    task = aws_tasks.get_task(sid, now_goal["lastTaskId"])
    assert task["taskType"] == "EVALUATION" and task["status"] == "COMPLETED"
    assert task["metadata"]["goalId"] == goal["goalId"]
    assert now_goal["lastSuccessfulTaskId"] == task["taskId"]
    assert now_goal["lastEvaluatedAt"] is not None
    assert now_goal["version"] > goal["version"]
    recs = aws.list_recommendations(sid, goal_id=goal["goalId"])["recommendations"]
    assert 1 <= len(recs) <= 3
    for rec in recs:
        assert rec["taskId"] == task["taskId"] and rec["status"] == "PROPOSED"
        assert rec["goalVersion"] == now_goal["version"]
        spec = rec["content"]["spec"]
        # Realistic specs: steps, commands, code blocks.
        assert "## Steps" in spec and "```" in spec and rec["content"]["summary"]

    # A day later it runs again; the goal moved on, so older recommendations are behind it.
    clock.shift(dt.timedelta(days=1))
    later_goal = aws.find_goal(sid, goal["goalId"])
    assert later_goal["lastTaskId"] != task["taskId"]
    assert later_goal["version"] > recs[0]["goalVersion"]


def test_a_schedule_not_read_for_weeks_runs_once_not_once_per_missed_period(sid, clock):
    goal = make_goal(sid, expression="rate(1 day)", at=timezone.now())
    clock.shift(dt.timedelta(days=10, minutes=5))
    aws.list_goals(sid)
    evaluations = [
        t
        for t in aws_tasks.iter_tasks(sid)
        if t["taskType"] == "EVALUATION"
        and (t.get("metadata") or {}).get("goalId") == goal["goalId"]
    ]
    assert len(evaluations) == 1


def test_disabling_the_schedule_stops_evaluations_and_enabling_resumes_them(sid, clock):
    goal = make_goal(sid, expression="rate(1 day)", at=timezone.now())
    off = aws.set_goal_schedule(sid, goal["goalId"], "DISABLED")
    assert off["evaluationSchedule"] == {"state": "DISABLED", "expression": "rate(1 day)"}
    assert off["version"] == goal["version"] + 1
    clock.shift(dt.timedelta(days=3))
    assert aws.find_goal(sid, goal["goalId"]).get("lastTaskId") is None

    on = aws.set_goal_schedule(sid, goal["goalId"], "ENABLED")
    assert on["evaluationSchedule"]["state"] == "ENABLED" and on["version"] == off["version"] + 1
    clock.shift(dt.timedelta(days=1, minutes=5))
    assert aws.find_goal(sid, goal["goalId"]).get("lastTaskId")


def test_a_complete_goal_keeps_its_schedule(sid):
    goal = make_goal(sid, status="COMPLETE", schedule_state="DISABLED")
    with pytest.raises(errors.ValidationFailed, match="complete"):
        aws.set_goal_schedule(sid, goal["goalId"], "ENABLED")
    with pytest.raises(errors.NotFound):
        aws.set_goal_schedule(sid, "no-such-goal", "ENABLED")


def test_the_agent_does_not_propose_again_what_is_still_open(sid):
    from dashboard.sandbox import prevention, tasks
    from dashboard.sandbox.models import AgentSpace

    first = make_recs(sid, 3)
    space = AgentSpace.objects.get(pk=sid)
    again = tasks.create_task(
        space,
        task_type="EVALUATION",
        title=first[0]["title"],
        priority="LOW",
        at=timezone.now(),
        status="COMPLETED",
    )
    made = prevention.file_recommendations(again, timezone.now(), count=7)
    open_titles = {r["title"] for r in first}
    assert made and not {r.title for r in made} & open_titles


def test_finished_evaluation_tasks_file_recommendations(sid, clock):
    task = aws_tasks.create_task(
        sid,
        task_type="EVALUATION",
        title="Evaluate alarm coverage for checkout-web",
        priority="LOW",
    )
    clock.shift(dt.timedelta(minutes=10))
    assert aws_tasks.get_task(sid, task["taskId"])["status"] == "COMPLETED"
    recs = aws.list_recommendations(sid, task_id=task["taskId"])["recommendations"]
    assert recs and all(r.get("goalId") is None for r in recs)


def test_reading_a_space_with_nothing_due_stays_one_query(sid, clock):
    make_goal(sid)
    make_recs(sid, 2)
    aws.list_recommendations(sid)
    with CaptureQueriesContext(connection) as queries:
        aws_tasks.list_tasks(sid)
    selects = [q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    # The space, "is anything due?" (tasks, goals, revisions in one), the tasks.
    assert len(selects) == 3, [q["sql"] for q in selects]


# --- triggers ----------------------------------------------------------------------------------

ACTION = {"actionType": "create:task", "task": {"agent": "custom:cost-optimizer"}}


def test_triggers_are_created_listed_paused_and_deleted(sid):
    made = aws.create_trigger(
        sid, trigger_type="TIME_BASED", expression="rate(1 day)", action=ACTION
    )
    assert made["status"] == "Active" and made["type"] == "TIME_BASED"
    assert made["condition"] == {"schedule": {"expression": "rate(1 day)"}}
    assert made["action"] == ACTION
    paused = aws.set_trigger_status(sid, made["triggerId"], "Inactive")
    assert paused["status"] == "Inactive" and paused["updatedAt"] >= made["updatedAt"]
    assert [t["triggerId"] for t in aws.list_triggers(sid, status="Inactive")["triggers"]] == [
        made["triggerId"]
    ]
    assert aws.list_triggers(sid, status="Active")["triggers"] == []
    aws.delete_trigger(sid, made["triggerId"])
    with pytest.raises(errors.NotFound):
        aws.get_trigger(sid, made["triggerId"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"expression": "rate(1 days)"}, "condition.schedule.expression"),
        ({"expression": "cron(0 9 * * MON *)"}, "condition.schedule.expression"),
        ({"trigger_type": "EVENT_BASED"}, "type"),
        ({"action": {"task": {}}}, "action"),
        ({"action": {"actionType": "create:task"}}, "action.task"),
        ({"status": "Paused"}, "status"),
    ],
)
def test_the_service_refuses_bad_triggers_naming_the_field(sid, kwargs, field):
    params = {"trigger_type": "TIME_BASED", "expression": "rate(1 day)", "action": ACTION, **kwargs}
    with pytest.raises(errors.ValidationFailed) as error:
        aws.create_trigger(sid, **params)
    assert field in error.value.fields
    assert aws.list_triggers(sid)["triggers"] == []


def test_triggers_have_a_quota_per_space(sid):
    for n in range(25):
        aws.create_trigger(
            sid, trigger_type="TIME_BASED", expression=f"rate({n + 2} days)", action=ACTION
        )
    with pytest.raises(errors.QuotaExceeded):
        aws.create_trigger(sid, trigger_type="TIME_BASED", expression="rate(1 day)", action=ACTION)


def test_triggers_page_with_max_results(sid):
    for n in range(5):
        aws.create_trigger(
            sid, trigger_type="TIME_BASED", expression=f"rate({n + 2} hours)", action=ACTION
        )
    first = aws.list_triggers(sid, limit=3)
    rest = aws.list_triggers(sid, limit=3, next_token=first["nextToken"])
    assert len(first["triggers"]) == 3 and len(rest["triggers"]) == 2 and rest["nextToken"] is None


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_seed_has_goals_recommendations_in_every_status_and_triggers():
    call_command("seed_sandbox")
    from dashboard.sandbox.models import AgentSpace

    space = AgentSpace.objects.get(name="Payments platform")
    recs = list(aws.iter_recommendations(space.pk))
    statuses = {r["status"] for r in recs}
    expected = enum("devops-agent", "RecommendationStatus")
    assert not missing(expected, statuses), missing(expected, statuses)
    assert statuses <= set(expected), statuses - set(expected)
    assert any(r["version"] >= 3 and "Revision 1" in r["content"]["spec"] for r in recs)
    goals = list(aws.iter_goals(space.pk))
    assert {g["goalType"] for g in goals} == {"CUSTOMER_DEFINED", "ONCALL_REPORT"}
    assert any(g.get("lastEvaluatedAt") for g in goals)
    assert any(
        r["goalVersion"]
        and r["goalVersion"] < next(g["version"] for g in goals if g["goalId"] == r["goalId"])
        for r in recs
        if r.get("goalId")
    )
    assert len(list(aws.iter_triggers(space.pk))) == 3


def test_goals_and_triggers_take_a_repeated_client_token_once(sid):
    devops = client("devops-agent")
    goal = {"agentSpaceId": sid, "goalId": make_goal(sid)["goalId"]}
    off = {"evaluationSchedule": {"state": "DISABLED"}}
    first = devops.update_goal(**goal, **off, clientToken="g-1")["goal"]
    again = devops.update_goal(**goal, **off, clientToken="g-1")["goal"]
    assert first["version"] == again["version"]
    with pytest.raises(Exception, match="ConflictException"):
        devops.update_goal(**goal, evaluationSchedule={"state": "ENABLED"}, clientToken="g-1")

    made = aws.create_trigger(
        sid, trigger_type="TIME_BASED", expression="rate(1 day)", action=ACTION
    )
    trigger = {"agentSpaceId": sid, "triggerId": made["triggerId"]}
    paused = devops.update_trigger(**trigger, status="Inactive", clientToken="t-1")["trigger"]
    devops.update_trigger(**trigger, status="Active")  # resumed by someone else
    replay = devops.update_trigger(**trigger, status="Inactive", clientToken="t-1")["trigger"]
    assert paused["status"] == "Inactive" and replay["status"] == "Active"  # not applied again
    with pytest.raises(Exception, match="ConflictException"):
        devops.update_trigger(**trigger, status="Active", clientToken="t-1")
