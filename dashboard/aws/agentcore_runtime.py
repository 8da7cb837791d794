"""Invoking an AgentCore agent runtime (`bedrock-agentcore` InvokeAgentRuntime) and reading its
streaming answer as it arrives, as plain `(event_type, members)` pairs; the account's runtimes
and their endpoints from the control plane (`bedrock-agentcore-control`) to choose from.

The answer is a streaming blob whose format the agent chooses (its Content-Type):

- ``text/event-stream``: Server-Sent Events, parsed line by line; a `data:` payload that is a
  JSON string is agent text (``("text", {"text"})``), any other JSON is an event of its own
  (``("data", {"event", "id", "value"})``), anything else is text; comment lines are
  heartbeats (``("heartbeat", {})``, proof of life only);
- JSON: the bytes as they come (``("raw", {"text"})``) and, at the end, the parsed document;
- other text: ``("text", {"text"})`` as it comes.

The stream starts with ``("response", {...})`` (content type, runtime session id, status, trace
ids) and ends with ``("complete", {"bytes", "truncated", "json" | "jsonError"})``.

Reading: a streamed reply must be shown as its bytes arrive, but `StreamingBody.read(n)` waits
for n bytes. The reader asks the underlying stream for what is there (`read1`, which urllib3's
responses and the sandbox's stream have), else reads byte by byte.

`open_invocation` blocks from the first byte to the last: run it in the stream pool.
"""

from __future__ import annotations

import codecs
import json
import uuid
from collections.abc import Iterator
from typing import Any

import regex
from botocore.exceptions import BotoCoreError
from urllib3.exceptions import HTTPError as Urllib3Error

from . import errors
from .clients import call, collect

SERVICE = "bedrock-agentcore"
CONTROL = "bedrock-agentcore-control"
DEFAULT_CONTENT_TYPE = "application/json"
DEFAULT_ACCEPT = "text/event-stream, application/json"
CHUNK = 8192
# Text kept and relayed per invocation; the rest is counted, not shown.
MAX_KEPT = 2 * 1024 * 1024
_ARN = regex.compile(
    r"arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:\d{12}:runtime/[A-Za-z0-9_-]{1,100}"
)


def new_session_id() -> str:
    """A runtime session id (the model asks for at least 33 characters)."""
    return f"console-{uuid.uuid4()}"


def arn_problems(arn: str) -> list[str]:
    """What is wrong with `arn` as an agent runtime ARN (empty when it looks right)."""
    if not arn:
        return ["Give the agent runtime's ARN."]
    if not _ARN.fullmatch(arn):
        return [
            "An agent runtime ARN looks like "
            "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/my_agent-a1B2c3D4e5."
        ]
    return []


def invoke_params(
    arn: str,
    *,
    payload: bytes,
    qualifier: str = "",
    session_id: str = "",
    content_type: str = DEFAULT_CONTENT_TYPE,
    accept: str = DEFAULT_ACCEPT,
) -> dict[str, Any]:
    """InvokeAgentRuntime's parameters (also what the audit log records, redacted)."""
    params: dict[str, Any] = {"agentRuntimeArn": arn, "payload": payload}
    if qualifier:
        params["qualifier"] = qualifier
    if session_id:
        params["runtimeSessionId"] = session_id
    if content_type:
        params["contentType"] = content_type
    if accept:
        params["accept"] = accept
    return params


_META = (
    "contentType",
    "runtimeSessionId",
    "statusCode",
    "traceId",
    "mcpSessionId",
    "mcpProtocolVersion",
    "sessionEndpointUrl",
)


def kind_of(content_type: str) -> str:
    """How a body of `content_type` is read: "sse", "json" or "text"."""
    media = content_type.split(";")[0].strip().lower()
    if media == "text/event-stream":
        return "sse"
    if media == "application/json" or media.endswith("+json"):
        return "json"
    return "text"


