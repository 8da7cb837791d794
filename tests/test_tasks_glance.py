"""The investigation at a glance on the task page: what the agent does or waits for, the
pending approval as a banner (and in the Actions panel) with Approve / Reject for operators,
the root cause on top once found, the findings listed, then the journal; the same parts
pushed live as records arrive."""

from __future__ import annotations

import re

import pytest
import time_machine

from dashboard.live import CREATED, UPDATED, Change
from dashboard.tasks import live

from .test_views_task_support import (
    START,
    create,
    executions,
    form_with_button,
    forms,
    records,
    run_until,
    text,
    triage_task,
)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _page(client, space: dict, task: dict) -> str:
    return text(client.get(f"/spaces/{space['agentSpaceId']}/tasks/{task['taskId']}/"))


def _part(body: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>.*?</\1>', body, re.S)
    assert found is not None, element_id
    return found.group(0)


@pytest.fixture
def waiting(space, clock):
    sid = space["agentSpaceId"]
    task = create(sid, "approval")
    task = run_until(clock, sid, task["taskId"], "PENDING_CUSTOMER_APPROVAL")
    (execution,) = executions(sid, task["taskId"])
    (request,) = records(sid, execution["executionId"], record_type="APPROVAL_REQUEST")
    return task, execution, request


def test_the_approval_waited_for_is_a_banner_on_top(operator_client, space, waiting):
    task, execution, request = waiting
    body = _page(operator_client, space, task)
    approval_id = request["content"]["approvalId"]
    banner = _part(body, "approval-banner")
    # On top of the page: above the task's header, the glance and the journal.
    assert body.index('id="approval-banner"') < body.index('id="task-summary-')
    assert body.index('id="approval-banner"') < body.index('id="executions-')
    assert f"<code>{request['content']['tool']}</code>" in banner
    assert "expires" in banner and f'href="#record-{request["recordId"]}"' in banner
    form = form_with_button(banner, "Approve")
    assert form["action"] == f"/spaces/{space['agentSpaceId']}/approvals/{approval_id}/"
    assert form["data"]["task"] == task["taskId"]
    assert form["data"]["execution"] == execution["executionId"]
    assert f'id="approval-banner-{approval_id}"' in banner
    # The header says what the agent waits for.
    assert "The agent is waiting for an approval before it goes on." in _part(body, "agent-now")
    latest = _part(body, "agent-latest")
    assert "Approval request" in latest and request["content"]["tool"] in latest


def test_the_actions_panel_answers_it_too(operator_client, space, waiting):
    task, execution, request = waiting
    body = _page(operator_client, space, task)
    panel = body[body.index('id="actions-approval"') : body.index('id="task-actions"')]
    approval_id = request["content"]["approvalId"]
    (approve,) = [f for f in forms(panel) if f["buttons"][0][2] == "Approve"]
    assert approve["action"] == f"/spaces/{space['agentSpaceId']}/approvals/{approval_id}/"
    assert approve["data"] == {"task": task["taskId"], "execution": execution["executionId"]}
    assert f'hx-target="#approval-banner-{approval_id}"' in panel
    response = operator_client.post(approve["action"], {**approve["data"], "action": "APPROVED"})
    assert response.status_code == 302
    after = _page(operator_client, space, task)
    assert 'id="approval-banner" class="card approval-banner"' in after
    assert re.search(r'<section id="approval-banner"[^>]*hidden', after)
    assert "Approved the request" in after


def test_a_viewer_reads_the_banner_without_controls(viewer_client, space, waiting):
    task, _execution, request = waiting
    body = _page(viewer_client, space, task)
    banner = _part(body, "approval-banner")
    assert request["content"]["tool"] in banner
    assert "<form" not in banner and ">Approve<" not in body and ">Reject<" not in body
    assert "An operator answers approvals." in banner


def test_the_root_cause_is_on_top_then_the_findings_then_the_journal(viewer_client, space, clock):
    sid = space["agentSpaceId"]
    task = create(sid, "complete")
    task = run_until(clock, sid, task["taskId"], "COMPLETED")
    (execution,) = executions(sid, task["taskId"])
    journal = records(sid, execution["executionId"])
    (cause,) = [r for r in journal if r["recordType"] == "ROOT_CAUSE"]
    findings = [r for r in journal if r["recordType"] == "FINDING"]
    assert findings
    body = _page(viewer_client, space, task)
    card = _part(body, "root-cause")
    assert cause["content"]["title"] in card
    assert f'href="#record-{cause["recordId"]}"' in card
    for factor in cause["content"]["contributingFactors"]:
        assert factor in card
    listed = _part(body, "findings")
    assert re.findall(r'<li id="finding-([^"]+)"', listed) == [f["recordId"] for f in findings]
    order = [body.index(m) for m in ('id="root-cause"', 'id="findings"', 'id="executions-')]
    assert order == sorted(order)
    assert "Finished." in _part(body, "agent-now")


def test_no_description_takes_no_room(viewer_client, space):
    task = triage_task(space["agentSpaceId"], description="")
    body = _page(viewer_client, space, task)
    assert "No description." not in body
    assert ">Description</h2>" not in body
    assert "hidden" in _part(body, "approval-banner") and "findings-list" in body
    assert "Waiting for triage" in _part(body, "agent-now")


def test_new_records_push_the_glance_as_well(waiting, space):
    _task, execution, request = waiting
    key = live.journal_key(space["agentSpaceId"], execution["executionId"])
    pushed = live.render_journal(Change(key, CREATED, request["recordId"], request))
    assert '<p id="agent-latest" class="agent-latest" hx-swap-oob="true">' in pushed
    banner = _part(pushed, "approval-banner")
    assert 'hx-swap-oob="true"' in banner and 'class="operator-only"' in banner
    assert "csrfmiddlewaretoken" not in pushed
    assert 'id="actions-approval"' in pushed

    answer = {
        **request,
        "recordId": "r-answer",
        "recordType": "APPROVAL_RESPONSE",
        "content": {"approvalId": request["content"]["approvalId"], "action": "APPROVED"},
    }
    cleared = live.render_journal(Change(key, CREATED, "r-answer", answer))
    assert re.search(r'<section id="approval-banner"[^>]*hx-swap-oob="true"[^>]*hidden', cleared)
    # An update of a record the page has (never new) changes nothing above the journal.
    again = live.render_journal(Change(key, UPDATED, request["recordId"], request))
    assert "agent-latest" not in again


def test_a_status_change_clears_the_banner(space, waiting):
    task, _execution, _request = waiting
    key = live.task_key(space["agentSpaceId"], task["taskId"])
    moved = {**task, "status": "IN_PROGRESS", "version": task["version"] + 1}
    pushed = live.render_task(Change(key, UPDATED, live.TASK_ITEM, moved, task))
    assert re.search(r'<section id="approval-banner"[^>]*hx-swap-oob="true"[^>]*hidden', pushed)
    still = live.render_task(Change(key, UPDATED, live.TASK_ITEM, task, None))
    assert "approval-banner" not in still
