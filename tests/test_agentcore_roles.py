"""Who may do what in the memory explorer and the flow traces: everyone signed in reads,
operators create events, admins delete events and records; the controls follow the role."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from dashboard.sandbox import demo_flows, demo_memory
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
        demo_flows.seed_flows(START)
        yield


def _event() -> MemoryEvent:
    return MemoryEvent.objects.filter(session_id=CHECKOUT).first()


def _read_urls() -> list[str]:
    event = _event()
    record = MemoryRecord.objects.filter(memory_id=MEMORY).first()
    return [
        reverse("agentcore:index"),
        reverse("agentcore:memory-choose"),
        reverse("agentcore:memory", args=[MEMORY]),
        reverse("agentcore:memory-actor", args=[MEMORY, PRIYA]),
        reverse("agentcore:memory-session", args=[MEMORY, PRIYA, CHECKOUT]),
        reverse("agentcore:memory-event", args=[MEMORY, PRIYA, CHECKOUT, event.event_id]),
        reverse("agentcore:memory-records", args=[MEMORY]) + "?namespace=/&scope=path",
        reverse("agentcore:memory-record", args=[MEMORY, record.memory_record_id]),
        reverse("agentcore:memory-search", args=[MEMORY]) + f"?q=pool&strategy={demo_memory.FACTS}",
        reverse("flows:choose"),
        reverse("flows:flow", args=[demo_flows.FLOW_ID]),
        reverse(
            "flows:trace",
            args=[
                demo_flows.FLOW_ID,
                demo_flows.PROD_ALIAS,
                demo_flows.execution_id("critical-checkout"),
            ],
        ),
    ]


def test_viewers_read_every_page(viewer_client):
    for url in _read_urls():
        assert viewer_client.get(url).status_code == 200, url


def test_anonymous_users_read_nothing(anon_client):
    for url in _read_urls():
        response = anon_client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_viewers_cannot_create_events(viewer_client):
    url = reverse("agentcore:memory-event-create", args=[MEMORY])
    assert viewer_client.get(url).status_code == 403
    response = viewer_client.post(
        url, {"actor_id": PRIYA, "session_id": CHECKOUT, "role": "USER", "text": "hi"}
    )
    assert response.status_code == 403
    assert not MemoryEvent.objects.filter(payload__0__conversational__content__text="hi").exists()


def test_operators_create_events_but_do_not_delete(operator_client):
    url = reverse("agentcore:memory-event-create", args=[MEMORY])
    assert operator_client.get(url).status_code == 200
    event = _event()
    delete = reverse(
        "agentcore:memory-event-delete", args=[MEMORY, PRIYA, CHECKOUT, event.event_id]
    )
    assert operator_client.get(delete).status_code == 403
    assert operator_client.post(delete, {"confirm": "1"}).status_code == 403
    assert MemoryEvent.objects.filter(pk=event.pk).exists()
    record = MemoryRecord.objects.filter(memory_id=MEMORY).first()
    delete_record = reverse(
        "agentcore:memory-record-delete", args=[MEMORY, record.memory_record_id]
    )
    assert operator_client.post(delete_record, {"confirm": "1"}).status_code == 403
    assert MemoryRecord.objects.filter(pk=record.pk).exists()


def test_a_refused_htmx_delete_is_an_alert(operator_client):
    event = _event()
    delete = reverse(
        "agentcore:memory-event-delete", args=[MEMORY, PRIYA, CHECKOUT, event.event_id]
    )
    response = operator_client.post(delete, {"confirm": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#alerts"


def test_controls_follow_the_role(viewer_client, operator_client, admin_client):
    event = _event()
    session = reverse("agentcore:memory-session", args=[MEMORY, PRIYA, CHECKOUT])
    detail = reverse("agentcore:memory-event", args=[MEMORY, PRIYA, CHECKOUT, event.event_id])
    viewer = viewer_client.get(session).content.decode()
    assert "New event" not in viewer and "Branch from here" not in viewer
    operator = operator_client.get(session).content.decode()
    assert "New event" in operator and "Branch from here" in operator
    assert "Delete…" not in operator_client.get(detail).content.decode()
    admin = admin_client.get(detail).content.decode()
    assert "Delete…" in admin and 'hx-confirm="Delete this event' in admin
