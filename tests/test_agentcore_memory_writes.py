"""Writing to memory from the console: creating events (operators) with validation before AWS,
AWS's refusals placed next to the fields, nothing typed lost; deleting events and records
(admins) after a confirmation; every write in the audit log without the conversation text."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from dashboard.aws import errors
from dashboard.core.models import AuditEntry
from dashboard.sandbox import demo_memory
from dashboard.sandbox.models import MemoryEvent, MemoryRecord

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
MEMORY = demo_memory.TRIAGE_MEMORY
PRIYA = "oncall/priya-raman"
CHECKOUT = "inc-4821-checkout-5xx"


@pytest.fixture(autouse=True)
def seeded():
    with time_machine.travel(START, tick=False):
        demo_memory.seed_memories(START)
        yield


def _create_url() -> str:
    return reverse("agentcore:memory-event-create", args=[MEMORY])


def _post(client, **fields):
    data = {
        "actor_id": PRIYA,
        "session_id": CHECKOUT,
        "role": "USER",
        "text": "Is the hotfix holding?",
        "client_token": "tok-1",
        **fields,
    }
    return client.post(_create_url(), data)


def test_the_form_is_prefilled_from_the_link_that_led_to_it(operator_client):
    html = operator_client.get(
        _create_url(), {"actor": PRIYA, "session": CHECKOUT, "root": "123#abc"}
    ).content.decode()
    assert f'value="{PRIYA}"' in html and f'value="{CHECKOUT}"' in html
    assert 'value="123#abc"' in html
    assert 'name="client_token"' in html


def test_an_operator_creates_an_event_and_lands_on_it(operator_client):
    response = _post(operator_client, blob='{"check": "5xx", "value": 0.001}')
    assert response.status_code == 302
    event = MemoryEvent.objects.get(client_token="tok-1")
    assert event.payload == [
        {"conversational": {"role": "USER", "content": {"text": "Is the hotfix holding?"}}},
        {"blob": {"check": "5xx", "value": 0.001}},
    ]
    session_url = reverse("agentcore:memory-session", args=[MEMORY, PRIYA, CHECKOUT])
    assert response["Location"].startswith(session_url)
    assert response["Location"].endswith("#event-" + event.event_id.replace("#", "-"))
    html = operator_client.get(response["Location"]).content.decode()
    assert "Is the hotfix holding?" in html and f"Created event {event.event_id}" in html


def test_a_resubmitted_form_creates_one_event(operator_client):
    _post(operator_client)
    _post(operator_client)
    assert MemoryEvent.objects.filter(client_token="tok-1").count() == 1


def test_creating_is_audited_without_the_message(operator_client):
    _post(operator_client, text="secret-ish conversation text")
    entry = AuditEntry.objects.get(operation="CreateEvent")
    assert entry.outcome == AuditEntry.OK
    assert entry.target == f"{MEMORY}/{PRIYA}/{CHECKOUT}"
    assert "secret-ish conversation text" not in str(entry.detail)


def test_a_branch_from_an_event_is_created_on_that_branch(operator_client):
    root = MemoryEvent.objects.filter(session_id=CHECKOUT, branch_name="").first()
    response = _post(operator_client, branch="what-if", root_event_id=root.event_id)
    assert response.status_code == 302
    assert "branch=what-if" in response["Location"]
    event = MemoryEvent.objects.get(client_token="tok-1")
    assert (event.branch_name, event.branch_root_event_id) == ("what-if", root.event_id)


def test_an_empty_event_is_refused_before_aws(operator_client):
    response = _post(operator_client, text="  ")
    assert response.status_code == 400
    assert "Write a message, a JSON blob, or both." in response.content.decode()
    assert not MemoryEvent.objects.filter(client_token="tok-1").exists()


def test_invalid_input_is_explained_next_to_each_field_and_kept(operator_client):
    response = _post(operator_client, actor_id="bad actor!", blob="{not json", branch="bad branch!")
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("Does not match the format AWS requires") >= 2
    assert "This is not valid JSON" in html
    assert 'value="bad actor!"' in html and "{not json" in html
    assert "Is the hotfix holding?" in html


def test_a_new_branch_without_its_root_gets_aws_answer_on_the_root_field(operator_client):
    response = _post(operator_client, branch="brand-new")
    assert response.status_code == 400
    html = response.content.decode()
    field = html.split('id="id_root_event_id"')[1].split("</div>")[0]
    assert "needs the rootEventId" in field
    assert 'value="brand-new"' in html
    assert AuditEntry.objects.get(operation="CreateEvent").outcome == AuditEntry.FAILED


def test_a_root_event_that_does_not_exist_is_said_on_its_field(operator_client):
    response = _post(operator_client, branch="alt", root_event_id="123#abc")
    assert response.status_code == 404
    field = response.content.decode().split('id="id_root_event_id"')[1].split("</div>")[0]
    assert "Root event 123#abc was not found" in field


def test_throttling_keeps_the_form_and_says_to_submit_again(operator_client, monkeypatch):
    from dashboard.aws import agentcore_memory

    def busy(params):
        raise errors.Throttled("AWS is throttling CreateEvent requests.", code="ThrottledException")

    monkeypatch.setattr(agentcore_memory, "create_event", busy)
    response = _post(operator_client)
    assert response.status_code == 503
    html = response.content.decode()
    assert "The event was not created; submit again." in html
    assert "Is the hotfix holding?" in html and 'value="tok-1"' in html


def _event() -> MemoryEvent:
    return MemoryEvent.objects.filter(session_id=CHECKOUT).order_by("event_timestamp").first()


def _delete_url(event: MemoryEvent) -> str:
    return reverse("agentcore:memory-event-delete", args=[MEMORY, PRIYA, CHECKOUT, event.event_id])


def test_deleting_an_event_asks_first(admin_client):
    event = _event()
    html = admin_client.get(_delete_url(event)).content.decode()
    assert "removes it from the memory for good" in html and "PagerDuty fired" in html
    # A POST without the confirmation only shows the question again.
    assert admin_client.post(_delete_url(event)).status_code == 200
    assert MemoryEvent.objects.filter(pk=event.pk).exists()


def test_an_admin_deletes_an_event_and_it_is_audited(admin_client):
    event = _event()
    response = admin_client.post(_delete_url(event), {"confirm": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "agentcore:memory-session", args=[MEMORY, PRIYA, CHECKOUT]
    )
    assert not MemoryEvent.objects.filter(pk=event.pk).exists()
    entry = AuditEntry.objects.get(operation="DeleteEvent")
    assert entry.outcome == AuditEntry.OK and entry.detail["eventId"] == event.event_id


def test_deleting_with_htmx_redirects_the_page(admin_client):
    response = admin_client.post(_delete_url(_event()), {"confirm": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse(
        "agentcore:memory-session", args=[MEMORY, PRIYA, CHECKOUT]
    )


def test_deleting_an_event_already_gone_says_so(admin_client):
    event = _event()
    url = _delete_url(event)
    event.delete()
    response = admin_client.post(url, {"confirm": "1"}, follow=True)
    assert "no longer exists" in response.content.decode()


def _record() -> MemoryRecord:
    return MemoryRecord.objects.get(text__startswith="RDS Proxy")


def test_an_admin_deletes_a_record_after_confirming(admin_client):
    record = _record()
    url = reverse("agentcore:memory-record-delete", args=[MEMORY, record.memory_record_id])
    url += f"?namespace={record.namespace}"
    assert "RDS Proxy" in admin_client.get(url).content.decode()
    response = admin_client.post(url, {"confirm": "1"})
    assert response.status_code == 302
    assert "namespace=" in response["Location"]
    assert not MemoryRecord.objects.filter(pk=record.pk).exists()
    entry = AuditEntry.objects.get(operation="DeleteMemoryRecord")
    assert entry.detail["namespace"] == record.namespace


def test_the_event_time_is_read_in_the_console_time_zone(operator_client):
    html = operator_client.get(_create_url()).content.decode()
    assert "Event time (UTC)" in html
    assert _post(operator_client, timestamp="2026-05-01T08:30:15").status_code == 302
    event = MemoryEvent.objects.get(client_token="tok-1")
    assert event.event_timestamp == dt.datetime(2026, 5, 1, 8, 30, 15, tzinfo=dt.UTC)


def test_a_deeply_nested_blob_is_refused_before_aws_and_kept(operator_client):
    # json.loads raises RecursionError (not ValueError) for this: it was a 500.
    response = _post(operator_client, blob="[" * 50_000 + "]" * 50_000)
    assert response.status_code == 400
    html = response.content.decode()
    assert "nested more than 64 levels deep" in html
    assert "[[[[[[[[" in html and "Is the hotfix holding?" in html
    assert not MemoryEvent.objects.filter(client_token="tok-1").exists()


def test_access_denied_keeps_the_form_and_says_why(operator_client, monkeypatch):
    from dashboard.aws import agentcore_memory

    def denied(params):
        raise errors.AccessDenied(
            "AWS denied CreateEvent: the console's credentials need the IAM permission "
            "bedrock-agentcore:CreateEvent.",
            code="AccessDeniedException",
        )

    monkeypatch.setattr(agentcore_memory, "create_event", denied)
    response = _post(operator_client)
    assert response.status_code == 403
    html = response.content.decode()
    assert "bedrock-agentcore:CreateEvent" in html and "The event was not created" in html
    assert "Is the hotfix holding?" in html and 'value="tok-1"' in html
