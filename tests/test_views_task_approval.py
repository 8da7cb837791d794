"""Answering the agent's approval requests: approve or reject with a reason, TTL and single use
where the request offers them; an approval already answered is a clear conflict."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from dashboard.aws import errors
from dashboard.aws import tasks as aws_tasks
from dashboard.core.models import AuditEntry
from dashboard.sandbox import lifecycle
from dashboard.tasks import live

from .test_views_task_support import (
    HX,
    START,
    create,
    executions,
    form_with_button,
    records,
    run_until,
    text,
)


@pytest.fixture(autouse=True)
def _clean_cache():
    # The inbox's shared reads live in the cache, and every test here runs at the same frozen
    # moment: a read left by another test would look fresh.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _waiting(space: dict, clock, fate: str) -> tuple[dict, dict, dict]:
    sid = space["agentSpaceId"]
    task = create(sid, fate)
    task = run_until(clock, sid, task["taskId"], "PENDING_CUSTOMER_APPROVAL")
    (execution,) = executions(sid, task["taskId"])
    (request,) = records(sid, execution["executionId"], record_type="APPROVAL_REQUEST")
    return task, execution, request


@pytest.fixture
def waiting(space, clock):
    """A task waiting for the operator's approval (one that offers a TTL), its execution and
    its request record."""
    return _waiting(space, clock, "approval_ttl")


def _page(space: dict, task: dict) -> str:
    return f"/spaces/{space['agentSpaceId']}/tasks/{task['taskId']}/"


def test_the_request_shows_as_an_action_card_with_a_form(operator_client, space, waiting):
    task, execution, request = waiting
    body = text(operator_client.get(_page(space, task)))
    card = re.search(
        rf'<li class="record record-approval_request" id="record-{request["recordId"]}".*?</li>',
        body,
        re.S,
    )
    assert card is not None
    assert request["content"]["tool"] in card.group(0)
    form = form_with_button(body, "Approve")
    approval_id = request["content"]["approvalId"]
    assert form["action"] == f"/spaces/{space['agentSpaceId']}/approvals/{approval_id}/"
    assert form["data"]["task"] == task["taskId"]
    assert form["data"]["execution"] == execution["executionId"]
    assert 'name="ttl_seconds"' in card.group(0)
    assert 'name="single_use"' in card.group(0)


def test_a_request_without_a_ttl_offers_no_ttl_field(operator_client, space, clock):
    task, _execution, _request = _waiting(space, clock, "approval_no_ttl")
    body = text(operator_client.get(_page(space, task)))
    assert ">Approve</button>" in body
    assert 'name="ttl_seconds"' not in body


def test_approve_resumes_the_task(operator_client, operator_user, space, waiting, monkeypatch):
    sent = []
    monkeypatch.setattr(live, "task_changed", lambda space_id, task: sent.append(task))
    task, execution, request = waiting
    form = form_with_button(text(operator_client.get(_page(space, task))), "Approve")
    data = {
        **form["data"],
        "action": "APPROVED",
        "reason": "Go ahead",
        "single_use": "on",
        "ttl_seconds": "600",
    }
    response = operator_client.post(form["action"], data)
    assert response.status_code == 302
    assert response["Location"] == _page(space, task) + f"#record-{request['recordId']}"

    now = aws_tasks.get_task(space["agentSpaceId"], task["taskId"])
    assert now["status"] == "IN_PROGRESS"
    assert [t["taskId"] for t in sent] == [task["taskId"]]
    (answer,) = records(
        space["agentSpaceId"], execution["executionId"], record_type="APPROVAL_RESPONSE"
    )
    assert answer["content"]["action"] == "APPROVED" and answer["content"]["reason"] == "Go ahead"

    page = text(operator_client.get(response["Location"]))
    assert "Approved the request (now approved)." in page
    assert "Answered:" in page  # the form is gone from the card
    entry = AuditEntry.objects.get(operation="UpdateApprovalAction")
    assert entry.user == operator_user and entry.outcome == AuditEntry.OK
    assert entry.target == request["content"]["approvalId"]
    assert entry.detail["action"] == "APPROVED" and entry.detail["singleUse"] is True
    assert entry.detail["ttlSeconds"] == 600


def test_reject_with_htmx_reloads_the_task_page(operator_client, space, waiting):
    task, execution, _request = waiting
    form = form_with_button(text(operator_client.get(_page(space, task))), "Reject")
    response = operator_client.post(
        form["action"],
        {**form["data"], "action": "REJECTED", "reason": "Not during peak"},
        headers=HX,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(_page(space, task))
    (answer,) = records(
        space["agentSpaceId"], execution["executionId"], record_type="APPROVAL_RESPONSE"
    )
    assert answer["content"]["action"] == "REJECTED"


def test_an_approval_already_answered_is_a_conflict(operator_client, space, waiting):
    task, execution, request = waiting
    form = form_with_button(text(operator_client.get(_page(space, task))), "Approve")
    aws_tasks.answer_approval(
        space["agentSpaceId"],
        request["content"]["approvalId"],
        action="REJECTED",
        reason="Bob said no",
    )

    response = operator_client.post(form["action"], {**form["data"], "action": "APPROVED"})
    assert response.status_code == 409
    body = text(response)
    # Answered through the API, not this console: no audit entry says who.
    assert re.search(
        r"This approval was already answered \(rejected: Bob said no\) outside this console "
        r"at 2026-05-04 \d\d:\d\d:\d\d UTC\. Nothing was changed\.",
        body,
    )
    assert "<html" in body
    assert ">Approve</button>" not in body  # nothing left to answer
    answers = records(
        space["agentSpaceId"], execution["executionId"], record_type="APPROVAL_RESPONSE"
    )
    assert len(answers) == 1
    assert not AuditEntry.objects.filter(operation="UpdateApprovalAction").exists()


def test_a_conflict_from_aws_is_shown_in_the_form(operator_client, space, waiting, monkeypatch):
    task, _execution, request = waiting
    form = form_with_button(text(operator_client.get(_page(space, task))), "Approve")

    def conflict(*args, **kwargs):
        raise errors.Conflict("Approval is already REVOKED.", code="ConflictException")

    monkeypatch.setattr(aws_tasks, "answer_approval", conflict)
    response = operator_client.post(
        form["action"], {**form["data"], "action": "APPROVED"}, headers=HX
    )
    assert response.status_code == 409
    body = text(response)
    assert "<html" not in body
    assert f'id="approval-{request["content"]["approvalId"]}"' in body
    assert "This approval can no longer be answered: Approval is already REVOKED." in body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ttl_seconds": "0"}, "Must be at least 1."),
        ({"ttl_seconds": "14401"}, "Must be at most 14400."),
        ({"ttl_seconds": "soon"}, "Enter a whole number"),
        ({"reason": "r" * 1025}, "at most 1024 characters"),
        ({"action": "MAYBE"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_shown_inline_and_keeps_the_reason(
    operator_client, space, waiting, change, message
):
    task, _execution, _request = waiting
    form = form_with_button(text(operator_client.get(_page(space, task))), "Approve")
    data = {**form["data"], "action": "APPROVED", "reason": "Typed reason", **change}
    response = operator_client.post(form["action"], data)
    assert response.status_code == 400
    body = text(response)
    assert body.count(message) == 1  # said once, not again by Django's own limit check
    assert "Ensure this value" not in body
    if "reason" not in change:
        assert ">Typed reason</textarea>" in body
    assert (
        aws_tasks.get_task(space["agentSpaceId"], task["taskId"])["status"]
        == "PENDING_CUSTOMER_APPROVAL"
    )


def test_options_the_request_does_not_offer_are_not_sent(
    operator_client, space, waiting, monkeypatch
):
    task, execution, request = waiting
    sent = {}

    def capture(space_id, approval_id, **kwargs):
        sent.update(kwargs)
        return {"approvalId": approval_id, "status": "APPROVED"}

    monkeypatch.setattr(aws_tasks, "answer_approval", capture)
    monkeypatch.setattr(
        aws_tasks,
        "list_journal",
        lambda *a, **k: {
            "records": [
                {
                    **request,
                    "content": {
                        **request["content"],
                        "ttlSecondsAllowed": False,
                        "singleUseAllowed": False,
                    },
                }
            ]
            if k.get("record_type") == "APPROVAL_REQUEST"
            else [],
            "nextToken": None,
        },
    )
    url = f"/spaces/{space['agentSpaceId']}/approvals/{request['content']['approvalId']}/"
    data = {
        "task": task["taskId"],
        "execution": execution["executionId"],
        "action": "APPROVED",
        "ttl_seconds": "600",
        "single_use": "on",
    }
    response = operator_client.post(url, data)
    assert response.status_code == 302
    assert sent == {"action": "APPROVED", "reason": ""}


def test_the_approval_page_works_without_javascript(operator_client, space, waiting):
    task, execution, request = waiting
    url = (
        f"/spaces/{space['agentSpaceId']}/approvals/{request['content']['approvalId']}/"
        f"?task={task['taskId']}&execution={execution['executionId']}"
    )
    response = operator_client.get(url)
    assert response.status_code == 200
    body = text(response)
    assert "Answer an approval request" in body
    assert request["content"]["tool"] in body
    assert body.count(">Approve</button>") == 1  # the card shows no second form
    assert operator_client.get(url, headers=HX).status_code == 200


@pytest.mark.parametrize("approval_id", ["not-an-approval", "01890a5d-ac96-474b-bcce-b302099a8057"])
def test_a_malformed_approval_id_is_not_found(operator_client, space, approval_id):
    response = operator_client.post(
        f"/spaces/{space['agentSpaceId']}/approvals/{approval_id}/", {"action": "APPROVED"}
    )
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()


def test_an_unknown_approval_is_said_in_the_form(operator_client, space):
    url = f"/spaces/{space['agentSpaceId']}/approvals/01890a5d-ac96-774b-bcce-b302099a8057/"
    response = operator_client.post(url, {"action": "APPROVED"})
    assert response.status_code == 404
    assert "This approval no longer exists" in text(response)


@pytest.mark.parametrize("headers", [{}, HX])
@pytest.mark.parametrize("fails", ["get_task", "list_journal", "answer_approval"])
@pytest.mark.parametrize(
    "error",
    [
        errors.Throttled("AWS is throttling requests.", code="ThrottlingException"),
        errors.AccessDenied("Not allowed.", code="AccessDeniedException"),
    ],
)
def test_a_busy_or_refusing_aws_keeps_the_typed_reason(
    operator_client, space, waiting, monkeypatch, headers, fails, error
):
    """The reads before the answer fail as often as the answer: the form comes back with the
    reason as typed and what went wrong (it was the error page, and the reason was lost)."""
    task, _execution, _request = waiting
    form = form_with_button(text(operator_client.get(_page(space, task))), "Approve")

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(aws_tasks, fails, refuse)
    data = {**form["data"], "action": "APPROVED", "reason": "Change window <now>"}
    response = operator_client.post(form["action"], data, headers=headers)
    assert response.status_code == error.status
    body = text(response)
    assert error.message in body
    assert ">Change window &lt;now&gt;</textarea>" in response.content.decode()
    again = form_with_button(body, "Approve")
    assert again["data"]["task"] == task["taskId"] and again["data"]["execution"]
    monkeypatch.undo()
    assert (
        aws_tasks.get_task(space["agentSpaceId"], task["taskId"])["status"]
        == "PENDING_CUSTOMER_APPROVAL"
    )


# --- one action, one guard, wherever it is answered -----------------------------------------


def _forms_everywhere(client, space: dict, task: dict) -> dict[str, dict]:
    """The Approve forms of the inbox, the task page's banner and its journal."""
    from .test_views_task_support import forms

    page = text(client.get(_page(space, task)))
    inbox = text(client.get("/inbox/"))
    banner = page[page.index('id="approval-banner"') : page.index('id="task-summary-')]
    journal = page[page.index('class="record record-approval_request"') :]

    def approve(body: str) -> dict:
        return next(f for f in forms(body) if any(t == "Approve" for _, _, t in f["buttons"]))

    return {"inbox": approve(inbox), "banner": approve(banner), "journal": approve(journal)}


