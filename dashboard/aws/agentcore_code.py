"""AgentCore code interpreter sessions (`bedrock-agentcore`): list, start, get, stop, and
InvokeCodeInterpreter's event stream as plain `(event_type, members)` pairs; the account's code
interpreters from the control plane (`bedrock-agentcore-control` ListCodeInterpreters).

`open_invocation` is blocking from the first byte to the last: run it in the stream pool
(`dashboard.streams`). Failures of the call itself (quota, throttling, a stopped session,
validation) are raised as the project's errors before any event; a stream that fails part-way
raises `errors.Unavailable` (or the mapped error of an exception event) from the iterator.

Result events are made safe to keep and relay: binary members (`data`, `resource.blob`) become
base64 text (`dataBase64`, `blobBase64`) with their size, so an event is plain JSON.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, EventStreamError
from urllib3.exceptions import HTTPError as Urllib3Error

from . import errors
from .clients import call, collect
from .model import iam_action, operation_model

SERVICE = "bedrock-agentcore"
CONTROL = "bedrock-agentcore-control"
SYSTEM_CODE_INTERPRETER = "aws.codeinterpreter.v1"
STATUSES = ("READY", "TERMINATED")


def _enum(*path: str) -> tuple[str, ...]:
    shape = operation_model(SERVICE, "InvokeCodeInterpreter").input_shape
    for name in path:
        shape = shape.members[name]
    return tuple(shape.enum)


TOOLS = _enum("name")  # executeCode, executeCommand, readFiles, ... as the model lists them
LANGUAGES = _enum("arguments", "language")
RUNTIMES = _enum("arguments", "runtime")
# Binary content above this size is not kept for the page (its size is).
MAX_BINARY = 2 * 1024 * 1024


def list_interpreters(*, limit: int = 200) -> list[dict[str, Any]]:
    """The code interpreters (system and custom) to choose from, every page up to `limit`."""
    return collect(CONTROL, "ListCodeInterpreters", "codeInterpreterSummaries", limit=limit)


def list_sessions(
    interpreter_id: str,
    *,
    status: str = "",
    max_results: int = 25,
    next_token: str | None = None,
) -> dict[str, Any]:
    """One page: {"items": [...], "nextToken": str | None}."""
    params: dict[str, Any] = {
        "codeInterpreterIdentifier": interpreter_id,
        "maxResults": max_results,
    }
    if status:
        params["status"] = status
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListCodeInterpreterSessions", **params)
    return {"items": page.get("items", []), "nextToken": page.get("nextToken")}


def get_session(interpreter_id: str, session_id: str) -> dict[str, Any]:
    return call(
        SERVICE,
        "GetCodeInterpreterSession",
        codeInterpreterIdentifier=interpreter_id,
        sessionId=session_id,
    )


def start_session(
    interpreter_id: str, *, name: str = "", timeout_seconds: int | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {"codeInterpreterIdentifier": interpreter_id}
    if name:
        params["name"] = name
    if timeout_seconds:
        params["sessionTimeoutSeconds"] = timeout_seconds
    return call(SERVICE, "StartCodeInterpreterSession", **params)


def stop_session(interpreter_id: str, session_id: str) -> dict[str, Any]:
    return call(
        SERVICE,
        "StopCodeInterpreterSession",
        codeInterpreterIdentifier=interpreter_id,
        sessionId=session_id,
    )


def invoke_params(
    interpreter_id: str, session_id: str, tool: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    """InvokeCodeInterpreter's parameters (also what the audit log records, redacted)."""
    params: dict[str, Any] = {
        "codeInterpreterIdentifier": interpreter_id,
        "sessionId": session_id,
        "name": tool,
    }
    if arguments:
        params["arguments"] = arguments
    return params


def _safe_binary(holder: dict[str, Any], key: str) -> None:
    value = holder.pop(key, None)
    if value is None:
        return
    data = bytes(value) if isinstance(value, bytes | bytearray) else str(value).encode()
    holder[f"{key}Size"] = len(data)
    if len(data) <= MAX_BINARY:
        holder[f"{key}Base64"] = base64.b64encode(data).decode()


def plain_result(members: dict[str, Any]) -> dict[str, Any]:
    """A `result` event with its binary members as base64 text (see the module docstring)."""
    out = dict(members)
    content = []
    for block in members.get("content") or []:
        item = dict(block)
        _safe_binary(item, "data")
        if isinstance(item.get("resource"), dict):
            resource = dict(item["resource"])
            _safe_binary(resource, "blob")
            item["resource"] = resource
        content.append(item)
    out["content"] = content
    if isinstance(members.get("structuredContent"), dict):
        out["structuredContent"] = dict(members["structuredContent"])
    return out


class ResultStream:
    """InvokeCodeInterpreter's events as `(event_type, members)` pairs; iterate it once."""

    def __init__(self, stream: Any, session_id: str = "") -> None:
        self._stream = stream
        self.session_id = session_id

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        try:
            for event in self._stream:
                for event_type, members in event.items():
                    if event_type == "result":
                        yield event_type, plain_result(dict(members or {}))
                    else:
                        yield event_type, dict(members or {})
        except EventStreamError as exc:
            error = dict(exc.response.get("Error", {}))
            raise errors.from_client_error(
                error,
                operation="InvokeCodeInterpreter",
                service=SERVICE,
                iam_action=iam_action(SERVICE, "InvokeCodeInterpreter"),
            ) from exc
        except (BotoCoreError, Urllib3Error, OSError) as exc:
            raise errors.Unavailable(
                f"The code interpreter's stream broke off: {exc}",
                code=type(exc).__name__,
                operation="InvokeCodeInterpreter",
            ) from exc
        finally:
            self.close()

    def close(self) -> None:
        try:
            self._stream.close()
        except Exception:  # closing a half-read stream may fail; it is going away anyway
            return

    def abort(self) -> None:
        """Close it from another thread, to end a read in progress (best effort)."""
        self.close()


def open_invocation(params: dict[str, Any]) -> ResultStream:
    """Call InvokeCodeInterpreter (blocking) and return its event stream; errors of the call
    itself are raised here, before any event."""
    response = call(SERVICE, "InvokeCodeInterpreter", **params)
    return ResultStream(response["stream"], response.get("sessionId") or "")
