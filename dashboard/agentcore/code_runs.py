"""What a code interpreter session's page shows: runs (one InvokeCodeInterpreter call each and
its event stream), built from a run in the stream log, and the live fragments that grow them.

A run renders with one partial (templates/agentcore/code_session.html#run) whether it comes
from the log (a page opened mid-run, a reload, the page without JavaScript) or is streaming;
its elements carry ids derived from `Run.dom`, which the live fragments address:

    {dom}-status  running / done / error / failed      {dom}-term   stdout and stderr, in order
    {dom}-items   other results (files, links, images)  {dom}-facts  exit code, time, task
    {dom}-end     what went wrong, when something did

Output is untrusted: stdout/stderr and every text are escaped; images are shown only as
`data:` URLs of raster types (never SVG), links only when they are http(s).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils.html import format_html

from dashboard import streams

KIND = "codeinterp"
TEMPLATE = "agentcore/code_session.html"
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
FACTS = ("exitCode", "executionTime", "taskId", "taskStatus")


def stream_key(interpreter_id: str, session_id: str) -> str:
    return f"{KIND}:{interpreter_id}:{session_id}"


def ids_of(key: str) -> tuple[str, str]:
    _, interpreter_id, session_id = key.split(":", 2)
    return interpreter_id, session_id


@dataclass
class Piece:
    stream: str  # "stdout" | "stderr"
    text: str


@dataclass
class Run:
    dom: str
    run: str = ""
    tool: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    user: str = ""
    at: dt.datetime | None = None
    state: str = "running"  # running | done | error | failed | broken
    output: list[Piece] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    is_error: bool = False
    error: dict[str, str] = field(default_factory=dict)
    interpreter_id: str = ""
    session_id: str = ""

    @property
    def over(self) -> bool:
        return self.state != "running"

    @property
    def label(self) -> str:
        from .forms_code import TOOL_INFO

        return TOOL_INFO.get(self.tool, {}).get("label", self.tool or "Tool call")

    @property
    def seconds(self) -> str:
        value = self.facts.get("executionTime")
        if not isinstance(value, int | float):
            return ""
        return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float) and value > 0:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    return None


def start_run(key: str, run: str, meta: dict[str, Any]) -> Run:
    interpreter_id, session_id = ids_of(key)
    inputs = meta.get("inputs") if isinstance(meta.get("inputs"), dict) else {}
    return Run(
        dom=f"r-{run}",
        run=run,
        tool=str(meta.get("tool") or ""),
        inputs=inputs,
        user=str(meta.get("user") or ""),
        at=_when(meta.get("at")),
        interpreter_id=interpreter_id,
        session_id=session_id,
    )


def item_of(block: dict[str, Any]) -> dict[str, Any]:
    """A content block as the page shows it (see the module docstring on what is trusted)."""
    kind = str(block.get("type") or "")
    if kind == "text":
        text = str(block.get("text") or "")
        return {"kind": "text", "text": text, "block": "\n" in text.strip() or len(text) > 200}
    if kind == "image":
        mime = str(block.get("mimeType") or "").lower()
        data = block.get("dataBase64")
        if mime in IMAGE_TYPES and isinstance(data, str) and data:
            return {"kind": "image", "src": f"data:{mime};base64,{data}", "mime": mime}
        return {"kind": "binary", "mime": mime, "size": block.get("dataSize")}
    if kind == "resource" and isinstance(block.get("resource"), dict):
        resource = block["resource"]
        item = {
            "kind": "file",
            "uri": str(resource.get("uri") or ""),
            "mime": str(resource.get("mimeType") or ""),
        }
        if resource.get("text") is not None:
            item["text"] = str(resource["text"])
        else:
            item["size"] = resource.get("blobSize")
        return item
    if kind == "resource_link":
        return {
            "kind": "link",
            "uri": str(block.get("uri") or ""),
            "name": str(block.get("name") or block.get("uri") or ""),
            "mime": str(block.get("mimeType") or ""),
            "size": block.get("size"),
            "description": str(block.get("description") or ""),
        }
    shown = {k: v for k, v in block.items() if not k.endswith("Base64")}
    return {"kind": "other", "text": json.dumps(shown, indent=2, ensure_ascii=False, default=str)}


def apply(run: Run, event: streams.Event) -> tuple[list[Piece], list[dict[str, Any]], bool]:
    """Fold one event into the run: (new output pieces, new items, whether facts changed)."""
    kind = event["type"]
    data = event["data"] if isinstance(event.get("data"), dict) else {}
    if kind == "result":
        structured = data.get("structuredContent")
        structured = structured if isinstance(structured, dict) else {}
        pieces = [
            Piece(stream, str(structured[stream]))
            for stream in ("stdout", "stderr")
            if structured.get(stream)
        ]
        # The content often repeats stdout/stderr as text: show it once, in the terminal.
        echoed = {p.text.strip() for p in pieces} | {"".join(p.text for p in pieces).strip()}
        items = []
        for block in data.get("content") or []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and str(block.get("text") or "").strip() in echoed:
                continue
            items.append(item_of(block))
        changed = False
        for name in FACTS:
            if name in structured and run.facts.get(name) != structured[name]:
                run.facts[name] = structured[name]
                changed = True
        if data.get("isError"):
            run.is_error = True
        run.output.extend(pieces)
        run.items.extend(items)
        return pieces, items, changed
    if kind == streams.END:
        failed = run.is_error or run.facts.get("exitCode") not in (None, 0)
        run.state = "error" if failed else "done"
    elif kind == streams.ERROR:
        run.state = "failed"
        run.error = {
            "code": str(data.get("code") or ""),
            "message": str(data.get("message") or "The call failed."),
        }
    elif kind in streams.TERMINAL:
        run.state = "broken"
        run.error = {
            "code": kind.removeprefix("stream.").capitalize(),
            "message": str(data.get("message") or "The stream broke off."),
        }
    return [], [], False


def fold(key: str, run: str, events: list[streams.Event]) -> Run:
    """A run as its events so far make it."""
    state: dict[str, Any] = {}
    render(key, run, events, state, html=False)
    return state.get("run") or start_run(key, run, {})


def _partial(name: str, **context: Any) -> str:
    return render_to_string(f"{TEMPLATE}#{name}", context)


def _append(target: str, html: str) -> str:
    return format_html('<div hx-swap-oob="beforeend:#{}">{}</div>', target, html)


def _pieces(run: Run, pieces: list[Piece]) -> str:
    """Consecutive output of one stream travels as one span."""
    merged: list[Piece] = []
    for piece in pieces:
        if merged and merged[-1].stream == piece.stream:
            merged[-1] = Piece(piece.stream, merged[-1].text + piece.text)
        else:
            merged.append(Piece(piece.stream, piece.text))
    return "".join(
        format_html(
            '<span hx-swap-oob="beforeend:#{}-term"><span class="ci-{}">{}</span></span>',
            run.dom,
            p.stream,
            p.text,
        )
        for p in merged
    )


def render(
    key: str, run_id: str, events: list[streams.Event], state: dict[str, Any], html: bool = True
) -> str:
    """The fragments that bring a page from before `events` to after them (streams kind)."""
    run: Run = state.get("run") or start_run(key, run_id, {})
    state["run"] = run
    parts: list[str] = []
    pending: list[Piece] = []
    facts_changed = False
    for event in events:
        if event["type"] == streams.START:
            run = start_run(key, run_id, event["data"])
            state["run"] = run
            if html:
                parts.append(
                    format_html(
                        '<div hx-swap-oob="afterbegin:#ci-runs">{}</div>', _partial("run", r=run)
                    )
                )
            continue
        pieces, items, changed = apply(run, event)
        if not html:
            continue
        facts_changed = facts_changed or changed
        pending.extend(pieces)
        if items:
            parts.append(_pieces(run, pending))
            pending = []
            parts.append(_append(f"{run.dom}-items", _partial("items", r=run, items=items)))
        if event["type"] in streams.TERMINAL:
            parts.append(_pieces(run, pending))
            pending = []
            parts.append(_partial("status", r=run, oob=True))
            parts.append(_partial("end", r=run, oob=True))
    if not html:
        return ""
    parts.append(_pieces(run, pending))
    if facts_changed:
        parts.append(_partial("facts", r=run, oob=True))
    return "".join(parts)


streams.register(KIND, render=render, coalesce={"result"})
