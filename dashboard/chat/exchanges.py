"""What a chat shows: exchanges (a message and the agent's reply), built from the chat's
history records or from a streamed run, and the live fragments that grow them.

An exchange renders with one partial (templates/chat/detail.html#exchange) whether it comes
from the history, from a run in the stream log (a page rendered mid-reply, or without
JavaScript), or is being streamed; its elements carry ids derived from `Exchange.dom`, which the
live fragments address:

    {dom}-status   the working / done / failed indicator      {dom}-blocks   top-level blocks
    {dom}-b{i}     block i   {dom}-b{i}-body  its content    {dom}-b{i}-raw  streamed text
    {dom}-b{i}-kids  blocks nested under it (parentId)        {dom}-summary  {dom}-end

Agent output is untrusted: streamed text is escaped as it arrives, and a text block ends as
Markdown sanitized by dashboard/core/markdown.py; JSON blocks are shown as text.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils.html import format_html

from dashboard import streams

KIND = "chat"
RECOVERED = "stream.recovered"  # the reply as the agent recorded it (after its relay died)


def stream_key(space_id: str, chat_id: str) -> str:
    return f"{KIND}:{space_id}:{chat_id}"


def ids_of(key: str) -> tuple[str, str]:
    """(space_id, chat_id) of a chat stream key."""
    _, space_id, chat_id = key.split(":", 2)
    return space_id, chat_id


@dataclass
class Block:
    index: int
    type: str
    id: str = ""
    parent_id: str = ""
    text: str = ""  # text blocks, as streamed so far
    json: str = ""  # JSON blocks (partialJson), as streamed so far
    done: bool = False
    children: list[Block] = field(default_factory=list)

    @property
    def is_text(self) -> bool:
        return self.type == "text" or (not self.json and self.type not in _JSON_TYPES)

    @property
    def parsed(self) -> Any:
        try:
            return json.loads(self.json) if self.json else None
        except ValueError:
            return None

    @property
    def pretty(self) -> str:
        value = self.parsed
        if value is None:
            return self.json
        return json.dumps(value, indent=2, ensure_ascii=False)

    @property
    def label(self) -> str:
        value = self.parsed
        if self.type == "toolUse":
            name = value.get("name") if isinstance(value, dict) else ""
            return f"Tool call: {name}" if name else "Tool call"
        if self.type == "toolResult":
            return "Result"
        return self.type or "Block"

    @property
    def prompt(self) -> dict[str, Any] | None:
        """A userAction block's prompt and choices, when its JSON is complete and sane."""
        value = self.parsed
        if self.type != "userAction" or not isinstance(value, dict):
            return None
        choices = [str(c)[:256] for c in value.get("choices") or [] if str(c).strip()][:10]
        return {"prompt": str(value.get("prompt") or ""), "choices": choices}


_JSON_TYPES = frozenset({"toolUse", "toolResult", "userAction", "json"})


@dataclass
class Exchange:
    dom: str
    question: str = ""
    answer_to: str = ""  # the choice this message answered (context.userActionResponse)
    asked_by: str = ""
    asked_at: dt.datetime | None = None
    response_id: str = ""
    # sending | working | replying | recovering | done | failed | broken | pending
    state: str = "sending"
    blocks: list[Block] = field(default_factory=list)  # every block, by order of start
    summary: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] = field(default_factory=dict)
    live: bool = False
    run: str = ""
    space_id: str = ""
    chat_id: str = ""

    @property
    def roots(self) -> list[Block]:
        return [b for b in self.blocks if not b.parent_id or not self._by_id(b.parent_id)]

    def _by_id(self, block_id: str) -> Block | None:
        return next((b for b in self.blocks if b.id and b.id == block_id), None)

    def block(self, index: int) -> Block | None:
        return next((b for b in self.blocks if b.index == index), None)

    def add(self, block: Block) -> Block | None:
        """Add a block; returns its parent when it nests under one."""
        parent = self._by_id(block.parent_id) if block.parent_id else None
        self.blocks.append(block)
        if parent is not None:
            parent.children.append(block)
        return parent

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed", "broken")

    @property
    def retry_text(self) -> str:
        return self.question

    @property
    def prompts_open(self) -> bool:
        """Prompts can be answered unless the reply failed or broke off."""
        return self.state in ("replying", "done")


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, int | float) and value > 0:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    return None