@pytest.mark.parametrize("place", ["inbox", "banner", "journal"])
def test_every_place_answers_through_the_same_action(operator_client, space, waiting, place):
    task, execution, request = waiting
    found = _forms_everywhere(operator_client, space, task)
    actions = {f["action"] for f in found.values()}
    approval_id = request["content"]["approvalId"]
    assert actions == {f"/spaces/{space['agentSpaceId']}/approvals/{approval_id}/"}
    form = found[place]
    assert form["data"]["execution"] == execution["executionId"]
    response = operator_client.post(form["action"], {**form["data"], "action": "APPROVED"})
    assert response.status_code == 302
    (answer,) = records(
        space["agentSpaceId"], execution["executionId"], record_type="APPROVAL_RESPONSE"
    )
    assert answer["content"]["action"] == "APPROVED"
    assert AuditEntry.objects.filter(operation="UpdateApprovalAction").count() == 1


@pytest.mark.parametrize("place", ["inbox", "banner", "journal"])
def test_answered_elsewhere_by_someone_else_says_so_and_changes_nothing(
    operator_client, space, waiting, place
):
    """Two operators have the request open; the first one's answer stands, the second is told
    who answered, how and when, whichever place the second one answers from."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    task, execution, _request = waiting
    stale = _forms_everywhere(operator_client, space, task)[place]
    colleague = User.objects.create_user("carla", password="pw-carla")
    colleague.groups.add(Group.objects.get_or_create(name="operator")[0])
    other = Client()
    other.force_login(colleague)
    first = _forms_everywhere(other, space, task)["inbox"]
    other.post(first["action"], {**first["data"], "action": "REJECTED", "reason": "Not now"})

    response = operator_client.post(
        stale["action"], {**stale["data"], "action": "APPROVED"}, headers=HX
    )
    assert response.status_code == 409
    body = text(response)
    assert re.search(
        r"This approval was already answered \(rejected: Not now\) by carla at "
        r"2026-05-04 \d\d:\d\d:\d\d UTC\. Nothing was changed\.",
        body,
    )
    assert ">Approve</button>" not in body
    answers = records(
        space["agentSpaceId"], execution["executionId"], record_type="APPROVAL_RESPONSE"
    )
    assert [a["content"]["action"] for a in answers] == ["REJECTED"]
    assert AuditEntry.objects.filter(operation="UpdateApprovalAction").count() == 1


def test_an_expired_request_says_it_expired_and_sends_nothing(
    operator_client, space, waiting, clock, monkeypatch
):
    task, _execution, request = waiting
    form = form_with_button(text(operator_client.get(_page(space, task))), "Approve")
    expires = dt.datetime.fromisoformat(request["content"]["expiresAt"])
    clock.move_to(expires + dt.timedelta(seconds=1))
    sent = []
    monkeypatch.setattr(aws_tasks, "answer_approval", lambda *a, **k: sent.append(k))

    response = operator_client.post(form["action"], {**form["data"], "action": "APPROVED"})
    assert response.status_code == 410
    body = text(response)
    stamp = expires.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f"This approval request expired at {stamp}: the agent stopped waiting" in body
    assert "Nothing was sent." in body
    assert sent == []
    assert not AuditEntry.objects.filter(operation="UpdateApprovalAction").exists()


def test_a_timed_out_task_without_a_deadline_in_the_request_is_expired_too(
    operator_client, space, waiting, clock, monkeypatch
):
    """AWS's request may not say when it lapses: the task timing out says it."""
    task, _execution, _request = waiting
    form = form_with_button(text(operator_client.get(_page(space, task))), "Approve")
    clock.shift(lifecycle.APPROVAL_TIMEOUT + 60)
    real = aws_tasks.list_journal

    def without_deadline(*args, **kwargs):
        page = real(*args, **kwargs)
        for record in page["records"]:
            record["content"].pop("expiresAt", None)
        return page

    monkeypatch.setattr(aws_tasks, "list_journal", without_deadline)
    response = operator_client.post(form["action"], {**form["data"], "action": "APPROVED"})
    assert response.status_code == 410
    assert "This approval request expired: the agent stopped waiting" in text(response)
    assert aws_tasks.get_task(space["agentSpaceId"], task["taskId"])["status"] == "TIMED_OUT"


def test_a_conflict_from_aws_read_again_says_expired(
    operator_client, space, waiting, clock, monkeypatch
):
    """Between our reads and the answer the request lapsed: AWS refuses, and the page says
    why in words instead of AWS's."""
    task, _execution, _request = waiting
    form = form_with_button(text(operator_client.get(_page(space, task))), "Approve")

    def lapse(*args, **kwargs):
        clock.shift(lifecycle.APPROVAL_TIMEOUT + 60)
        raise errors.Conflict("Approval is already REVOKED.", code="ConflictException")

    monkeypatch.setattr(aws_tasks, "answer_approval", lapse)
    response = operator_client.post(form["action"], {**form["data"], "action": "APPROVED"})
    assert response.status_code == 410
    assert "This approval request expired at" in text(response)
