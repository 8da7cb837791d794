"""Changing a task's status: only sensible targets, a confirmation for cancel, the lost-update
guard (409 with both values, nothing overwritten, re-apply over the new version), AWS's own
conflicts and refusals shown in place, the audit log and the live broadcast."""

from __future__ import annotations

import pytest

from dashboard.aws import errors
from dashboard.aws import tasks as aws_tasks
from dashboard.core.models import AuditEntry
from dashboard.tasks import live

from .test_views_task_support import HX, create, form_with_button, text, triage_task


@pytest.fixture
def broadcasts(monkeypatch):
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(live, "task_changed", lambda space_id, task: sent.append((space_id, task)))
    return sent


def _page(space: dict, task: dict) -> str:
    return f"/spaces/{space['agentSpaceId']}/tasks/{task['taskId']}/"


def _now(space: dict, task: dict) -> dict:
    return aws_tasks.get_task(space["agentSpaceId"], task["taskId"])


def test_start_investigation_moves_a_triage_task_on(operator_client, space, broadcasts):
    task = triage_task(space["agentSpaceId"])
    form = form_with_button(text(operator_client.get(_page(space, task))), "Start investigation")
    assert form["data"] == {
        "status": "PENDING_START",
        "version": str(task["version"]),
        "seen_status": "PENDING_TRIAGE",
    }

    response = operator_client.post(form["action"], form["data"])
    assert response.status_code == 302
    assert response["Location"] == _page(space, task)
    now = _now(space, task)
    assert now["status"] == "PENDING_START"
    assert now["version"] == task["version"] + 1
    assert "is now pending start" in operator_client.get(response["Location"]).content.decode()
    assert broadcasts == [(space["agentSpaceId"], now)]


def test_cancel_asks_for_confirmation_first(operator_client, space, broadcasts):
    task = create(space["agentSpaceId"])
    form = form_with_button(text(operator_client.get(_page(space, task))), "Cancel task…")
    response = operator_client.post(form["action"], form["data"])
    assert response.status_code == 200
    body = text(response)
    assert "Cancel task?" in body
    assert _now(space, task)["status"] == "PENDING_START"  # nothing changed yet
    assert broadcasts == []

    confirm = form_with_button(body, "Yes, cancel task")
    assert confirm["data"]["confirm"] == "1"
    response = operator_client.post(confirm["action"], confirm["data"])
    assert response.status_code == 302
    assert _now(space, task)["status"] == "CANCELED"
    assert len(broadcasts) == 1


