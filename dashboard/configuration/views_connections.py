"""Private connections (account level): list, create, detail, certificate, delete and tags.

Their states change asynchronously (CREATE_IN_PROGRESS → ACTIVE or CREATE_FAILED,
DELETE_IN_PROGRESS → gone): the list and detail pages are live (live.py) until they settle.
Every write is an admin's and audited; the certificate (public material) is audited by size.
"""

from __future__ import annotations

from typing import Any

import regex
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from dashboard.aws import configuration as aws_config
from dashboard.aws import errors
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.tags import TagForm, Taggable, add_view, remove_view
from dashboard.core.tags import card as tags_card
from dashboard.core.views import wants_fragment
from dashboard.live import CREATED, UPDATED

from . import display, live
from .common import apply_field_errors, refused, retry_message, url
from .forms import CertificateForm, PrivateConnectionForm

SERVICE = aws_config.SERVICE
_NAME = regex.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


def _check_name(name: str) -> None:
    if not (3 <= len(name) <= 30) or not _NAME.fullmatch(name):
        raise Http404("No such private connection")


def _audit_params(params: dict[str, Any]) -> dict[str, Any]:
    """The call's parameters for the audit log, the certificate by its size only."""

    def shrink(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: (f"[certificate, {len(v)} characters]" if k == "certificate" else shrink(v))
                for k, v in value.items()
            }
        return value

    return shrink(params)


@require_GET
@vary_on_headers("HX-Request")
def connection_list(request: HttpRequest) -> HttpResponse:
    rows = [display.connection(c) for c in aws_config.list_private_connections()]
    rows.sort(key=lambda r: r["name"])
    context = {
        "rows": rows,
        "soon": [r for r in rows if r["cert"]["state"] in ("soon", "expired")],
        "live_notice": live.list_notice(),
    }
    if wants_fragment(request) and request.GET.get("fragment") == "rows":
        return render(request, "configuration/connections/list.html#live-region", context)
    return render(request, "configuration/connections/list.html", context)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def connection_create(request: HttpRequest) -> HttpResponse:
    form = PrivateConnectionForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        mode = form.mode_params()
        params = {"name": name, "mode": mode}
        try:
            with audited(request, SERVICE, "CreatePrivateConnection", name, _audit_params(params)):
                conn = aws_config.create_private_connection(name, mode)
        except (errors.ValidationFailed, errors.QuotaExceeded, errors.Conflict) as exc:
            apply_field_errors(form, exc, PrivateConnectionForm.AWS_FIELDS)
            status = exc.status
        except (errors.Throttled, errors.Unavailable) as exc:
            form.add_error(None, retry_message(exc, "The connection was not created."))
            status = exc.status
        except errors.AwsError as exc:
            status = refused(form, exc, "The connection was not created.")
        else:
            live.connection_changed(CREATED, conn)
            messages.success(
                request,
                f"Creating private connection {name}. This page follows it until it is ready.",
            )
            return redirect("private_connections:detail", name=name)
    elif request.method == "POST":
        status = 400
    form.strip_private_key()
    return render(request, "configuration/connections/form.html", {"form": form}, status=status)


def _detail_page(
    request: HttpRequest, name: str, tag_form: TagForm | None = None, *, status: int = 200
) -> HttpResponse:
    _check_name(name)
    conn = aws_config.describe_private_connection(name)
    context = {
        "c": display.connection(live.summary(conn)),
        "name": name,
        "tags_card": tags_card(CONNECTION_TAGS, name, conn.get("tags") or {}, tag_form),
        "live_notice": live.detail_notice(name),
    }
    return render(request, "configuration/connections/detail.html", context, status=status)


