"""The simulated chat agent: what it answers, grounded in the space's backlog, and how the
answer streams.

`plan_reply` runs inside the SendMessage handler (in its transaction) and reads everything the
answer needs; `stream_reply` then produces the events lazily, token by token, sleeping
`SANDBOX_CHAT_TOKEN_SECONDS` per token, so a reply arrives over time through botocore's
event-stream parser exactly as AWS's does. Nothing is random except the fault draw, and that is
repeatable with a seed: the same message in the same space gets the same reply.

What it understands (by keywords, deterministic):
- an answer to one of its prompts (`context.userActionResponse`): acknowledges the choice;
- "what is open", "open tasks", "on fire", "high priority": the open CRITICAL/HIGH tasks;
- a task named by its id or by words of its title ("tell me about the 5xx on checkout"): a
  summary of the task's journal (plan, findings, root cause, pending approval);
- anything else: the space's backlog at a glance and what it can be asked.

Each answer starts with tool calls, streamed as `jsonDelta` blocks: a `toolUse` block and,
nested under it by `parentId`, its `toolResult`. When the user asks for an action (restart,
roll back, scale, deploy, fix, mitigate) or a task waits for an approval, the answer ends with a
`userAction` block whose JSON holds a `prompt` and its `choices`; the console shows them as
buttons and sends the chosen one back as `context.userActionResponse`.

Block types (contentBlockStart `type`): `text` (textDelta; contentBlockStop carries the whole
text), `toolUse` and `toolResult` (jsonDelta: `{"name", "input"}` / the result), `userAction`
(jsonDelta: `{"prompt", "choices": [...]}`).

Faults, `SANDBOX_CHAT_FAULTS` ("fail=0.1,cut=0.1,stall=0.05,stall_seconds=90,seed=1"):
`fail` is the fraction of replies that end in `responseFailed` halfway through their text,
`cut` the fraction whose stream simply stops mid-reply (no terminal event, as when a connection
drops), `stall` the fraction that go silent for `stall_seconds` (default 90) mid-reply, longer
than the console waits. Throttling and HTTP 5xx come from `SANDBOX_FAULTS` like every call.
"""

from __future__ import annotations

import functools
import json
import random
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .models import AgentSpace, BacklogTask, Execution, JournalRecord

OPEN_STATUSES = ("PENDING_TRIAGE", "PENDING_START", "IN_PROGRESS", "PENDING_CUSTOMER_APPROVAL")
URGENT = ("CRITICAL", "HIGH")
_ACTION_WORDS = re.compile(
    r"\b(restart|reboot|roll ?back|revert|scale|deploy|fix|mitigate|failover)\b", re.I
)
_OPEN_WORDS = re.compile(
    r"\b(open|on fire|burning|urgent|high[- ]priority|critical|what'?s up|going on|backlog"
    r"|approv\w*)\b",
    re.I,
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_WORD = re.compile(r"[a-z0-9][a-z0-9-]{2,}", re.I)
_STOP = frozenset(
    "the and for with about tell what whats task tasks this that from into on in of to is are "
    "was were me you your our can could would please show give status happened why how".split()
)
TOKEN = re.compile(r"\S+\s*|\s+")


# --- faults ----------------------------------------------------------------------------------

_FAULT_KEYS = {"fail", "cut", "stall", "stall_seconds", "seed"}


@dataclass(frozen=True)
class ChatFaults:
    fail: float = 0.0
    cut: float = 0.0
    stall: float = 0.0
    stall_seconds: float = 90.0
    seed: int | None = None


@functools.cache
def parse_faults(spec: str) -> ChatFaults:
    values: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, _, raw = item.partition("=")
        key = key.strip()
        if key not in _FAULT_KEYS:
            raise ImproperlyConfigured(
                f"SANDBOX_CHAT_FAULTS: unknown key {key!r}; use {', '.join(sorted(_FAULT_KEYS))}"
            )
        try:
            values[key] = float(raw)
        except ValueError:
            raise ImproperlyConfigured(
                f"SANDBOX_CHAT_FAULTS: {key} needs a number, not {raw!r}"
            ) from None
        if key in ("fail", "cut", "stall") and not 0 <= values[key] <= 1:
            raise ImproperlyConfigured(f"SANDBOX_CHAT_FAULTS: {key} must be between 0 and 1")
    seed = values.pop("seed", None)
    return ChatFaults(**values, seed=None if seed is None else int(seed))


_rng_lock = threading.Lock()
_rngs: dict[str, random.Random] = {}


def draw_fault(spec: str) -> tuple[str, float]:
    """("", 0) or the fault this reply suffers: ("fail"|"cut"|"stall", stall seconds)."""
    if not spec:
        return "", 0.0
    faults = parse_faults(spec)
    with _rng_lock:
        rng = _rngs.setdefault(spec, random.Random(faults.seed))
        roll = rng.random()
    for name in ("fail", "cut", "stall"):
        share = getattr(faults, name)
        if roll < share:
            return name, faults.stall_seconds
        roll -= share
    return "", 0.0


# --- the plan of a reply ---------------------------------------------------------------------


@dataclass
class Block:
    type: str  # text | toolUse | toolResult | userAction
    body: str  # the text, or the JSON text streamed as partialJson
    id: str = ""
    parent_id: str = ""
    work: float = 0.0  # tokens' worth of "thinking" before the block starts

    @property
    def is_text(self) -> bool:
        return self.type == "text"


@dataclass
class Plan:
    blocks: list[Block] = field(default_factory=list)
    summary: str = ""
    input_tokens: int = 0

    def tool(self, name: str, tool_input: dict[str, Any], result: Any) -> None:
        number = sum(1 for b in self.blocks if b.type == "toolUse") + 1
        tool_id = f"tooluse-{number}"
        self.blocks.append(
            Block("toolUse", _json({"name": name, "input": tool_input}), tool_id, work=6)
        )
        self.blocks.append(
            Block("toolResult", _json(result), f"{tool_id}-result", parent_id=tool_id, work=10)
        )

    def text(self, text: str) -> None:
        self.blocks.append(Block("text", text, f"text-{len(self.blocks) + 1}", work=4))

    def ask(self, prompt: str, choices: list[str]) -> None:
        self.blocks.append(
            Block("userAction", _json({"prompt": prompt, "choices": choices}), "action-1", work=2)
        )


def _json(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), default=str)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP


