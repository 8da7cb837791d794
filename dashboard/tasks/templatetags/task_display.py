"""Showing backlog tasks and journal records: badges, safe links, and any JSON document.

Journal content and task metadata are free-form JSON (the API's `Document`). Nothing here
trusts their shape: every value is checked before it is used, anything unexpected is shown
generically (nested key/value, or pretty JSON when it is too deep), and all text is escaped.
The templates that use these render from the raw dicts boto3 returns (live updates render
the same partials from a task or record alone).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

MAX_DEPTH = 5  # nested levels shown as key/value; deeper parts become pretty JSON
MAX_ITEMS = 100  # entries shown per object or list; the rest are counted
MAX_TEXT = 20_000  # characters shown per string

# Status → tone (a CSS modifier) and the word for it.
_STATUS_TONE = {
    "PENDING_TRIAGE": "triage",
    "LINKED": "muted",
    "PENDING_START": "active",
    "IN_PROGRESS": "active",
    "WAITING": "waiting",
    "PENDING_CUSTOMER_APPROVAL": "waiting",
    "COMPLETED": "ok",
    "FAILED": "failed",
    "TIMED_OUT": "failed",
    "CANCELED": "muted",
    "SKIPPED": "muted",
    # Execution statuses
    "RUNNING": "active",
    "STOPPED": "muted",
}
_PRIORITY_TONE = {
    "CRITICAL": "failed",
    "HIGH": "waiting",
    "MEDIUM": "active",
    "LOW": "muted",
    "MINIMAL": "muted",
}
_SEVERITY_TONE = {
    "CRITICAL": "failed",
    "HIGH": "failed",
    "MEDIUM": "waiting",
    "LOW": "active",
    "INFO": "muted",
    "INFORMATIONAL": "muted",
}

RECORD_TYPES = [
    "PLANNING",
    "DATA_FETCHED",
    "OBSERVATION",
    "FINDING",
    "ROOT_CAUSE",
    "USER_REQUEST",
    "UPDATE",
    "APPROVAL_REQUEST",
    "APPROVAL_RESPONSE",
]


@register.filter
def label(value: Any) -> str:
    """PENDING_CUSTOMER_APPROVAL → Pending customer approval (anything else as text)."""
    text = _scalar_text(value)
    if text is None:
        return ""
    return text.replace("_", " ").strip().capitalize()


@register.filter
def status_tone(value: Any) -> str:
    return _STATUS_TONE.get(str(value), "muted")


@register.filter
def priority_tone(value: Any) -> str:
    return _PRIORITY_TONE.get(str(value), "muted")


@register.filter
def severity_tone(value: Any) -> str:
    return _SEVERITY_TONE.get(str(value).upper(), "muted")


@register.filter
def http_url(value: Any) -> str:
    """The URL if it is an absolute http(s) address, else "" (never a javascript: link)."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        return ""
    return text


@register.filter
def task_links(value: Any, space_id: Any) -> SafeString:
    """Task ids in agent text (plain, or sanitized Markdown) as links to the task when it is one
    of the space's (dashboard/tasks/refs.py)."""
    from dashboard.tasks.refs import link_task_ids

    return link_task_ids(value, str(space_id or ""))


@register.filter
def when(value: Any) -> str:
    """A timestamp as "YYYY-MM-DD HH:MM:SS UTC"; text that is not one is shown as it is."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    text = _scalar_text(value)
    return text or ""


def moment(value: Any) -> dt.datetime | None:
    """An aware datetime from a datetime or an ISO 8601 text (journal content holds times as
    text); None for anything else."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@register.filter
def iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return _scalar_text(value) or ""


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON (escaped by the template like any text)."""
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


@register.filter
def is_empty_doc(value: Any) -> bool:
    return value is None or value == {} or value == [] or value == ""


@register.filter
def doc(value: Any) -> SafeString:
    """Any JSON value as readable HTML: objects as key/value lists, lists as lists."""
    return _doc(value, 0)


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value[:MAX_TEXT] + ("…" if len(value) > MAX_TEXT else "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return None


def _doc(value: Any, depth: int) -> SafeString:
    if value is None:
        return mark_safe('<span class="doc-null">null</span>')
    text = _scalar_text(value)
    if text is not None:
        css = "doc-text" if isinstance(value, str) else "doc-scalar"
        return format_html('<span class="{}">{}</span>', css, text)
    if depth >= MAX_DEPTH:
        return format_html('<pre class="doc-json">{}</pre>', pretty_json(value))
    if isinstance(value, Mapping):
        if not value:
            return mark_safe('<span class="doc-null">{}</span>')
        items = list(value.items())
        rows = format_html_join(
            "",
            "<dt>{}</dt><dd>{}</dd>",
            ((str(k), _doc(v, depth + 1)) for k, v in items[:MAX_ITEMS]),
        )
        return format_html('<dl class="doc doc-object">{}{}</dl>', rows, _more(len(items)))
    if isinstance(value, list | tuple):
        if not value:
            return mark_safe('<span class="doc-null">[]</span>')
        table = _table(value)
        if table is not None:
            return table
        rows = format_html_join(
            "", "<li>{}</li>", ((_doc(v, depth + 1),) for v in value[:MAX_ITEMS])
        )
        return format_html('<ol class="doc doc-list">{}{}</ol>', rows, _more(len(value)))
    # Anything else a parser might hand over (bytes, sets...): its text.
    return format_html('<span class="doc-text">{}</span>', str(value)[:MAX_TEXT])


def _table(rows: list[Any] | tuple[Any, ...]) -> SafeString | None:
    """Rows of flat objects with the same few keys (samples, data points) as a table."""
    if not 2 <= len(rows) or not all(isinstance(r, Mapping) and r for r in rows):
        return None
    keys = list(rows[0].keys())
    if len(keys) > 8 or any(list(r.keys()) != keys for r in rows):
        return None
    if any(_scalar_text(v) is None and v is not None for r in rows for v in r.values()):
        return None
    head = format_html_join("", '<th scope="col">{}</th>', ((str(k),) for k in keys))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (format_html_join("", "<td>{}</td>", ((_doc(r[k], MAX_DEPTH),) for k in keys)),)
            for r in rows[:MAX_ITEMS]
        ),
    )
    return format_html(
        '<div class="doc-table-wrap"><table class="table compact doc-table"><thead><tr>{}</tr>'
        "</thead><tbody>{}</tbody></table>{}</div>",
        head,
        body,
        _more(len(rows)),
    )


def _more(count: int) -> SafeString:
    if count <= MAX_ITEMS:
        return mark_safe("")
    return format_html('<p class="muted doc-more">… and {} more</p>', count - MAX_ITEMS)


# --- journal records ---------------------------------------------------------------------


def _text(content: Mapping[str, Any], key: str) -> str:
    """A text member: strings, numbers and booleans as text; anything else is not text."""
    return _scalar_text(content.get(key)) or ""


_WORD_KEYS = ("title", "description", "text", "summary", "name", "step")


def _items(value: Any) -> list[dict[str, Any]]:
    """List entries as {"text": ...} or {"doc": ...}; a lone string is a one-entry list."""
    if value is None or value == "":
        return []
    if not isinstance(value, list | tuple):
        value = [value]
    out: list[dict[str, Any]] = []
    for item in value[:MAX_ITEMS]:
        text = _scalar_text(item)
        if text is not None:
            out.append({"text": text})
        elif isinstance(item, Mapping):
            # A step or factor given as an object: use its words when it has them.
            key = next((k for k in _WORD_KEYS if _scalar_text(item.get(k))), None)
            rest = {k: v for k, v in item.items() if k not in (key, "status")}
            out.append(
                {
                    "text": _scalar_text(item.get(key)) if key else "",
                    "status": _scalar_text(item.get("status")) or "",
                    "doc": rest or None,
                }
            )
        else:
            out.append({"doc": item})
    return out


def _confidence(value: Any) -> tuple[str, int | None]:
    """("87%", 87) for 0.87 or 87; ("High", None) for words."""
    if isinstance(value, bool):
        return ("", None)
    if isinstance(value, int | float):
        number = float(value)
        if 0 <= number <= 1:
            number *= 100
        if 0 <= number <= 100:
            pct = round(number)
            return (f"{pct}%", pct)
        return (str(value), None)
    text = _scalar_text(value)
    return (label(text) if text else "", None)


# Which members each record type needs (a record without them is shown generically) and
# which it uses (the rest are listed as "more details").
_NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "PLANNING": (("summary", "steps"), ("summary", "steps")),
    "DATA_FETCHED": (("source", "query"), ("source", "query", "resultCount", "sample")),
    "OBSERVATION": (("text",), ("text",)),
    "FINDING": (("title", "details"), ("title", "severity", "details", "evidence")),
    "ROOT_CAUSE": (("title", "summary"), ("title", "summary", "confidence", "contributingFactors")),
    "USER_REQUEST": (("text",), ("text",)),
    "UPDATE": (("text", "status"), ("text", "status")),
    "APPROVAL_REQUEST": (
        ("approvalId",),
        (
            "approvalId",
            "tool",
            "arguments",
            "reason",
            "ttlSecondsAllowed",
            "singleUseAllowed",
            "expiresAt",
        ),
    ),
    "APPROVAL_RESPONSE": (("approvalId", "action"), ("approvalId", "action", "reason")),
}


@register.filter
def journal_view(record: Any) -> dict[str, Any]:
    """What the record partial shows: `kind` names the layout ("generic" when the record is
    not the shape its type promises), plus the checked values that layout needs."""
    if not isinstance(record, Mapping):
        return {"kind": "generic", "type": "", "content": record, "extra": None}
    rtype = _scalar_text(record.get("recordType")) or ""
    content = record.get("content")
    view: dict[str, Any] = {
        "kind": "generic",
        "type": rtype,
        "content": content,
        "extra": None,
        "user": _user(record.get("userReference")),
    }
    needs = _NEEDS.get(rtype)
    if needs is None or not isinstance(content, Mapping):
        return view
    required, used = needs
    # One of the needed members must be there as text (PLANNING: a summary or steps).
    present = [k for k in required if _scalar_text(content.get(k)) or _is_list(content.get(k))]
    if not present:
        return view
    extra = {k: v for k, v in content.items() if k not in used}
    view.update(kind=rtype.lower(), extra=extra or None)
    for key in used:
        view[key] = _text(content, key)
    if rtype == "PLANNING":
        view["steps"] = _items(content.get("steps"))
    elif rtype == "DATA_FETCHED":
        view["sample"] = content.get("sample")
        view["has_sample"] = not is_empty_doc(content.get("sample"))
    elif rtype == "FINDING":
        view["evidence"] = _items(content.get("evidence"))
        view["severity"] = _text(content, "severity")
    elif rtype == "ROOT_CAUSE":
        view["confidence"], view["confidence_pct"] = _confidence(content.get("confidence"))
        view["contributingFactors"] = _items(content.get("contributingFactors"))
    elif rtype == "APPROVAL_REQUEST":
        view["arguments"] = content.get("arguments")
        view["has_arguments"] = not is_empty_doc(content.get("arguments"))
        view["ttlSecondsAllowed"] = content.get("ttlSecondsAllowed") is True
        view["singleUseAllowed"] = content.get("singleUseAllowed") is True
        view["approval_url"] = _approval_url(record, view["approvalId"])
        # When the request lapses, if it says (a time that is not one is shown as text).
        view["expires"] = moment(content.get("expiresAt"))
    return view


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value)


def _user(ref: Any) -> dict[str, str] | None:
    if not isinstance(ref, Mapping):
        return None
    user_id = _scalar_text(ref.get("userId"))
    if not user_id:
        return None
    return {"id": user_id, "type": _scalar_text(ref.get("userType")) or ""}


def _approval_url(record: Mapping[str, Any], approval_id: str) -> str:
    space_id = _scalar_text(record.get("agentSpaceId"))
    if not space_id or not approval_id:
        return ""
    try:
        return reverse("tasks:approval", args=[space_id, approval_id])
    except NoReverseMatch:
        return ""


@register.filter
def record_anchor(record: Any) -> str:
    """The record's element id (record-<recordId>), or "" when it has no usable id."""
    if isinstance(record, Mapping):
        rid = _scalar_text(record.get("recordId"))
        if rid:
            return f"record-{rid}"
    return ""


