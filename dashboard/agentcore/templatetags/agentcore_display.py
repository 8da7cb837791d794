"""Showing AgentCore data: JSON documents as collapsible trees, memory event payloads, times.

Everything here is API data and untrusted: all text is escaped (html.escape, quotes included)
before the finished tree is marked safe, and sizes are bounded so a huge document cannot make a page
unusable. Strings that hold JSON (tool results often do) are shown as the tree they contain.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Mapping
from typing import Any

from django import template
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


# The tree is built as a list of strings: every piece of API data goes through `_e`
# (html.escape, quotes included) and only the finished tree is marked safe. format_html per
# node made a 1,000-event trace page several times slower.


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _scalar(value: Any) -> str | None:
    if value is None:
        return '<span class="jv jv-null">null</span>'
    if isinstance(value, bool):
        return f'<span class="jv jv-bool">{"true" if value else "false"}</span>'
    if isinstance(value, int | float):
        return f'<span class="jv jv-num">{_e(value)}</span>'
    if isinstance(value, dt.datetime | dt.date):
        return f'<span class="jv jv-time">{_e(value.isoformat())}</span>'
    if isinstance(value, bytes):
        return f'<span class="jv jv-muted">{len(value)} bytes of binary data</span>'
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
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        return None
    return found if isinstance(found, dict | list) else None


def _string(value: str, depth: int, out: list[str]) -> None:
    nested = json_in_text(value)
    if nested is not None and depth < MAX_DEPTH:
        out.append('<span class="jv-note">JSON text</span>')
        _tree(nested, depth + 1, out)
        return
    shown = _e(value[:MAX_TEXT])
    more = (
        f'<span class="jv-muted"> … {len(value) - MAX_TEXT} more characters</span>'
        if len(value) > MAX_TEXT
        else ""
    )
    if len(value) > LONG_TEXT or "\n" in value:
        out.append(f'<pre class="jv jv-str jv-long">{shown}{more}</pre>')
    else:
        out.append(f'<span class="jv jv-str">{shown}</span>{more}')


def _more(count: int) -> str:
    if count <= MAX_ITEMS:
        return ""
    return f'<p class="jv-muted">… and {count - MAX_ITEMS} more</p>'


def _opens(size: int, depth: int) -> str:
    """Small containers near the top start open; big or deep ones start collapsed."""
    return " open" if (depth < OPEN_DEPTH and size <= OPEN_ITEMS) or depth == 0 else ""


def _table(rows: list[Any] | tuple[Any, ...], out: list[str]) -> bool:
    """A list of flat objects with the same few keys (results, changes) as a table."""
    if len(rows) < 2 or not all(isinstance(r, Mapping) and r for r in rows):
        return False
    keys = list(rows[0].keys())
    if len(keys) > 8 or any(list(r.keys()) != keys for r in rows):
        return False
    if any(_scalar(v) is None and not isinstance(v, str) for r in rows for v in r.values()):
        return False
    out.append('<div class="jt-table-wrap"><table class="table compact jt-table"><thead><tr>')
    out.extend(f'<th scope="col">{_e(k)}</th>' for k in keys)
    out.append("</tr></thead><tbody>")
    for row in rows[:MAX_ITEMS]:
        out.append("<tr>")
        for key in keys:
            out.append("<td>")
            _tree(row[key], MAX_DEPTH - 1, out)
            out.append("</td>")
        out.append("</tr>")
    out.append(f"</tbody></table>{_more(len(rows))}</div>")
    return True


def _tree(value: Any, depth: int, out: list[str]) -> None:
    scalar = _scalar(value)
    if scalar is not None:
        out.append(scalar)
    elif isinstance(value, str):
        _string(value, depth, out)
    elif depth >= MAX_DEPTH:
        out.append(f'<pre class="jv jv-long">{_e(pretty_json(value))}</pre>')
    elif isinstance(value, Mapping):
        if not value:
            out.append('<span class="jv jv-null">{ }</span>')
            return
        items = list(value.items())
        count = len(items)
        out.append(
            f'<details class="jt"{_opens(count, depth)}><summary>{{ {count} '
            f'key{"s" if count != 1 else ""} }}</summary><dl class="jt-obj">'
        )
        for key, item in items[:MAX_ITEMS]:
            out.append(f'<div class="jt-row"><dt>{_e(key)}</dt><dd>')
            _tree(item, depth + 1, out)
            out.append("</dd></div>")
        out.append(f"</dl>{_more(count)}</details>")
    elif isinstance(value, list | tuple):
        if not value:
            out.append('<span class="jv jv-null">[ ]</span>')
            return
        if _table(value, out):
            return
        count = len(value)
        out.append(
            f'<details class="jt"{_opens(count, depth)}><summary>[ {count} '
            f'item{"s" if count != 1 else ""} ]</summary><ol class="jt-list">'
        )
        for index, item in enumerate(value[:MAX_ITEMS]):
            out.append(f'<li><span class="jt-index">{index}</span>')
            _tree(item, depth + 1, out)
            out.append("</li>")
        out.append(f"</ol>{_more(count)}</details>")
    else:
        out.append(f'<span class="jv jv-str">{_e(str(value)[:MAX_TEXT])}</span>')


@register.filter
def json_tree(value: Any) -> SafeString:
    """Any JSON value as a collapsible, escaped tree (the first levels open)."""
    out = ['<div class="jt-root">']
    _tree(value, 0, out)
    out.append("</div>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of data went through _e()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON text (escaped by the template like any text)."""
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


@register.filter
def raw_json(value: Any) -> str:
    """JSON on one line (C-speed: a trace page carries a thousand of these), for copying."""
    try:
        return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
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
