"""The Content-Security-Policy header and the violation report endpoint."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    directives: dict[str, list[str]] = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_every_page_has_the_strict_policy(viewer_client, anon_client):
    for response in (
        viewer_client.get(reverse("spaces:list")),
        anon_client.get(reverse("login")),
        viewer_client.get("/no-such-page/"),
        viewer_client.get(reverse("audit-log")),  # 403
    ):
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["default-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["report-uri"] == ["/csp-report"]
        joined = response["Content-Security-Policy"]
        assert "unsafe-inline" not in joined and "unsafe-eval" not in joined


def test_connect_src_allows_the_consoles_own_websockets_only(viewer_client):
    response = viewer_client.get(reverse("spaces:list"), HTTP_HOST="localhost")
    assert _policy(response)["connect-src"] == ["'self'", "ws://localhost", "wss://localhost"]


def _report(body: object, content_type: str = "application/csp-report") -> object:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return Client().post(reverse("csp-report"), data, content_type=content_type)


def test_a_report_is_logged_in_one_line(caplog):
    report = {
        "csp-report": {
            "document-uri": "http://127.0.0.1:8000/spaces/",
            "effective-directive": "style-src-attr",
            "blocked-uri": "inline",
            "source-file": "http://127.0.0.1:8000/static/js/x.js",
            "line-number": 12,
        }
    }
    with caplog.at_level(logging.WARNING, logger="dashboard.csp"):
        response = _report(report)
    assert response.status_code == 204
    (record,) = [r for r in caplog.records if r.name == "dashboard.csp"]
    line = record.getMessage()
    assert "style-src-attr" in line and "inline" in line and "/spaces/" in line
    assert "x.js:12" in line


def test_reporting_api_format_is_read_too(caplog):
    reports = [
        {
            "type": "csp-violation",
            "body": {
                "effectiveDirective": "script-src-elem",
                "blockedURL": "https://cdn.example/x.js",
                "documentURL": "http://h/p",
            },
        },
    ]
    with caplog.at_level(logging.WARNING, logger="dashboard.csp"):
        assert _report(reports, "application/reports+json").status_code == 204
    assert "cdn.example" in caplog.records[-1].getMessage()


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe", b"[]", b'{"csp-report": 3}', b"[" * 5000, b'"x"', b"null"],
)
def test_junk_is_a_400_not_a_500(body):
    assert _report(body).status_code == 400


def test_a_line_break_in_a_report_cannot_forge_log_lines(caplog):
    report = {"csp-report": {"document-uri": "http://h/\nFAKE ERROR line", "blocked-uri": "x"}}
    with caplog.at_level(logging.WARNING, logger="dashboard.csp"):
        _report(report)
    assert "\n" not in caplog.records[-1].getMessage()


def test_reports_are_rate_limited(caplog, settings):
    from dashboard.core import csp

    csp._budget = csp._Budget()
    settings.CSP_REPORTS_PER_MINUTE = 3
    report = {"csp-report": {"document-uri": "http://h/", "blocked-uri": "inline"}}
    with caplog.at_level(logging.WARNING, logger="dashboard.csp"):
        for _ in range(10):
            assert _report(report).status_code == 204
    assert len([r for r in caplog.records if r.name == "dashboard.csp"]) == 3


def test_get_is_not_allowed():
    assert Client().get(reverse("csp-report")).status_code == 405
