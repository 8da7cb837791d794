"""The fragments the live machinery sends itself (everything else comes from a watch's render).

A page that shows a watched resource includes `status_placeholder(key)` once, so the poller's
"live updates delayed" notice has an element to replace.
"""

from __future__ import annotations

import re

from django.utils.html import format_html
from django.utils.safestring import SafeString


def message(html: str) -> dict[str, str]:
    """The fan-out message that carries `html` to every socket watching a key."""
    return {"html": html}


RESYNC_FRAME = '["resync"]'  # console.js: re-render the page's live region


def status_element_id(key: str) -> str:
    return "live-delayed-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


def status_placeholder(key: str) -> SafeString:
    """The empty notice element a page renders once for `key`."""
    return format_html(
        '<div id="{}" class="live-delayed" role="status" hidden></div>', status_element_id(key)
    )


def status_fragment(key: str, message: str | None) -> SafeString:
    """Out-of-band swap of the notice: shown with `message`, or hidden again when None."""
    if message is None:
        return format_html(
            '<div id="{}" class="live-delayed" role="status" hx-swap-oob="true" hidden></div>',
            status_element_id(key),
        )
    return format_html(
        '<div id="{}" class="live-delayed" role="status" hx-swap-oob="true">'
        "Live updates delayed: {}</div>",
        status_element_id(key),
        message,
    )
