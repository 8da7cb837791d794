"""Agent output rendered as Markdown: formatting kept, every script vector inert."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.template import Context, Template

from dashboard.core.markdown import MAX_CHARS, render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<div onmouseover="alert(1)">hover</div>',
    "<iframe src=https://evil.example></iframe>",
    "<svg><script>alert(1)</script></svg>",
    "```js onload=alert(1)\ncode\n```",
    "<style>body{display:none}</style>",
    '[x](https://example.com" onclick="alert(1))',
]


class _Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def _elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_leaves_no_script_vector(payload):
    for tag, attrs in _elements(str(render_markdown(payload))):
        assert tag not in ("script", "iframe", "svg", "style", "img", "div", "object", "embed")
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert "style" not in attrs
        for name in ("href", "src"):
            if name in attrs:
                scheme = attrs[name].strip().lower().split(":", 1)[0]
                assert scheme in ("http", "https", "mailto"), attrs[name]


def test_it_keeps_code_blocks_with_their_language():
    html = str(render_markdown("Run:\n\n```bash\nkubectl rollout undo deploy/api\n```"))
    assert '<pre><code class="language-bash">kubectl rollout undo deploy/api\n</code></pre>' in html


def test_it_drops_an_unknown_language_class():
    (code,) = [a for t, a in _elements(str(render_markdown("```alert\nx\n```"))) if t == "code"]
    assert code.get("class", "") == ""


def test_it_renders_tables_lists_and_emphasis():
    html = str(render_markdown("* **bold** and ~~gone~~\n\n| a | b |\n|---|---|\n| 1 | 2 |"))
    assert "<strong>bold</strong>" in html
    assert "<del>gone</del>" in html or "<s>gone</s>" in html
    assert "<table>" in html and "<td>1</td>" in html


def test_links_open_safely_in_a_new_tab():
    html = str(render_markdown("[runbook](https://wiki.example.com/rb)"))
    assert 'href="https://wiki.example.com/rb"' in html
    assert 'target="_blank"' in html
    assert "noopener" in html and "noreferrer" in html


def test_raw_html_is_shown_as_text():
    html = str(render_markdown("<b>bold</b>"))
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_very_long_text_is_cut_with_a_note():
    html = str(render_markdown("x" * (MAX_CHARS + 10)))
    assert "cut" in html
    assert html.count("x") <= MAX_CHARS + 20


def test_the_template_filter_renders_sanitized_html(db):
    out = Template("{% load console %}{{ text|markdown }}").render(
        Context({"text": "**hi** <script>x</script>"})
    )
    assert "<strong>hi</strong>" in out
    assert "<script>" not in out


def test_none_renders_empty():
    assert str(render_markdown(None)) == ""
