"""Associations of one agent space: list, associate (forms generated from the model), view with
webhooks, partial update, disassociate, validate AWS accounts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard.aws import errors
from dashboard.aws import integrations as aws_integrations
from dashboard.aws import spaces as aws_spaces
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.shapeforms import PICK, ShapeForm, display, find
from dashboard.core.views import wants_fragment

from . import catalog
from .present import association_row, service_row

SERVICE = catalog.SERVICE
PAGE_SIZE = 50
AWS_KINDS = ("aws", "sourceAws", "sourceAwsOrg")


def _space(space_id: str) -> dict[str, Any]:
    """The space, read for its name only on the pages that write: a busy or unavailable AWS
    must not cost the admin what they typed (a space that is gone still is a 404)."""
    try:
        return aws_spaces.get_space(space_id)
    except (errors.Throttled, errors.Unavailable):
        return {"agentSpaceId": space_id, "name": space_id}


def _services() -> dict[str, dict[str, Any]]:
    return {s["serviceId"]: service_row(s) for s in aws_integrations.all_services()}


def _filter_types(request: HttpRequest) -> tuple[list[str], str]:
    """The service types asked for in ?type= (repeatable), and a word about any unknown one."""
    wanted = [t for t in request.GET.getlist("type") if t]
    known = set(catalog.all_types()) | {catalog.AWS_SERVICE_ID}
    unknown = [t for t in wanted if t not in known]
    problem = (
        f"Unknown service type {', '.join(unknown)}: left out of the filter." if unknown else ""
    )
    return [t for t in wanted if t in known], problem


@require_GET
@vary_on_headers("HX-Request")
def association_list(request: HttpRequest, space_id: str) -> HttpResponse:
    space = aws_spaces.get_space(space_id)
    types, problem = _filter_types(request)
    token = request.GET.get("next") or None
    page = aws_integrations.list_associations(
        space_id, service_types=types, next_token=token, max_results=PAGE_SIZE
    )
    services = _services()
    rows = [association_row(a, services) for a in page["associations"]]
    context: dict[str, Any] = {
        "space": space,
        "space_id": space_id,
        "associations": rows,
        "next_token": page["nextToken"],
        "types": types,
        "type_choices": [(catalog.AWS_SERVICE_ID, "AWS account")]
        + [(t, catalog.type_name(t)) for t in catalog.all_types()],
        "problem": problem,
        "query": "&".join(f"type={t}" for t in types),
    }
    if wants_fragment(request) and token:
        return render(request, "integrations/associations.html#page", context)
    return render(request, "integrations/associations.html", context)


@require_POST
@roles.role_required(roles.ADMIN)
def validate_aws(request: HttpRequest, space_id: str) -> HttpResponse:
    """ValidateAwsAssociations, then each AWS association's status as the result."""
    space = aws_spaces.get_space(space_id)
    with audited(request, SERVICE, "ValidateAwsAssociations", space_id, {"agentSpaceId": space_id}):
        aws_integrations.validate_aws(space_id)
    found = aws_integrations.all_associations(space_id, [catalog.AWS_SERVICE_ID])
    rows = [association_row(a, {}) for a in found]
    counts = {s: sum(1 for r in rows if r.get("status") == s) for s in ("valid", "invalid")}
    context = {"space": space, "space_id": space_id, "results": rows, "counts": counts}
    if request.htmx:
        return render(request, "integrations/associations.html#validation", context)
    return render(request, "integrations/validation.html", context)


@require_GET
@roles.role_required(roles.ADMIN)
def associate_pick(request: HttpRequest, space_id: str) -> HttpResponse:
    space = aws_spaces.get_space(space_id)
    services = sorted(_services().values(), key=lambda s: (s["type_name"], s["label"]))
    usable = [s for s in services if catalog.config_kinds(s["type"])]
    context = {"space": space, "space_id": space_id, "services": usable}
    return render(request, "integrations/associate_pick.html", context)


def _service_for(service_id: str) -> dict[str, Any]:
    if service_id == catalog.AWS_SERVICE_ID:
        return {
            "id": catalog.AWS_SERVICE_ID,
            "type": catalog.AWS_SERVICE_ID,
            "type_name": "AWS account",
            "label": "AWS account",
        }
    service, _ = aws_integrations.get_service(service_id)
    return service_row(service)


