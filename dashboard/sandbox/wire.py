"""The wire layer: HTTP in, operation call, HTTP out, all driven by botocore's service models.

Requests are routed by HTTP method and each operation's `requestUri`; input members are read
from their locations (uri, querystring, header, body) and checked against the model's
constraints; results are written by the output shape (header and status-code members, JSON
body, timestamps in the shape's format, event streams) and errors as AWS writes them
(`x-amzn-errortype` header, the error shape's HTTP status, a JSON body with the members that
service's error shape has: `message` or `Message`, field lists by `path` or `name`, a `reason`
where one is required).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import regex
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.utils import parse_timestamp
from django.conf import settings
from django.db import transaction

from dashboard.lib import documented

from . import eventstream, extras, faults

logger = logging.getLogger(__name__)

# The APIs the sandbox emulates: data planes and the control planes the console lists from,
# and Amazon Connect's participant API (a support case's chat).
SERVICES = (
    "devops-agent",
    "bedrock-agentcore",
    "bedrock-agentcore-control",
    "bedrock-agent",
    "bedrock-agent-runtime",
    "connectparticipant",
)


class SandboxError(Exception):
    """An AWS error answer: `code` is the error shape's name; extra members go in the body."""

    def __init__(self, code: str, message: str, **members: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.members = members


@dataclass
class Context:
    """What a handler knows about the call besides its input."""

    service: str
    operation: str
    region: str
    account_id: str
    headers: dict[str, str] = field(default_factory=dict)

    def arn(self, resource: str) -> str:
        prefix = service_model(self.service).metadata.get("signingName", self.service)
        return f"arn:aws:{prefix}:{self.region}:{self.account_id}:{resource}"


Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]
_handlers: dict[tuple[str, str], Handler] = {}


def operation(service: str, name: str) -> Callable[[Handler], Handler]:
    """Register a handler for `service`'s operation `name` (its model name)."""

    def register(fn: Handler) -> Handler:
        service_model(service).operation_model(name)  # fail at import on a typo
        _handlers[(service, name)] = fn
        return fn

    return register


def handles(service: str, name: str) -> bool:
    """Whether the sandbox implements `service`'s operation `name`."""
    from . import ops  # noqa: F401 - registers the handlers

    return (service, name) in _handlers


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes | Iterator[bytes]


# --- models and routing -------------------------------------------------------------------


@functools.cache
def service_model(service: str) -> ServiceModel:
    """The model the sandbox answers by: botocore's, with the sandbox's model extras merged."""
    return extras.session().get_service_model(service)


def implemented() -> list[tuple[str, str]]:
    """(service, operation) of every operation the sandbox answers, in model order."""
    from . import ops  # noqa: F401 - registers the handlers

    return [
        (service, name)
        for service in SERVICES
        for name in service_model(service).operation_names
        if (service, name) in _handlers
    ]


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    method: str
    pattern: regex.Pattern[str]
    literal_length: int
    query_literals: tuple[tuple[str, str], ...]


def _compile(uri: str) -> tuple[regex.Pattern[str], int, tuple[tuple[str, str], ...]]:
    path, _, query = uri.partition("?")
    parts: list[str] = []
    literal = 0
    for piece in regex.split(r"(\{[^}]+\})", path):
        if piece.startswith("{") and piece.endswith("}"):
            name = piece[1:-1]
            if name.endswith("+"):
                parts.append(f"(?P<{name[:-1]}>.+)")
            else:
                parts.append(f"(?P<{name}>[^/]+)")
        else:
            literal += len(piece)
            parts.append(regex.escape(piece))
    queries = tuple(parse_qsl(query, keep_blank_values=True)) if query else ()
    return regex.compile("".join(parts) + "/?"), literal, queries