@register.filter
def message_blocks(message: Any) -> list[dict[str, Any]]:
    """A pending message (its `message` union) as blocks: {"role", "text"} or {"role", "doc"}."""
    if not isinstance(message, Mapping):
        return [{"role": "", "doc": message}]
    body = message.get("message", message)
    if not isinstance(body, Mapping):
        return [{"role": "", "doc": body}]
    out: list[dict[str, Any]] = []
    for key, role in (("userMessage", "user"), ("assistantMessage", "agent")):
        blocks = body.get(key)
        if blocks is None:
            continue
        if not isinstance(blocks, list | tuple):
            blocks = [blocks]
        for block in blocks[:MAX_ITEMS]:
            if isinstance(block, Mapping) and _scalar_text(block.get("text")):
                out.append({"role": role, "text": _scalar_text(block.get("text"))})
            elif isinstance(block, Mapping) and block:
                out.append({"role": role, "doc": dict(block)})
            elif block not in (None, "", {}):
                out.append({"role": role, "doc": block})
    if not out and body:
        out.append({"role": "", "doc": dict(body)})
    return out


# --- the investigation at a glance -----------------------------------------------------------

_NOW = {
    "PENDING_TRIAGE": (
        "Waiting for triage: start the investigation to hand it to the agent.",
        "triage",
    ),
    "LINKED": ("Linked to another task, which the agent works instead.", "muted"),
    "PENDING_START": ("Queued: the agent starts when it has capacity.", "active"),
    "IN_PROGRESS": ("The agent is investigating.", "active"),
    "WAITING": ("The agent is waiting.", "waiting"),
    "PENDING_CUSTOMER_APPROVAL": (
        "The agent is waiting for an approval before it goes on.",
        "waiting",
    ),
    "COMPLETED": ("Finished.", "ok"),
    "FAILED": ("Failed.", "failed"),
    "TIMED_OUT": ("Timed out.", "failed"),
    "CANCELED": ("Canceled: the agent stopped working on it.", "muted"),
    "SKIPPED": ("Skipped during triage.", "muted"),
}