def _space_options(space_id: str) -> list[tuple[str, str]]:
    """The account's other agent spaces as (ARN, name), for a link's target. Typing an ARN
    still works when they cannot be listed now."""
    try:
        spaces = aws_spaces.all_spaces()
    except errors.AwsError:
        return []
    others = [s for s in spaces if s["agentSpaceId"] != space_id]
    names = [s.get("name") or s["agentSpaceId"] for s in others]
    return [
        (
            aws_spaces.space_arn(s["agentSpaceId"]),
            # Two spaces of one name are told apart by their ids.
            f"{name} ({s['agentSpaceId']})" if names.count(name) > 1 else name,
        )
        for s, name in sorted(zip(others, names, strict=True), key=lambda p: p[1].lower())
    ]


def _form(
    layout_type: str, kinds: tuple[str, ...], space_id: str, data: Any, initial: Any = None
) -> ShapeForm:
    try:
        layout = catalog.association_layout(layout_type, kinds)
    except LookupError as exc:
        raise Http404(str(exc)) from None
    options = {}
    if find(layout, catalog.TARGET_SPACE) is not None:
        options[catalog.TARGET_SPACE] = _space_options(space_id)
    return ShapeForm(layout, data, initial_value=initial, options=options)


def _no_such_target(form: ShapeForm, exc: errors.AwsError) -> bool:
    """Put "the agent space to link does not exist" next to that field; True if it was that."""
    value = (form.value.get("configuration") or {}).get("agentspace") or {}
    target = value.get("targetAgentSpaceArn") or ""
    if not isinstance(exc, errors.NotFound) or not target or target not in exc.message:
        return False
    picked = form.data.get(f"{catalog.TARGET_SPACE}.{PICK}") == target
    form.add_error(
        f"{catalog.TARGET_SPACE}.{PICK}" if picked else catalog.TARGET_SPACE,
        "No agent space has this ARN (in this account and region); it may have been deleted.",
    )
    return True


def _linked_space(association: dict[str, Any]) -> dict[str, str] | None:
    """The agent space of this account an association links to, if it names one."""
    value = (association.get("configuration") or {}).get("agentspace") or {}
    arn = str(value.get("targetAgentSpaceArn") or "")
    space_id = arn.rsplit("/", 1)[-1]
    if not space_id or arn != aws_spaces.space_arn(space_id):
        return None  # another account or region: nothing here to open
    return {"id": space_id, "name": value.get("targetAgentSpaceName") or space_id}


