"""The sandbox's agent runtimes through boto3: a streaming blob answer that really arrives over
time (the wire layer sends a generator payload lazily), Server-Sent Events / JSON / text by
Accept, a reply grounded in the prompt, the runtime session's memory, and the documented
errors."""

from __future__ import annotations

import json
import time

import pytest

from dashboard.aws import agentcore_runtime as runtime_api
from dashboard.aws import errors
from dashboard.aws.clients import client
from dashboard.sandbox import wire

pytestmark = pytest.mark.django_db

ASSISTANT = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/sre_assistant-Sbx7Qm2LpA"
ECHO = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/payload_echo-Sbx4Hk9TzB"


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.SANDBOX_RUNTIME_TOKEN_SECONDS = 0.0
    settings.SANDBOX_FAULTS = ""


def _events(arn: str = ASSISTANT, prompt: str = "Why is checkout-api slow?", **kwargs):
    payload = kwargs.pop("payload", json.dumps({"prompt": prompt}).encode())
    params = runtime_api.invoke_params(arn, payload=payload, **kwargs)
    return list(runtime_api.open_invocation(params))


def _text(events) -> str:
    return "".join(data["text"] for kind, data in events if kind == "text")


# --- the wire layer -------------------------------------------------------------------------


def test_a_generator_payload_is_sent_lazily_chunk_by_chunk():
    produced: list[str] = []

    def chunks():
        for word in ("one ", "two ", "three"):
            produced.append(word)
            yield word

    op = wire.service_model("bedrock-agentcore").operation_model("InvokeAgentRuntime")
    response = wire.serialize_output(
        op, {"contentType": "text/plain", "runtimeSessionId": "s" * 40, "response": chunks()}
    )
    assert produced == [], "nothing is produced before the body is read"
    assert response.headers["Content-Type"] == "text/plain"
    body = iter(response.body)
    assert next(body) == b"one "
    assert produced == ["one "]
    assert b"".join(body) == b"two three"


def test_a_bytes_payload_is_still_written_whole():
    op = wire.service_model("bedrock-agentcore").operation_model("InvokeAgentRuntime")
    response = wire.serialize_output(op, {"contentType": "text/plain", "response": b"all"})
    assert response.body == b"all"


# --- answers ----------------------------------------------------------------------------------


def test_the_reply_streams_as_server_sent_events_token_by_token(settings):
    settings.SANDBOX_RUNTIME_TOKEN_SECONDS = 0.02
    session = runtime_api.new_session_id()
    params = runtime_api.invoke_params(
        ASSISTANT,
        payload=json.dumps({"prompt": "Elevated 5xx errors on checkout-api"}).encode(),
        session_id=session,
    )
    began = time.monotonic()
    arrivals: list[float] = []
    events = []
    for kind, data in runtime_api.open_invocation(params):
        events.append((kind, data))
        if kind == "text":
            arrivals.append(time.monotonic() - began)
    meta = events[0]
    assert meta[0] == "response"
    assert meta[1]["contentType"] == "text/event-stream"
    assert meta[1]["runtimeSessionId"] == session
    assert len(arrivals) > 30, "one text event per token"
    assert arrivals[-1] - arrivals[0] > 0.3, "the tokens arrived over time, not at once"
    text = _text(events)
    assert "Elevated 5xx errors on checkout-api" in text
    assert "**errors on checkout-api**" in text
    assert "Simulated reply" in text
    data = [d for k, d in events if k == "data"]
    assert data[-1]["value"]["stopReason"] == "end_turn"
    assert data[-1]["value"]["usage"]["outputTokens"] > 30
    assert ("heartbeat", {}) in events
    assert events[-1][0] == "complete" and events[-1][1]["bytes"] > 0


def test_json_is_answered_whole_when_accept_asks_for_it():
    events = _events(accept="application/json")
    assert events[0][1]["contentType"] == "application/json"
    raw = "".join(d["text"] for k, d in events if k == "raw")
    end = events[-1][1]
    assert end["json"] == json.loads(raw)
    assert end["json"]["simulated"] is True
    assert "checkout-api" in end["json"]["response"]


def test_plain_text_streams_when_accept_asks_for_it():
    events = _events(accept="text/plain")
    assert events[0][1]["contentType"] == "text/plain"
    assert "You asked" in _text(events)


def test_the_session_remembers_earlier_prompts():
    session = runtime_api.new_session_id()
    _events(prompt="Database connections maxed on ledger-db", session_id=session)
    second = _text(_events(prompt="And what about latency?", session_id=session))
    assert "Earlier in this session you asked about “Database connections maxed" in second
    other = _text(_events(prompt="And what about latency?"))
    assert "Earlier in this session" not in other


def test_the_echo_runtime_answers_with_what_it_received():
    events = _events(ECHO, payload=b'{"prompt": "hi", "n": 3}', accept="application/json")
    assert events[-1][1]["json"]["received"]["json"] == {"prompt": "hi", "n": 3}
    assert events[-1][1]["json"]["received"]["bytes"] == 24


# --- errors -----------------------------------------------------------------------------------


def test_an_unknown_runtime_is_not_found_and_names_the_sandbox_runtimes():
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/other_agent-AbCdEfGh12"
    with pytest.raises(errors.NotFound, match="sre_assistant"):
        _events(arn)


def test_an_unknown_qualifier_is_not_found():
    with pytest.raises(errors.NotFound, match="Endpoint canary"):
        _events(qualifier="canary")


def test_a_json_content_type_needs_json():
    with pytest.raises(errors.ValidationFailed, match="not valid JSON"):
        _events(payload=b"{not json")


def test_json_nested_too_deep_is_a_validation_error_not_a_server_error():
    # A content type the console does not check as JSON, but the sandbox reads as JSON.
    deep = b"[" * 50_000 + b"]" * 50_000
    with pytest.raises(errors.ValidationFailed, match="nested too deeply"):
        _events(payload=deep, content_type="application/json-seq")


def test_an_accept_the_runtime_cannot_answer_is_refused():
    with pytest.raises(errors.ValidationFailed, match="answers with"):
        _events(accept="image/png")


def test_the_session_id_must_be_long_enough_per_the_model():
    raw = client("bedrock-agentcore")
    with pytest.raises(Exception, match="runtimeSessionId"):
        raw.invoke_agent_runtime(agentRuntimeArn=ASSISTANT, payload=b"{}", runtimeSessionId="x")


def test_throttling_is_raised_before_any_event(settings):
    settings.SANDBOX_FAULTS = "throttle=1"
    with pytest.raises(errors.Throttled):
        _events()


def test_a_stream_cut_midway_breaks_off_with_unavailable(monkeypatch):
    from dashboard.sandbox.ops import agentcore_runtime as sandbox_runtime

    def cut(*args, **kwargs):
        yield b'data: "partial "\n\n'
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(sandbox_runtime, "_reply", cut)
    params = runtime_api.invoke_params(ASSISTANT, payload=b'{"prompt": "x"}')
    stream = iter(runtime_api.open_invocation(params))
    assert next(stream)[0] == "response"
    assert next(stream) == ("text", {"text": "partial "})
    with pytest.raises(errors.Unavailable, match="broke off"):
        next(stream)