def test_with_htmx_the_panel_and_summary_update_in_place(operator_client, space, broadcasts):
    task = create(space["agentSpaceId"])
    form = form_with_button(text(operator_client.get(_page(space, task))), "Cancel task…")
    response = operator_client.post(form["action"], form["data"], headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and 'id="task-actions"' in body and "Cancel task?" in body

    confirm = form_with_button(body, "Yes, cancel task")
    response = operator_client.post(confirm["action"], confirm["data"], headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert 'id="task-actions"' in body
    assert f'id="task-summary-{task["taskId"]}"' in body and 'hx-swap-oob="outerHTML"' in body
    assert "No actions: the task is canceled" in body
    assert 'id="alerts" hx-swap-oob="innerHTML"' in body and "is now canceled" in body


def test_the_status_page_works_without_javascript(operator_client, space):
    task = create(space["agentSpaceId"])
    response = operator_client.get(_page(space, task) + "status/")
    assert response.status_code == 200
    assert "Cancel task…" in text(response)
    response = operator_client.get(_page(space, task) + "status/?to=CANCELED")
    assert "Yes, cancel task" in text(response)
    response = operator_client.get(_page(space, task) + "status/", headers=HX)
    assert response.status_code == 200 and "<html" not in response.content.decode()


def test_a_change_behind_the_users_back_is_a_409_with_both_values(
    operator_client, space, broadcasts
):
    sid = space["agentSpaceId"]
    task = triage_task(sid)
    seen_page = text(operator_client.get(_page(space, task)))
    stale = form_with_button(seen_page, "Cancel task…")

    # Bob starts the investigation meanwhile.
    aws_tasks.update_status(sid, task["taskId"], "PENDING_START")
    before = _now(space, task)

    response = operator_client.post(stale["action"], {**stale["data"], "confirm": "1"})
    assert response.status_code == 409
    body = text(response)
    assert "This task changed since you looked at it." in body
    assert "Pending triage" in body and "Pending start" in body  # what I saw, what it is now
    assert f"<td>{task['version']}</td><td>{before['version']}</td>" in body
    assert "Canceled" in body  # my intended change
    assert _now(space, task) == before  # nothing changed
    assert broadcasts == []
    assert not AuditEntry.objects.filter(operation="UpdateBacklogTask").exists()

    # Re-apply carries the new version and status.
    reapply = form_with_button(body, "Re-apply: Cancel task")
    assert reapply["data"]["version"] == str(before["version"])
    assert reapply["data"]["seen_status"] == "PENDING_START"
    response = operator_client.post(reapply["action"], reapply["data"])
    assert response.status_code == 302
    assert _now(space, task)["status"] == "CANCELED"


def test_a_conflict_for_htmx_is_the_panel_with_a_409(operator_client, space):
    sid = space["agentSpaceId"]
    task = triage_task(sid)
    stale = form_with_button(text(operator_client.get(_page(space, task))), "Skip")
    aws_tasks.update_status(sid, task["taskId"], "PENDING_START")
    response = operator_client.post(stale["action"], stale["data"], headers=HX)
    assert response.status_code == 409
    body = text(response)
    assert "<html" not in body and 'id="task-actions"' in body
    assert "Skipped is not possible from pending start." in body
    assert "Re-apply" not in body  # skipping is no longer a sensible change
    assert _now(space, task)["status"] == "PENDING_START"


def test_when_someone_already_made_the_same_change_there_is_nothing_to_reapply(
    operator_client, space
):
    sid = space["agentSpaceId"]
    task = create(sid)
    stale = form_with_button(text(operator_client.get(_page(space, task))), "Cancel task…")
    aws_tasks.update_status(sid, task["taskId"], "CANCELED")
    response = operator_client.post(stale["action"], {**stale["data"], "confirm": "1"})
    assert response.status_code == 409
    assert "already canceled: there is nothing to re-apply" in text(response)


def test_a_conflict_from_aws_is_shown_the_same_way(operator_client, space, monkeypatch, broadcasts):
    task = create(space["agentSpaceId"])
    form = form_with_button(text(operator_client.get(_page(space, task))), "Cancel task…")

    def conflict(*args):
        raise errors.Conflict("Task was modified concurrently.", code="ConflictException")

    monkeypatch.setattr(aws_tasks, "update_status", conflict)
    response = operator_client.post(form["action"], {**form["data"], "confirm": "1"})
    assert response.status_code == 409
    body = text(response)
    assert "This task changed since you looked at it." in body
    assert "AWS said: Task was modified concurrently." in body
    assert broadcasts == []
    entry = AuditEntry.objects.get(operation="UpdateBacklogTask")
    assert entry.outcome == AuditEntry.FAILED


def test_aws_refusing_the_change_is_an_inline_error(operator_client, space, monkeypatch):
    task = create(space["agentSpaceId"])
    form = form_with_button(text(operator_client.get(_page(space, task))), "Cancel task…")

    def refuse(*args):
        raise errors.ValidationFailed("Cannot change task from X to Y.", code="ValidationException")

    monkeypatch.setattr(aws_tasks, "update_status", refuse)
    response = operator_client.post(form["action"], {**form["data"], "confirm": "1"})
    assert response.status_code == 400
    assert "Cannot change task from X to Y." in text(response)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"status": "CANCELED"},
        {"status": "CANCELED", "version": "abc", "seen_status": "PENDING_START"},
        {"status": "NOPE", "version": "1", "seen_status": "PENDING_START"},
        {"status": "COMPLETED", "version": "1", "seen_status": "PENDING_START"},  # not offered
        {"status": "PENDING_START", "version": "1", "seen_status": "COMPLETED"},
    ],
)
def test_tampered_or_missing_fields_change_nothing(operator_client, space, data):
    task = create(space["agentSpaceId"])
    response = operator_client.post(_page(space, task) + "status/", data)
    assert response.status_code == 400
    assert 'class="alert alert-error"' in response.content.decode()
    assert _now(space, task) == task


def test_a_status_change_is_audited(operator_client, space, operator_user):
    task = triage_task(space["agentSpaceId"])
    form = form_with_button(text(operator_client.get(_page(space, task))), "Skip")
    operator_client.post(form["action"], form["data"])
    entry = AuditEntry.objects.get(operation="UpdateBacklogTask")
    assert entry.user == operator_user
    assert entry.target == task["taskId"]
    assert entry.outcome == AuditEntry.OK
    assert entry.detail == {
        "agentSpaceId": space["agentSpaceId"],
        "taskId": task["taskId"],
        "taskStatus": "SKIPPED",
    }
