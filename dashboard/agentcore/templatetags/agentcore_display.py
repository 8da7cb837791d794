"""Showing AgentCore data: JSON documents as collapsible trees, memory event payloads, times.

Everything here is API data and untrusted: all text goes through format_html (escaped), nothing
is marked safe that came from AWS, and sizes are bounded so a huge document cannot make a page
unusable. Strings that hold JSON (tool results often do) are shown as the tree they contain.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from dashboard.tasks.templatetags.task_display import iso, label, when

register = template.Library()
register.filter("iso", iso)
register.filter("when", when)
register.filter("label", label)

MAX_ITEMS = 200  # entries shown per object or list; the rest are counted
MAX_DEPTH = 12  # deeper parts are shown as indented JSON text
MAX_TEXT = 20_000  # characters shown per string
OPEN_ITEMS = 12  # containers with more entries than this start collapsed
OPEN_DEPTH = 4  # and so do those nested deeper than this
LONG_TEXT = 160  # longer strings (or with line breaks) get a block of their own


def _scalar(value: Any) -> SafeString | None:
    if value is None:
        return mark_safe('<span class="jv jv-null">null</span>')
    if isinstance(value, bool):
        return format_html('<span class="jv jv-bool">{}</span>', "true" if value else "false")
    if isinstance(value, int | float):
        return format_html('<span class="jv jv-num">{}</span>', value)
    if isinstance(value, dt.datetime | dt.date):
        return format_html('<span class="jv jv-time">{}</span>', value.isoformat())
    if isinstance(value, bytes):
        return format_html('<span class="jv jv-muted">{} bytes of binary data</span>', len(value))
    return None


def json_in_text(value: Any) -> Any:
    """The object or list a string holds as JSON text, else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) < 2 or text[0] not in "[{" or len(text) > 200_000:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict | list) else None


def _string(value: str, depth: int) -> SafeString:
    nested = json_in_text(value)
    if nested is not None and depth < MAX_DEPTH:
        return format_html('<span class="jv-note">JSON text</span>{}', _tree(nested, depth + 1))
    shown = value[:MAX_TEXT]
    more = (
        format_html('<span class="jv-muted"> … {} more characters</span>', len(value) - MAX_TEXT)
        if len(value) > MAX_TEXT
        else ""
    )
    if len(shown) > LONG_TEXT or "\n" in shown:
        return format_html('<pre class="jv jv-str jv-long">{}{}</pre>', shown, more)
    return format_html('<span class="jv jv-str">{}</span>{}', shown, more)


def _more(count: int) -> SafeString | str:
    if count <= MAX_ITEMS:
        return ""
    return format_html('<p class="jv-muted">… and {} more</p>', count - MAX_ITEMS)


def _opens(size: int, depth: int) -> str:
    """Small containers near the top start open; big or deep ones start collapsed."""
    return " open" if (depth < OPEN_DEPTH and size <= OPEN_ITEMS) or depth == 0 else ""


def _table(rows: list[Any] | tuple[Any, ...]) -> SafeString | None:
    """A list of flat objects with the same few keys (results, changes) as a table."""
    if len(rows) < 2 or not all(isinstance(r, Mapping) and r for r in rows):
        return None
    keys = list(rows[0].keys())
    if len(keys) > 8 or any(list(r.keys()) != keys for r in rows):
        return None
    if any(_scalar(v) is None and not isinstance(v, str) for r in rows for v in r.values()):
        return None
    head = format_html_join("", '<th scope="col">{}</th>', ((str(k),) for k in keys))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (format_html_join("", "<td>{}</td>", ((_tree(r[k], MAX_DEPTH - 1),) for k in keys)),)
            for r in rows[:MAX_ITEMS]
        ),
    )
    return format_html(
        '<div class="jt-table-wrap"><table class="table compact jt-table"><thead><tr>{}</tr>'
        "</thead><tbody>{}</tbody></table>{}</div>",
        head,
        body,
        _more(len(rows)),
    )


