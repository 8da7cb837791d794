"""Workload-identity answers are credentials: the sandbox implements the operations, but the
console never calls them and never shows a token or key. Every page of the AgentCore section is
visited as an admin while the sandbox records which operations were called; and no code outside
the sandbox names those operations."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from dashboard.aws.clients import client
from dashboard.sandbox import demo_flows, demo_memory, wire
from dashboard.sandbox.models import CredentialProvider, FlowExecution, MemoryEvent, MemoryRecord

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parent.parent
IDENTITY_OPERATIONS = (
    "GetWorkloadAccessToken",
    "GetWorkloadAccessTokenForJWT",
    "GetWorkloadAccessTokenForUserId",
    "GetResourceApiKey",
    "GetResourceOauth2Token",
    "CompleteResourceTokenAuth",
)
SNAKE = tuple(re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() for name in IDENTITY_OPERATIONS)


@pytest.fixture(autouse=True)
def seeded():
    with time_machine.travel(START, tick=False):
        demo_memory.seed_memories(START)
        demo_memory.seed_identities(START)
        demo_flows.seed_flows(START)
        yield


@pytest.fixture
def operations(monkeypatch):
    """(service, operation) of every call the sandbox answered."""
    made: list[tuple[str, str]] = []
    original = wire.dispatch

    def spy(service, method, url, headers, body):
        from urllib.parse import parse_qsl, urlsplit

        parts = urlsplit(url)
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        try:
            op, _ = wire.route(service, method.upper(), parts.path, query)
            made.append((service, op.name))
        except wire.SandboxError:
            made.append((service, "?"))
        return original(service, method, url, headers, body)

    monkeypatch.setattr(wire, "dispatch", spy)
    return made


def _pages() -> list[str]:
    memory = demo_memory.TRIAGE_MEMORY
    actor, session = "oncall/priya-raman", "inc-4821-checkout-5xx"
    event = MemoryEvent.objects.filter(session_id=session).first()
    record = MemoryRecord.objects.filter(memory_id=memory).first()
    urls = [
        reverse("agentcore:index"),
        reverse("agentcore:memory-choose"),
        reverse("agentcore:memory", args=[memory]),
        reverse("agentcore:memory-actor", args=[memory, actor]),
        reverse("agentcore:memory-session", args=[memory, actor, session]),
        reverse("agentcore:memory-event", args=[memory, actor, session, event.event_id]),
        reverse("agentcore:memory-event-delete", args=[memory, actor, session, event.event_id]),
        reverse("agentcore:memory-event-create", args=[memory]),
        reverse("agentcore:memory-records", args=[memory]) + "?namespace=/&scope=path",
        reverse("agentcore:memory-record", args=[memory, record.memory_record_id]),
        reverse("agentcore:memory-record-delete", args=[memory, record.memory_record_id]),
        reverse("agentcore:memory-search", args=[memory]) + "?q=token+key&namespace=/&scope=path",
        reverse("flows:choose"),
    ]
    for execution in FlowExecution.objects.all():
        urls.append(
            reverse(
                "flows:trace",
                args=[execution.flow_id, execution.flow_alias_id, execution.execution_id],
            )
        )
    return urls


def test_no_page_calls_a_workload_identity_operation(admin_client, operations):
    for url in _pages():
        assert admin_client.get(url).status_code == 200, url
    called = {name for _, name in operations}
    assert called  # the pages did call the sandbox
    assert not called & set(IDENTITY_OPERATIONS), called & set(IDENTITY_OPERATIONS)


def test_no_page_shows_a_token_or_key_even_when_one_is_in_the_data(admin_client):
    agentcore = client("bedrock-agentcore")
    token = agentcore.get_workload_access_token(workloadName="devops-triage-agent")[
        "workloadAccessToken"
    ]
    api_key = CredentialProvider.objects.get(pk="pagerduty-api").api_key
    # Nothing a page reads holds them; any page showing them would be showing a credential.
    for url in _pages():
        html = html_lib.unescape(admin_client.get(url).content.decode())
        assert token not in html and api_key not in html, url
        assert "workloadAccessToken" not in html and "apiKey" not in html, url


def test_no_code_outside_the_sandbox_names_the_identity_operations():
    places = [
        *ROOT.joinpath("dashboard").rglob("*.py"),
        *ROOT.joinpath("templates").rglob("*.html"),
        *ROOT.joinpath("static", "js").rglob("*.js"),
    ]
    offenders = []
    for path in places:
        if "sandbox" in path.relative_to(ROOT).parts:
            continue
        text = path.read_text(errors="replace")
        for name in (*IDENTITY_OPERATIONS, *SNAKE):
            if name in text:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []
