"""A refused request (403, 400) is one line in the log: no traceback."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_a_403_logs_one_line(viewer_client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = viewer_client.get(reverse("audit-log"))
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    record = records[0]
    assert record.exc_info is None and not record.exc_text
    line = record.getMessage()
    assert "/audit/" in line and "admin role" in line and "\\n" not in line


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