def _tree(value: Any, depth: int) -> SafeString:
    scalar = _scalar(value)
    if scalar is not None:
        return scalar
    if isinstance(value, str):
        return _string(value, depth)
    if depth >= MAX_DEPTH:
        return format_html('<pre class="jv jv-long">{}</pre>', pretty_json(value))
    if isinstance(value, Mapping):
        if not value:
            return mark_safe('<span class="jv jv-null">{ }</span>')
        items = list(value.items())
        rows = format_html_join(
            "",
            '<div class="jt-row"><dt>{}</dt><dd>{}</dd></div>',
            ((str(k), _tree(v, depth + 1)) for k, v in items[:MAX_ITEMS]),
        )
        summary = f"{len(items)} key{'s' if len(items) != 1 else ''}"
        return format_html(
            '<details class="jt"{}><summary>{{ {} }}</summary>'
            '<dl class="jt-obj">{}</dl>{}</details>',
            _opens(len(items), depth),
            summary,
            rows,
            _more(len(items)),
        )
    if isinstance(value, list | tuple):
        if not value:
            return mark_safe('<span class="jv jv-null">[ ]</span>')
        table = _table(value)
        if table is not None:
            return table
        rows = format_html_join(
            "",
            '<li><span class="jt-index">{}</span>{}</li>',
            ((index, _tree(v, depth + 1)) for index, v in enumerate(value[:MAX_ITEMS])),
        )
        summary = f"{len(value)} item{'s' if len(value) != 1 else ''}"
        return format_html(
            '<details class="jt"{}><summary>[ {} ]</summary>'
            '<ol class="jt-list">{}</ol>{}</details>',
            _opens(len(value), depth),
            summary,
            rows,
            _more(len(value)),
        )
    return format_html('<span class="jv jv-str">{}</span>', str(value)[:MAX_TEXT])


@register.filter
def json_tree(value: Any) -> SafeString:
    """Any JSON value as a collapsible, escaped tree (the first levels open)."""
    return format_html('<div class="jt-root">{}</div>', _tree(value, 0))


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON text (escaped by the template like any text)."""
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


# --- memory events -----------------------------------------------------------------------

_ROLES = {"USER": "user", "ASSISTANT": "assistant", "TOOL": "tool", "OTHER": "other"}


def payload_view(item: Any) -> dict[str, Any]:
    """One payload item as {kind, role, role_class, text, doc, is_json}."""
    if not isinstance(item, Mapping):
        return {"kind": "unknown", "doc": item}
    conversational = item.get("conversational")
    if isinstance(conversational, Mapping):
        content = conversational.get("content")
        text = content.get("text") if isinstance(content, Mapping) else None
        role = str(conversational.get("role") or "OTHER")
        text = text if isinstance(text, str) else ""
        nested = json_in_text(text)
        return {
            "kind": "conversational",
            "role": role,
            "role_class": _ROLES.get(role, "other"),
            "text": text,
            "doc": nested,
            "is_json": nested is not None,
        }
    if "blob" in item:
        blob = item.get("blob")
        nested = json_in_text(blob)
        return {"kind": "blob", "doc": nested if nested is not None else blob}
    if "json" in item:
        inner = item.get("json")
        content = inner.get("content") if isinstance(inner, Mapping) else inner
        return {"kind": "json", "doc": content}
    return {"kind": "unknown", "doc": dict(item)}


@register.filter
def payload_items(event: Any) -> list[dict[str, Any]]:
    payload = event.get("payload") if isinstance(event, Mapping) else None
    if not isinstance(payload, list):
        return []
    return [payload_view(item) for item in payload[:MAX_ITEMS]]


@register.filter
def event_role(event: Any) -> str:
    """The role that speaks in an event (its first conversational item), for its bubble."""
    for item in payload_items(event):
        if item["kind"] == "conversational":
            return item["role_class"]
    return "data"


@register.filter
def anchor(value: Any) -> str:
    """An id usable in an HTML id/fragment (event ids contain '#')."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in str(value or ""))


@register.filter
def metadata_text(value: Any) -> list[tuple[str, str]]:
    """A metadata map ({key: {stringValue|numberValue|...}}) as (key, text) pairs."""
    if not isinstance(value, Mapping):
        return []
    out = []
    for key, item in list(value.items())[:MAX_ITEMS]:
        if isinstance(item, Mapping):
            found = next(
                (
                    item[k]
                    for k in ("stringValue", "numberValue", "dateTimeValue", "stringListValue")
                    if k in item
                ),
                item,
            )
        else:
            found = item
        if isinstance(found, list):
            text = ", ".join(str(v) for v in found)
        elif isinstance(found, dt.datetime):
            text = when(found)
        else:
            text = str(found)
        out.append((str(key), text))
    return out


@register.filter
def percent(value: Any) -> int:
    """A 0..1 score as a whole percentage (for the relevance bar)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0
    return max(0, min(100, round(number * 100)))
