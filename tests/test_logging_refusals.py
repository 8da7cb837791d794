"""A refused request (403, 400) is one line in the log: no traceback."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse


@pytest.mark.django_db
def test_a_403_logs_one_line(viewer_client, console_log):
    response = viewer_client.get(reverse("audit-log"))
    assert response.status_code == 403
    lines = [line for line in console_log.getvalue().splitlines() if "django.request" in line]
    assert len(lines) == 1, console_log.getvalue()
    assert "/audit/" in lines[0] and "admin role" in lines[0]
    assert "Traceback" not in console_log.getvalue()


def test_a_disallowed_host_logs_one_line(console_log):
    response = Client().get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    text = console_log.getvalue()
    assert "evil.example" in text and "Traceback" not in text


def test_a_percent_in_the_reason_does_not_break_the_line():
    from django.core.exceptions import PermissionDenied

    from dashboard.core.logfilters import OneLineRefusals

    try:
        raise PermissionDenied("100% refused")
    except PermissionDenied:
        import sys

        record = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Forbidden: %s", ("/x",), sys.exc_info()
        )
    OneLineRefusals().filter(record)
    assert record.getMessage() == "Forbidden: /x (100% refused)"
    assert record.exc_info is None
