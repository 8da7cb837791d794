"""Checking answers against botocore's output shapes, from outside the sandbox.

`check_body(shape, document)` reads the raw JSON of a REST-JSON body as the wire carries it
(member names as serialized, timestamps in their wire format, blobs as base64, no member the
shape does not have); `check_parsed(shape, value)` reads what boto3 returned (datetimes, bytes,
Python types). Both check required members, enums, lengths, patterns (with the `regex`
package: AWS patterns use \\p{L}), list and map sizes, and unions (exactly one member set).
Each returns a list of problems, "path: what is wrong", empty when the answer conforms.

`minimal_input(shape)` makes the smallest input the model accepts, for operations whose inputs
need no knowledge of the world beyond ids.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
from email.utils import parsedate_to_datetime
from typing import Any

import regex
from botocore.eventstream import EventStreamBuffer
from botocore.model import OperationModel, Shape

Problems = list[str]

# What a scalar of each model type must be, in JSON and once parsed by botocore.
_JSON = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
}


@functools.cache
def _pattern(text: str) -> regex.Pattern[str]:
    return regex.compile(text)


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _timestamp_format(shape: Shape, default: str) -> str:
    return (
        shape.serialization.get("timestampFormat")
        or shape.metadata.get("timestampFormat")
        or default
    )


def _scalar(shape: Shape, value: Any, path: str, problems: Problems) -> None:
    """Enum, length and pattern of a string; range of a number."""
    meta = shape.metadata
    if shape.type_name == "string":
        if meta.get("enum") and value not in meta["enum"]:
            problems.append(f"{path}: {value!r} is not one of {meta['enum']}")
        if "min" in meta and len(value) < meta["min"]:
            problems.append(f"{path}: {len(value)} characters, fewer than {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: {len(value)} characters, more than {meta['max']}")
        if meta.get("pattern") and not _pattern(meta["pattern"]).fullmatch(value):
            problems.append(f"{path}: {value[:80]!r} does not match {meta['pattern']}")
    elif shape.type_name in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            problems.append(f"{path}: {value} is below {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{path}: {value} is above {meta['max']}")


def _size(shape: Shape, count: int, path: str, problems: Problems) -> None:
    meta = shape.metadata
    if "min" in meta and count < meta["min"]:
        problems.append(f"{path}: {count} items, fewer than {meta['min']}")
    if "max" in meta and count > meta["max"]:
        problems.append(f"{path}: {count} items, more than {meta['max']}")


def _structure_members(shape: Shape, value: dict, path: str, problems: Problems) -> None:
    """Required members and, for unions, exactly one member (None counts as absent)."""
    present = [name for name in shape.members if value.get(name) is not None]
    if shape.metadata.get("union"):
        if len(present) != 1:
            problems.append(f"{path}: a union with {len(present)} members set: {present}")
        return
    for name in shape.required_members:
        if value.get(name) is None:
            problems.append(f"{_at(path, name)}: required, missing")


# --- the raw JSON body -----------------------------------------------------------------------


def check_body(shape: Shape, document: Any, path: str = "", *, top: bool = True) -> Problems:
    """Problems of `document`, a REST-JSON body (or part of one), against `shape`."""
    problems: Problems = []
    _json(shape, document, path, problems, top)
    return problems


def _in_body(member: Shape) -> bool:
    return not member.serialization.get("eventheader") and member.serialization.get(
        "location"
    ) not in ("header", "headers", "statusCode", "uri", "querystring")


def _json(shape: Shape, value: Any, path: str, problems: Problems, top: bool = False) -> None:
    if value is None:
        problems.append(f"{path}: null where a {shape.type_name} belongs")
        return
    if shape.metadata.get("document"):
        return
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: {type(value).__name__} where an object belongs")
            return
        members = {
            m.serialization.get("name", name): (name, m)
            for name, m in shape.members.items()
            if not top or _in_body(m)
        }
        for key in value:
            if key not in members:
                problems.append(f"{_at(path, key)}: not a member of {shape.name}")
        named = {members[k][0]: v for k, v in value.items() if k in members}
        required = (
            shape.required_members
            if not top
            else [n for n in shape.required_members if _in_body(shape.members[n])]
        )
        if shape.metadata.get("union"):
            _structure_members(shape, named, path, problems)
        else:
            for name in required:
                if named.get(name) is None:
                    problems.append(f"{_at(path, name)}: required, missing")
        for key, item in value.items():
            if key in members:
                _json(members[key][1], item, _at(path, key), problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: {type(value).__name__} where a list belongs")
            return
        _size(shape, len(value), path, problems)
        for index, item in enumerate(value):
            _json(shape.member, item, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: {type(value).__name__} where a map belongs")
            return
        _size(shape, len(value), path, problems)
        for key, item in value.items():
            _scalar(shape.key, key, f"{path}.<key {key!r}>", problems)
            _json(shape.value, item, f"{path}[{key!r}]", problems)
    elif kind == "timestamp":
        _wire_timestamp(shape, value, path, problems, default="unixTimestamp")
    elif kind == "blob":
        if not isinstance(value, str):
            problems.append(f"{path}: {type(value).__name__} where base64 text belongs")
            return
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            problems.append(f"{path}: not base64")
    else:
        expected = _JSON.get(kind, ())
        if not isinstance(value, expected) or (isinstance(value, bool) and kind != "boolean"):
            problems.append(f"{path}: {type(value).__name__} {value!r:.60} is not a {kind}")
            return
        _scalar(shape, value, path, problems)


def _wire_timestamp(
    shape: Shape, value: Any, path: str, problems: Problems, *, default: str
) -> None:
    fmt = _timestamp_format(shape, default)
    if fmt == "unixTimestamp":
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"{path}: {value!r} is not epoch seconds (unixTimestamp)")
        return
    if not isinstance(value, str):
        problems.append(f"{path}: {value!r} is not {fmt} text")
        return
    try:
        if fmt == "iso8601":
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                problems.append(f"{path}: {value!r} has no time zone")
        else:
            parsedate_to_datetime(value)
    except (ValueError, TypeError):
        problems.append(f"{path}: {value!r} is not {fmt}")


def check_headers(op: OperationModel, headers: dict[str, str]) -> Problems:
    """The output members the shape puts in HTTP headers, as text."""
    problems: Problems = []
    shape = op.output_shape
    if shape is None:
        return problems
    lower = {k.lower(): v for k, v in headers.items()}
    for name, member in shape.members.items():
        if member.serialization.get("location") != "header":
            continue
        wire = member.serialization.get("name", name).lower()
        if wire not in lower:
            if name in shape.required_members:
                problems.append(f"header {wire}: required, missing")
            continue
        text = lower[wire]
        if member.type_name == "timestamp":
            _wire_timestamp(member, text, f"header {wire}", problems, default="rfc822")
        elif member.type_name in ("integer", "long"):
            if not regex.fullmatch(r"-?\d+", text):
                problems.append(f"header {wire}: {text!r} is not an integer")
        elif member.type_name == "boolean":
            if text not in ("true", "false"):
                problems.append(f"header {wire}: {text!r} is not a boolean")
        elif member.type_name == "string" and not (
            member.serialization.get("jsonvalue") or member.metadata.get("jsonvalue")
        ):
            _scalar(member, text, f"header {wire}", problems)
    return problems


# --- what boto3 returned -----------------------------------------------------------------------


def check_parsed(shape: Shape, value: Any, path: str = "") -> Problems:
    """Problems of `value`, as botocore parsed it, against `shape`."""
    problems: Problems = []
    _parsed(shape, value, path, problems)
    return problems


def _parsed(shape: Shape, value: Any, path: str, problems: Problems) -> None:
    if value is None or shape.metadata.get("document"):
        return
    kind = shape.type_name
    if kind == "structure":
        if shape.serialization.get("eventstream"):
            return  # checked event by event by the caller
        if not isinstance(value, dict):
            problems.append(f"{path}: {type(value).__name__} where a dict belongs")
            return
        value = {k: v for k, v in value.items() if k != "ResponseMetadata"}
        _structure_members(shape, value, path, problems)
        for key, item in value.items():
            if key == "SDK_UNKNOWN_MEMBER":
                problems.append(f"{path}: botocore read an unknown union member {item}")
            elif key in shape.members:
                _parsed(shape.members[key], item, _at(path, key), problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: {type(value).__name__} where a list belongs")
            return
        _size(shape, len(value), path, problems)
        for index, item in enumerate(value):
            _parsed(shape.member, item, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: {type(value).__name__} where a dict belongs")
            return
        _size(shape, len(value), path, problems)
        for key, item in value.items():
            _scalar(shape.key, key, f"{path}.<key {key!r}>", problems)
            _parsed(shape.value, item, f"{path}[{key!r}]", problems)
    elif kind == "timestamp":
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            problems.append(f"{path}: {value!r} is not an aware datetime")
    elif kind == "blob":
        if not isinstance(value, bytes | bytearray) and not hasattr(value, "read"):
            problems.append(f"{path}: {type(value).__name__} where bytes belong")
    else:
        expected = _JSON.get(kind, ())
        if not isinstance(value, expected) or (isinstance(value, bool) and kind != "boolean"):
            problems.append(f"{path}: {type(value).__name__} {value!r:.60} is not a {kind}")
            return
        _scalar(shape, value, path, problems)


# --- event streams -------------------------------------------------------------------------------


def eventstream_member(op: OperationModel) -> tuple[str, Shape] | None:
    """(name, union shape) of the output's event stream payload, if it has one."""
    shape = op.output_shape
    payload = shape.serialization.get("payload") if shape is not None else None
    if payload and shape.members[payload].serialization.get("eventstream"):
        return payload, shape.members[payload]
    return None


