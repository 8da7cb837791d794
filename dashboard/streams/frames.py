"""What a batch looks like on the wire: rendered once by the relay, the same text to every
viewer in step.

Most batches of a streamed reply are a few characters of text for the block being written. They
travel as a compact frame, a JSON array the page applies itself (static/js/console.js):

    ["t", <last seq>, "<target>", "<text>"]

which appends `text` (as text, never as HTML) to the element `target`; a target starting with
"~" is relative to the run's DOM prefix (`Kind.dom`), which the page's position element
carries (`data-dom`), and the page's position becomes `last`. A 5-character token costs about
30 characters instead of the 330 an HTML fragment and a position fragment took.

Every other batch is HTML: out-of-band fragments (htmx), with `Append` parts turned into
fragments that append escaped text, followed by the position fragment.
"""

from __future__ import annotations

import hashlib
import json
from typing import NamedTuple

from django.utils.html import format_html
from django.utils.safestring import SafeString


class Append(NamedTuple):
    """Append `text` (escaped, as text) to the element `target` ("~suffix": the run's DOM
    prefix + suffix)."""

    target: str
    text: str


def suffix(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def position_fragment(
    key: str, run: str | None, seq: int, *, oob: bool = True, dom: str = ""
) -> SafeString:
    """Where the page stands in `key`'s stream; the page sends it back in its hello."""
    return format_html(
        '<div id="stream-pos-{}" class="stream-pos" hidden data-run="{}" data-seq="{}" '
        'data-dom="{}"{}></div>',
        suffix(key),
        run or "",
        seq,
        dom,
        SafeString(' hx-swap-oob="true"') if oob else "",
    )


def encode(key: str, run: str, last: int, parts: str | list, dom: str) -> str:  # type: ignore[type-arg]
    """The frame for a batch whose last event is `last`, from what the kind rendered."""
    if isinstance(parts, str):
        parts = [parts] if parts else []
    appends = [p for p in parts if isinstance(p, Append)]
    if appends and len(appends) == len(parts) and len({a.target for a in appends}) == 1:
        text = "".join(a.text for a in appends)
        return json.dumps(
            ["t", last, appends[0].target, text], ensure_ascii=False, separators=(",", ":")
        )
    html = "".join(str(p) if not isinstance(p, Append) else to_html(p, dom) for p in parts)
    return html + position_fragment(key, run, last, dom=dom)


def to_html(part: Append, dom: str) -> SafeString:
    target = dom + part.target[1:] if part.target.startswith("~") else part.target
    return format_html('<span hx-swap-oob="beforeend:#{}">{}</span>', target, part.text)


def html_of(parts: str | list, dom: str) -> str:  # type: ignore[type-arg]
    """HTML for what a kind rendered (pages and catch-ups render HTML only)."""
    if isinstance(parts, str):
        return parts
    return "".join(str(p) if not isinstance(p, Append) else to_html(p, dom) for p in parts)
