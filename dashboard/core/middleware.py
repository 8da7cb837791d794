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


# --- The database does not answer ------------------------------------------------------------

db_logger = logging.getLogger("dashboard.database")


def is_database_outage(exc: BaseException | None) -> bool:
    """A lost or refused database connection (a PostgreSQL restart or failover), not a bug in
    a query: IntegrityError and ProgrammingError are not outages."""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with a retry notice. Rendered without context processors (they would ask the
    database again). A form that was posted comes back as a form that posts it again, so
    nothing typed is lost; secret fields are not echoed and must be typed again."""
    from django.template import loader

    from dashboard.core.audit import _SECRET_NAMES

    if getattr(request, "htmx", False):
        response = HttpResponse(
            loader.get_template("core/aws_error.html#alert").render(
                {
                    "title": "The database is not answering",
                    "error": {"message": "Nothing was saved. Send again in a few seconds."},
                    "retryable": True,
                }
            ),
            status=503,
        )
        response = reswap(retarget(response, "#alerts"), "innerHTML")
    else:
        fields: list[tuple[str, str]] = []
        secret_fields: list[str] = []
        if request.method == "POST":
            try:
                for name, values in request.POST.lists():
                    if _SECRET_NAMES.search(name) and name != "csrfmiddlewaretoken":
                        secret_fields.append(name)
                        continue
                    fields.extend((name, value) for value in values)
            except Exception:  # an unreadable body: nothing to resend
                fields = []
        context = {
            "posted": request.method == "POST",
            "fields": fields,
            "secret_fields": secret_fields,
            "files_lost": request.method == "POST" and bool(getattr(request, "_files", None)),
            "action": request.get_full_path(),
        }
        response = HttpResponse(
            loader.get_template("core/db_unavailable.html").render(context), status=503
        )
    response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view that loses its database connection answers 503 with a retry notice, logged in
    one line (Django closes the broken connection at the end of the request, so the next
    request connects again). Errors before the view (loading the session or the user) reach
    handler500, which gives the same page (dashboard.core.views.server_error)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not is_database_outage(exc):
            return None
        db_logger.warning(
            "Database unavailable for %s %s: %s",
            request.method,
            request.path,
            " ".join(str(exc).split())[:300],
        )
        return database_unavailable_response(request)
