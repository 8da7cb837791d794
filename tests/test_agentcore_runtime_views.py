"""The runtime playground over HTTP: choosing a runtime (the account's runtimes, a new session id
in the URL, the model's limits), the no-JavaScript invoke that waits and renders the answer
(Markdown for agent text, a tree for JSON), payload validation before AWS, errors that keep the
payload, and roles."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache

from dashboard.core.models import AuditEntry

from .agentcore_code_support import ASSISTANT, ECHO, serialize_sqlite

pytestmark = pytest.mark.django_db(transaction=True)
PAGE = "/agentcore/runtime/"
INVOKE = "/agentcore/runtime/invoke/"
SESSION = "console-0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def _fast(settings, monkeypatch):
    cache.clear()
    settings.SANDBOX_RUNTIME_TOKEN_SECONDS = 0.0
    settings.SANDBOX_FAULTS = ""
    serialize_sqlite(monkeypatch)
    yield
    cache.clear()


def _invoke(client, prompt: str = "Why is checkout-api returning 5xx?", **fields):
    data = {
        "arn": ASSISTANT,
        "qualifier": "",
        "session": SESSION,
        "payload": json.dumps({"prompt": prompt}),
        "content_type": "application/json",
        "accept": "text/event-stream",
        **fields,
    }
    return client.post(INVOKE, data)


def test_the_page_offers_the_accounts_runtimes(viewer_client):
    page = viewer_client.get(PAGE).content.decode()
    assert "sre_assistant" in page and "payload_echo" in page
    assert 'aria-current="page">Runtime playground</a>' in page
    assert "simulated" in page


def test_opening_a_runtime_gives_it_a_new_session_id_in_the_url(viewer_client):
    response = viewer_client.get(PAGE, {"arn": ASSISTANT, "qualifier": "prod"})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["arn"] == [ASSISTANT] and query["qualifier"] == ["prod"]
    assert 33 <= len(query["session"][0]) <= 256
    page = viewer_client.get(response["Location"]).content.decode()
    assert query["session"][0] in page
    assert 'ws-connect="/ws/agentcore/runtime/' in page


def test_a_malformed_arn_or_short_session_is_refused_next_to_the_field(viewer_client):
    response = viewer_client.get(PAGE, {"arn": "not-an-arn"})
    assert response.status_code == 400
    assert "An agent runtime ARN looks like" in response.content.decode()
    response = viewer_client.get(PAGE, {"arn": ASSISTANT, "session": "short"})
    assert response.status_code == 400
    assert "Use at least 33 characters" in response.content.decode()


def test_without_javascript_an_invocation_waits_and_renders_the_answer(operator_client):
    response = _invoke(operator_client, "Elevated 5xx on checkout-api")
    assert response.status_code == 200
    page = response.content.decode()
    # The streamed text, complete, rendered as sanitized Markdown.
    assert "<strong>errors on checkout-api</strong>" in page
    assert "<ol>" in page and "<code>checkout-api</code>" in page
    assert "Simulated reply from the console" in page
    assert "end_turn" in page  # the final JSON event
    assert "Done" in page
    entry = AuditEntry.objects.get(operation="InvokeAgentRuntime")
    assert entry.outcome == "ok" and entry.detail["payload"] == "[redacted]"
    assert entry.detail["runtimeSessionId"] == SESSION


def test_a_json_answer_is_shown_as_a_tree(operator_client):
    page = _invoke(operator_client, accept="application/json").content.decode()
    assert 'class="jt-root"' in page and "Raw JSON" in page
    echo = _invoke(operator_client, arn=ECHO, accept="application/json").content.decode()
    assert "received" in echo and "Why is checkout-api returning 5xx?" in echo


def test_invalid_json_is_refused_before_aws_and_the_payload_kept(operator_client):
    response = _invoke(operator_client, payload='{"prompt": "unterminated')
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'id="rt-err-payload" class="errorlist"><li>This is not valid JSON', page)
    assert "{&quot;prompt&quot;: &quot;unterminated" in page
    assert not AuditEntry.objects.exists()


def test_plain_text_payloads_are_not_checked_as_json(operator_client):
    response = _invoke(operator_client, payload="checkout is down", content_type="text/plain")
    assert response.status_code == 200
    assert "checkout is down" in response.content.decode()


def test_mime_types_are_held_to_the_model(operator_client):
    response = _invoke(operator_client, content_type="x" * 257)
    assert response.status_code == 400
    assert "Use at most 256 characters" in response.content.decode()


def test_an_unknown_runtime_is_explained_and_the_payload_kept(operator_client):
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/gone_agent-AbCdEfGh12"
    response = _invoke(operator_client, "keep this prompt", arn=arn)
    assert response.status_code == 404
    page = response.content.decode()
    assert "was not found" in page and "keep this prompt" in page
    assert AuditEntry.objects.get(operation="InvokeAgentRuntime").outcome == "failed"


def test_throttling_keeps_the_payload(operator_client, settings):
    settings.SANDBOX_FAULTS = "throttle=1"
    response = _invoke(operator_client, "throttled prompt")
    assert response.status_code == 503
    page = response.content.decode()
    assert "AWS is throttling InvokeAgentRuntime" in page
    assert "your payload is kept below" in page and "throttled prompt" in page


def test_viewers_watch_but_cannot_invoke(viewer_client):
    page = viewer_client.get(PAGE, {"arn": ASSISTANT, "session": SESSION}).content.decode()
    assert 'id="rt-form"' not in page and "invoking runtimes needs the operator role" in page
    assert _invoke(viewer_client).status_code == 403
    assert not AuditEntry.objects.exists()


def test_the_page_shows_the_sessions_earlier_answers_and_offers_the_last_payload(
    operator_client,
):
    _invoke(operator_client, "first question about ledger-db")
    page = operator_client.get(PAGE, {"arn": ASSISTANT, "session": SESSION}).content.decode()
    assert "first question about ledger-db" in page
    assert page.count('class="ci-run rt-inv"') == 1
    other = operator_client.get(
        PAGE, {"arn": ASSISTANT, "session": SESSION.replace("0", "1")}
    ).content.decode()
    assert 'class="ci-run rt-inv"' not in other


def test_deeply_nested_json_is_refused_before_aws_and_the_payload_kept(operator_client):
    # json.loads raises RecursionError (not ValueError) for this: it was a 500.
    nested = "[" * 50_000 + "]" * 50_000
    response = _invoke(operator_client, payload=nested)
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'id="rt-err-payload" class="errorlist"><li>This is not valid JSON', page)
    assert "nested more than 64 levels deep" in page
    assert "[[[[[[[[[[" in page
    assert not AuditEntry.objects.exists()


def test_mime_types_that_cannot_be_http_headers_are_refused_before_aws(operator_client):
    # A CR/LF (or any control or non-ASCII character) in a header value: http.client refuses
    # it with a ValueError when sending to AWS, a 500; the sandbox let it through.
    for field, value in (
        ("content_type", "application/json\r\nX-Injected: 1"),
        ("accept", "text/event-stream\nX-Injected: 1"),
        ("accept", "text/plain; charset=\u00e9"),
    ):
        response = _invoke(operator_client, **{field: value})
        assert response.status_code == 400, field
        assert "printable ASCII" in response.content.decode()
    assert not AuditEntry.objects.exists()
