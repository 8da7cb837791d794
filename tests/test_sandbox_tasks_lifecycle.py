"""The backlog's life over time, through the real boto3 client: tasks start, write their
journals, ask for approvals and finish as the (frozen, then shifted) clock moves. No sleeps."""

from __future__ import annotations

import datetime as dt

import pytest
import regex
import time_machine
from botocore.exceptions import ClientError
from django.test import override_settings

from dashboard.aws.clients import client
from dashboard.sandbox import lifecycle, scripts
from dashboard.sandbox.models import Execution

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
UUID7 = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
CONTENT_KEYS = {
    "PLANNING": {"summary", "steps"},
    "DATA_FETCHED": {"source", "query", "resultCount", "sample"},
    "OBSERVATION": {"text"},
    "FINDING": {"title", "severity", "details", "evidence"},
    "ROOT_CAUSE": {"title", "summary", "confidence", "contributingFactors"},
    "USER_REQUEST": {"text"},
    "UPDATE": {"text", "status"},
    "APPROVAL_REQUEST": {
        "approvalId",
        "tool",
        "arguments",
        "reason",
        "ttlSecondsAllowed",
        "singleUseAllowed",
        "expiresAt",
    },
    "APPROVAL_RESPONSE": {"approvalId", "action", "reason"},
}


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def devops():
    return client("devops-agent")


@pytest.fixture
def space_id(devops, clock) -> str:
    return devops.create_agent_space(name="Lifecycle")["agentSpace"]["agentSpaceId"]


def _script(task: dict) -> scripts.Script:
    return scripts.script_for(task["taskId"], task["title"], task["taskType"])


def _fits(found: scripts.Script, fate: str) -> bool:
    if fate == "approval":
        return found.has_approval
    if fate == "fail":
        return found.outcome == "FAILED"
    return not found.has_approval and found.outcome == "COMPLETED"


def _create(devops, space_id: str, fate: str = "plain", **extra) -> dict:
    """A task whose (deterministic) script has `fate`; misses are canceled at once, so they
    hold no slot and write nothing."""
    params = {
        "agentSpaceId": space_id,
        "taskType": "INVESTIGATION",
        "title": "Elevated 5xx on checkout-api",
        "priority": "HIGH",
        **extra,
    }
    for _ in range(200):
        task = devops.create_backlog_task(**params)["task"]
        if _fits(_script(task), fate):
            return task
        devops.update_backlog_task(
            agentSpaceId=space_id, taskId=task["taskId"], taskStatus="CANCELED"
        )
    raise AssertionError(f"no {fate} script in 200 tries")


def _get(devops, space_id: str, task_id: str) -> dict:
    return devops.get_backlog_task(agentSpaceId=space_id, taskId=task_id)["task"]


def _records(devops, space_id: str, execution_id: str, **params) -> list[dict]:
    return devops.list_journal_records(
        agentSpaceId=space_id, executionId=execution_id, order="ASC", **params
    )["records"]


def _offset(task: dict, index: int) -> float:
    """Seconds from creation to script step `index` (no queueing, no approval)."""
    found = _script(task)
    return found.start_delay + found.steps[index].offset


# --- one investigation from start to end -----------------------------------------------------