@require_GET
@vary_on_headers("HX-Request")
def connection_detail(request: HttpRequest, name: str) -> HttpResponse:
    _check_name(name)
    if wants_fragment(request) and request.GET.get("fragment") == "status":
        try:
            conn = aws_config.describe_private_connection(name)
        except errors.NotFound:
            return render(request, "configuration/connections/detail.html#gone", {"name": name})
        context = {"c": display.connection(live.summary(conn)), "name": name}
        return render(request, "configuration/connections/detail.html#status", context)
    return _detail_page(request, name)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def connection_certificate(request: HttpRequest, name: str) -> HttpResponse:
    _check_name(name)
    conn = aws_config.describe_private_connection(name)
    view = display.connection(live.summary(conn))
    form = CertificateForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        certificate = form.cleaned_data["certificate"]
        params = {"name": name, "certificate": certificate}
        try:
            with audited(
                request,
                SERVICE,
                "UpdatePrivateConnectionCertificate",
                name,
                _audit_params(params),
            ):
                updated = aws_config.update_private_connection_certificate(name, certificate)
        except (errors.ValidationFailed, errors.Conflict) as exc:
            apply_field_errors(form, exc, {"certificate": "certificate"})
            status = exc.status
        except (errors.Throttled, errors.Unavailable) as exc:
            form.add_error(None, retry_message(exc, "The certificate was not updated."))
            status = exc.status
        except errors.AwsError as exc:
            status = refused(form, exc, "The certificate was not updated.")
        else:
            live.connection_changed(UPDATED, updated)
            expires = display.certificate(updated.get("certificateExpiryTime"))
            messages.success(request, f"Updated the certificate of {name}. {expires['text']}.")
            return redirect("private_connections:detail", name=name)
    elif request.method == "POST":
        status = 400
    form.strip_private_key()
    context = {"form": form, "c": view, "name": name}
    return render(request, "configuration/connections/certificate.html", context, status=status)


def _dependents(name: str) -> dict[str, Any]:
    """The services that use the connection, for the delete page; a failure is said there."""
    try:
        services = aws_config.services_using_connection(name)
    except errors.AwsError as exc:
        if exc.code == "NotImplemented":  # a sandbox without services: nothing can use it
            return {"services": [], "services_error": ""}
        return {"services": [], "services_error": exc.message}
    for service in services:
        service["url"] = url("services:detail", service["serviceId"])
    return {"services": services, "services_error": ""}


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def connection_delete(request: HttpRequest, name: str) -> HttpResponse:
    _check_name(name)
    conn = aws_config.describe_private_connection(name)
    context: dict[str, Any] = {
        "c": display.connection(live.summary(conn)),
        "name": name,
        **_dependents(name),
    }
    if request.method == "GET":
        return render(request, "configuration/connections/delete.html", context)
    typed = request.POST.get("confirm_name", "").strip()
    context["typed"] = typed
    if typed != name:
        context["error"] = "Type the connection's name exactly to confirm."
        return render(request, "configuration/connections/delete.html", context, status=400)
    try:
        with audited(request, SERVICE, "DeletePrivateConnection", name, {"name": name}):
            result = aws_config.delete_private_connection(name)
    except (errors.Conflict, errors.ValidationFailed) as exc:
        context["error"] = exc.message
        return render(request, "configuration/connections/delete.html", context, status=409)
    except (errors.Throttled, errors.Unavailable) as exc:
        context["error"] = retry_message(exc, "The connection was not deleted.")
        return render(request, "configuration/connections/delete.html", context, status=503)
    live.connection_changed(UPDATED, {**live.summary(conn), **result})
    messages.success(
        request, f"Deleting private connection {name}. It leaves the list once AWS is done."
    )
    return redirect("private_connections:list")


CONNECTION_TAGS = Taggable(
    kind="private-connection",
    url_kwarg="name",
    detail_url="private_connections:detail",
    add_url="private_connections:tag-add",
    remove_url="private_connections:tag-remove",
    tags=lambda name: aws_config.describe_private_connection(name).get("tags") or {},
    page=_detail_page,
)
tag_add = add_view(CONNECTION_TAGS)
tag_remove = remove_view(CONNECTION_TAGS)
