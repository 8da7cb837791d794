"""Binary event streams: encoded byte-exactly, parsed by botocore, and delivered while they are
still being produced rather than in one lump at the end."""

from __future__ import annotations

import struct
import threading
import zlib

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import EventStreamError

from dashboard.aws.clients import client
from dashboard.sandbox import eventstream, wire

pytestmark = pytest.mark.django_db

TEXT = ["Checking ", "the load ", "balancer."]


def _script() -> list[tuple[str, dict]]:
    """The events of one SendMessage reply, in the order the service sends them."""
    events: list[tuple[str, dict]] = [
        ("responseCreated", {"responseId": "r-1", "sequenceNumber": 0}),
        ("contentBlockStart", {"index": 0, "type": "text", "id": "b-1", "sequenceNumber": 1}),
    ]
    for i, piece in enumerate(TEXT):
        events.append(
            (
                "contentBlockDelta",
                {"index": 0, "delta": {"textDelta": {"text": piece}}, "sequenceNumber": 2 + i},
            )
        )
    events.append(
        (
            "contentBlockStop",
            {"index": 0, "type": "text", "text": "".join(TEXT), "last": True, "sequenceNumber": 5},
        )
    )
    events.append(("responseCompleted", {"responseId": "r-1", "sequenceNumber": 6}))
    return events