def check_event_frames(stream: Shape, raw: bytes) -> tuple[list[str], Problems]:
    """Decode the binary frames of an event stream body and check each message: its
    `:message-type`, its `:event-type` (or exception type) a member of the stream's union,
    its JSON payload against that member's shape. Returns (event names, problems)."""
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    names: list[str] = []
    problems: Problems = []
    for index, message in enumerate(buffer):
        headers = message.headers
        kind = headers.get(":message-type")
        where = f"event {index}"
        if kind == "event":
            name = headers.get(":event-type", "")
        elif kind == "exception":
            name = headers.get(":exception-type", "")
        else:
            problems.append(f"{where}: message type {kind!r} ({headers.get(':error-code')})")
            continue
        names.append(name)
        if name not in stream.members:
            problems.append(f"{where}: {name!r} is not a member of {stream.name}")
            continue
        event = stream.members[name]
        if kind == "exception" and not event.metadata.get("exception"):
            problems.append(f"{where}: {name} sent as an exception is not one")
        payload_name = next(
            (n for n, m in event.members.items() if m.serialization.get("eventpayload")), None
        )
        try:
            body = json.loads(message.payload or b"{}")
        except ValueError:
            problems.append(f"{where}: the payload is not JSON")
            continue
        if payload_name is not None:
            problems += check_body(event.members[payload_name], body, f"{where}.{name}")
        else:
            # The members not carried in the message's headers are its JSON payload.
            problems += check_body(event, body, f"{where}.{name}")
    return names, problems


