"""How a code interpreter run is shown, from its events: output in order with stdout and stderr
apart, results that repeat the output shown once, facts, failures; and untrusted output made
inert (escaped text, raster images only, http(s) links only)."""

from __future__ import annotations

import base64
import time

from dashboard import streams
from dashboard.agentcore import code_runs
from dashboard.aws.agentcore_code import plain_result

KEY = "codeinterp:aws.codeinterpreter.v1:01ABC"


def _events(*items: tuple[str, dict]) -> list[streams.Event]:
    meta = {"tool": "executeCode", "inputs": {"code": "print(1)"}, "user": "oscar", "at": 1.0}
    out = [streams.Event(seq=1, type=streams.START, data=meta, at=time.time())]
    for number, (kind, data) in enumerate(items, start=2):
        out.append(streams.Event(seq=number, type=kind, data=data, at=time.time()))
    return out


def _result(content: list[dict], structured: dict | None = None, error: bool = False) -> dict:
    members: dict = {"content": content, "isError": error}
    if structured:
        members["structuredContent"] = structured
    return plain_result(members)


def _page(events: list[streams.Event]) -> str:
    from django.template.loader import render_to_string

    run = code_runs.fold(KEY, "run1", events)
    return render_to_string("agentcore/code_session.html#run", {"r": run})


def test_output_keeps_its_order_and_streams_apart():
    events = _events(
        ("result", _result([{"type": "text", "text": "a\n"}], {"stdout": "a\n"})),
        ("result", _result([{"type": "text", "text": "oops\n"}], {"stderr": "oops\n"})),
        ("result", _result([{"type": "text", "text": "b\n"}], {"stdout": "b\n"})),
        ("result", _result([], {"exitCode": 1, "executionTime": 1234.0}, error=True)),
        (streams.END, {}),
    )
    run = code_runs.fold(KEY, "run1", events)
    assert [(p.stream, p.text) for p in run.output] == [
        ("stdout", "a\n"),
        ("stderr", "oops\n"),
        ("stdout", "b\n"),
    ]
    assert run.items == [], "text that repeats the output is shown once, in the terminal"
    assert run.state == "error"
    assert run.facts == {"exitCode": 1, "executionTime": 1234.0}
    assert run.seconds == "1.23 s"
    live = code_runs.render(KEY, "run1", events, {})
    assert 'hx-swap-oob="afterbegin:#ci-runs"' in live
    assert '<span class="ci-stderr">oops\n</span>' in live
    assert "Finished with an error" in live


def test_a_single_result_as_aws_sends_it_shows_stdout_once():
    events = _events(
        (
            "result",
            _result(
                [{"type": "text", "text": "42\n"}],
                {"stdout": "42\n", "stderr": "", "exitCode": 0, "executionTime": 12.5},
            ),
        ),
        (streams.END, {}),
    )
    page = _page(events)
    assert page.count("42\n") == 1
    assert "12 ms" in page  # 12.5 ms, rounded half to even


def test_output_and_results_are_escaped():
    evil = "<script>alert(1)</script>"
    events = _events(
        ("result", _result([{"type": "text", "text": evil}], {"stdout": evil})),
        ("result", _result([{"type": "text", "text": f"note {evil}"}])),
        (streams.END, {}),
    )
    live = code_runs.render(KEY, "run1", events, {})
    page = _page(events)
    for html in (live, page):
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_only_raster_images_are_shown_and_links_only_when_http():
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    svg = b"<svg onload='alert(1)'></svg>"
    events = _events(
        (
            "result",
            _result(
                [
                    {"type": "image", "mimeType": "image/png", "data": png},
                    {"type": "image", "mimeType": "image/svg+xml", "data": svg},
                    {"type": "resource_link", "uri": "javascript:alert(1)", "name": "bad"},
                    {"type": "resource_link", "uri": "https://example.com/r.csv", "name": "ok"},
                ]
            ),
        ),
        (streams.END, {}),
    )
    page = _page(events)
    assert '<img src="data:image/png;base64,' in page
    assert "svg" not in page.split("<img", 1)[1].split(">", 1)[0]
    assert "onload" not in page
    assert "Binary result (image/svg+xml)" in page
    assert 'href="javascript:' not in page
    assert (
        '<a href="https://example.com/r.csv" rel="noopener noreferrer" target="_blank">ok</a>'
        in page
    )


def test_files_read_show_their_text_or_their_size():
    events = _events(
        (
            "result",
            _result(
                [
                    {
                        "type": "resource",
                        "resource": {"type": "text", "uri": "file:///a.txt", "text": "hello"},
                    },
                    {
                        "type": "resource",
                        "resource": {
                            "type": "blob",
                            "uri": "file:///b.bin",
                            "blob": b"\x00" * 2048,
                        },
                    },
                ]
            ),
        ),
        (streams.END, {}),
    )
    page = _page(events)
    assert "file:///a.txt" in page and "<pre>hello</pre>" in page
    assert "Binary content, 2.0\xa0KB." in page


def test_a_failed_call_and_a_broken_stream_say_what_happened():
    failed = _events(
        (streams.ERROR, {"code": "ThrottlingException", "message": "Slow down", "title": "x"})
    )
    page = _page(failed)
    assert "The call failed" in page and "ThrottlingException" in page and "Slow down" in page
    lost = _events(
        ("result", _result([], {"stdout": "partial"})), (streams.LOST, {"message": "gone"})
    )
    page = _page(lost)
    assert "The output stream broke off" in page and "partial" in page and "gone" in page


def test_a_late_reader_renders_from_any_point_without_repeating():
    events = _events(
        ("result", _result([], {"stdout": "one\n"})),
        ("result", _result([], {"stdout": "two\n"})),
        (streams.END, {}),
    )
    from dashboard.streams.views import render_from

    rest = render_from(KEY, "run1", events, 2)
    assert "two\n" in rest and "one\n" not in rest
