"""Services (account level): list, register (forms generated from the model), view, tag,
deregister; the OAuth (3LO) pending state."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard.aws import errors
from dashboard.aws import integrations as aws_integrations
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.shapeforms import ShapeForm, display
from dashboard.core.tags import TagForm, Taggable, add_view, remove_view
from dashboard.core.tags import card as tags_card
from dashboard.core.views import wants_fragment

from . import catalog, pending
from .present import service_row

SERVICE = catalog.SERVICE
PAGE_SIZE = 25
# RegisterService members besides `service` and `serviceDetails`.
_EXTRA = (
    "name",
    "kmsKeyArn",
    "privateConnectionName",
    "targetUrlPrivateConnectionName",
    "exchangeUrlPrivateConnectionName",
    "tags",
)


@require_GET
@vary_on_headers("HX-Request")
def service_list(request: HttpRequest) -> HttpResponse:
    wanted = request.GET.get("type", "")
    problem = ""
    if wanted and wanted not in catalog.all_types():
        problem = f"“{wanted}” is not a service type; showing every type."
        wanted = ""
    token = request.GET.get("next") or None
    page = aws_integrations.list_services(
        service_type=wanted, next_token=token, max_results=PAGE_SIZE
    )
    context: dict[str, Any] = {
        "services": [service_row(s) for s in page["services"]],
        "next_token": page["nextToken"],
        "type": wanted,
        "types": [(t, catalog.type_name(t)) for t in catalog.all_types()],
        "problem": problem,
    }
    if wants_fragment(request) and token:
        return render(request, "integrations/services.html#page", context)
    if roles.has_role(request.user, roles.ADMIN):
        for flow in pending.settle(request):
            messages.success(
                request, f"{flow['name'] or catalog.type_name(flow['type'])} is registered."
            )
        context["pending"] = pending.flows(request)
    return render(request, "integrations/services.html", context)


@require_GET
@roles.role_required(roles.ADMIN)
def register_pick(request: HttpRequest) -> HttpResponse:
    context = {"groups": catalog.grouped(catalog.registrable_types())}
    return render(request, "integrations/register_pick.html", context)


def _register_form(service_type: str, data: Any = None) -> ShapeForm:
    return ShapeForm(catalog.register_layout(service_type), data)


@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
@sensitive_variables()  # this frame and every one below it (botocore's body)
def register(request: HttpRequest, service_type: str) -> HttpResponse:
    if service_type not in catalog.registrable_types():
        raise Http404(f"{service_type} cannot be registered here")
    if request.method == "POST":
        form = _register_form(service_type, request.POST)
    else:
        again = pending.take_values(request, request.GET.get("again", ""))
        form = ShapeForm(catalog.register_layout(service_type), initial_value=again)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            done = _register(request, service_type, form)
            if done is not None:
                return done
        if not form.adding:
            status = 400
    context = {
        "form": form,
        "kind": catalog.kind(service_type),
        "service_type": service_type,
    }
    return render(request, "integrations/register.html", context, status=status)


def _register(request: HttpRequest, service_type: str, form: ShapeForm) -> HttpResponse | None:
    value = form.value
    details = value["serviceDetails"][service_type]
    extra = {k: value[k] for k in _EXTRA if value.get(k)}
    name = value.get("name") or details.get("name") or ""
    params = {"service": service_type, **value}
    try:
        with audited(request, SERVICE, "RegisterService", name or service_type, params):
            with form.scrubbing():
                answer = aws_integrations.register_service(service_type, details, **extra)
    except errors.AwsError as exc:
        if not form.apply_aws_errors(exc.fields):
            form.add_error(None, f"{exc.title}: {exc.message}")
        return None
    if answer["serviceId"]:
        messages.success(request, f"Registered {name or catalog.type_name(service_type)}.")
        return redirect("integrations:service", service_id=answer["serviceId"])
    url = pending.safe_authorization_url(answer["authorizationUrl"])
    if url is None:
        form.add_error(
            None,
            "AWS asked to continue the registration at an address the console does not open "
            "(only https:// addresses are followed). Nothing is registered yet.",
        )
        return None
    pending.add(request, service_type=service_type, name=name, url=url, values=value)
    return redirect(url)


@require_GET
@roles.role_required(roles.ADMIN)
def oauth_return(request: HttpRequest) -> HttpResponse:
    """Where the (sandbox) provider sends the admin back after allowing or denying access.

    Nothing in the query string is trusted: it must name a flow this session started, and a
    service is only announced once AWS confirms it exists and has the flow's type. A missing,
    odd, expired, replayed or foreign return says so and changes nothing; a refusal or a
    failure brings back the form with what was typed (never the credentials)."""
    flow_id = request.GET.get("flow", "")
    flow = pending.for_flow_id(request, flow_id)
    if flow is None:
        stale = pending.expired_flow(request, flow_id)
        if stale is not None:
            label = stale.get("name") or catalog.type_name(str(stale.get("type", "")))
            messages.error(
                request,
                f"The authorization for {label} took too long and expired: nothing is "
                "registered. Your entries are filled in again below; register once more.",
            )
            return _retry(request, stale)
        messages.error(
            request,
            "This authorization answer does not match a registration waiting in your session: "
            "it was already handled, it expired, or it was started by someone else. "
            "Nothing was changed.",
        )
        return redirect("integrations:services")
    label = flow["name"] or catalog.type_name(flow["type"])
    error = request.GET.get("error", "")
    if error:
        pending.remove(request, flow["key"])
        if error == "access_denied":
            reason = "Access was not allowed at the provider"
        else:
            code = error if re.fullmatch(r"[a-z_]{1,40}", error) else "unknown"
            reason = f"The provider answered with an error ({code})"
        messages.error(
            request,
            f"{reason}: {label} is not registered. Your entries are filled in again below.",
        )
        return _retry(request, flow)
    service_id = request.GET.get("service", "")
    service = _confirmed_service(service_id, flow)
    if service is None:
        messages.error(
            request,
            f"The provider's answer for {label} did not name a registered service; the "
            "registration is still waiting. Continue it or stop waiting below.",
        )
        return redirect("integrations:services")
    pending.remove(request, flow["key"])
    messages.success(request, f"Access allowed: {label} is registered.")
    return redirect("integrations:service", service_id=service["serviceId"])


def _confirmed_service(service_id: str, flow: dict[str, Any]) -> dict[str, Any] | None:
    """The service `service_id` if it is a well-formed id AWS knows and `flow` made it."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,200}", service_id):
        return None
    try:
        service, _ = aws_integrations.get_service(service_id)
    except errors.NotFound:
        return None
    return service if pending.finished_by(flow, service) else None