def _quote(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _find_task(space: AgentSpace, message: str) -> BacklogTask | None:
    for found in _UUID.findall(message):
        task = BacklogTask.objects.filter(space=space, pk=found.lower()).first()
        if task is not None:
            return task
    wanted = _words(message)
    if not wanted:
        return None
    best, best_score = None, 0
    for task in BacklogTask.objects.filter(space=space).order_by("-created_at")[:500]:
        score = len(wanted & _words(task.title))
        if score > best_score:
            best, best_score = task, score
    # One shared word is chance ("latency"); two is a reference, or one in a short title.
    if best is not None and (best_score >= 2 or (best_score == 1 and len(wanted) == 1)):
        return best
    return None


def _task_line(task: BacklogTask) -> str:
    status = task.status.replace("_", " ").lower()
    return f"**{task.priority}** · {task.title} — {status} (`{task.task_id}`)"


def _open_tasks(space: AgentSpace, plan: Plan, wants_action: bool) -> None:
    rows = list(
        BacklogTask.objects.filter(
            space=space, status__in=OPEN_STATUSES, priority__in=URGENT
        ).order_by("-priority_rank", "-created_at")[:10]
    )
    plan.tool(
        "ListBacklogTasks",
        {
            "agentSpaceId": space.pk,
            "filter": {"status": list(OPEN_STATUSES), "priority": list(URGENT)},
        },
        {
            "count": len(rows),
            "tasks": [{"taskId": t.task_id, "title": t.title, "status": t.status} for t in rows],
        },
    )
    if not rows:
        plan.text(
            f"Nothing urgent is open in **{space.name}**: no CRITICAL or HIGH task is waiting, "
            "starting or in progress. Lower-priority work is on the board."
        )
        plan.summary = f"Checked {space.name} for open high-priority tasks: none."
        return
    lines = "\n".join(f"{n}. {_task_line(t)}" for n, t in enumerate(rows, 1))
    waiting = [t for t in rows if t.status == "PENDING_CUSTOMER_APPROVAL"]
    text = (
        f"{len(rows)} high-priority task{'s are' if len(rows) != 1 else ' is'} open in "
        f"**{space.name}**:\n\n{lines}\n"
    )
    if waiting:
        text += (
            f"\n{len(waiting)} of them {'are' if len(waiting) != 1 else 'is'} waiting for an "
            "approval from you before the investigation can go on."
        )
    else:
        text += "\nAsk me about any of them for a summary of what I found so far."
    plan.text(text)
    plan.summary = f"Listed {len(rows)} open high-priority task(s) in {space.name}."
    if waiting or wants_action:
        first = (waiting or rows)[0]
        plan.ask(
            f"Open the investigation “{_quote(first.title, 60)}”?",
            ["Summarize it here", "Not now"],
        )


def _journal_summary(space: AgentSpace, task: BacklogTask, plan: Plan, wants_action: bool) -> None:
    execution = Execution.objects.filter(task=task).order_by("-created_at").first()
    records = (
        list(JournalRecord.objects.filter(execution=execution).order_by("created_at", "id"))
        if execution
        else []
    )
    plan.tool(
        "GetBacklogTask",
        {"agentSpaceId": space.pk, "taskId": task.task_id},
        {"title": task.title, "status": task.status, "priority": task.priority},
    )
    if execution is not None:
        plan.tool(
            "ListJournalRecords",
            {"agentSpaceId": space.pk, "executionId": execution.execution_id, "order": "ASC"},
            {"count": len(records), "types": sorted({r.record_type for r in records})},
        )
    status = task.status.replace("_", " ").lower()
    parts = [f"### {task.title}", f"**{task.priority}**, {status}."]
    if not records:
        if task.status in ("PENDING_START", "PENDING_TRIAGE"):
            parts.append("The investigation has not written anything yet: it is waiting to start.")
        elif task.status == "IN_PROGRESS":
            parts.append("The investigation has just started: nothing is in its journal yet.")
        else:
            parts.append("There is no journal for this task.")
    by_type: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_type.setdefault(record.record_type, []).append(record.content or {})
    for planning in by_type.get("PLANNING", [])[:1]:
        parts.append(f"**Plan.** {planning.get('summary', '')}")
    findings = by_type.get("FINDING", [])
    if findings:
        items = "\n".join(
            f"- {f.get('title', 'Finding')} ({str(f.get('severity', '')).lower() or 'n/a'}): "
            f"{f.get('details', '')}"
            for f in findings
        )
        parts.append(f"**Findings.**\n\n{items}")
    for cause in by_type.get("ROOT_CAUSE", [])[-1:]:
        confidence = cause.get("confidence")
        sure = (
            f" (confidence {float(confidence):.0%})" if isinstance(confidence, int | float) else ""
        )
        parts.append(f"**Root cause{sure}.** {cause.get('title', '')}: {cause.get('summary', '')}")
    asked = [r for r in by_type.get("APPROVAL_REQUEST", [])]
    if task.status == "PENDING_CUSTOMER_APPROVAL" and asked:
        request = asked[-1]
        parts.append(
            f"**Waiting for you.** I asked to run `{request.get('tool', 'an action')}`: "
            f"{request.get('reason', '')}"
        )
    updates = by_type.get("UPDATE", [])
    if updates and task.status in ("COMPLETED", "FAILED"):
        parts.append(f"**Outcome.** {updates[-1].get('text', '')}")
    plan.text("\n\n".join(parts))
    plan.summary = (
        f"Summarized the journal of “{_quote(task.title, 60)}” ({len(records)} record(s))."
    )
    if task.status == "PENDING_CUSTOMER_APPROVAL" and asked:
        plan.ask(
            f"Approve `{asked[-1].get('tool', 'the action')}` for “{_quote(task.title, 60)}”?",
            ["Approve", "Reject", "Decide later"],
        )
    elif wants_action:
        plan.ask(
            f"Start a mitigation for “{_quote(task.title, 60)}”?",
            ["Start the mitigation", "Keep investigating"],
        )


def _overview(space: AgentSpace, message: str, plan: Plan, wants_action: bool) -> None:
    counts: dict[str, int] = {}
    for status in BacklogTask.objects.filter(space=space).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    plan.tool("ListBacklogTasks", {"agentSpaceId": space.pk}, {"countsByStatus": counts})
    total = sum(counts.values())
    glance = ", ".join(f"{n} {s.replace('_', ' ').lower()}" for s, n in sorted(counts.items()) if n)
    text = (
        f"I could not match “{_quote(message)}” to a task in **{space.name}**."
        if message.strip()
        else f"Here is **{space.name}** at a glance."
    )
    text += (
        f"\n\nThe backlog holds {total} task{'s' if total != 1 else ''}"
        + (f": {glance}." if glance else ".")
        + "\n\nYou can ask me:\n\n- *what is open?* — the open high-priority tasks\n"
        "- *tell me about* a task (its id or words of its title) — a summary of its journal"
    )
    plan.text(text)
    plan.summary = f"Gave an overview of {space.name} ({total} task(s))."
    if wants_action:
        plan.ask("Which task should I act on?", ["Show the open high-priority tasks", "Cancel"])


def plan_reply(space: AgentSpace, content: str, action_response: str = "") -> Plan:
    """What the agent answers to `content` (or to `action_response`, an answer to its prompt)."""
    plan = Plan(input_tokens=len(TOKEN.findall(content + action_response)) * 4 + 1200)
    wants_action = bool(_ACTION_WORDS.search(content))
    if action_response:
        choice = _quote(action_response, 120)
        if choice.lower().startswith(("show the open", "summarize")):
            _open_tasks(space, plan, wants_action=False)
            return plan
        plan.text(
            f"You chose **{choice}**. Noted — in the sandbox nothing is changed in your "
            "environment; with the real agent this is where it would carry the choice out and "
            "report back here."
        )
        plan.summary = f"Recorded the answer “{choice}”."
        return plan
    task = _find_task(space, content)
    if task is not None:
        _journal_summary(space, task, plan, wants_action)
    elif _OPEN_WORDS.search(content):
        _open_tasks(space, plan, wants_action)
    else:
        _overview(space, content, plan, wants_action)
    return plan


# --- streaming -------------------------------------------------------------------------------


def _chunks(text: str, size: int = 16) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@dataclass
class Outcome:
    """What the stream produced, for the history record (filled in as it goes)."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    error: dict[str, str] = field(default_factory=dict)
    state: str = "IN_PROGRESS"


def stream_reply(
    plan: Plan,
    response_id: str,
    outcome: Outcome,
    *,
    fault: str = "",
    stall_seconds: float = 0.0,
    token_seconds: float | None = None,
    beat: Any = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The reply's events, paced; `outcome` records what was sent; `beat()` is called now and
    then (the history record's sign of life)."""
    pace = settings.SANDBOX_CHAT_TOKEN_SECONDS if token_seconds is None else token_seconds
    sequence = 0
    last_beat = time.monotonic()

    def event(kind: str, **members: Any) -> tuple[str, dict[str, Any]]:
        nonlocal sequence
        if kind != "heartbeat":
            sequence += 1
            members["sequenceNumber"] = sequence
        return kind, members

    def wait(tokens: float) -> None:
        nonlocal last_beat
        if pace > 0 and tokens > 0:
            time.sleep(pace * tokens)
        if beat is not None and time.monotonic() - last_beat > 5:
            last_beat = time.monotonic()
            beat()

    yield event("responseCreated", responseId=response_id)
    yield event("responseInProgress", responseId=response_id)
    yield event("heartbeat")
    output_tokens = 0
    text_blocks = [i for i, b in enumerate(plan.blocks) if b.is_text]
    fault_block = text_blocks[-1] if text_blocks else len(plan.blocks) - 1
    for index, block in enumerate(plan.blocks):
        wait(block.work)
        record: dict[str, Any] = {"index": index, "type": block.type, "id": block.id}
        if block.parent_id:
            record["parentId"] = block.parent_id
        outcome.blocks.append(record)
        yield event(
            "contentBlockStart",
            index=index,
            type=block.type,
            id=block.id,
            parentId=block.parent_id or None,
        )
        pieces = TOKEN.findall(block.body) if block.is_text else _chunks(block.body)
        sent = ""
        for number, piece in enumerate(pieces):
            if fault and index == fault_block and number == len(pieces) // 2:
                if fault == "stall":
                    time.sleep(stall_seconds)
                    fault = ""
                elif fault == "cut":
                    outcome.state = "INTERRUPTED"
                    record["text" if block.is_text else "json"] = sent
                    return
                else:
                    outcome.state = "FAILED"
                    outcome.error = {
                        "errorCode": "InternalServerException",
                        "errorMessage": "The agent could not finish this reply "
                        "(injected fault). Retry the message.",
                    }
                    record["text" if block.is_text else "json"] = sent
                    yield event("responseFailed", responseId=response_id, **outcome.error)
                    return
            wait(1)
            sent += piece
            output_tokens += 1
            delta = {"textDelta": {"text": piece}} if block.is_text else None
            if delta is None:
                delta = {"jsonDelta": {"partialJson": piece}}
            yield event("contentBlockDelta", index=index, delta=delta)
        record["text" if block.is_text else "json"] = block.body
        last = index == len(plan.blocks) - 1
        yield event(
            "contentBlockStop",
            index=index,
            type=block.type,
            text=block.body if block.is_text else None,
            last=last,
        )
    if plan.summary:
        outcome.summary = plan.summary
        yield event("summary", content=plan.summary)
    outcome.usage = {
        "inputTokens": plan.input_tokens,
        "outputTokens": output_tokens,
        "totalTokens": plan.input_tokens + output_tokens,
    }
    outcome.state = "COMPLETED"
    yield event("responseCompleted", responseId=response_id, usage=outcome.usage)
