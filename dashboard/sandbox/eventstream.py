"""AWS event-stream encoding (application/vnd.amazon.eventstream), produced lazily.

A message is a prelude (total length, headers length, prelude CRC32), headers, payload and a
CRC32 of everything before it. Events come from a handler's generator one by one, so a reply
reaches botocore's EventStream parser while it is still being produced.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.model import Shape

_STRING = 7


def _headers(headers: dict[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name = name.encode()
        raw_value = value.encode()
        out += struct.pack("!B", len(raw_name)) + raw_name
        out += struct.pack("!BH", _STRING, len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One binary event-stream message."""
    header_bytes = _headers(headers)
    total = 12 + len(header_bytes) + len(payload) + 4
    prelude = struct.pack("!II", total, len(header_bytes))
    prelude += struct.pack("!I", zlib.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + header_bytes + payload
    return message + struct.pack("!I", zlib.crc32(message) & 0xFFFFFFFF)


def encode_event(event_shape: Shape, event_type: str, value: dict[str, Any]) -> bytes:
    """An `event` message for member `event_type` of the stream shape."""
    from .wire import _to_json

    member = event_shape.members[event_type]
    headers = {":event-type": event_type, ":message-type": "event"}
    payload_member = next(
        (n for n, m in member.members.items() if m.serialization.get("eventpayload")), None
    )
    for name, item in member.members.items():
        if item.serialization.get("eventheader") and value.get(name) is not None:
            headers[name] = str(value[name])
    if payload_member:
        data = value.get(payload_member, b"")
        shape = member.members[payload_member]
        if shape.type_name == "structure":
            headers[":content-type"] = "application/json"
            data = json.dumps(_to_json(shape, data)).encode()
        elif isinstance(data, str):
            headers[":content-type"] = "text/plain"
            data = data.encode()
        else:
            headers[":content-type"] = "application/octet-stream"
    else:
        headers[":content-type"] = "application/json"
        body = {
            k: v
            for k, v in value.items()
            if k in member.members and not member.members[k].serialization.get("eventheader")
        }
        data = json.dumps(_to_json(member, body)).encode()
    return encode_message(headers, data)


def encode_exception(code: str, message: str) -> bytes:
    """An `exception` message: a modelled error raised mid-stream."""
    return encode_message(
        {
            ":exception-type": code,
            ":message-type": "exception",
            ":content-type": "application/json",
        },
        json.dumps({"message": message}).encode(),
    )


def encode_stream(
    stream_shape: Shape, events: Iterable[tuple[str, dict[str, Any]]]
) -> Iterator[bytes]:
    """Encode `(event_type, members)` pairs as they are produced.

    A handler signals a modelled error mid-stream by raising `SandboxError`; it becomes an
    exception message and ends the stream, as AWS ends one.
    """
    from .wire import SandboxError

    try:
        for event_type, value in events:
            yield encode_event(stream_shape, event_type, value)
    except SandboxError as error:
        yield encode_exception(error.code, error.message)