@functools.cache
def _routes(service: str) -> list[_Route]:
    model = service_model(service)
    routes = []
    for name in model.operation_names:
        op = model.operation_model(name)
        pattern, literal, queries = _compile(op.http["requestUri"])
        routes.append(_Route(op, op.http["method"], pattern, literal, queries))
    # The most literal template wins: /v1/agentspaces/list before /v1/agentspaces/{id}.
    routes.sort(key=lambda r: (-r.literal_length, -len(r.query_literals)))
    return routes


def route(
    service: str, method: str, path: str, query: dict[str, list[str]]
) -> tuple[OperationModel, dict[str, str]]:
    allowed = False
    for candidate in _routes(service):
        match = candidate.pattern.fullmatch(path)
        if not match:
            continue
        if any(
            query.get(k) != [v] and not (v == "" and k in query)
            for k, v in candidate.query_literals
        ):
            continue
        if candidate.method != method:
            allowed = True
            continue
        return candidate.operation, {k: unquote(v) for k, v in match.groupdict().items()}
    if allowed:
        raise SandboxError("ValidationException", f"Method {method} is not allowed on {path}")
    raise SandboxError(
        "UnknownOperationException", f"No {service} operation matches {method} {path}"
    )


# --- reading input ---------------------------------------------------------------------------


