"""What a page makes of a socket's frames, for tests reading them as HTML.

HTML frames are what htmx swaps in. Compact frames (dashboard/streams/frames.py) are applied by
static/js/console.js; `as_html` turns one into the HTML fragment that would have done the same,
so tests can keep reading what a socket received as HTML."""

from __future__ import annotations

import json
import re

from dashboard.streams.frames import Append, to_html

_DOM = re.compile(r'class="stream-pos"[^>]*data-dom="([^"]*)"')


class Page:
    """The stream position and DOM prefix a page knows, as frames move them."""

    def __init__(self) -> None:
        self.dom = ""
        self.seq: int | None = None

    def as_html(self, text: str) -> str:
        if not text.startswith("["):
            found = _DOM.search(text)
            if found:
                self.dom = found.group(1)
            return text
        frame = json.loads(text)
        if frame[0] == "t":
            self.seq = int(frame[1])
            return str(to_html(Append(frame[2], frame[3]), self.dom))
        return text
