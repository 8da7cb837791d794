"""Escalating an investigation to AWS Support, over HTTP on the sandbox: the task page's card
(support level, the escalate button for operators), the case chat (the simulated engineer
joins, greets and answers as time passes), sending, ending, roles, the audit log, the
connection token kept out of every page; and, with a botocore model that lacks the case
operations (the aws backend against the served sandbox), the "not in this AWS API version"
card."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from dashboard.aws import tasks as aws_tasks
from dashboard.aws.clients import client
from dashboard.core.models import AuditEntry
from dashboard.sandbox import support_agent
from dashboard.tasks import support_chat

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def task(space, clock) -> dict:
    return aws_tasks.create_task(
        space["agentSpaceId"],
        task_type="INVESTIGATION",
        title="checkout-api 5xx after v2.14",
        priority="HIGH",
    )


def _urls(space: dict, task: dict) -> dict[str, str]:
    args = [space["agentSpaceId"], task["taskId"]]
    return {
        name: reverse(f"tasks:{view}", args=args)
        for name, view in (
            ("detail", "detail"),
            ("card", "support-card"),
            ("page", "support"),
            ("escalate", "support-escalate"),
            ("send", "support-send"),
            ("end", "support-end"),
        )
    }


def _escalate(client, urls) -> None:
    response = client.post(urls["escalate"], {"client_token": "escalate-token-1"})
    assert response.status_code == 302 and response["Location"] == urls["page"]


def test_an_investigation_page_loads_the_support_card(viewer_client, space, task):
    urls = _urls(space, task)
    page = viewer_client.get(urls["detail"]).content.decode()
    assert f'hx-get="{urls["card"]}"' in page
    card = viewer_client.get(urls["card"]).content.decode()
    assert "Business" in card and "Business Support+" in card  # DescribeSupportLevel
    assert "Escalate to AWS Support" not in card  # viewers read, operators escalate


def test_an_operator_is_offered_escalation(operator_client, space, task):
    card = operator_client.get(_urls(space, task)["card"]).content.decode()
    assert "Escalate to AWS Support" in card and 'name="client_token"' in card


def test_escalating_opens_the_chat_and_the_engineer_joins_greets_and_answers(
    operator_client, space, task, clock
):
    urls = _urls(space, task)
    _escalate(operator_client, urls)

    waiting = operator_client.get(urls["page"]).content.decode()
    clock.shift(support_agent.JOIN_SECONDS + support_agent.GREETING_SECONDS + 0.1)
    joined = operator_client.get(urls["page"]).content.decode()
    operator_client.post(
        urls["send"], {"text": "Can you check the logs on your side?", "client_token": "m-1"}
    )
    clock.shift(support_agent.REPLY_SECONDS + 0.1)
    answered = operator_client.get(urls["page"]).content.decode()

    assert "You joined" in waiting and "Waiting" not in waiting
    assert "joined" in joined and "from AWS Support" in joined
    assert "checkout-api 5xx after v2.14" in joined  # the greeting names the investigation
    assert "Can you check the logs on your side?" in answered
    assert "CloudWatch log group" in answered and "Simulated" in answered
    assert answered.count('class="support-msg from-them"') == 2
    operations = list(AuditEntry.objects.order_by("id").values_list("operation", flat=True))
    assert operations == ["InitiateChatForCase", "SendMessage"]


def test_a_retried_send_posts_the_message_once(operator_client, space, task, clock):
    urls = _urls(space, task)
    _escalate(operator_client, urls)
    for _ in range(2):
        operator_client.post(urls["send"], {"text": "Once only", "client_token": "same-1"})
    page = operator_client.get(urls["page"]).content.decode()
    assert page.count("Once only") == 1


def test_escalating_twice_resumes_the_open_chat(operator_client, space, task, clock):
    urls = _urls(space, task)
    _escalate(operator_client, urls)
    first = support_chat.get(space["agentSpaceId"], task["taskId"])["contactId"]
    cache.clear()  # the console forgot its connection (a restart without Redis)
    _escalate(operator_client, urls)
    again = support_chat.get(space["agentSpaceId"], task["taskId"])["contactId"]
    assert again == first


def test_ending_the_chat(operator_client, space, task, clock):
    urls = _urls(space, task)
    _escalate(operator_client, urls)
    response = operator_client.post(urls["end"], {"client_token": "end-1"})
    assert response.status_code == 302
    assert support_chat.get(space["agentSpaceId"], task["taskId"]) is None
    page = operator_client.get(urls["page"]).content.decode()
    assert "The support chat has ended." in page
    assert "No case chat is open" in page and "Escalate to AWS Support" in page
    assert list(AuditEntry.objects.order_by("id").values_list("operation", flat=True)) == [
        "InitiateChatForCase",
        "EndChatForCase",
        "DisconnectParticipant",
    ]


def test_a_message_with_nothing_to_say_keeps_the_page_and_sends_nothing(
    operator_client, space, task, clock
):
    urls = _urls(space, task)
    _escalate(operator_client, urls)
    response = operator_client.post(urls["send"], {"text": "   ", "client_token": "blank"})
    assert response.status_code == 400
    assert "Write a message." in response.content.decode()
    assert not AuditEntry.objects.filter(operation="SendMessage").exists()


def test_viewers_may_not_escalate_send_end_or_read_the_chat(
    viewer_client, operator_client, space, task
):
    urls = _urls(space, task)
    assert viewer_client.post(urls["escalate"]).status_code == 403
    assert viewer_client.post(urls["send"], {"text": "hi"}).status_code == 403
    assert viewer_client.post(urls["end"]).status_code == 403
    _escalate(operator_client, urls)
    page = viewer_client.get(urls["page"]).content.decode()
    assert "Operators hold the conversation" in page and "You joined" not in page
    fragment = viewer_client.get(urls["page"] + "?fragment=transcript", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 404


def test_the_connection_token_never_reaches_a_page_or_the_audit(
    operator_client, space, task, clock
):
    urls = _urls(space, task)
    _escalate(operator_client, urls)
    token = support_chat.get(space["agentSpaceId"], task["taskId"])["connectionToken"]
    operator_client.post(urls["send"], {"text": "hello", "client_token": "t-1"})
    pages = [
        operator_client.get(urls["page"]).content.decode(),
        operator_client.get(urls["card"]).content.decode(),
        operator_client.get(
            urls["page"] + "?fragment=transcript", HTTP_HX_REQUEST="true"
        ).content.decode(),
    ]
    audit = repr(list(AuditEntry.objects.values("detail", "error")))
    assert token and all(token not in page for page in pages) and token not in audit


def test_the_transcript_poll_reads_the_transcript_only(operator_client, space, task, clock):
    urls = _urls(space, task)
    _escalate(operator_client, urls)
    clock.shift(support_agent.JOIN_SECONDS + support_agent.GREETING_SECONDS + 0.1)
    made = []
    for name in ("devops-agent", "connectparticipant"):
        client(name).meta.events.register(
            "before-call", lambda model, **kw: made.append(model.name), unique_id="count-calls"
        )
    try:
        fragment = operator_client.get(
            urls["page"] + "?fragment=transcript", HTTP_HX_REQUEST="true"
        )
    finally:
        for name in ("devops-agent", "connectparticipant"):
            client(name).meta.events.unregister("before-call", unique_id="count-calls")
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "joined" in body and 'hx-trigger="every' in body
    assert made == ["GetTranscript"]


# --- without the operations: the aws backend against the served sandbox ------------------------


@pytest.mark.django_db(transaction=True)
def test_without_the_case_operations_the_card_says_they_are_not_in_this_api_version(
    operator_client,
):
    from dashboard.aws import spaces
    from dashboard.aws.clients import reset_clients
    from dashboard.sandbox.server import SandboxServer

    made = spaces.create_space(name="Elsewhere")
    task = aws_tasks.create_task(
        made["agentSpaceId"], task_type="INVESTIGATION", title="No support here", priority="LOW"
    )
    server = SandboxServer("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        # botocore as it is, against an endpoint: the model has no support-case operations.
        with override_settings(DASHBOARD_BACKEND="aws", AWS_ENDPOINT_URL=server.url):
            reset_clients()
            urls = _urls(made, task)
            card = operator_client.get(urls["card"]).content.decode()
            response = operator_client.post(urls["escalate"], {"client_token": "x-1"})
            page = operator_client.get(urls["page"]).content.decode()
    finally:
        reset_clients()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert "not in this AWS API version" in card and "InitiateChatForCase" in card
    assert "Escalate to AWS Support</button>" not in card
    assert response.status_code == 302
    assert "not in this AWS API version" in page
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "expiry", ["2026-06-01T10:00:00Z", "2026-06-01T10:00:00", "2026-06-01T12:00:00+02:00", "", "x"]
)
def test_the_chat_is_kept_until_the_connection_expires_whatever_the_expiry_looks_like(
    clock, expiry, monkeypatch
):
    kept = {}
    monkeypatch.setattr(cache, "set", lambda key, value, timeout: kept.update(timeout=timeout))
    support_chat.put("space", "task", {"contactId": "c"}, expiry)
    expected = support_chat.DEFAULT_TTL if expiry in ("", "x") else 3600
    assert kept["timeout"] == expected