def test_an_investigation_starts_writes_its_journal_and_completes(devops, space_id, clock):
    task = _create(devops, space_id)
    found = _script(task)
    assert task["status"] == "PENDING_START" and task["version"] == 1
    assert "executionId" not in task

    clock.shift(found.start_delay - 0.5)
    assert _get(devops, space_id, task["taskId"])["status"] == "PENDING_START"

    clock.shift(1)
    running = _get(devops, space_id, task["taskId"])
    assert running["status"] == "IN_PROGRESS"
    assert running["version"] == 2
    execution_id = running["executionId"]
    executions = devops.list_executions(agentSpaceId=space_id, taskId=task["taskId"])
    [execution] = executions["executions"]
    assert execution["executionId"] == execution_id
    assert execution["executionStatus"] == "RUNNING"
    assert execution["agentSubTask"] == "ROOT_CAUSE_ANALYSIS"
    assert _records(devops, space_id, execution_id) == []

    # Records appear at their offsets, one step at a time.
    seen = []
    for index in range(len(found.steps) - 1):
        clock.move_to(START + dt.timedelta(seconds=_offset(task, index) + 0.05))
        seen = _records(devops, space_id, execution_id)
        assert len(seen) == index + 1
        assert _get(devops, space_id, task["taskId"])["status"] == "IN_PROGRESS"
    assert [r["recordType"] for r in seen] == [s.record_type for s in found.steps[:-1]]

    clock.shift(3600)
    done = _get(devops, space_id, task["taskId"])
    assert done["status"] == "COMPLETED"
    assert done["version"] == 3
    expected_end = START + dt.timedelta(seconds=_offset(task, len(found.steps) - 1))
    assert abs(done["updatedAt"] - expected_end) < dt.timedelta(milliseconds=1)
    records = _records(devops, space_id, execution_id)
    assert [r["recordType"] for r in records[-2:]] == ["ROOT_CAUSE", "UPDATE"]
    assert records[-1]["content"]["status"] == "COMPLETED"
    assert all(r["createdAt"] <= expected_end + dt.timedelta(milliseconds=1) for r in records)
    [execution] = devops.list_executions(agentSpaceId=space_id, taskId=task["taskId"])["executions"]
    assert execution["executionStatus"] == "STOPPED"


def test_every_record_has_the_content_its_type_promises(devops, space_id, clock):
    task = _create(devops, space_id, title="RDS connections exhausted on payments-db-prod-1")
    clock.shift(3600)
    execution_id = _get(devops, space_id, task["taskId"])["executionId"]

    records = _records(devops, space_id, execution_id)

    assert records
    for record in records:
        assert record["recordType"] in scripts.RECORD_TYPES
        assert CONTENT_KEYS[record["recordType"]] <= set(record["content"])
        if record["recordType"] == "USER_REQUEST":
            assert record["userReference"]["userType"] == "IAM"
    root_cause = next(r["content"] for r in records if r["recordType"] == "ROOT_CAUSE")
    assert 0 <= root_cause["confidence"] <= 1
    # Grounded in the title: a database incident talks about the database it names.
    planning = next(r["content"] for r in records if r["recordType"] == "PLANNING")
    assert "DatabaseConnections" in planning["summary"] or "payments" in planning["summary"]
    fetched = [r["content"] for r in records if r["recordType"] == "DATA_FETCHED"]
    assert any("AWS/RDS" in f["query"] for f in fetched)


def test_a_failing_script_ends_failed_with_support_metadata(devops, space_id, clock):
    task = _create(devops, space_id, fate="fail")

    clock.shift(3600)

    failed = _get(devops, space_id, task["taskId"])
    assert failed["status"] == "FAILED"
    assert failed["statusReason"]
    assert failed["supportMetadata"]["errorCode"] == "AccessDeniedException"
    last = _records(devops, space_id, failed["executionId"])[-1]
    assert last["recordType"] == "UPDATE" and last["content"]["status"] == "FAILED"
    [execution] = devops.list_executions(agentSpaceId=space_id, taskId=task["taskId"])["executions"]
    assert execution["executionStatus"] == "FAILED"


def test_the_same_task_always_gets_the_same_script():
    first = scripts.script_for("task-1", "p99 latency above 2s on cart-api", "INVESTIGATION")
    scripts.script_for.cache_clear()
    again = scripts.script_for("task-1", "p99 latency above 2s on cart-api", "INVESTIGATION")
    other = scripts.script_for("task-2", "p99 latency above 2s on cart-api", "INVESTIGATION")

    assert first == again
    assert first != other
    assert "cart-api" in str(first.steps[1].content)


def test_an_evaluation_is_short_and_ends_with_findings(devops, space_id, clock):
    task = devops.create_backlog_task(
        agentSpaceId=space_id,
        taskType="EVALUATION",
        title="Evaluate alarm coverage for ledger-service",
        priority="LOW",
    )["task"]

    clock.shift(300)

    done = _get(devops, space_id, task["taskId"])
    assert done["status"] == "COMPLETED"
    types = [r["recordType"] for r in _records(devops, space_id, done["executionId"])]
    assert "FINDING" in types and "ROOT_CAUSE" not in types


@override_settings(SANDBOX_PACE=10.0)
def test_the_pace_setting_speeds_the_lifecycle_up(devops, space_id, clock):
    task = _create(devops, space_id)
    whole = _offset(task, len(_script(task).steps) - 1)

    clock.shift(whole / 10 + 0.1)

    assert _get(devops, space_id, task["taskId"])["status"] == "COMPLETED"


# --- slots -------------------------------------------------------------------------------------


def test_at_most_three_investigations_run_and_the_fourth_starts_when_a_slot_frees(
    devops, space_id, clock
):
    tasks = [_create(devops, space_id) for _ in range(4)]
    clock.shift(30)  # every start delay is over

    current = [_get(devops, space_id, t["taskId"]) for t in tasks]
    statuses = sorted(t["status"] for t in current)
    assert statuses == ["IN_PROGRESS"] * 3 + ["PENDING_START"]
    listed = devops.list_backlog_tasks(agentSpaceId=space_id, filter={"status": ["IN_PROGRESS"]})
    assert len(listed["tasks"]) == 3
    # The one whose start delay ended last found every slot taken.
    [waiting] = [t for t in current if t["status"] == "PENDING_START"]
    assert _script(waiting).start_delay == max(_script(t).start_delay for t in tasks)

    # Jump far past the first finish: the waiting one started when the slot freed, not "now".
    ends = [_end(devops, space_id, t) for t in current if t["status"] == "IN_PROGRESS"]
    clock.shift(3600)
    assert _get(devops, space_id, waiting["taskId"])["status"] == "COMPLETED"
    [execution] = devops.list_executions(agentSpaceId=space_id, taskId=waiting["taskId"])[
        "executions"
    ]
    assert abs(execution["createdAt"] - min(ends)) < dt.timedelta(milliseconds=1)


def _end(devops, space_id: str, task: dict) -> dt.datetime:
    """When a running task (started at its execution's createdAt) will finish."""
    [execution] = devops.list_executions(agentSpaceId=space_id, taskId=task["taskId"])["executions"]
    found = _script(task)
    return execution["createdAt"] + dt.timedelta(seconds=found.steps[-1].offset)


def test_evaluations_do_not_take_an_investigation_slot(devops, space_id, clock):
    for _ in range(3):
        _create(devops, space_id)
    evaluation = devops.create_backlog_task(
        agentSpaceId=space_id, taskType="EVALUATION", title="Evaluate runbooks", priority="LOW"
    )["task"]

    clock.shift(_script(evaluation).start_delay + 0.1)

    assert _get(devops, space_id, evaluation["taskId"])["status"] == "IN_PROGRESS"


def test_canceling_a_running_investigation_lets_a_waiting_one_start(devops, space_id, clock):
    tasks = [_create(devops, space_id) for _ in range(4)]
    clock.shift(20)
    current = [_get(devops, space_id, t["taskId"]) for t in tasks]
    [waiting] = [t for t in current if t["status"] == "PENDING_START"]
    running = next(t for t in current if t["status"] == "IN_PROGRESS")

    canceled = devops.update_backlog_task(
        agentSpaceId=space_id, taskId=running["taskId"], taskStatus="CANCELED"
    )["task"]
    clock.shift(0.5)

    assert canceled["status"] == "CANCELED"
    assert canceled["version"] == running["version"] + 1
    assert _get(devops, space_id, waiting["taskId"])["status"] == "IN_PROGRESS"
    [execution] = devops.list_executions(agentSpaceId=space_id, taskId=running["taskId"])[
        "executions"
    ]
    assert execution["executionStatus"] == "CANCELED"
    last = _records(devops, space_id, canceled["executionId"])[-1]
    assert last["content"] == {"text": "Canceled by an operator.", "status": "CANCELED"}


# --- approvals ---------------------------------------------------------------------------------


def _until_approval(devops, space_id: str, clock) -> tuple[dict, dict]:
    task = _create(devops, space_id, fate="approval")
    clock.shift(3000)  # less than the approval timeout after the request
    waiting = _get(devops, space_id, task["taskId"])
    assert waiting["status"] == "PENDING_CUSTOMER_APPROVAL"
    [request] = _records(devops, space_id, waiting["executionId"], recordType="APPROVAL_REQUEST")
    return waiting, request


