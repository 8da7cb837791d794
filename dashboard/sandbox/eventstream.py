"""AWS event-stream encoding (application/vnd.amazon.eventstream), produced lazily.

A message is a prelude (total length, headers length, prelude CRC32), headers, payload and a
CRC32 of everything before it. Events come from a handler's generator one by one, so a reply
reaches botocore's EventStream parser while it is still being produced.
"""

from __future__ import annotations

import json
import logging
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.model import Shape

logger = logging.getLogger(__name__)

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


def encode_exception(code: str, message: str, **members: Any) -> bytes:
    """An `exception` message: an error the stream shape models as member `code`."""
    return encode_message(
        {
            ":exception-type": code,
            ":message-type": "exception",
            ":content-type": "application/json",
        },
        json.dumps({"message": message, **members}, default=str).encode(),
    )


def encode_error(code: str, message: str) -> bytes:
    """An `error` message: an error the stream shape does not model (codes ride in headers)."""
    return encode_message(
        {":error-code": code, ":error-message": message, ":message-type": "error"}, b""
    )


def encode_failure(stream_shape: Shape, code: str, message: str, **members: Any) -> bytes:
    """The message that ends a stream with error `code`, in the form its model calls for.

    botocore reads an `exception` message only when `:exception-type` names a member of the
    stream shape (e.g. `throttlingException` for the shape `ThrottlingException`); any other
    error must travel as an `error` message, or botocore reports an empty error code.
    """
    for name, member in stream_shape.members.items():
        if member.metadata.get("exception") and code in (name, member.name):
            return encode_exception(name, message, **members)
    return encode_error(code, message)


def encode_stream(
    stream_shape: Shape, events: Iterable[tuple[str, dict[str, Any]]]
) -> Iterator[bytes]:
    """Encode `(event_type, members)` pairs as they are produced.

    A handler signals an error mid-stream by raising `SandboxError`; it becomes the stream's
    last message, as AWS ends one.
    """
    from .wire import SandboxError

    try:
        for event_type, value in events:
            yield encode_event(stream_shape, event_type, value)
    except SandboxError as error:
        yield encode_failure(stream_shape, error.code, error.message, **error.members)
    except Exception:
        # The 200 and its headers are long gone: a bug in the producer can only end the
        # stream the way AWS ends one that fails on the server, not crash the reader.
        logger.exception("sandbox: an event stream failed while being produced")
        yield encode_failure(
            stream_shape, "InternalServerException", "The sandbox failed internally."
        )
