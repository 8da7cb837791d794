"""An incident report of one task: what the agent found and what people did, for a postmortem.

`gather` reads everything once (the task, its executions and their whole journals, its linked
tasks, and this console's audit log: who answered the approvals and when, the console's own
actions on the task); `markdown` writes it as a Markdown document; the printable page
(templates/tasks/report.html) renders the same `Report` with Django's escaping and print CSS.

Agent text is untrusted. In the Markdown every piece of it goes through `text()`: HTML's
`< > &` become entities, Markdown's punctuation is backslash-escaped (no link, image, heading,
list or table can start from it), dangerous URL schemes lose their colon, and code goes into a
fence longer than any run of backticks inside it. Only URLs the console makes itself, and
http(s) references, become links.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.utils import timezone

from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces
from dashboard.aws import tasks as aws_tasks
from dashboard.core.models import AuditEntry

from . import approvals
from .templatetags.task_display import (
    agent_now,
    http_url,
    journal_view,
    label,
    record_line,
    when,
)

EXECUTIONS = 50  # as many as the task page shows
JOURNAL_PAGES = 20  # 100 records each: a journal is reported up to its first 2000 records
LINE_CHARS = 600  # a timeline entry's text is cut to this


@dataclass
class Approval:
    request: dict[str, Any]
    response: dict[str, Any] | None = None
    answered_by: str = ""
    closed: str = ""  # why it can no longer be answered, when it was not answered

    @property
    def view(self) -> dict[str, Any]:
        return journal_view(self.request)

    @property
    def answer(self) -> dict[str, Any]:
        return journal_view(self.response) if self.response else {}


@dataclass
class Report:
    space: dict[str, Any]
    task: dict[str, Any]
    executions: list[dict[str, Any]] = field(default_factory=list)  # each with "records"
    cut: bool = False  # a journal was longer than the report reads
    root_cause: dict[str, Any] | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    actions: list[AuditEntry] = field(default_factory=list)
    primary: dict[str, Any] | None = None
    linked: list[dict[str, Any]] = field(default_factory=list)
    made_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for e in self.executions for r in e["records"]]


# --- reading --------------------------------------------------------------------------------


def _journal(space_id: str, execution_id: str) -> tuple[list[dict[str, Any]], bool]:
    records: list[dict[str, Any]] = []
    token = None
    for _ in range(JOURNAL_PAGES):
        page = aws_tasks.list_journal(
            space_id, execution_id, order="ASC", limit=100, next_token=token
        )
        records.extend(page["records"])
        token = page.get("nextToken")
        if not token:
            return records, False
    return records, True


def gather(space_id: str, task_id: str) -> Report:
    task = aws_tasks.get_task(space_id, task_id)
    try:
        space = aws_spaces.get_space(space_id)
    except (errors.Throttled, errors.Unavailable):
        space = {"agentSpaceId": space_id, "name": ""}
    report = Report(space=space, task=task)
    page = aws_tasks.list_executions(space_id, task_id, limit=EXECUTIONS)
    # Oldest first: a report reads as a story.
    for execution in reversed(page["executions"]):
        records, cut = _journal(space_id, str(execution.get("executionId", "")))
        report.executions.append({**execution, "records": records})
        report.cut = report.cut or cut
    records = report.records
    causes = [r for r in records if journal_view(r)["kind"] == "root_cause"]
    report.root_cause = causes[-1] if causes else None
    report.findings = [r for r in records if journal_view(r)["kind"] == "finding"]
    report.approvals = _approvals(records, task)
    ids = [task_id, *(a.view["approvalId"] for a in report.approvals)]
    report.actions = list(AuditEntry.objects.filter(target__in=ids).order_by("at", "id"))
    report.primary, report.linked = _linked(space_id, task)
    return report


def _approvals(records: Iterable[dict[str, Any]], task: dict[str, Any]) -> list[Approval]:
    found: dict[str, Approval] = {}
    answers: dict[str, dict[str, Any]] = {}
    for record in records:
        view = journal_view(record)
        if view["kind"] == "approval_request":
            found.setdefault(view["approvalId"], Approval(request=record))
        elif view["kind"] == "approval_response":
            answers[view["approvalId"]] = record
    for approval_id, approval in found.items():
        approval.response = answers.get(approval_id)
        if approval.response is not None:
            approval.answered_by = approvals.answered_by(approval_id, approval.response)
        else:
            shut = approvals.closed(approval_id, approval.request, None, task)
            approval.closed = shut.message if shut else ""
    return list(found.values())


def _linked(
    space_id: str, task: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    primary = None
    if task.get("primaryTaskId"):
        try:
            primary = aws_tasks.get_task(space_id, task["primaryTaskId"])
        except (errors.NotFound, errors.ValidationFailed):
            primary = {"taskId": task["primaryTaskId"], "title": "", "missing": True}
    linked: list[dict[str, Any]] = []
    if task.get("hasLinkedTasks") is not False:
        page = aws_tasks.list_tasks(space_id, filter={"primaryTaskId": task["taskId"]}, limit=100)
        linked = [t for t in page["tasks"] if t.get("taskId") != task["taskId"]]
    return primary, linked


# --- Markdown -------------------------------------------------------------------------------

# What Markdown could read as syntax inside a line (emphasis, code, links, images, tables,
# strikethrough, HTML), and what could start a block at the beginning of one.
_INLINE = re.compile(r"[\\`*_\[\]()!|~<>&]")
_LINE_START = re.compile(r"^(?:(\d+)([.)])|([#+=\-]))")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# Schemes a link must never have, and what renderers turn into links by themselves (GFM's
# bare URLs and www.): their punctuation becomes entities, which read the same.
_SCHEMES = re.compile(r"(?i)\b(javascript|vbscript|data|file)(\s*):")
_BARE = re.compile(r"(?i)(://|\bwww\.)")


def text(value: Any, *, limit: int | None = None) -> str:
    """Untrusted text as inert Markdown: shown as written, never markup, a link or HTML."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if limit is not None and len(value) > limit:
        value = value[:limit] + "…"
    lines = []
    for line in value.splitlines():
        line = _INLINE.sub(lambda m: _ENTITIES.get(m.group(0), "\\" + m.group(0)), line.strip())
        line = _LINE_START.sub(
            lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else "\\" + m.group(3), line
        )
        line = _SCHEMES.sub(lambda m: f"{m.group(1)}{m.group(2)}&#58;", line)
        line = _BARE.sub(
            lambda m: ":&#47;&#47;" if m.group(1) == "://" else m.group(1)[:3] + "&#46;", line
        )
        if line:
            lines.append(line)
    # A hard line break keeps the lines; an empty line would end a list item or table cell.
    return "  \n".join(lines)