def test_an_approval_request_pauses_the_task_until_it_is_approved(devops, space_id, clock):
    waiting, request = _until_approval(devops, space_id, clock)
    approval_id = request["content"]["approvalId"]
    assert regex.fullmatch(UUID7, approval_id)
    assert waiting["version"] == 3  # created, started, paused
    # The request says when it lapses: the approval timeout after it was asked.
    expires = dt.datetime.fromisoformat(request["content"]["expiresAt"])
    lapse = expires - request["createdAt"]  # the journal writes whole seconds
    assert abs(lapse - dt.timedelta(seconds=lifecycle.APPROVAL_TIMEOUT)) < dt.timedelta(seconds=1)
    [execution] = devops.list_executions(agentSpaceId=space_id, taskId=waiting["taskId"])[
        "executions"
    ]
    assert execution["executionStatus"] == "WAITING"
    # Nothing more is written while it waits.
    count = len(_records(devops, space_id, waiting["executionId"]))
    clock.shift(300)
    assert len(_records(devops, space_id, waiting["executionId"])) == count

    ttl = 600 if request["content"]["ttlSecondsAllowed"] else None
    answer = devops.update_approval_action(
        agentSpaceId=space_id,
        approvalId=approval_id,
        action="APPROVED",
        reason="Go ahead",
        singleUse=True,
        **({"ttlSeconds": ttl} if ttl else {}),
    )

    assert answer["status"] == "APPROVED"
    assert answer["approvalId"] == approval_id
    if ttl:
        assert answer["expiresAt"] - START > dt.timedelta(seconds=ttl)
    resumed = _get(devops, space_id, waiting["taskId"])
    assert resumed["status"] == "IN_PROGRESS" and resumed["version"] == 4
    response = _records(devops, space_id, waiting["executionId"], recordType="APPROVAL_RESPONSE")
    assert response[0]["content"] == {
        "approvalId": approval_id,
        "action": "APPROVED",
        "reason": "Go ahead",
    }
    clock.shift(600)
    done = _get(devops, space_id, waiting["taskId"])
    assert done["status"] == "COMPLETED" and done["version"] == 5
    after = _records(devops, space_id, waiting["executionId"])
    assert "applied" in after[-3]["content"]["text"]

    with pytest.raises(ClientError) as exc_info:
        devops.update_approval_action(
            agentSpaceId=space_id, approvalId=approval_id, action="REJECTED"
        )
    assert exc_info.value.response["Error"]["Code"] == "ConflictException"


def test_a_rejected_approval_resumes_without_the_action(devops, space_id, clock):
    waiting, request = _until_approval(devops, space_id, clock)

    answer = devops.update_approval_action(
        agentSpaceId=space_id,
        approvalId=request["content"]["approvalId"],
        action="REJECTED",
        reason="Not during business hours",
    )
    clock.shift(600)

    assert answer["status"] == "REJECTED" and "expiresAt" not in answer
    records = _records(devops, space_id, waiting["executionId"])
    assert "not approved" in records[-3]["content"]["text"]
    assert _get(devops, space_id, waiting["taskId"])["status"] == "COMPLETED"


def test_an_unanswered_approval_times_out(devops, space_id, clock):
    waiting, request = _until_approval(devops, space_id, clock)

    clock.shift(lifecycle.APPROVAL_TIMEOUT)

    timed_out = _get(devops, space_id, waiting["taskId"])
    assert timed_out["status"] == "TIMED_OUT"
    with pytest.raises(ClientError) as exc_info:
        devops.update_approval_action(
            agentSpaceId=space_id, approvalId=request["content"]["approvalId"], action="APPROVED"
        )
    assert exc_info.value.response["Error"]["Code"] == "ConflictException"


def test_an_unknown_approval_is_not_found(devops, space_id):
    with pytest.raises(ClientError) as exc_info:
        devops.update_approval_action(
            agentSpaceId=space_id,
            approvalId="01890a5d-ac96-774b-bcce-b302099a8057",
            action="APPROVED",
        )

    error = exc_info.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ResourceNotFoundException",
        404,
    )


