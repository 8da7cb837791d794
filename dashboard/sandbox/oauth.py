"""The sandbox's OAuth provider page, where RegisterService's
`additionalStep.oauth.authorizationUrl` leads. The user allows (or denies) access, the
sandbox registers the service the flow was for, and the browser returns to the console, as it
would from the real provider via AWS.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from .models import PendingOAuth
from .ops.integrations import SERVICE, complete_oauth
from .wire import Context, SandboxError


def _return_url(**params: str) -> str:
    try:
        base = reverse("integrations:oauth-return")
    except NoReverseMatch:
        base = "/"
    return f"{base}?{urlencode(params)}"


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest, flow_id: str) -> HttpResponse:
    if settings.DASHBOARD_BACKEND != "sandbox":
        raise Http404("The sandbox is not the backend")
    flow = PendingOAuth.objects.filter(pk=flow_id).first()
    expired = flow is None or flow.expires_at <= timezone.now()
    if request.method == "POST" and not expired:
        if request.POST.get("decision") != "allow":
            PendingOAuth.objects.filter(pk=flow_id).delete()
            return redirect(_return_url(flow=flow_id, error="access_denied"))
        ctx = Context(
            service=SERVICE,
            operation="RegisterService",
            region=settings.AWS_REGION or "us-east-1",
            account_id=settings.SANDBOX_ACCOUNT_ID,
        )
        try:
            with transaction.atomic():
                service = complete_oauth(ctx, flow_id)
        except SandboxError:
            expired = True
        else:
            return redirect(_return_url(flow=flow_id, service=service.service_id))
    context = {"flow": flow, "expired": expired, "flow_id": flow_id}
    if flow is not None:
        details = flow.request.get("serviceDetails", {}).get(flow.service_type, {})
        context["details"] = details
        context["auth"] = next(iter((details.get("authorizationConfig") or {}).values()), {})
    return render(
        request, "integrations/sandbox_authorize.html", context, status=410 if expired else 200
    )
