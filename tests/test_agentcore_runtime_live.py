"""The runtime playground's relay over real websockets: an answer streams to everyone with the
runtime session open, token by token, a late joiner catches up, operators invoke and viewers
watch, a socket cannot invoke another session, and the answer's pieces are parsed and shown
safely (Server-Sent Events split anywhere, Markdown sanitized)."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest
from channels.layers import channel_layers
from django.core.cache import cache

from dashboard import streams
from dashboard.agentcore import runtime_runs
from dashboard.aws import agentcore_runtime as runtime_api
from dashboard.aws import executor as aws_executor
from dashboard.streams.views import render_from

from .agentcore_code_support import ASSISTANT, Tab, serialize_sqlite

pytestmark = pytest.mark.django_db(transaction=True)
SESSION = "console-fedcba9876543210fedcba9876543210"
DONE = "ci-state-done"


@pytest.fixture(autouse=True)
def _fresh(settings, monkeypatch):
    channel_layers.backends.clear()
    cache.clear()
    settings.SANDBOX_RUNTIME_TOKEN_SECONDS = 0.005
    settings.SANDBOX_FAULTS = ""
    settings.STREAM_THREADS = 8
    settings.STREAM_COALESCE_SECONDS = 0.05
    aws_executor._executor = None
    serialize_sqlite(monkeypatch)
    yield
    pool, aws_executor._executor = aws_executor._executor, None
    if pool is not None:
        pool.shutdown(wait=True)
    channel_layers.backends.clear()


def path(session: str = SESSION) -> str:
    return f"/ws/agentcore/runtime/{runtime_runs.digest(ASSISTANT, '', session)}/"


def invoke(prompt: str, session: str = SESSION, **extra) -> dict:
    return {
        "action": "invoke",
        "arn": ASSISTANT,
        "qualifier": "",
        "session": session,
        "payload": json.dumps({"prompt": prompt}),
        "content_type": "application/json",
        "accept": "text/event-stream",
        **extra,
    }


async def finish(*tabs: Tab) -> None:
    await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)
    for relay in streams.active():
        await relay.wait(10)


def streamed(html: str) -> str:
    return "".join(
        re.findall(r'<span hx-swap-oob="beforeend:#i-[0-9a-f]+-text">(.*?)</span>', html, re.S)
    )


async def test_an_answer_streams_to_two_viewers_token_by_token(operator_client, viewer_client):
    sender = await Tab(operator_client, path()).open()
    watcher = await Tab(viewer_client, path()).open()
    await sender.send(**invoke("p99 latency on ledger-service"))
    mine = await sender.until(DONE)
    theirs = await watcher.until(DONE)
    assert 'id="rt-form-errors"' in mine and "alert-error" not in mine
    assert 'id="rt-form-errors"' not in theirs
    text = streamed(mine)
    assert text.startswith("You asked: “p99 latency on ledger-service”.")
    assert streamed(theirs) == text
    # Many messages carried text: it arrived over time, not at the end.
    pieces = [h for _, h in sender.received if '-text">' in h]
    assert len(pieces) >= 5
    # Once complete, the answer is re-rendered as sanitized Markdown.
    assert "<strong>latency on ledger-service</strong>" in mine
    assert "text/event-stream" in mine and "end_turn" in mine
    await finish(sender, watcher)


async def test_a_late_joiner_catches_up(operator_client, viewer_client, settings):
    settings.SANDBOX_RUNTIME_TOKEN_SECONDS = 0.02
    sender = await Tab(operator_client, path()).open()
    await sender.send(**invoke("database connections exhausted on ledger-db"))
    await sender.until('-text">You')  # the first token
    await asyncio.sleep(0.3)
    late = await Tab(viewer_client, path()).open()
    first = await late.receive()
    assert "You asked" in first, "what streamed so far comes at once"
    assert DONE not in first, "the late joiner came mid-answer"
    rest = await late.until(DONE)
    everything = first + rest
    assert streamed(everything).count("You asked") == 1, "and nothing twice"
    if DONE not in sender.text:
        await sender.until(DONE)
    assert streamed(everything) == streamed(sender.text), "the same text as the sender saw"
    assert "the database behind ledger-db" in everything
    await finish(sender, late)


async def test_viewers_cannot_invoke_over_the_socket(viewer_client):
    tab = await Tab(viewer_client, path()).open()
    await tab.send(**invoke("let me in"))
    html = await tab.until('id="rt-form-errors"')
    assert "needs the operator role" in html
    assert not streams.read_runs(runtime_runs.stream_key(ASSISTANT, "", SESSION))
    await finish(tab)


async def test_a_socket_cannot_invoke_another_runtime_session(operator_client):
    tab = await Tab(operator_client, path()).open()
    other = "console-" + "9" * 36
    await tab.send(**invoke("elsewhere", session=other))
    html = await tab.until('id="rt-form-errors"')
    assert "another runtime session" in html
    await finish(tab)


async def test_invalid_json_is_answered_next_to_the_payload(operator_client):
    tab = await Tab(operator_client, path()).open()
    await tab.send(**invoke("x", payload="{oops"))
    html = await tab.until('id="rt-form-errors"')
    assert re.search(r'<ul id="rt-err-payload" class="errorlist" hx-swap-oob="true"><li>This', html)
    assert 'id="id_payload"' not in html, "the typed payload is not touched"
    await finish(tab)


async def test_malformed_frames_are_answered_and_the_socket_keeps_working(operator_client):
    tab = await Tab(operator_client, path()).open()
    for frame in ("{" * 100_000, '["a list"]', "\x00\xff"):
        await tab.communicator.send_to(text_data=frame)
        html = await tab.until('id="rt-form-errors"')
        assert "could not read what the page sent" in html and "payload is kept" in html
    await tab.send(**invoke("Still there?"))
    await tab.until(DONE)
    await finish(tab)


async def test_a_deeply_nested_payload_is_answered_next_to_the_payload(operator_client):
    tab = await Tab(operator_client, path()).open()
    await tab.send(**invoke("x", payload="[" * 50_000 + "]" * 50_000))
    html = await tab.until('id="rt-form-errors"')
    assert re.search(r'<ul id="rt-err-payload" class="errorlist" hx-swap-oob="true"><li>This', html)
    assert "nested more than 64 levels deep" in html
    await finish(tab)


async def test_malformed_and_anonymous_sockets_are_refused(operator_client):
    bad = Tab(operator_client, "/ws/agentcore/runtime/not-a-digest/")
    connected, code = await bad.connect()
    assert not connected and code == 4404
    anonymous = Tab(None, path())
    connected, code = await anonymous.connect()
    assert not connected and code == 4401


# --- reading and showing answers ----------------------------------------------------------------


class _Body:
    """A streaming body handing out the given chunks (as urllib3's read1 would)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._raw_stream = self
        self.chunks = list(chunks)
        self.closed = False

    def read1(self, amt: int = -1) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def close(self) -> None:
        self.closed = True


def _read(content_type: str, chunks: list[bytes]) -> list[tuple[str, dict]]:
    body = _Body(chunks)
    events = list(runtime_api.RuntimeStream({"contentType": content_type, "response": body}))
    assert body.closed
    return events


def test_server_sent_events_split_anywhere_are_read_whole():
    wire = (
        b': keep-alive\r\n\r\ndata: "Hel"\r\n\r\ndata: "lo \\u00e9"\n\n'
        b'event: usage\ndata: {"tokens":\ndata: 3}\n\ndata: plain words\n\ndata: [1, 2]'
    )
    for size in (1, 2, 3, 7, len(wire)):
        chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
        events = _read("text/event-stream; charset=utf-8", chunks)
        kinds = [k for k, _ in events]
        assert kinds[0] == "response" and kinds[-1] == "complete", size
        assert ("heartbeat", {}) in events
        text = "".join(d["text"] for k, d in events if k == "text")
        assert text == "Hello éplain words", size
        data = [d for k, d in events if k == "data"]
        assert data[0]["event"] == "usage" and data[0]["value"] == {"tokens": 3}
        assert data[1]["value"] == [1, 2], "the last event, without its blank line, still counts"


def test_a_json_answer_arrives_raw_then_parsed_and_bad_json_is_said():
    events = _read("application/json", [b'{"a": ', b'[1, "\xc3', b'\xa9"]}'])
    assert "".join(d["text"] for k, d in events if k == "raw") == '{"a": [1, "é"]}'
    assert events[-1] == ("complete", {"bytes": 16, "truncated": False, "json": {"a": [1, "é"]}})
    bad = _read("application/json", [b"{nope"])
    assert "not valid JSON" in bad[-1][1]["jsonError"]


def test_an_answer_nested_too_deep_for_json_is_said_not_a_broken_stream():
    deep = b"[" * 50_000 + b"]" * 50_000
    events = _read("application/json", [deep])
    assert events[-1][0] == "complete" and "nested too deeply" in events[-1][1]["jsonError"]
    assert "".join(d["text"] for k, d in events if k == "raw") == deep.decode()
    events = _read("text/event-stream", [b"data: " + deep + b"\n\n"])
    assert events[-1][0] == "complete"
    assert "".join(d["text"] for k, d in events if k == "text") == deep.decode()


def test_agent_text_is_rendered_as_sanitized_markdown():
    key = runtime_runs.stream_key(ASSISTANT, "", SESSION)
    evil = "**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=y>"
    events = [
        streams.Event(seq=1, type=streams.START, data={"payload": "{}"}, at=time.time()),
        streams.Event(seq=2, type="response", data={"contentType": "text/plain"}, at=time.time()),
        streams.Event(seq=3, type="text", data={"text": evil}, at=time.time()),
        streams.Event(seq=4, type="complete", data={"bytes": 1}, at=time.time()),
        streams.Event(seq=5, type=streams.END, data={}, at=time.time()),
    ]
    html = render_from(key, "r1", events, 0)
    assert "<strong>bold</strong>" in html
    assert "<script>" not in html and "<img" not in html and 'href="javascript:' not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=y&gt;" in html
