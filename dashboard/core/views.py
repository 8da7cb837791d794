"""Home, audit log, setup help, health check and the error pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from . import roles
from .models import AuditEntry


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("spaces:list")


@require_GET
@roles.role_required(roles.ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.select_related(None)
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
        "operations": sorted(set(operations)),
        "filters": {"operation": operation, "outcome": outcome, "user": user},
    }
    template = "core/audit.html#entries" if request.htmx else "core/audit.html"
    return render(request, template, context)


@require_GET
def setup(request: HttpRequest) -> HttpResponse:
    return render(request, "core/setup.html", {"error": None})


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True, "backend": settings.DASHBOARD_BACKEND})


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors that could fail again: a plain template.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