class _Sse:
    """An incremental Server-Sent Events parser (the WHATWG rules, leniently)."""

    def __init__(self) -> None:
        self.buffer = ""
        self.data: list[str] = []
        self.event = ""
        self.id = ""

    def feed(self, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
        self.buffer += text
        while True:
            cut = regex.search(r"\r\n|\r|\n", self.buffer)
            if cut is None:
                return
            # A lone \r at the end may be the first half of \r\n: wait for more.
            if cut.group(0) == "\r" and cut.end() == len(self.buffer):
                return
            line, self.buffer = self.buffer[: cut.start()], self.buffer[cut.end() :]
            yield from self.line(line)

    def line(self, line: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if line == "":
            yield from self.dispatch()
            return
        if line.startswith(":"):
            yield "heartbeat", {}
            return
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self.data.append(value)
        elif name == "event":
            self.event = value
        elif name == "id":
            self.id = value

    def dispatch(self) -> Iterator[tuple[str, dict[str, Any]]]:
        if not self.data:
            self.event = ""
            return
        data = "\n".join(self.data)
        event, self.data, self.event = self.event, [], ""
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            yield "text", {"text": data}
            return
        if isinstance(value, str) and not event:
            yield "text", {"text": value}
        else:
            yield "data", {"event": event, "id": self.id, "value": value}

    def close(self) -> Iterator[tuple[str, dict[str, Any]]]:
        if self.buffer:
            yield from self.line(self.buffer)
            self.buffer = ""
        yield from self.dispatch()


class RuntimeStream:
    """InvokeAgentRuntime's answer as `(event_type, members)` pairs; iterate it once."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.meta = {k: response[k] for k in _META if response.get(k) is not None}
        self._body = response.get("response")
        self.kind = kind_of(str(self.meta.get("contentType") or ""))

    def _read(self) -> bytes:
        raw = getattr(self._body, "_raw_stream", None)  # botocore's StreamingBody
        read1 = getattr(raw, "read1", None)
        if read1 is not None:
            return read1(CHUNK)
        return self._body.read(1) if self._body is not None else b""

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        yield "response", dict(self.meta)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        sse = _Sse() if self.kind == "sse" else None
        total = 0
        kept = 0
        whole: list[str] = []
        try:
            while self._body is not None:
                chunk = self._read()
                if not chunk:
                    break
                total += len(chunk)
                if kept >= MAX_KEPT:
                    continue  # counted, not shown
                text = decoder.decode(chunk)
                kept += len(text)
                if sse is not None:
                    yield from sse.feed(text)
                elif self.kind == "json":
                    whole.append(text)
                    yield "raw", {"text": text}
                elif text:
                    yield "text", {"text": text}
        except (BotoCoreError, Urllib3Error, OSError, ValueError) as exc:
            raise errors.Unavailable(
                f"The agent runtime's answer broke off: {exc}",
                code=type(exc).__name__,
                operation="InvokeAgentRuntime",
            ) from exc
        finally:
            self.close()
        rest = decoder.decode(b"", final=True) if kept < MAX_KEPT else ""
        if sse is not None:
            yield from sse.feed(rest)
            yield from sse.close()
        elif rest:
            whole.append(rest)
            yield ("raw" if self.kind == "json" else "text"), {"text": rest}
        end: dict[str, Any] = {"bytes": total, "truncated": kept >= MAX_KEPT}
        if self.kind == "json" and not end["truncated"]:
            try:
                end["json"] = json.loads("".join(whole)) if "".join(whole).strip() else None
            except ValueError as exc:
                end["jsonError"] = f"The answer is not valid JSON: {exc}"
            except RecursionError:
                end["jsonError"] = "The answer is JSON nested too deeply to be read."
        yield "complete", end

    def close(self) -> None:
        try:
            if self._body is not None:
                self._body.close()
        except Exception:  # closing a half-read body may fail; it is going away anyway
            return

    def abort(self) -> None:
        """Close it from another thread, to end a read in progress (best effort)."""
        self.close()


def open_invocation(params: dict[str, Any]) -> RuntimeStream:
    """Call InvokeAgentRuntime (blocking) and return its answer as a stream of events; errors
    of the call itself are raised here, before any event."""
    return RuntimeStream(call(SERVICE, "InvokeAgentRuntime", **params))


def list_runtimes(*, next_token: str | None = None, max_results: int = 20) -> dict[str, Any]:
    """One page of the account's agent runtimes (control plane ListAgentRuntimes)."""
    params: dict[str, Any] = {"maxResults": max_results}
    if next_token:
        params["nextToken"] = next_token
    answer = call(CONTROL, "ListAgentRuntimes", **params)
    return {"items": answer.get("agentRuntimes", []), "nextToken": answer.get("nextToken")}


def list_endpoints(runtime_arn: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """The runtime's endpoints (its qualifiers), every page up to `limit`; [] for a malformed
    ARN."""
    runtime_id = runtime_id_of(runtime_arn)
    if not runtime_id:
        return []
    return collect(
        CONTROL,
        "ListAgentRuntimeEndpoints",
        "runtimeEndpoints",
        limit=limit,
        agentRuntimeId=runtime_id,
    )


def runtime_id_of(arn: str) -> str:
    """The runtime id an agent runtime ARN ends with ("" when it is not one)."""
    return arn.rsplit("/", 1)[-1] if _ARN.fullmatch(arn) else ""


def runtime_name(arn: str) -> str:
    """The runtime's name as its id shows it (my_agent-a1B2c3D4e5 → my_agent)."""
    runtime_id = arn.rsplit("/", 1)[-1] if ":runtime/" in arn else ""
    name, dash, _ = runtime_id.rpartition("-")
    return name if dash and name else runtime_id