@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
@sensitive_variables()  # this frame and every one below it (botocore's body)
def associate(request: HttpRequest, space_id: str, service_id: str) -> HttpResponse:
    space = _space(space_id)
    service = _service_for(service_id)
    kinds = catalog.config_kinds(service["type"])
    form = _form(
        service["type"], kinds, space_id, request.POST if request.method == "POST" else None
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            value = form.value
            params = {"agentSpaceId": space_id, "serviceId": service_id, **value}
            try:
                with audited(request, SERVICE, "AssociateService", space_id, params):
                    with form.scrubbing():
                        answer = aws_integrations.associate(
                            space_id, service_id, value["configuration"], value.get("capabilities")
                        )
            except errors.AwsError as exc:
                if not form.apply_aws_errors(exc.fields) and not _no_such_target(form, exc):
                    form.add_error(None, f"{exc.title}: {exc.message}")
            else:
                association = answer["association"]
                message = f"Associated {service['label']} with {space['name']}."
                if answer.get("webhook"):
                    message += " Its webhook is listed on the association's page."
                messages.success(request, message)
                return redirect(
                    "integrations:association",
                    space_id=space_id,
                    association_id=association["associationId"],
                )
        if not form.adding:
            status = 400
    context = {"space": space, "space_id": space_id, "service": service, "form": form}
    return render(request, "integrations/associate.html", context, status=status)


@require_GET
def association_detail(request: HttpRequest, space_id: str, association_id: str) -> HttpResponse:
    space = aws_spaces.get_space(space_id)
    association = aws_integrations.get_association(space_id, association_id)
    services = {}
    if association["serviceId"] != catalog.AWS_SERVICE_ID:
        try:
            services = {association["serviceId"]: _service_for(association["serviceId"])}
        except errors.NotFound:
            services = {}
    row = association_row(association, services)
    webhooks_error = ""
    try:
        webhooks = aws_integrations.list_webhooks(space_id, association_id)
    except errors.AwsError as exc:
        webhooks, webhooks_error = [], exc.message
    context = {
        "space": space,
        "space_id": space_id,
        "association": row,
        "configuration": display(
            catalog.output_shape("ServiceConfiguration"), association.get("configuration")
        ),
        "capabilities": display(
            catalog.output_shape("AssociationCapabilities"), association.get("capabilities")
        )
        if association.get("capabilities")
        else None,
        "webhooks": webhooks,
        "webhooks_error": webhooks_error,
        "linked_space": _linked_space(association),
        "can_edit": bool(catalog.config_kinds(row["service_type"]))
        if row["service_type"]
        else False,
    }
    return render(request, "integrations/association.html", context)


@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
@sensitive_variables()  # this frame and every one below it (botocore's body)
def association_edit(request: HttpRequest, space_id: str, association_id: str) -> HttpResponse:
    """UpdateAssociation: the configuration is replaced whole (the API's rule); capabilities are
    sent only when they changed, so AWS leaves them as they are otherwise."""
    space = _space(space_id)
    association = aws_integrations.get_association(space_id, association_id)
    kind = next(iter(association.get("configuration") or {}), "")
    service = _service_for(association["serviceId"])
    current = {
        "configuration": association.get("configuration"),
        "capabilities": association.get("capabilities"),
    }
    data = request.POST if request.method == "POST" else None
    form = _form(service["type"], (kind,), space_id, data, initial=current)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            value = form.value
            capabilities = value.get("capabilities") or {}
            changed = capabilities != (association.get("capabilities") or {})
            params: dict[str, Any] = {
                "agentSpaceId": space_id,
                "associationId": association_id,
                "configuration": value["configuration"],
            }
            if changed and find(form.layout, "capabilities") is not None:
                params["capabilities"] = capabilities
            try:
                with audited(request, SERVICE, "UpdateAssociation", association_id, params):
                    with form.scrubbing():
                        aws_integrations.update_association(
                            space_id,
                            association_id,
                            value["configuration"],
                            params.get("capabilities"),
                        )
            except errors.AwsError as exc:
                if not form.apply_aws_errors(exc.fields) and not _no_such_target(form, exc):
                    form.add_error(None, f"{exc.title}: {exc.message}")
            else:
                messages.success(request, "Saved the association.")
                return redirect(
                    "integrations:association", space_id=space_id, association_id=association_id
                )
        if not form.adding:
            status = 400
    row = association_row(association, {service["id"]: service})
    context = {
        "space": space,
        "space_id": space_id,
        "association": row,
        "service": service,
        "form": form,
        "editing": True,
    }
    return render(request, "integrations/associate.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def disassociate(request: HttpRequest, space_id: str, association_id: str) -> HttpResponse:
    space = _space(space_id)
    association = aws_integrations.get_association(space_id, association_id)
    services: dict[str, Any] = {}
    if association["serviceId"] != catalog.AWS_SERVICE_ID:
        try:
            services = {association["serviceId"]: _service_for(association["serviceId"])}
        except errors.NotFound:
            pass
    row = association_row(association, services)
    context = {"space": space, "space_id": space_id, "association": row}
    if request.method == "POST":
        params = {"agentSpaceId": space_id, "associationId": association_id}
        try:
            with audited(request, SERVICE, "DisassociateService", association_id, params):
                aws_integrations.disassociate(space_id, association_id)
        except errors.NotFound:
            pass  # gone meanwhile: what was asked for is true
        except errors.AwsError as exc:
            context["error"] = f"{exc.title}: {exc.message} Nothing was changed."
            return render(request, "integrations/disassociate.html", context, status=exc.status)
        messages.success(request, f"Disassociated {row['service_label']} from {space['name']}.")
        return redirect("integrations:associations", space_id=space_id)
    return render(request, "integrations/disassociate.html", context)
