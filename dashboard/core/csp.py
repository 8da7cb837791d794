"""The Content-Security-Policy: django-csp's middleware with the console's own websockets
added per request, and the endpoint that browsers report violations to.

The policy itself is `CONTENT_SECURITY_POLICY` in settings. `connect-src 'self'` covers
ws:/wss: to the same host only in newer browsers, so each answer names the host the page was
asked for (already checked against ALLOWED_HOSTS) with both schemes.

Violation reports are logged one line each (logger `dashboard.csp`), at most
`CSP_REPORTS_PER_MINUTE` per process per minute: a page stuck in a loop or anyone posting junk
must not fill the log. Junk bodies are answered 400, never 500.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("dashboard.csp")

# Larger report bodies are not read (a report is a few hundred bytes).
MAX_REPORT_BYTES = 64 * 1024


class ConsoleCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: Any, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        try:
            host = request.get_host()
        except DisallowedHost:
            return parts
        update = dict(parts.update or {})
        connect = list(update.get("connect-src") or [])
        # build_policy appends an update to the configured directive ('self').
        connect = [f"ws://{host}", f"wss://{host}", *connect]
        update["connect-src"] = list(dict.fromkeys(connect))
        parts.update = update
        return parts


class _Budget:
    """At most `limit` reports per minute per process; the rest are counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window = 0
        self._used = 0
        self._dropped = 0

    def take(self, limit: int) -> tuple[bool, int]:
        """(may log, reports dropped in the previous window that nobody heard of yet)."""
        window = int(time.monotonic() // 60)
        with self._lock:
            dropped_before = 0
            if window != self._window:
                dropped_before, self._dropped = self._dropped, 0
                self._window, self._used = window, 0
            if self._used >= limit:
                self._dropped += 1
                return False, dropped_before
            self._used += 1
            return True, dropped_before


_budget = _Budget()


def _reports(body: Any) -> list[dict[str, Any]]:
    """The violation(s) in either format: `{"csp-report": {...}}` (report-uri) or a list of
    Reporting API reports (`report-to`, `{"type": "csp-violation", "body": {...}}`)."""
    if isinstance(body, dict) and isinstance(body.get("csp-report"), dict):
        return [body["csp-report"]]
    if isinstance(body, list):
        return [
            item["body"]
            for item in body
            if isinstance(item, dict)
            and item.get("type") == "csp-violation"
            and isinstance(item.get("body"), dict)
        ]
    return []


def _field(report: dict[str, Any], *names: str) -> str:
    for name in names:
        value = report.get(name)
        if value not in (None, ""):
            # One line, bounded: nothing a page sends can split or flood a log line.
            return " ".join(str(value).split())[:300]
    return "-"


@csrf_exempt
@login_not_required
@require_POST
def report(request: HttpRequest) -> HttpResponse:
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return HttpResponse("Not a CSP report.", status=400, content_type="text/plain")
    reports = _reports(body)
    if not reports:
        return HttpResponse("Not a CSP report.", status=400, content_type="text/plain")
    for item in reports[:10]:
        allowed, dropped = _budget.take(settings.CSP_REPORTS_PER_MINUTE)
        if dropped:
            logger.warning("CSP violation reports dropped in the last minute: %d", dropped)
        if not allowed:
            continue
        logger.warning(
            "CSP violation: %s blocked %s on %s (%s:%s)",
            _field(item, "effective-directive", "effectiveDirective", "violated-directive"),
            _field(item, "blocked-uri", "blockedURL"),
            _field(item, "document-uri", "documentURL"),
            _field(item, "source-file", "sourceFile"),
            _field(item, "line-number", "lineNumber"),
        )
    return HttpResponse(status=204)