def _scalar_from_text(shape: Shape, text: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise SandboxError("ValidationException", f"{text!r} is not an integer") from None
    if kind in ("float", "double"):
        return float(text)
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "timestamp":
        return parse_timestamp(text)
    if kind == "blob":
        return base64.b64decode(text)
    if shape.metadata.get("jsonvalue") or shape.serialization.get("jsonvalue"):
        return json.loads(base64.b64decode(text))
    return text


def _from_json(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if shape.metadata.get("document"):
        return value  # free-form JSON, taken as it is
    if kind == "structure":
        if not isinstance(value, dict):
            raise SandboxError("SerializationException", f"Expected an object for {shape.name}")
        out = {}
        for key, member in shape.members.items():
            wire_name = member.serialization.get("name", key)
            if wire_name in value:
                out[key] = _from_json(member, value[wire_name])
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise SandboxError("SerializationException", f"Expected a list for {shape.name}")
        return [_from_json(shape.member, item) for item in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise SandboxError("SerializationException", f"Expected an object for {shape.name}")
        return {k: _from_json(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, tz=dt.UTC)
        if isinstance(value, str):
            try:
                return parse_timestamp(value)
            except ValueError:
                pass
        raise SandboxError("SerializationException", f"{value!r} is not a timestamp")
    if kind == "blob":
        if not isinstance(value, str):
            raise SandboxError("SerializationException", f"Expected base64 text for {shape.name}")
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            raise SandboxError("SerializationException", f"{shape.name} is not base64") from None
    expected = _JSON_TYPES.get(kind)
    # bool is an int in Python, never in JSON: true must not pass for a number.
    if expected and (
        not isinstance(value, expected) or (isinstance(value, bool) and kind != "boolean")
    ):
        raise SandboxError(
            "SerializationException",
            f"Expected a {kind} for {shape.name}, got {type(value).__name__} {value!r}",
        )
    return value


# JSON types a scalar shape accepts (document and other free-form shapes are not checked).
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
    "boolean": bool,
}


def parse_input(
    op: OperationModel,
    labels: dict[str, str],
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: bytes,
) -> dict[str, Any]:
    shape = op.input_shape
    if shape is None:
        return {}
    lower_headers = {k.lower(): v for k, v in headers.items()}
    params: dict[str, Any] = {}
    body_members: dict[str, Shape] = {}
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in labels:
                params[name] = _scalar_from_text(member, labels[wire_name])
        elif location == "querystring":
            if member.type_name == "map":
                claimed = {
                    m.serialization.get("name")
                    for m in shape.members.values()
                    if m.serialization.get("location") == "querystring" and m is not member
                }
                params[name] = {k: v[0] for k, v in query.items() if k not in claimed}
            elif wire_name in query:
                values = query[wire_name]
                if member.type_name == "list":
                    params[name] = [_scalar_from_text(member.member, v) for v in values]
                else:
                    params[name] = _scalar_from_text(member, values[0])
        elif location == "header":
            if wire_name.lower() in lower_headers:
                params[name] = _scalar_from_text(member, lower_headers[wire_name.lower()])
        elif location == "headers":
            prefix = wire_name.lower()
            params[name] = {
                k[len(prefix) :]: v for k, v in lower_headers.items() if k.startswith(prefix)
            }
        elif name == payload:
            if member.type_name in ("blob", "string"):
                params[name] = body if member.type_name == "blob" else body.decode()
            elif body:
                params[name] = _from_json(member, _json(body))
        else:
            body_members[name] = member
    if body_members and body and not payload:
        document = _json(body)
        if not isinstance(document, dict):
            raise SandboxError("SerializationException", "The request body must be a JSON object")
        for name, member in body_members.items():
            wire_name = member.serialization.get("name", name)
            if wire_name in document:
                params[name] = _from_json(member, document[wire_name])
    return params


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise SandboxError("SerializationException", "The request body is not valid JSON") from None


# --- validating input ------------------------------------------------------------------------


@functools.cache
def _pattern(text: str) -> regex.Pattern[str]:
    return regex.compile(text)


def validate(shape: Shape, value: Any, path: str, problems: list[dict[str, str]]) -> None:
    """Check `value` against the model's constraints, as the service does."""
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append({"path": _join(path, name), "message": "Member is required"})
        for name, item in value.items():
            if name in shape.members and item is not None:
                validate(shape.members[name], item, _join(path, name), problems)
    elif kind == "string" and isinstance(value, str):
        if "min" in meta and len(value) < meta["min"]:
            problems.append({"path": path, "message": f"Length must be at least {meta['min']}"})
        if "max" in meta and len(value) > meta["max"]:
            problems.append({"path": path, "message": f"Length must be at most {meta['max']}"})
        if meta.get("enum") and value not in meta["enum"]:
            problems.append(
                {"path": path, "message": f"Value must be one of {', '.join(meta['enum'])}"}
            )
        elif meta.get("pattern") and not _pattern(meta["pattern"]).fullmatch(value):
            problems.append(
                {"path": path, "message": f"Value must match pattern {meta['pattern']}"}
            )
    elif kind in ("integer", "long") and isinstance(value, int):
        if "min" in meta and value < meta["min"]:
            problems.append({"path": path, "message": f"Value must be at least {meta['min']}"})
        if "max" in meta and value > meta["max"]:
            problems.append({"path": path, "message": f"Value must be at most {meta['max']}"})
    elif kind == "list" and isinstance(value, list):
        if "min" in meta and len(value) < meta["min"]:
            problems.append({"path": path, "message": f"At least {meta['min']} items required"})
        if "max" in meta and len(value) > meta["max"]:
            problems.append({"path": path, "message": f"At most {meta['max']} items allowed"})
        for index, item in enumerate(value):
            validate(shape.member, item, f"{path}[{index}]", problems)
    elif kind == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            problems.append({"path": path, "message": f"At most {meta['max']} entries allowed"})
        for key, item in value.items():
            validate(shape.key, key, f"{path}.key", problems)
            validate(shape.value, item, f"{path}[{key}]", problems)


def documented_limits(
    service: str, operation: str, params: dict[str, Any], problems: list[dict[str, str]]
) -> None:
    """Where the API document is stricter than the model, the service holds to the document
    (`dashboard/lib/documented.py`)."""
    for path in documented.paths(service, operation):
        value: Any = params
        for name in path.split("."):
            value = value.get(name) if isinstance(value, dict) else None
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        low, high = documented.limits(service, operation, path) or (None, None)
        if low is not None and value < low:
            problems.append({"path": path, "message": f"Value must be at least {low}"})
        if high is not None and value > high:
            problems.append({"path": path, "message": f"Value must be at most {high}"})


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- writing output --------------------------------------------------------------------------


def _timestamp(shape: Shape, value: dt.datetime, default: str) -> Any:
    fmt = shape.serialization.get("timestampFormat") or shape.metadata.get(
        "timestampFormat", default
    )
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if fmt == "iso8601":
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if fmt == "rfc822":
        return format_datetime(value.astimezone(dt.UTC), usegmt=True)
    return value.timestamp()


def _to_json(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if shape.metadata.get("document"):
        return value
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                out[member.serialization.get("name", name)] = _to_json(member, value[name])
        return out
    if kind == "list":
        return [_to_json(shape.member, item) for item in value]
    if kind == "map":
        return {k: _to_json(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return _timestamp(shape, value, "unixTimestamp")
    if kind == "blob":
        data = value.encode() if isinstance(value, str) else value
        return base64.b64encode(data).decode()
    return value


def _header_text(shape: Shape, value: Any) -> str:
    if shape.type_name == "timestamp":
        return str(_timestamp(shape, value, "rfc822"))
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.serialization.get("jsonvalue") or shape.metadata.get("jsonvalue"):
        return base64.b64encode(json.dumps(value).encode()).decode()
    return str(value)


def serialize_output(op: OperationModel, result: dict[str, Any]) -> Response:
    status = int(op.http.get("responseCode", 200))
    headers: dict[str, str] = {"x-amzn-requestid": _request_id()}
    shape = op.output_shape
    if shape is None:
        return Response(status, headers, b"")
    payload = shape.serialization.get("payload")
    body: dict[str, Any] = {}
    for name, member in shape.members.items():
        value = result.get(name)
        if value is None:
            continue
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "header":
            headers[wire_name] = _header_text(member, value)
        elif location == "headers":
            for key, item in value.items():
                headers[wire_name + key] = str(item)
        elif location == "statusCode":
            status = int(value)
        elif name != payload:
            body[name] = value
    if payload:
        member = shape.members[payload]
        value = result.get(payload)
        if member.serialization.get("eventstream"):
            headers["Content-Type"] = "application/vnd.amazon.eventstream"
            return Response(status, headers, eventstream.encode_stream(member, value or ()))
        if member.type_name in ("blob", "string"):
            if member.serialization.get("streaming") and _is_chunks(value):
                # A streaming payload produced lazily (InvokeAgentRuntime's response): each
                # chunk goes out as it is made, as AWS streams it.
                headers.setdefault("Content-Type", "application/octet-stream")
                return Response(status, headers, _encoded(value))
            data = value.encode() if isinstance(value, str) else (value or b"")
            headers.setdefault("Content-Type", "application/octet-stream")
            return Response(status, headers, data)
        headers["Content-Type"] = "application/json"
        document = _to_json(member, value) if value is not None else {}
        return Response(status, headers, json.dumps(document).encode())
    if status in _NO_BODY:
        # HTTP allows no body here; bytes sent anyway would be read as the start of the next
        # response on a keep-alive connection.
        return Response(status, headers, b"")
    headers["Content-Type"] = "application/json"
    return Response(status, headers, json.dumps(_to_json(shape, body)).encode())


_NO_BODY = frozenset({204, 304})


def _is_chunks(value: Any) -> bool:
    return value is not None and not isinstance(value, bytes | bytearray | str)


def _encoded(chunks: Iterable[bytes | str]) -> Iterator[bytes]:
    try:
        for chunk in chunks:
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _error_body(shape: Shape | None, error: SandboxError) -> dict[str, Any]:
    """The error's JSON body as its shape in this service's model has it: the message under
    the shape's own name (`message`, or `Message` in Amazon Connect's APIs), field lists with
    the member names this service uses (`path` or `name`), a required `reason` filled in, and
    nothing the shape does not have."""
    if shape is None:
        return {"message": error.message, **error.members}
    key = "Message" if "Message" in shape.members and "message" not in shape.members else "message"
    body: dict[str, Any] = {key: error.message}
    for name, value in error.members.items():
        if name not in shape.members or value is None:
            continue
        if name == "fieldList" and isinstance(value, list):
            field = shape.members[name].member
            label = "path" if "path" in field.members else "name"
            value = [
                {label: item.get("path") or item.get("name") or "", "message": item["message"]}
                for item in value
            ]
        body[name] = value
    reason = shape.members.get("reason")
    if reason is not None and "reason" in shape.required_members and "reason" not in body:
        choices = reason.metadata.get("enum") or ["FieldValidationFailed"]
        wanted = "FieldValidationFailed" if "fieldList" in body else "CannotParse"
        body["reason"] = wanted if wanted in choices else choices[0]
    return body


def error_response(service: str, error: SandboxError) -> Response:
    model = service_model(service)
    status = 400
    shape = None
    if error.code in model.shape_names:
        shape = model.shape_for(error.code)
        status = int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
        if shape.metadata.get("fault"):
            status = int(shape.metadata.get("error", {}).get("httpStatusCode", 500))
    elif error.code in ("UnknownOperationException", "NotImplemented"):
        status = 501 if error.code == "NotImplemented" else 404
    body = _error_body(shape, error)
    return Response(
        status,
        {
            "x-amzn-errortype": error.code,
            "x-amzn-requestid": _request_id(),
            "Content-Type": "application/json",
        },
        json.dumps(body, default=str).encode(),
    )


def _request_id() -> str:
    import uuid

    return str(uuid.uuid4())


# --- dispatch --------------------------------------------------------------------------------


def _region_from(headers: dict[str, str]) -> str:
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    found = regex.search(r"Credential=[^/]+/\d{8}/([^/]+)/", auth)
    return found.group(1) if found else "us-east-1"


def dispatch(
    service: str, method: str, url: str, headers: dict[str, str], body: bytes | None
) -> Response:
    """Answer one HTTP request to `service` the way AWS would."""
    from . import ops  # noqa: F401 - registers the handlers

    headers = {
        k: (v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in headers.items()
    }
    parts = urlsplit(url)
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    # Drawn outside the try: a malformed SANDBOX_FAULTS is the operator's mistake and must
    # surface as ImproperlyConfigured, not hide behind an emulated HTTP 500.
    fault = faults.draw(settings.SANDBOX_FAULTS)
    try:
        op, labels = route(service, method.upper(), parts.path or "/", query)
        if fault is not None:
            fault.apply(op.name)
        handler = _handlers.get((service, op.name))
        if handler is None:
            raise SandboxError(
                "NotImplemented",
                f"The sandbox does not implement {service} {op.name} yet. "
                "Use DASHBOARD_BACKEND=aws to call the real service.",
            )
        params = parse_input(op, labels, query, headers, body or b"")
        problems: list[dict[str, str]] = []
        if op.input_shape is not None:
            validate(op.input_shape, params, "", problems)
            documented_limits(service, op.name, params, problems)
        if problems:
            first = problems[0]
            raise SandboxError(
                "ValidationException",
                f"1 validation error detected: {first['path']}: {first['message']}"
                if len(problems) == 1
                else f"{len(problems)} validation errors detected: "
                + "; ".join(f"{p['path']}: {p['message']}" for p in problems),
                fieldList=problems,
            )
        context = Context(
            service=service,
            operation=op.name,
            region=_region_from(headers),
            account_id=settings.SANDBOX_ACCOUNT_ID,
            headers=headers,
        )
        with transaction.atomic():
            result = handler(context, params)
        return serialize_output(op, result or {})
    except SandboxError as error:
        return error_response(service, error)
    except Exception:
        # An emulator bug must look like AWS's 500, not crash the caller's process.
        logger.exception("sandbox: %s %s %s failed", service, method, url)
        return error_response(
            service, SandboxError("InternalServerException", "The sandbox failed internally.")
        )


def iter_chunks(body: bytes | Iterable[bytes]) -> Iterator[bytes]:
    if isinstance(body, bytes | bytearray):
        if body:
            yield bytes(body)
        return
    yield from body
