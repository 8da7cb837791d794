"""Turn the project's AWS errors into pages a person can act on (never a 500 or a trace), and
send htmx requests that need a sign-in to the login page as a whole page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from dashboard.aws import errors

logger = logging.getLogger(__name__)


def alert_response(
    request: HttpRequest, title: str, message: str, *, status: int, retryable: bool = False
) -> HttpResponse:
    """For htmx: an alert fragment swapped into `#alerts`, whatever the request aimed at."""
    context = {"error": {"message": message}, "title": title, "retryable": retryable}
    response = render(request, "core/aws_error.html#alert", context, status=status)
    return reswap(retarget(response, "#alerts"), "innerHTML")


def aws_error_response(request: HttpRequest, exc: errors.AwsError) -> HttpResponse:
    """The page (or, for htmx, the alert fragment) that explains `exc`."""
    if getattr(request, "htmx", False):
        return alert_response(
            request, exc.title, exc.message, status=exc.status, retryable=_retryable(exc)
        )
    if isinstance(exc, errors.NotConfigured):
        template = "core/setup.html"
    else:
        template = "core/aws_error.html"
    context = {"error": exc, "title": exc.title, "retryable": _retryable(exc)}
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


class HtmxLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, except that an htmx request is sent to the login page
    with HX-Redirect (a plain redirect would swap the login page into a table cell), and comes
    back afterwards to the page the browser showed, not to the fragment it asked for."""

    def handle_no_permission(self, request: HttpRequest, view_func: Any) -> HttpResponse:
        htmx = getattr(request, "htmx", None)
        if not htmx:
            return super().handle_no_permission(request, view_func)
        page = htmx.current_url_abs_path or "/"
        response = redirect_to_login(
            page, self.get_login_url(view_func), self.get_redirect_field_name(view_func)
        )
        return HttpResponseClientRedirect(response["Location"])