class Lockstep:
    """Proves a stream is delivered while it is produced: the producer makes event n+1 only
    once the reader has received event n. A transport that held events back until the end (or
    until a buffer filled) would leave the producer waiting, and the test fails naming the event
    it waited for. No clock decides anything; the deadline only ends a failing test."""

    DEADLINE = 10.0

    def __init__(self) -> None:
        self.received: list[threading.Event] = []
        self.late: list[int] = []  # events the reader had not received when the next was due

    def produce(self, events):  # type: ignore[no-untyped-def]
        for index, event in enumerate(events):
            if index and not self.received[index - 1].wait(self.DEADLINE):
                self.late.append(index - 1)
                raise RuntimeError(f"event {index - 1} was not delivered before the next one")
            self.received.append(threading.Event())
            yield event

    def read(self, stream, into: list[dict] | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
        received = [] if into is None else into
        for event in stream:
            received.append(event)
            self.received[len(received) - 1].set()
        return received

    def check(self, received: list[dict], count: int) -> None:
        assert self.late == [], f"events held back until later ones were produced: {self.late}"
        assert len(received) == count


def install_stream(monkeypatch, events, *, fail_with: Exception | None = None) -> Lockstep:
    """Make SendMessage stream `events` in lockstep with the reader, then fail if told to."""
    import dashboard.sandbox.ops  # noqa: F401 - registers the handlers first (not over ours)

    lockstep = Lockstep()

    def handler(ctx, params):
        assert params["content"] == "Why is checkout slow?"

        def generate():
            yield from lockstep.produce(events)
            if fail_with is not None:
                raise fail_with

        return {"events": generate()}

    monkeypatch.setitem(wire._handlers, ("devops-agent", "SendMessage"), handler)
    return lockstep


def send(devops_client):
    return devops_client.send_message(
        agentSpaceId="space-1", executionId="e" * 32, content="Why is checkout slow?"
    )


def check_members(received: list[dict]) -> None:
    assert [next(iter(e)) for e in received] == [name for name, _ in _script()]
    assert received[0]["responseCreated"] == {"responseId": "r-1", "sequenceNumber": 0}
    assert received[1]["contentBlockStart"]["id"] == "b-1"
    deltas = [e["contentBlockDelta"]["delta"]["textDelta"]["text"] for e in received[2:5]]
    assert deltas == TEXT
    assert received[5]["contentBlockStop"] == {
        "index": 0,
        "type": "text",
        "text": "".join(TEXT),
        "last": True,
        "sequenceNumber": 5,
    }
    assert received[6]["responseCompleted"]["responseId"] == "r-1"


def test_it_streams_send_message_events_as_they_are_produced(monkeypatch):
    lockstep = install_stream(monkeypatch, _script())

    response = send(client("devops-agent"))
    received = lockstep.read(response["events"])

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    lockstep.check(received, len(_script()))
    check_members(received)


def test_it_ends_a_stream_with_a_modelled_error_botocore_raises(monkeypatch):
    lockstep = install_stream(
        monkeypatch,
        _script()[:3],
        fail_with=wire.SandboxError("ThrottlingException", "Slow down mid-answer"),
    )

    received: list[dict] = []
    with pytest.raises(EventStreamError) as exc_info:
        lockstep.read(send(client("devops-agent"))["events"], into=received)

    assert [next(iter(e)) for e in received] == [
        "responseCreated",
        "contentBlockStart",
        "contentBlockDelta",
    ]
    assert exc_info.value.response["Error"]["Code"] == "ThrottlingException"
    assert exc_info.value.response["Error"]["Message"] == "Slow down mid-answer"


def test_it_ends_a_stream_whose_producer_crashes_with_internal_server_exception(monkeypatch):
    install_stream(monkeypatch, _script()[:1], fail_with=RuntimeError("emulator bug"))

    with pytest.raises(EventStreamError) as exc_info:
        list(send(client("devops-agent"))["events"])

    assert exc_info.value.response["Error"]["Code"] == "InternalServerException"
    assert "emulator bug" not in exc_info.value.response["Error"]["Message"]


# --- encoding ----------------------------------------------------------------------------------


def _decode(data: bytes) -> list:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def test_it_encodes_a_message_botocore_decodes_with_valid_checksums():
    data = eventstream.encode_message(
        {":event-type": "heartbeat", ":message-type": "event", "x-note": "héllo"}, b'{"a":1}'
    )

    (message,) = _decode(data)
    assert message.headers == {
        ":event-type": "heartbeat",
        ":message-type": "event",
        "x-note": "héllo",
    }
    assert message.payload == b'{"a":1}'
    total, headers_length, prelude_crc = struct.unpack("!III", data[:12])
    assert total == len(data)
    assert prelude_crc == zlib.crc32(data[:8])
    assert message.prelude.headers_length == headers_length
    assert struct.unpack("!I", data[-4:])[0] == zlib.crc32(data[:-4])


def test_it_encodes_messages_that_fail_the_check_when_corrupted():
    data = bytearray(eventstream.encode_message({":message-type": "event"}, b"payload"))
    data[-6] ^= 0xFF  # a payload byte: the message CRC no longer matches

    with pytest.raises(ChecksumMismatch):
        _decode(bytes(data))


def test_it_decodes_several_messages_split_across_arbitrary_chunks():
    data = b"".join(
        eventstream.encode_message({":message-type": "event", "n": str(i)}, b"x" * i)
        for i in range(5)
    )
    buffer = EventStreamBuffer()
    messages = []
    for start in range(0, len(data), 7):
        buffer.add_data(data[start : start + 7])
        messages.extend(buffer)

    assert [m.headers["n"] for m in messages] == ["0", "1", "2", "3", "4"]
    assert [m.payload for m in messages] == [b"x" * i for i in range(5)]


def test_it_encodes_an_event_by_the_stream_shape():
    stream = wire.service_model("devops-agent").operation_model("SendMessage").output_shape
    shape = stream.members["events"]

    (message,) = _decode(
        eventstream.encode_event(
            shape, "contentBlockDelta", {"index": 2, "delta": {"textDelta": {"text": "hi"}}}
        )
    )

    assert message.headers[":event-type"] == "contentBlockDelta"
    assert message.headers[":message-type"] == "event"
    assert message.headers[":content-type"] == "application/json"
    assert message.payload == b'{"index": 2, "delta": {"textDelta": {"text": "hi"}}}'
