"""Home, audit log, setup help, health check and the error pages."""

from __future__ import annotations

import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from . import audit_targets, roles
from .middleware import alert_response, database_unavailable_response, is_database_outage
from .models import AuditEntry


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request for part of a page; a history restore (Back after hx-push-url, with
    no history cache) needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("inbox:inbox")


@require_GET
@vary_on_headers("HX-Request")
@roles.role_required(roles.ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.all()
    operation = request.GET.get("operation", "")
    outcome = request.GET.get("outcome", "")
    user = request.GET.get("user", "")
    if operation:
        entries = entries.filter(operation=operation)
    if outcome in (AuditEntry.OK, AuditEntry.FAILED):
        entries = entries.filter(outcome=outcome)
    if user:
        entries = entries.filter(username=user)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    operations = AuditEntry.objects.order_by("operation").values_list("operation", flat=True)
    context = {
        "page": page,
        "targets": audit_targets.describe(page.object_list),
        "operations": sorted(set(operations)),
        "filters": {"operation": operation, "outcome": outcome, "user": user},
    }
    template = "core/audit.html#entries" if wants_fragment(request) else "core/audit.html"
    return render(request, template, context)


@require_GET
def setup(request: HttpRequest) -> HttpResponse:
    return render(request, "core/setup.html", {"error": None})


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    # Cheap, and it says whether the database answers (the container healthcheck's question).
    try:
        connection.ensure_connection()
    except DatabaseError:
        return JsonResponse(
            {"ok": False, "backend": settings.DASHBOARD_BACKEND, "database": "unreachable"},
            status=503,
        )
    return JsonResponse({"ok": True, "backend": settings.DASHBOARD_BACKEND})


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception or "") or "Your role does not allow this action."
    if getattr(request, "htmx", False):
        return alert_response(request, "Not allowed", reason, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception: a lost database connection before the
    # view ran (loading the session or the user) is the database page, not a 500.
    if is_database_outage(sys.exc_info()[1]):
        return database_unavailable_response(request)
    # No context processors that could fail again: a plain template.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