def _retry(request: HttpRequest, flow: dict[str, Any]) -> HttpResponse:
    service_type = str(flow.get("type", ""))
    if service_type not in catalog.registrable_types():
        return redirect("integrations:services")
    pending.keep_for_retry(request, flow)
    url = reverse("integrations:register-type", args=[service_type])
    return redirect(f"{url}?{urlencode({'again': flow.get('key', '')})}")


@require_POST
@roles.role_required(roles.ADMIN)
def pending_dismiss(request: HttpRequest, key: str) -> HttpResponse:
    flow = pending.remove(request, key)
    if flow is not None:
        messages.info(request, "Stopped waiting for that authorization.")
    return redirect("integrations:services")


@require_GET
def service_detail(request: HttpRequest, service_id: str) -> HttpResponse:
    return _detail_page(request, service_id)


def _detail_page(
    request: HttpRequest, service_id: str, tag_form: TagForm | None = None
) -> HttpResponse:
    service, tags = aws_integrations.get_service(service_id)
    details = service.get("additionalServiceDetails")
    context = {
        "service": service_row(service),
        "details": display(catalog.output_shape("AdditionalServiceDetails"), details)
        if details
        else None,
        "resources": display(
            catalog.output_shape("DocumentList"), service.get("accessibleResources")
        )
        if service.get("accessibleResources")
        else None,
        "tags_card": tags_card(SERVICE_TAGS, service_id, tags, tag_form),
    }
    return render(request, "integrations/service.html", context)


@require_GET
def used_by(request: HttpRequest, service_id: str) -> HttpResponse:
    """The associations of this service in every agent space (a fragment, loaded after the page)."""
    found = aws_integrations.dependents(service_id)
    return render(
        request, "integrations/service.html#used-by", {"used": found, "service_id": service_id}
    )


@never_cache
@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def deregister(request: HttpRequest, service_id: str) -> HttpResponse:
    service, _ = aws_integrations.get_service(service_id)
    row = service_row(service)
    context: dict[str, Any] = {
        "service": row,
        "used": aws_integrations.dependents(service_id),
    }
    if request.method == "POST":
        typed = request.POST.get("confirm", "").strip()
        if typed != row["label"].strip():
            context.update(error=f"Type {row['label']} exactly to confirm.", typed=typed)
            return render(request, "integrations/deregister.html", context, status=400)
        try:
            with audited(
                request, SERVICE, "DeregisterService", service_id, {"serviceId": service_id}
            ):
                aws_integrations.deregister_service(service_id)
        except (errors.Conflict, errors.ValidationFailed) as exc:
            context.update(error=exc.message, typed=typed)
            return render(request, "integrations/deregister.html", context, status=409)
        except errors.NotFound:
            pass  # gone meanwhile: what was asked for is true
        except errors.AwsError as exc:
            context.update(error=f"{exc.message} Nothing was changed.", typed=typed)
            return render(request, "integrations/deregister.html", context, status=exc.status)
        messages.success(request, f"Deregistered {row['label']}.")
        return redirect("integrations:services")
    return render(request, "integrations/deregister.html", context)


SERVICE_TAGS = Taggable(
    kind="service",
    url_kwarg="service_id",
    detail_url="integrations:service",
    add_url="integrations:service-tag-add",
    remove_url="integrations:service-tag-remove",
    tags=lambda service_id: aws_integrations.get_service(service_id)[1],
    page=_detail_page,
)
tag_add = add_view(SERVICE_TAGS)
tag_remove = remove_view(SERVICE_TAGS)
