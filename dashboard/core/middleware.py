"""Turn the project's AWS errors into pages a person can act on (never a 500 or a trace)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget

from dashboard.aws import errors

logger = logging.getLogger(__name__)


def aws_error_response(request: HttpRequest, exc: errors.AwsError) -> HttpResponse:
    """The page (or, for htmx, the alert fragment) that explains `exc`."""
    if isinstance(exc, errors.NotConfigured):
        template = "core/setup.html"
    else:
        template = "core/aws_error.html"
    context = {"error": exc, "title": exc.title, "retryable": _retryable(exc)}
    if getattr(request, "htmx", False):
        response = render(request, "core/aws_error.html#alert", context, status=exc.status)
        return reswap(retarget(response, "#alerts"), "innerHTML")
    return render(request, template, context, status=exc.status)


def _retryable(exc: errors.AwsError) -> bool:
    return isinstance(exc, errors.Throttled | errors.Unavailable)


class AwsErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, errors.AwsError):
            return None
        logger.warning("AWS %s %s failed: %s %s", exc.service, exc.operation, exc.code, exc.message)
        return aws_error_response(request, exc)