def test_a_queued_user_message_is_listed_then_delivered_as_a_user_request(devops, space_id, clock):
    waiting, _ = _until_approval(devops, space_id, clock)
    execution_id = waiting["executionId"]
    assert (
        devops.list_pending_messages(agentSpaceId=space_id, executionId=execution_id)["messages"]
        == []
    )
    execution = Execution.objects.get(pk=execution_id)
    execution.pending_messages = [
        {
            "messageId": "m-1",
            "message": {"userMessage": [{"text": "Is the canary affected too?"}]},
            "createdAt": (START + dt.timedelta(seconds=3000)).isoformat(),
            "user": {"userId": "AROAEXAMPLE:maria", "userType": "IAM"},
        }
    ]
    execution.save()

    pending = devops.list_pending_messages(agentSpaceId=space_id, executionId=execution_id)
    assert pending["messages"] == [
        {"messageId": "m-1", "message": {"userMessage": [{"text": "Is the canary affected too?"}]}}
    ]
    approval_id = _records(devops, space_id, execution_id, recordType="APPROVAL_REQUEST")[0][
        "content"
    ]["approvalId"]
    devops.update_approval_action(agentSpaceId=space_id, approvalId=approval_id, action="APPROVED")
    clock.shift(600)

    [request] = _records(devops, space_id, execution_id, recordType="USER_REQUEST")[-1:]
    assert request["content"] == {"text": "Is the canary affected too?"}
    assert request["userReference"] == {"userId": "AROAEXAMPLE:maria", "userType": "IAM"}
    assert (
        devops.list_pending_messages(agentSpaceId=space_id, executionId=execution_id)["messages"]
        == []
    )


# --- journal listing ---------------------------------------------------------------------------


def test_journal_records_page_in_both_orders_and_filter_by_type(devops, space_id, clock):
    task = _create(devops, space_id)
    clock.shift(3600)
    execution_id = _get(devops, space_id, task["taskId"])["executionId"]
    everything = _records(devops, space_id, execution_id)
    assert len(everything) >= 8

    pages, token = [], None
    while True:
        params = {"limit": 3, **({"nextToken": token} if token else {})}
        answer = devops.list_journal_records(
            agentSpaceId=space_id, executionId=execution_id, order="ASC", **params
        )
        pages.append([r["recordId"] for r in answer["records"]])
        token = answer.get("nextToken")
        if not token:
            break
    assert [r for page in pages for r in page] == [r["recordId"] for r in everything]
    assert all(len(page) == 3 for page in pages[:-1])

    newest_first = devops.list_journal_records(agentSpaceId=space_id, executionId=execution_id)
    assert [r["recordId"] for r in newest_first["records"]] == [
        r["recordId"] for r in reversed(everything)
    ]
    times = [r["createdAt"] for r in everything]
    assert times == sorted(times)

    findings = _records(devops, space_id, execution_id, recordType="FINDING")
    assert findings and {r["recordType"] for r in findings} == {"FINDING"}
    assert len(_records(devops, space_id, execution_id, recordType="")) == len(everything)

    first = devops.list_journal_records(
        agentSpaceId=space_id, executionId=execution_id, limit=2, order="ASC"
    )
    with pytest.raises(ClientError) as exc_info:
        devops.list_journal_records(
            agentSpaceId=space_id,
            executionId=execution_id,
            limit=2,
            order="ASC",
            recordType="FINDING",
            nextToken=first["nextToken"],
        )
    assert exc_info.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as exc_info:
        devops.list_journal_records(agentSpaceId=space_id, executionId=execution_id, limit=101)
    assert exc_info.value.response["Error"]["Code"] == "ValidationException"


def test_journal_calls_for_unknown_executions_and_tasks_are_not_found(devops, space_id):
    calls = [
        lambda: devops.list_journal_records(agentSpaceId=space_id, executionId="nope"),
        lambda: devops.list_pending_messages(agentSpaceId=space_id, executionId="nope"),
        lambda: devops.list_executions(agentSpaceId=space_id, taskId="nope"),
        lambda: devops.list_executions(agentSpaceId="no-such-space", taskId="nope"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc_info:
            call()
        assert exc_info.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_executions_page(devops, space_id, clock):
    # One execution per task in this emulator; paging still follows the token rules.
    task = _create(devops, space_id)
    clock.shift(60)

    first = devops.list_executions(agentSpaceId=space_id, taskId=task["taskId"], limit=1)

    assert len(first["executions"]) == 1 and "nextToken" not in first
    assert lifecycle.MAX_RUNNING == 3