def check_parsed_events(stream: Shape, events: list[dict[str, Any]]) -> Problems:
    """Each event as boto3 yielded it: one member of the stream's union, by its shape."""
    problems: Problems = []
    for index, event in enumerate(events):
        if len(event) != 1:
            problems.append(f"event {index}: {len(event)} members: {sorted(event)}")
            continue
        name, body = next(iter(event.items()))
        if name not in stream.members:
            problems.append(f"event {index}: {name!r} is not a member of {stream.name}")
            continue
        problems += check_parsed(stream.members[name], body, f"event {index}.{name}")
    return problems


# --- minimal inputs ------------------------------------------------------------------------------


def minimal_input(shape: Shape | None, known: dict[str, Any]) -> dict[str, Any]:
    """The smallest input `shape` accepts: required members only, ids from `known` (by
    member name), enums' first value, numbers at their minimum, strings that satisfy length
    and (when trivial) pattern. Returns {} for an operation without input."""
    if shape is None:
        return {}
    return _minimal(shape, "", known)


def _minimal(shape: Shape, name: str, known: dict[str, Any]) -> Any:
    if name in known:
        return known[name]
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        if meta.get("union"):
            first = next(iter(shape.members))
            return {first: _minimal(shape.members[first], first, known)}
        return {
            member: _minimal(shape.members[member], member, known)
            for member in shape.required_members
        }
    if kind == "list":
        return [_minimal(shape.member, "", known) for _ in range(max(meta.get("min", 1), 1))]
    if kind == "map":
        return {}
    if kind == "string":
        if meta.get("enum"):
            return meta["enum"][0]
        return _string(meta)
    if kind in ("integer", "long"):
        return max(meta.get("min", 1), 1) if meta.get("max", 2) >= 1 else meta.get("min", 0)
    if kind in ("float", "double"):
        return float(meta.get("min", 1))
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return dt.datetime.now(dt.UTC)
    if kind == "blob":
        return b"conformance"
    return None


def _string(meta: dict[str, Any]) -> str:
    low, high = meta.get("min", 1), meta.get("max", 64)
    for candidate in ("conformance", "a1", "a" * max(low, 1)):
        text = candidate
        if len(text) < low:
            text = text + "a" * (low - len(text))
        text = text[:high]
        if not meta.get("pattern") or _pattern(meta["pattern"]).fullmatch(text):
            return text
    return "a" * max(low, 1)