def cell(value: Any, *, limit: int | None = None) -> str:
    """`text` for a table cell (one line)."""
    return text(value, limit=limit).replace("  \n", " ")


def code(value: Any) -> str:
    """A fenced code block that nothing inside can close."""
    body = str(value if value is not None else "")
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    return f"{fence}text\n{body}\n{fence}"


def link(words: str, url: str) -> str:
    """A link the console makes: `words` escaped, the URL with nothing that could end it."""
    safe = http_url(url) if "://" in url else url
    if not safe:
        return words
    return f"[{words}](<{quote(safe, safe=':/?#=&%@+,;~.-_!$*')}>)"


def _moment(value: Any) -> str:
    return cell(when(value)) if value else "—"


def markdown(report: Report, *, base_url: str = "") -> str:
    """The report as a Markdown document. `base_url` (scheme and host) makes links absolute."""
    task = report.task
    space = report.space
    out: list[str] = []
    add = out.append
    task_url = f"{base_url}/spaces/{task.get('agentSpaceId') or space.get('agentSpaceId')}/tasks/"

    add(f"# Incident report: {text(task.get('title'))}")
    add("")
    facts = [
        f"**Status:** {cell(label(task.get('status')))}",
        f"**Priority:** {cell(label(task.get('priority')))}",
        f"**Type:** {cell(label(task.get('taskType')))}",
        f"**Agent space:** {cell(space.get('name') or space.get('agentSpaceId'))}",
    ]
    add(" · ".join(facts) + "  ")
    add(
        f"**Task:** {link(cell(task.get('taskId')), task_url + str(task.get('taskId')) + '/')}"
        f" · **Created:** {_moment(task.get('createdAt'))}"
        f" · **Updated:** {_moment(task.get('updatedAt'))}"
        f" · **Version:** {cell(task.get('version'))}"
    )
    reference = task.get("reference")
    if isinstance(reference, Mapping):
        ref_text = cell(reference.get("title") or reference.get("referenceId"))
        url = http_url(reference.get("referenceUrl"))
        shown = link(ref_text, url) if url else ref_text
        add("")
        add(
            f"**Reference:** {cell(reference.get('system') or 'External')} "
            f"{cell(reference.get('referenceId'))}: {shown}"
        )

    add("")
    add("## Summary")
    add("")
    if task.get("description"):
        add(text(task.get("description")))
        add("")
    now = agent_now(task)
    add(f"**Outcome:** {text(now['text'])} {text(now['reason'])}".rstrip())
    add("")
    if report.root_cause:
        view = journal_view(report.root_cause)
        confidence = f" ({cell(view['confidence'])} confidence)" if view.get("confidence") else ""
        add(f"**Root cause:** {cell(view.get('title'))}{confidence}")
    else:
        add("**Root cause:** none found.")
    add("")
    add(
        f"**Findings:** {len(report.findings)} · **Approvals:** {len(report.approvals)} · "
        f"**Journal records:** {len(report.records)}"
        + (" (the first 2,000 of a longer journal)" if report.cut else "")
    )

    add("")
    add("## Root cause")
    add("")
    if report.root_cause:
        view = journal_view(report.root_cause)
        add(f"### {text(view.get('title') or 'Root cause')}")
        add("")
        if view.get("confidence"):
            add(f"Confidence: {cell(view['confidence'])}")
            add("")
        if view.get("summary"):
            add(text(view["summary"]))
            add("")
        factors = view.get("contributingFactors") or []
        if factors:
            add("Contributing factors:")
            add("")
            for item in factors:
                add(f"- {_item(item)}")
            add("")
        add(
            f"Found {_moment(report.root_cause.get('createdAt'))} (journal record "
            f"{cell(report.root_cause.get('recordId'))})."
        )
    else:
        add("The agent has not found a root cause.")

    add("")
    add("## Findings")
    add("")
    if not report.findings:
        add("No findings.")
    for number, record in enumerate(report.findings, 1):
        view = journal_view(record)
        severity = f" ({cell(label(view['severity']))})" if view.get("severity") else ""
        add(f"### {number}. {text(view.get('title') or 'Finding')}{severity}")
        add("")
        add(f"{_moment(record.get('createdAt'))}")
        add("")
        if view.get("details"):
            add(text(view["details"]))
            add("")
        if view.get("evidence"):
            add("Evidence:")
            add("")
            for item in view["evidence"]:
                add(f"- {_item(item)}")
            add("")

    add("")
    add("## Approvals")
    add("")
    if not report.approvals:
        add("The agent asked for no approval.")
    else:
        add("| Asked | To run | Arguments | Answer | By | Answered |")
        add("| --- | --- | --- | --- | --- | --- |")
        for approval in report.approvals:
            view, answer = approval.view, approval.answer
            arguments = view.get("arguments")
            if approval.response is not None:
                reason = f": {cell(answer['reason'])}" if answer.get("reason") else ""
                outcome = f"**{cell(label(answer.get('action')))}**{reason}"
                by = cell(approval.answered_by)
                answered = _moment(approval.response.get("createdAt"))
            else:
                outcome = (
                    f"Not answered. {cell(approval.closed)}"
                    if approval.closed
                    else "Waiting for an answer."
                )
                by, answered = "—", "—"
            add(
                f"| {_moment(approval.request.get('createdAt'))} | {cell(view.get('tool'))} "
                f"| {cell(_flat(arguments), limit=300) or '—'} | {outcome} | {by} | {answered} |"
            )

    add("")
    add("## Timeline")
    for execution in report.executions:
        add("")
        add(
            f"### {text(label(execution.get('agentSubTask')) or 'Execution')} "
            f"({cell(label(execution.get('executionStatus')))})"
        )
        add("")
        add(
            f"Execution {cell(execution.get('executionId'))}, started "
            f"{_moment(execution.get('createdAt'))}, last updated "
            f"{_moment(execution.get('updatedAt'))}."
        )
        add("")
        if not execution["records"]:
            add("No journal records.")
        for record in execution["records"]:
            kind = cell(label(record.get("recordType")) or "Record")
            line = record_line(record) or _flat(record.get("content"))
            add(f"- {_moment(record.get('createdAt'))} **{kind}:** {cell(line, limit=LINE_CHARS)}")
    if not report.executions:
        add("")
        add("The agent has not started on this task.")

    add("")
    add("## Actions in this console")
    add("")
    if not report.actions:
        add("None recorded in this console's audit log.")
    else:
        add("| When | Who | Action | Outcome |")
        add("| --- | --- | --- | --- |")
        for entry in report.actions:
            add(
                f"| {_moment(entry.at)} | {cell(entry.username)} | {_action(entry)} "
                f"| {cell('succeeded' if entry.outcome == AuditEntry.OK else 'failed')} |"
            )

    add("")
    add("## Linked tasks")
    add("")
    if report.primary:
        primary = report.primary
        add(f"- Linked to: {_task_link(primary, task_url)}")
    for other in report.linked:
        add(f"- Linked to this task: {_task_link(other, task_url)}")
    if not report.primary and not report.linked:
        add("None.")

    add("")
    add("---")
    add("")
    add(
        f"Made by Agent Console at {_moment(report.made_at)} from AWS DevOps Agent's records. "
        "Text written by the agent is quoted as it is, with nothing in it made into a link."
    )
    return "\n".join(out) + "\n"


def _item(item: Mapping[str, Any]) -> str:
    if item.get("text"):
        return cell(item["text"])
    return cell(_flat(item.get("doc")), limit=LINE_CHARS)


def _flat(value: Any) -> str:
    """Any JSON value on one line (escaped by the caller)."""
    if value is None or value == "" or value == {} or value == []:
        return ""
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_flat(v) for v in value)
    return str(value)


def _action(entry: AuditEntry) -> str:
    detail = entry.detail or {}
    if entry.operation == "UpdateBacklogTask" and detail.get("taskStatus"):
        return f"Status set to {cell(label(detail['taskStatus']))}"
    if entry.operation == "UpdateApprovalAction":
        reason = f" ({cell(detail['reason'])})" if detail.get("reason") else ""
        return f"{cell(label(detail.get('action')))} approval {cell(entry.target)}{reason}"
    return cell(entry.operation)


def _task_link(task: Mapping[str, Any], task_url: str) -> str:
    words = cell(task.get("title") or task.get("taskId"))
    status = f" ({cell(label(task.get('status')))})" if task.get("status") else ""
    if task.get("missing"):
        return f"{words} (no longer exists)"
    return link(words, f"{task_url}{task.get('taskId')}/") + status
