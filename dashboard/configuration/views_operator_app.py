"""The Operator App of an agent space: its URL and each auth flow (IAM, IAM Identity Center,
external IdP); admins enable, reconfigure or disable a flow and replace the IdP client secret.

The IdP client secret is write-only: a password field that never renders a value, hidden from
Django's error reports (sensitive_post_parameters, and sensitive_variables() for the view and
everything it calls), redacted in the audit log by the model,
cut out of any error message that might quote it, and these pages stay out of htmx's history
(hx-history="false" in the templates).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from dashboard.aws import configuration as aws_config
from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces
from dashboard.core import roles
from dashboard.core.audit import audited

from .common import apply_field_errors, refused, retry_message, scrub_secret
from .forms import FLOWS, PROVIDERS, EnableFlowForm, IdpSecretForm

SERVICE = aws_config.SERVICE
SECRET_FIELD = "idp_client_secret"


def _space(space_id: str) -> dict[str, Any]:
    try:
        return aws_spaces.get_space(space_id)
    except (errors.Throttled, errors.Unavailable):
        return {"agentSpaceId": space_id, "name": ""}


def _flow(flow: str) -> dict[str, str]:
    if flow not in FLOWS:
        raise Http404("No such auth flow")
    return {"key": flow, **FLOWS[flow]}


@require_GET
def operator_app(request: HttpRequest, space_id: str) -> HttpResponse:
    space = aws_spaces.get_space(space_id)
    app = aws_config.get_operator_app(space_id)
    flows = [{**_flow(key), "config": app.get(key)} for key in aws_config.AUTH_FLOWS]
    context = {
        "space": space,
        "space_id": space_id,
        "url": app.get("operatorAppUrl") or "",
        "flows": flows,
        "enabled": [f for f in flows if f["config"]],
    }
    return render(request, "configuration/operator_app/detail.html", context)


def _initial(config: dict[str, Any] | None) -> dict[str, Any]:
    config = config or {}
    return {
        "role_arn": config.get("operatorAppRoleArn", ""),
        "idc_instance_arn": config.get("idcInstanceArn", ""),
        "issuer_url": config.get("issuerUrl", ""),
        "idp_client_id": config.get("clientId", ""),
        "provider": config.get("provider", ""),
    }


_API = {
    "role_arn": "operatorAppRoleArn",
    "idc_instance_arn": "idcInstanceArn",
    "issuer_url": "issuerUrl",
    "idp_client_id": "idpClientId",
    SECRET_FIELD: "idpClientSecret",
    "provider": "provider",
}


@sensitive_post_parameters(SECRET_FIELD)
@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
@sensitive_variables()
def enable_flow(request: HttpRequest, space_id: str, flow: str) -> HttpResponse:
    info = _flow(flow)
    space = _space(space_id)
    current = aws_config.get_operator_app(space_id).get(flow)
    kept = flow == "idp" and bool(current)
    form = EnableFlowForm(
        request.POST or None, flow=flow, secret_kept=kept, initial=_initial(current)
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        kwargs = form.params()
        secret = kwargs.get(SECRET_FIELD, "")
        params = {
            "agentSpaceId": space_id,
            "authFlow": flow,
            **{_API[k]: v for k, v in kwargs.items()},
        }
        try:
            with audited(request, SERVICE, "EnableOperatorApp", space_id, params):
                try:
                    aws_config.enable_operator_app(space_id, flow, **kwargs)
                except errors.AwsError as exc:
                    raise scrub_secret(exc, secret) from None
        except (errors.ValidationFailed, errors.Conflict, errors.NotFound) as exc:
            apply_field_errors(form, exc, EnableFlowForm.AWS_FIELDS)
            status = exc.status
        except (errors.Throttled, errors.Unavailable) as exc:
            what = f"The {info['label']} sign-in was not saved."
            form.add_error(None, retry_message(exc, what, secret=bool(secret)))
            status = exc.status
        except errors.AwsError as exc:
            if exc.code == "IdentityCenterServiceException":
                target = "idc_instance_arn" if "idc_instance_arn" in form.fields else None
                form.add_error(target, f"IAM Identity Center refused: {exc.message}")
                status = 400
            else:
                status = refused(form, exc, f"The {info['label']} sign-in was not saved.")
        else:
            verb = "Updated" if current else "Enabled"
            messages.success(request, f"{verb} the {info['label']} sign-in of the Operator App.")
            return redirect("operator_app:detail", space_id=space_id)
    elif request.method == "POST":
        status = 400
    context = {
        "space": space,
        "space_id": space_id,
        "flow": info,
        "form": form,
        "current": current,
        "providers": PROVIDERS,
    }
    return render(request, "configuration/operator_app/enable.html", context, status=status)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def disable_flow(request: HttpRequest, space_id: str, flow: str) -> HttpResponse:
    info = _flow(flow)
    space = _space(space_id)
    app = aws_config.get_operator_app(space_id)
    if not app.get(flow):
        messages.info(request, f"The {info['label']} sign-in is not enabled.")
        return redirect("operator_app:detail", space_id=space_id)
    others = [FLOWS[k]["label"] for k in aws_config.AUTH_FLOWS if k != flow and app.get(k)]
    context: dict[str, Any] = {"space": space, "space_id": space_id, "flow": info, "others": others}
    if request.method == "POST":
        params = {"agentSpaceId": space_id, "authFlow": flow}
        try:
            with audited(request, SERVICE, "DisableOperatorApp", space_id, params):
                aws_config.disable_operator_app(space_id, flow)
        except (
            errors.Conflict,
            errors.ValidationFailed,
            errors.Throttled,
            errors.Unavailable,
        ) as exc:
            context["error"] = exc.message
            return render(
                request, "configuration/operator_app/disable.html", context, status=exc.status
            )
        except errors.NotFound:
            pass  # disabled meanwhile: what was asked for is true
        messages.success(request, f"Disabled the {info['label']} sign-in of the Operator App.")
        return redirect("operator_app:detail", space_id=space_id)
    return render(request, "configuration/operator_app/disable.html", context)


@sensitive_post_parameters(SECRET_FIELD)
@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
@sensitive_variables()
def idp_secret(request: HttpRequest, space_id: str) -> HttpResponse:
    space = _space(space_id)
    current = aws_config.get_operator_app(space_id).get("idp")
    if not current:
        messages.info(request, "Enable the external identity provider sign-in first.")
        return redirect("operator_app:detail", space_id=space_id)
    form = IdpSecretForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        secret = form.cleaned_data[SECRET_FIELD]
        params = {"agentSpaceId": space_id, "idpClientSecret": secret}
        try:
            with audited(request, SERVICE, "UpdateOperatorAppIdpConfig", space_id, params):
                try:
                    aws_config.update_operator_app_idp_secret(space_id, secret)
                except errors.AwsError as exc:
                    raise scrub_secret(exc, secret) from None
        except (errors.ValidationFailed, errors.NotFound, errors.Conflict) as exc:
            apply_field_errors(form, exc, {"idpClientSecret": SECRET_FIELD})
            status = exc.status
        except (errors.Throttled, errors.Unavailable) as exc:
            form.add_error(None, retry_message(exc, "The secret was not replaced.", secret=True))
            status = exc.status
        except errors.AwsError as exc:
            status = refused(form, exc, "The secret was not replaced.")
        else:
            messages.success(request, "Replaced the identity provider's client secret.")
            return redirect("operator_app:detail", space_id=space_id)
    elif request.method == "POST":
        status = 400
    context = {"space": space, "space_id": space_id, "form": form, "current": current}
    return render(request, "configuration/operator_app/secret.html", context, status=status)
