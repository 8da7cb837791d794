"""Markdown from the agent, rendered for the page: agent output is untrusted.

markdown-it-py turns CommonMark (+ tables, strikethrough) into HTML with raw HTML disabled; nh3
(the Ammonia sanitizer) then keeps only an allow-list of tags and attributes and only http(s)
and mailto links, so no script, event handler, style or `javascript:` link survives, whatever
the text holds. Links open in a new tab without referrer or opener. Images are dropped: an
image URL in agent output would make every viewer's browser fetch it from wherever it points.

`render_markdown` is the one entry point (also the `markdown` template filter in
`console.py`). Code blocks keep their language as a `language-*` class.
"""

from __future__ import annotations

import functools

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

# Text longer than this is cut (with a note) before rendering: a runaway reply must not cost
# seconds of CPU on every page view.
MAX_CHARS = 200_000

_TAGS = {
    "a", "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "span", "kbd", "sup", "sub",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}


@functools.cache
def _parser() -> MarkdownIt:
    # "commonmark" with html off: raw HTML in the text is shown as text, never parsed.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"]
    )


@functools.cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        # Only highlight-style classes on code ("language-python"), nothing that could
        # borrow the console's own styles (e.g. "alert", "button").
        allowed_classes={"code": {f"language-{name}" for name in _LANGUAGES}},
        strip_comments=True,
    )


# Languages code blocks may name (the class is kept for these only).
_LANGUAGES = (
    "bash", "sh", "shell", "console", "python", "py", "json", "yaml", "yml", "sql", "hcl",
    "terraform", "javascript", "js", "typescript", "ts", "go", "java", "rust", "ruby", "text",
    "diff", "dockerfile", "ini", "toml", "xml", "html", "css", "powershell", "kotlin", "c",
    "cpp", "csharp", "php", "promql", "log",
)  # fmt: skip


def render_markdown(text: str | None) -> SafeString:
    """Sanitized HTML for `text` (Markdown from an untrusted source)."""
    source = str(text or "")
    note = ""
    if len(source) > MAX_CHARS:
        source = source[:MAX_CHARS]
        note = "\n\n*(cut: the text is longer than the console shows)*"
    html = _parser().render(source + note)
    return mark_safe(_cleaner().clean(html))  # noqa: S308 - sanitized by nh3 just above