# --- from the history -------------------------------------------------------------------------


def _user_name(reference: Any) -> str:
    if isinstance(reference, dict):
        return str(reference.get("userId") or "")
    return ""


def _blocks_from(items: Any) -> list[Block]:
    out: list[Block] = []
    for number, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        block = Block(
            index=int(item.get("index", number))
            if str(item.get("index", "")).isdigit()
            else number,
            type=str(item.get("type") or "text"),
            id=str(item.get("id") or ""),
            parent_id=str(item.get("parentId") or ""),
            text=str(item.get("text") or ""),
            json=str(item.get("json") or ""),
            done=True,
        )
        out.append(block)
    return out


_STATES = {
    "COMPLETED": "done",
    "FAILED": "failed",
    "INTERRUPTED": "broken",
    "IN_PROGRESS": "pending",
}


def from_records(
    records: list[dict[str, Any]],
    *,
    space_id: str,
    chat_id: str,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> list[Any]:
    """Exchanges (and, for records this console does not know, the records themselves) in
    order. Replies whose responseId is in `exclude` (shown from the stream log) are left out,
    with their messages."""
    items: list[Any] = []
    by_response: dict[str, Exchange] = {}
    for record in records:
        content = record.get("content")
        kind = record.get("recordType")
        if not isinstance(content, dict):
            content = {"value": content}
        response_id = str(content.get("responseId") or "")
        if response_id and response_id in exclude:
            continue
        if kind == "CHAT_MESSAGE":
            exchange = Exchange(
                dom=f"h-{record.get('recordId', '')}",
                question=str(content.get("text") or ""),
                answer_to=str(content.get("userActionResponse") or ""),
                asked_by=_user_name(record.get("userReference")),
                asked_at=_when(record.get("createdAt")),
                response_id=response_id,
                state="pending",
                space_id=space_id,
                chat_id=chat_id,
            )
            items.append(exchange)
            if response_id:
                by_response[response_id] = exchange
        elif kind == "CHAT_RESPONSE":
            exchange = by_response.get(response_id)
            if exchange is None:
                exchange = Exchange(
                    dom=f"h-{record.get('recordId', '')}",
                    response_id=response_id,
                    space_id=space_id,
                    chat_id=chat_id,
                )
                items.append(exchange)
            exchange.state = _STATES.get(str(content.get("state") or ""), "done")
            for block in _blocks_from(content.get("blocks")):
                exchange.add(block)
            exchange.summary = str(content.get("summary") or "")
            exchange.usage = content.get("usage") or {}
            error = content.get("error") or {}
            if isinstance(error, dict) and error:
                exchange.error = {
                    "code": str(error.get("errorCode") or ""),
                    "message": str(error.get("errorMessage") or ""),
                }
            elif exchange.state == "broken":
                exchange.error = {
                    "code": "Interrupted",
                    "message": "The reply broke off before the agent finished.",
                }
        else:
            items.append(
                {
                    "record": True,
                    "type": str(kind or "record"),
                    "at": _when(record.get("createdAt")),
                    "text": json.dumps(content, indent=2, ensure_ascii=False, default=str),
                }
            )
    return items


# --- from a stream ----------------------------------------------------------------------------

_BROKEN = {
    streams.ERROR: "The reply stream broke off.",
    streams.TIMEOUT: "The agent stopped sending anything, so the console gave up waiting.",
    streams.INTERRUPTED: "The console stopped relaying this reply (it is restarting).",
    streams.LOST: "The console process relaying this reply stopped.",
}


def start_exchange(key: str, run: str, meta: dict[str, Any]) -> Exchange:
    space_id, chat_id = ids_of(key)
    return Exchange(
        dom=f"x-{run}",
        question=str(meta.get("content") or ""),
        answer_to=str(meta.get("answer") or ""),
        asked_by=str(meta.get("user") or ""),
        asked_at=_when(meta.get("at")),
        live=True,
        run=run,
        space_id=space_id,
        chat_id=chat_id,
    )


def apply(exchange: Exchange, event: streams.Event) -> Any:
    """Fold one event into the exchange; returns what the live renderer needs to know."""
    kind = event["type"]
    data = event["data"] if isinstance(event.get("data"), dict) else {}
    if kind == "responseCreated":
        exchange.response_id = str(data.get("responseId") or "")
        exchange.state = "working"
    elif kind == "responseInProgress":
        exchange.state = "working" if exchange.state == "sending" else exchange.state
    elif kind == "contentBlockStart":
        index = _int(data.get("index"), len(exchange.blocks))
        block = Block(
            index=index,
            type=str(data.get("type") or "text"),
            id=str(data.get("id") or ""),
            parent_id=str(data.get("parentId") or ""),
        )
        if exchange.block(index) is not None:  # a repeated start: keep the first
            return None
        exchange.state = "replying"
        return block, exchange.add(block)
    elif kind == "contentBlockDelta":
        block = _block_for(exchange, data)
        delta = data.get("delta") if isinstance(data.get("delta"), dict) else {}
        text = (delta.get("textDelta") or {}).get("text") if delta else None
        partial = (delta.get("jsonDelta") or {}).get("partialJson") if delta else None
        if text is not None:
            block.text += str(text)
            return block, str(text)
        if partial is not None:
            if block.type == "text" and not block.text:
                block.type = "json"
            block.json += str(partial)
            return block, str(partial)
        return None
    elif kind == "contentBlockStop":
        block = _block_for(exchange, data)
        if data.get("text"):
            block.text = str(data["text"])
        block.done = True
        return block
    elif kind == "summary":
        exchange.summary = str(data.get("content") or "")
    elif kind == "responseCompleted":
        exchange.state = "done"
        exchange.usage = data.get("usage") or {}
    elif kind == "responseFailed":
        exchange.state = "failed"
        exchange.error = {
            "code": str(data.get("errorCode") or "ResponseFailed"),
            "message": str(data.get("errorMessage") or "The agent could not complete the reply."),
        }
    elif kind == streams.RELAY_LOST:
        if not exchange.over:
            exchange.state = "recovering"
            exchange.error = {"code": "", "message": str(data.get("message") or "")}
    elif kind == RECOVERED:
        exchange.state = _STATES.get(str(data.get("state") or ""), "done")
        exchange.blocks = []
        for block in _blocks_from(data.get("blocks")):
            exchange.add(block)
        exchange.summary = str(data.get("summary") or "")
        exchange.usage = data.get("usage") or {}
        error = data.get("error") or {}
        exchange.error = (
            {"code": str(error.get("errorCode") or ""), "message": str(error.get("errorMessage"))}
            if isinstance(error, dict) and error
            else {}
        )
        if exchange.state in ("broken", "pending"):
            exchange.state = "broken"
            exchange.error = {
                "code": "Interrupted",
                "message": "The reply broke off before the agent finished.",
            }
        return exchange
    elif kind == streams.END:
        if exchange.state not in ("done", "failed"):
            exchange.state = "broken"
            exchange.error = {
                "code": "StreamEnded",
                "message": "The reply stream ended before the agent finished.",
            }
    elif kind in _BROKEN:
        if exchange.state not in ("done", "failed"):
            exchange.state = "broken"
            exchange.error = {
                "code": str(data.get("code") or kind.split(".")[-1].capitalize()),
                "message": str(data.get("message") or _BROKEN[kind]),
            }
    return None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _block_for(exchange: Exchange, data: dict[str, Any]) -> Block:
    """The block an event names; a delta for a block never started gets one (odd streams)."""
    index = _int(data.get("index"), 0)
    block = exchange.block(index)
    if block is None:
        block = Block(index=index, type=str(data.get("type") or "text"))
        exchange.add(block)
    return block


def fold(key: str, run: str, events: list[streams.Event]) -> Exchange:
    """The exchange a run's events add up to."""
    exchange = start_exchange(key, run, {})
    for event in events:
        if event["type"] == streams.START:
            exchange = start_exchange(key, run, event["data"])
        else:
            apply(exchange, event)
    return exchange


def response_ids(runs: list[streams.RunView]) -> set[str]:
    found = set()
    for run in runs:
        for event in run["events"]:
            if event["type"] == "responseCreated":
                found.add(str(event["data"].get("responseId") or ""))
    return found - {""}


# --- live fragments ---------------------------------------------------------------------------

TEMPLATE = "chat/detail.html"


def _partial(name: str, **context: Any) -> str:
    return render_to_string(f"{TEMPLATE}#{name}", context)


def _oob_append(target: str, html: str) -> str:
    return format_html('<div hx-swap-oob="beforeend:#{}">{}</div>', target, html)


def render(key: str, run: str, events: list[streams.Event], state: dict[str, Any]) -> list[Any]:
    """The fragments that bring a page from before `events` to after them (streams kind);
    streamed text as `streams.Append` parts (compact frames)."""
    exchange: Exchange = state.get("exchange") or start_exchange(key, run, {})
    state["exchange"] = exchange
    parts: list[Any] = []
    pending: tuple[Block, str] | None = None  # consecutive deltas of one block, merged

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            block, text = pending
            parts.append(streams.Append(f"~b{block.index}-raw", text))
            pending = None

    status_changed = False
    for event in events:
        kind = event["type"]
        if kind == streams.START:
            flush()
            exchange = start_exchange(key, run, event["data"])
            state["exchange"] = exchange
            parts.append(_oob_append("chat-live", _partial("exchange", x=exchange)))
            continue
        before = exchange.state
        result = apply(exchange, event)
        if kind == "contentBlockDelta" and result is not None:
            block, text = result
            if pending is not None and pending[0] is block:
                pending = (block, pending[1] + text)
            else:
                flush()
                pending = (block, text)
            status_changed = status_changed or before != exchange.state
            continue
        flush()
        if kind == "contentBlockStart" and result is not None:
            block, parent = result
            target = f"{exchange.dom}-b{parent.index}-kids" if parent else f"{exchange.dom}-blocks"
            parts.append(_oob_append(target, _partial("block", x=exchange, b=block)))
        elif kind == "contentBlockStop" and result is not None:
            parts.append(_partial("block-body", x=exchange, b=result, oob=True))
        elif kind == "summary":
            parts.append(_partial("summary", x=exchange, oob=True))
        elif kind == RECOVERED:
            # The reply as the agent recorded it replaces what streamed before the relay died.
            parts.append(_partial("exchange", x=exchange, oob=True))
            continue
        status_changed = status_changed or before != exchange.state
        if (exchange.over or exchange.state == "recovering") and before != exchange.state:
            parts.append(_partial("end", x=exchange, oob=True))
    flush()
    if status_changed:
        parts.append(_partial("status", x=exchange, oob=True))
    return parts


def recover(
    key: str, run: str, events: list[streams.Event]
) -> list[tuple[str, dict[str, Any]]] | None:
    """The reply of a run whose relay died, as the agent recorded it in the chat's journal
    (None while it is still in progress). Blocking: runs in the AWS thread pool."""
    from dashboard.aws import chat as aws_chat

    space_id, chat_id = ids_of(key)
    records = aws_chat.history(space_id, chat_id, max_records=RECOVER_RECORDS)["records"]
    response_id = next(
        (
            str(e["data"].get("responseId") or "")
            for e in events
            if e["type"] == "responseCreated" and isinstance(e.get("data"), dict)
        ),
        "",
    )
    if not response_id:  # the relay died before the agent answered: find the message
        start = next((e["data"] for e in events if e["type"] == streams.START), {})
        asked = str(start.get("content") or "")
        sent = [
            r
            for r in records
            if r.get("recordType") == "CHAT_MESSAGE"
            and str((r.get("content") or {}).get("text") or "") == asked
        ]
        response_id = str((sent[-1].get("content") or {}).get("responseId") or "") if sent else ""
    reply = next(
        (
            r
            for r in reversed(records)
            if r.get("recordType") == "CHAT_RESPONSE"
            and (r.get("content") or {}).get("responseId") == response_id
        ),
        None,
    )
    if not response_id or reply is None:
        return None
    content = dict(reply.get("content") or {})
    if content.get("state") == "IN_PROGRESS":
        return None
    return [(RECOVERED, content)]


RECOVER_RECORDS = 20  # the newest journal records a recovery reads (the reply is among them)

streams.register(
    KIND,
    render=render,
    coalesce={"contentBlockDelta"},
    quiet={"heartbeat"},
    dom=lambda run: f"x-{run}-",
    recover=recover,
)