@register.filter
def agent_now(task: Any) -> dict[str, str]:
    """What the agent is doing or waiting for, in a sentence, from the task alone."""
    if not isinstance(task, Mapping):
        return {"text": "", "tone": "muted", "reason": ""}
    status = _scalar_text(task.get("status")) or ""
    text, tone = _NOW.get(status, (f"{label(status)}." if status else "", "muted"))
    return {"text": text, "tone": tone, "reason": _scalar_text(task.get("statusReason")) or ""}


LINE_CHARS = 160


@register.filter
def record_line(record: Any) -> str:
    """One short line for a journal record (the newest one, under the task's header)."""
    view = journal_view(record)
    kind = view["kind"]
    if kind == "planning":
        text = view.get("summary") or "Planned the next steps"
    elif kind == "data_fetched":
        count = view.get("resultCount")
        text = f"Fetched {count or '?'} results from {view.get('source') or 'a data source'}"
    elif kind in ("observation", "user_request", "update"):
        text = view.get("text") or ""
    elif kind in ("finding", "root_cause"):
        text = view.get("title") or ""
    elif kind == "approval_request":
        text = f"Asked to run {view.get('tool') or 'an action'}"
    elif kind == "approval_response":
        text = f"{label(view.get('action'))}: approval {view.get('approvalId')}"
    else:
        text = ""
    text = " ".join(str(text).split())
    return text[:LINE_CHARS] + ("…" if len(text) > LINE_CHARS else "")


@register.filter
def is_past(value: Any) -> bool:
    from django.utils import timezone

    found = moment(value)
    return found is not None and found <= timezone.now()
