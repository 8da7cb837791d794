"""What the agent runtime playground shows: invocations (one InvokeAgentRuntime call each and
its streamed answer), from a run in the stream log, and the live fragments that grow them.

The stream key names a runtime session: ``agentrt:<digest of ARN, qualifier, session id>``, so
everyone with the same runtime session open sees the same answers as they arrive.

An invocation renders with one partial (templates/agentcore/runtime.html#invocation); ids
derived from `Invocation.dom`:

    {dom}-status  sending / streaming / done / failed       {dom}-meta   the answer's headers
    {dom}-body    the answer: while it streams, the text as it comes ({dom}-text), JSON events
                  ({dom}-events) and raw JSON bytes ({dom}-raw); once complete, the text as
                  Markdown (sanitized by the `markdown` filter) and JSON as a readable tree
    {dom}-end     what went wrong, when something did

The answer is untrusted: streamed text is escaped as it arrives; Markdown goes through
dashboard/core/markdown.py only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils.html import format_html

from dashboard import streams

KIND = "agentrt"
TEMPLATE = "agentcore/runtime.html"
MAX_SHOWN_EVENTS = 500  # JSON events kept per invocation for the page


def digest(arn: str, qualifier: str, session_id: str) -> str:
    return hashlib.sha256(f"{arn}\n{qualifier}\n{session_id}".encode()).hexdigest()[:32]


def stream_key(arn: str, qualifier: str, session_id: str) -> str:
    return f"{KIND}:{digest(arn, qualifier, session_id)}"


def key_of_digest(value: str) -> str:
    return f"{KIND}:{value}"


@dataclass
class Invocation:
    dom: str
    run: str = ""
    user: str = ""
    at: dt.datetime | None = None
    arn: str = ""
    qualifier: str = ""
    session_id: str = ""
    payload: str = ""
    content_type: str = ""
    accept: str = ""
    state: str = "sending"  # sending | streaming | done | failed | broken
    response: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    raw: str = ""
    complete: bool = False
    json: Any = None
    has_json: bool = False
    json_error: str = ""
    bytes: int = 0
    truncated: bool = False
    error: dict[str, str] = field(default_factory=dict)

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed", "broken")

    @property
    def kind(self) -> str:
        from dashboard.aws.agentcore_runtime import kind_of

        return kind_of(str(self.response.get("contentType") or ""))


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float) and value > 0:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    return None


def start_invocation(run: str, meta: dict[str, Any]) -> Invocation:
    return Invocation(
        dom=f"i-{run}",
        run=run,
        user=str(meta.get("user") or ""),
        at=_when(meta.get("at")),
        arn=str(meta.get("arn") or ""),
        qualifier=str(meta.get("qualifier") or ""),
        session_id=str(meta.get("session") or ""),
        payload=str(meta.get("payload") or ""),
        content_type=str(meta.get("contentType") or ""),
        accept=str(meta.get("accept") or ""),
    )


def apply(x: Invocation, event: streams.Event) -> Any:
    """Fold one event in; returns what the live renderer needs (the new text, event, ...)."""
    kind = event["type"]
    data = event["data"] if isinstance(event.get("data"), dict) else {}
    if kind == "response":
        x.response = {k: v for k, v in data.items() if isinstance(v, str | int | float)}
        x.state = "streaming"
        return True
    if kind == "text":
        text = str(data.get("text") or "")
        x.text += text
        return text
    if kind == "raw":
        text = str(data.get("text") or "")
        x.raw += text
        return text
    if kind == "data":
        item = {"event": str(data.get("event") or ""), "value": data.get("value")}
        if len(x.events) >= MAX_SHOWN_EVENTS:
            return None
        x.events.append(item)
        return item
    if kind == "complete":
        x.complete = True
        x.bytes = int(data.get("bytes") or 0)
        x.truncated = bool(data.get("truncated"))
        if "json" in data:
            x.json, x.has_json = data["json"], True
        x.json_error = str(data.get("jsonError") or "")
        return True
    if kind == streams.END:
        x.state = "done"
    elif kind == streams.ERROR:
        x.state = "failed"
        x.error = {
            "code": str(data.get("code") or ""),
            "message": str(data.get("message") or "The invocation failed."),
        }
    elif kind in streams.TERMINAL:
        x.state = "broken"
        x.error = {
            "code": kind.removeprefix("stream.").capitalize(),
            "message": str(data.get("message") or "The answer broke off."),
        }
    return None


def fold(key: str, run: str, events: list[streams.Event]) -> Invocation:
    state: dict[str, Any] = {}
    render(key, run, events, state, html=False)
    return state.get("x") or start_invocation(run, {})


def _partial(name: str, **context: Any) -> str:
    return render_to_string(f"{TEMPLATE}#{name}", context)


def render(
    key: str, run: str, events: list[streams.Event], state: dict[str, Any], html: bool = True
) -> list[Any]:
    """The fragments that bring a page from before `events` to after them (streams kind);
    streamed text as `streams.Append` parts (compact frames)."""
    x: Invocation = state.get("x") or start_invocation(run, {})
    state["x"] = x
    parts: list[Any] = []
    text: list[str] = []  # consecutive text of this batch, sent as one fragment
    raw: list[str] = []

    def flush() -> None:
        if text:
            parts.append(streams.Append("~text", "".join(text)))
            text.clear()
        if raw:
            parts.append(streams.Append("~raw", "".join(raw)))
            raw.clear()

    for event in events:
        kind = event["type"]
        if kind == streams.START:
            x = start_invocation(run, event["data"])
            state["x"] = x
            if html:
                parts.append(
                    format_html(
                        '<div hx-swap-oob="afterbegin:#rt-runs">{}</div>',
                        _partial("invocation", x=x),
                    )
                )
            continue
        result = apply(x, event)
        if not html or result is None:
            continue
        if kind == "text":
            text.append(result)
        elif kind == "raw":
            raw.append(result)
        elif kind == "data":
            flush()
            parts.append(
                format_html(
                    '<div hx-swap-oob="beforeend:#{}-events">{}</div>',
                    x.dom,
                    _partial("event", item=result),
                )
            )
        elif kind == "response":
            flush()
            parts.append(_partial("meta", x=x, oob=True))
            parts.append(_partial("status", x=x, oob=True))
        elif kind == "complete":
            flush()
            parts.append(_partial("body", x=x, oob=True))
    if html:
        flush()
        last = events[-1]["type"] if events else ""
        if last in streams.TERMINAL or any(e["type"] in streams.TERMINAL for e in events):
            parts.append(_partial("status", x=x, oob=True))
            parts.append(_partial("end", x=x, oob=True))
    return parts


streams.register(
    KIND,
    render=render,
    coalesce={"text", "raw"},
    quiet={"heartbeat"},
    dom=lambda run: f"i-{run}-",
)
