"""Creating a task: the form validates against the model before AWS sees anything, a good
one creates the task and opens its page, and a busy AWS keeps what the person typed."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from dashboard.aws import errors
from dashboard.aws import tasks as aws_tasks
from dashboard.core.models import AuditEntry
from dashboard.tasks import live

from .test_views_task_support import HX, text

VALID = {
    "task_type": "INVESTIGATION",
    "title": "Elevated 5xx on checkout-api",
    "description": "Since 09:02 UTC.",
    "priority": "HIGH",
}
REFERENCE = {
    "ref_system": "PagerDuty",
    "ref_id": "Q1W2E3",
    "ref_url": "https://example.pagerduty.com/incidents/Q1W2E3",
    "ref_association": "pd-assoc-1",
    "ref_title": "checkout-api 5xx",
}


def _url(space: dict) -> str:
    return f"/spaces/{space['agentSpaceId']}/tasks/new/"


def _all(space: dict) -> list[dict]:
    return list(aws_tasks.iter_tasks(space["agentSpaceId"]))


def test_the_form_offers_investigation_and_evaluation(operator_client, space):
    response = operator_client.get(_url(space))
    assert response.status_code == 200
    body = text(response)
    assert 'value="INVESTIGATION"' in body and 'value="EVALUATION"' in body
    assert 'value="RELEASE_TESTING"' not in body
    assert '<option value="MEDIUM" selected>' in body
    assert "Reference to a ticket or incident" in body
    assert operator_client.get(_url(space), headers=HX).status_code == 200


def test_a_valid_task_is_created_and_its_page_opens(
    operator_client, operator_user, space, monkeypatch
):
    sent = []
    monkeypatch.setattr(live, "task_changed", lambda space_id, task: sent.append(task))
    response = operator_client.post(_url(space), VALID)
    assert response.status_code == 302
    (task,) = _all(space)
    assert response["Location"] == f"/spaces/{space['agentSpaceId']}/tasks/{task['taskId']}/"
    assert task["title"] == VALID["title"]
    assert task["priority"] == "HIGH" and task["taskType"] == "INVESTIGATION"
    assert task["description"] == "Since 09:02 UTC."
    assert [t["taskId"] for t in sent] == [task["taskId"]]
    page = operator_client.get(response["Location"]).content.decode()
    assert "Created task “Elevated 5xx on checkout-api”." in page

    entry = AuditEntry.objects.get(operation="CreateBacklogTask")
    assert entry.user == operator_user and entry.outcome == AuditEntry.OK
    assert entry.target == space["agentSpaceId"]
    assert entry.detail["title"] == VALID["title"] and entry.detail["taskType"] == "INVESTIGATION"


def test_a_task_with_a_reference_keeps_it(operator_client, space):
    response = operator_client.post(_url(space), {**VALID, "task_type": "EVALUATION", **REFERENCE})
    assert response.status_code == 302
    (task,) = _all(space)
    assert task["taskType"] == "EVALUATION"
    assert task["reference"] == {
        "system": "PagerDuty",
        "referenceId": "Q1W2E3",
        "referenceUrl": "https://example.pagerduty.com/incidents/Q1W2E3",
        "associationId": "pd-assoc-1",
        "title": "checkout-api 5xx",
    }


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "x" * 401}, "title", "at most 400 characters"),
        ({"description": "d" * 10001}, "description", "at most 10000 characters"),
        ({"priority": "URGENT"}, "priority", "Select a valid choice"),
        ({"task_type": "RELEASE_TESTING"}, "task_type", "Select a valid choice"),
        ({"task_type": ""}, "task_type", "This field is required."),
        (
            {**REFERENCE, "ref_id": "has spaces!"},
            "ref_id",
            "Does not match the format AWS requires",
        ),
        ({**REFERENCE, "ref_url": "javascript:alert(1)"}, "ref_url", "http:// or https://"),
        (
            {**REFERENCE, "ref_association": ""},
            "ref_association",
            "Needed when the task has a reference",
        ),
        ({"ref_title": "only a title"}, "ref_system", "Needed when the task has a reference"),
        ({**REFERENCE, "ref_system": "s" * 257}, "ref_system", "at most 256 characters"),
    ],
)
def test_invalid_input_is_shown_inline_and_creates_nothing(
    operator_client, space, change, field, message
):
    response = operator_client.post(_url(space), {**VALID, **change})
    assert response.status_code == 400
    body = text(response)
    assert f'id="id_{field}_error"' in body or (
        field == "task_type" and 'class="errorlist"' in body
    )
    assert message in body
    assert _all(space) == []
    assert not AuditEntry.objects.exists()


def test_the_reference_section_opens_when_it_has_values_or_errors(operator_client, space):
    body = text(operator_client.post(_url(space), {**VALID, "ref_system": "Jira"}))
    assert '<details class="reference-fields" open>' in body
    assert 'value="Jira"' in body


def test_throttling_keeps_what_the_user_typed(operator_client, space):
    typed = {**VALID, "title": "My carefully typed title", "description": "Three paragraphs…"}
    with override_settings(SANDBOX_FAULTS="throttle=1"):
        response = operator_client.post(_url(space), typed)
    assert response.status_code == 503
    body = text(response)
    assert "AWS is throttling CreateBacklogTask requests" in body
    assert "Your task was not created; submit again." in body
    assert 'value="My carefully typed title"' in body
    assert "Three paragraphs…</textarea>" in body
    assert _all(space) == []
    assert AuditEntry.objects.get(operation="CreateBacklogTask").outcome == AuditEntry.FAILED


def test_a_refused_create_keeps_what_the_user_typed(operator_client, space, monkeypatch):
    def refuse(*args, **kwargs):
        raise errors.AccessDenied(
            "The role may not call CreateBacklogTask.", code="AccessDeniedException"
        )

    monkeypatch.setattr(aws_tasks, "create_task", refuse)
    typed = {**VALID, "title": "My carefully typed title", "description": "Three paragraphs…"}
    response = operator_client.post(_url(space), typed)
    assert response.status_code == 403
    body = text(response)
    assert "The role may not call CreateBacklogTask. Your task was not created." in body
    assert 'value="My carefully typed title"' in body
    assert "Three paragraphs…</textarea>" in body


def test_aws_field_errors_land_next_to_the_field(operator_client, space, monkeypatch):
    def invalid(*args, **kwargs):
        raise errors.ValidationFailed(
            "Invalid", code="ValidationException", fields={"reference.referenceUrl": "Bad URL"}
        )

    monkeypatch.setattr(aws_tasks, "create_task", invalid)
    response = operator_client.post(_url(space), {**VALID, **REFERENCE})
    assert response.status_code == 400
    body = text(response)
    assert '<ul class="errorlist" id="id_ref_url_error"><li>Bad URL</li></ul>' in body


def test_a_space_that_does_not_exist_is_a_friendly_404(operator_client, db):
    response = operator_client.get("/spaces/no-such-space/tasks/new/")
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()
    response = operator_client.post("/spaces/no-such-space/tasks/new/", VALID)
    assert response.status_code == 404


def test_the_same_form_sent_twice_creates_one_task(operator_client, space):
    page = operator_client.get(_url(space)).content.decode()
    token = re.search(r'name="client_token" value="([^"]+)"', page)
    assert token
    data = {**VALID, "client_token": token.group(1)}
    first = operator_client.post(_url(space), data)
    again = operator_client.post(_url(space), data)  # a double click, or a retry after a 5xx
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert len(_all(space)) == 1
    other = re.search(r'name="client_token" value="([^"]+)"', operator_client.get(_url(space)).text)
    assert other and other.group(1) != token.group(1)
    operator_client.post(_url(space), {**VALID, "client_token": other.group(1)})
    assert len(_all(space)) == 2
