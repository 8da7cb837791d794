"""The sign-in page (passwords and single sign-on) and the Users page for admins.

Every change on the Users page is in the audit log. No change may leave the console without
an active admin (`_leaves_no_admin`).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.core import audit, roles
from dashboard.core.models import AuditEntry

from . import oidc
from .forms import PASSWORD, CreateUserForm, RoleForm, UnlockForm
from .lockout import forgive
from .sessions import session_count, sign_out_everywhere
from .signals import record_sign_in

logger = logging.getLogger(__name__)

_NEXT_KEY = "console_sso_next"


# --- Sign-in -------------------------------------------------------------------------------


def login_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    """What the sign-in page shows besides the form: the single sign-on button and whether
    passwords are taken."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    context = {
        "password_sign_in": settings.PASSWORD_SIGN_IN,
        "sso_enabled": oidc.enabled(),
        "sso_name": oidc.provider_name(),
        "next": next_url if _safe(request, next_url) else "",
    }
    context.update(extra)
    return context


def _safe(request: HttpRequest, url: str) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


class ConsoleLoginView(LoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(login_context(self.request))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.PASSWORD_SIGN_IN:
            context = login_context(
                request,
                form=self.get_form_class()(request),
                error=f"Passwords are switched off here: sign in with {oidc.provider_name()}.",
            )
            return render(request, "registration/login.html", context, status=403)
        request.console_sign_in_method = "password"  # type: ignore[attr-defined]
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        forgive(self.request, form.get_user().get_username())
        record_sign_in(self.request, form.get_user())
        return response


@login_not_required
@require_GET
def sso_login(request: HttpRequest) -> HttpResponse:
    """Off to the provider's sign-in page (authlib keeps state, nonce and the PKCE verifier in
    the session)."""
    if not oidc.enabled():
        return _sso_error(request, oidc.SsoError("Single sign-on is not set up.", status=404))
    next_url = request.GET.get("next", "")
    request.session[_NEXT_KEY] = next_url if _safe(request, next_url) else ""
    try:
        client = oidc.client()
        oidc.check_issuer(client.load_server_metadata())
        redirect_uri = request.build_absolute_uri(reverse("accounts:sso-callback"))
        return client.authorize_redirect(request, redirect_uri)
    except oidc.SsoError as exc:
        return _sso_error(request, exc)
    except Exception as exc:  # the provider is down or answered nonsense
        logger.warning("Single sign-on: the provider's discovery failed: %s", _one_line(exc))
        return _sso_error(
            request,
            oidc.SsoError(
                f"{oidc.provider_name()} did not answer ({_one_line(exc)}). Try again in a moment.",
                status=502,
                title="The sign-in provider is unavailable",
            ),
        )


@login_not_required
@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here with a code: exchange it, check the ID token,
    find the user and their role, sign them in."""
    if not oidc.enabled():
        return _sso_error(request, oidc.SsoError("Single sign-on is not set up.", status=404))
    request.console_sign_in_method = "sso"  # type: ignore[attr-defined]
    try:
        client = oidc.client()
        token = client.authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise oidc.SsoError("The provider sent no ID token.")
        if settings.OIDC_GROUPS_CLAIM not in claims and client.load_server_metadata().get(
            "userinfo_endpoint"
        ):
            extra = dict(client.userinfo(token=token))
            # Userinfo must describe the same person (OpenID Connect Core 5.3.2).
            if str(extra.get("sub")) == str(claims.get("sub")):
                claims = {**extra, **claims}
        result = oidc.user_for(claims)
    except oidc.SsoError as exc:
        _audit_failure(request, "", exc.message)
        return _sso_error(request, exc)
    except Exception as exc:
        # authlib's OAuthError (denied, state mismatch), an ID token that fails its checks,
        # or a provider that does not answer: one line in the log, words on the page.
        logger.warning("Single sign-on failed: %s", _one_line(exc))
        _audit_failure(request, "", _one_line(exc))
        return _sso_error(
            request,
            oidc.SsoError(
                f"{oidc.provider_name()} did not confirm the sign-in ({_one_line(exc)}). "
                "Start again from the sign-in page.",
            ),
        )
    if result.user is None:
        # In none of the mapped groups: no access, and no session left from earlier.
        linked = User.objects.filter(
            sso_identity__issuer=settings.OIDC_ISSUER,
            sso_identity__subject=str(claims.get("sub")),
        ).first()
        if linked is not None:
            sign_out_everywhere(linked)
            _audit_sso_role(request, linked, result)
        name = str(claims.get(settings.OIDC_USERNAME_CLAIM) or claims.get("sub"))
        _audit_failure(request, name, "In none of the groups mapped to a role.", result.groups)
        return render(
            request,
            "accounts/no_access.html",
            {"sso_name": oidc.provider_name(), "name": name, "groups": result.groups},
            status=403,
        )
    if not result.user.is_active:
        _audit_failure(request, result.user.username, "Deactivated in the console.")
        return _sso_error(
            request,
            oidc.SsoError(
                "Your console account is deactivated. Ask an admin to reactivate it.",
                status=403,
                title="Account deactivated",
            ),
        )
    _audit_sso_role(request, result.user, result)
    login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
    record_sign_in(request, result.user)
    next_url = request.session.pop(_NEXT_KEY, "")
    return redirect(next_url if _safe(request, next_url) else settings.LOGIN_REDIRECT_URL)


def _audit_sso_role(request: HttpRequest, user: User, result: oidc.SignIn) -> None:
    """A user the provider's groups created, or gave another role, is a change like one made
    on the Users page: in the audit log, with the groups that decided it."""
    detail: dict[str, Any] = {"groups": result.groups, "by": f"{oidc.provider_name()} groups"}
    if result.created:
        detail.update(role=result.role, sign_in="sso")
        audit.record(request, "CreateUser", user.username, AuditEntry.OK, detail=detail, actor=user)
    elif result.previous != result.role and not user.is_superuser:
        detail.update({"from": result.previous, "to": result.role})
        audit.record(request, "ChangeRole", user.username, AuditEntry.OK, detail=detail, actor=user)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _audit_failure(
    request: HttpRequest, name: str, error: str, groups: list[str] | None = None
) -> None:
    detail: dict[str, Any] = {"method": "sso"}
    if groups is not None:
        detail["groups"] = groups
    audit.record(
        request, "SignInFailed", name, AuditEntry.FAILED, detail=detail, error=error, username=name
    )


def _sso_error(request: HttpRequest, exc: oidc.SsoError) -> HttpResponse:
    context = {"title": exc.title, "message": exc.message, "sso_name": oidc.provider_name()}
    return render(request, "accounts/sso_error.html", context, status=exc.status)


# --- Users ---------------------------------------------------------------------------------


def _active_admins() -> Any:
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=roles.ADMIN))
        .distinct()
    )


def _leaves_no_admin(user: User, *, role: str | None = None, deactivate: bool = False) -> bool:
    """Would this change leave no active admin (and so nobody who can undo it)?"""
    if not user.is_active or not roles.has_role(user, roles.ADMIN):
        return False
    if not deactivate and role == roles.ADMIN:
        return False
    return not _active_admins().exclude(pk=user.pk).exists()


def _lockouts() -> tuple[dict[str, datetime], dict[str, datetime]]:
    """Users and addresses locked out now (failures within the cool-off at the limit), with
    when the lock ends."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    locked: list[dict[str, datetime]] = []
    for field in ("username", "ip_address"):
        rows = (
            recent.exclude(**{f"{field}__isnull": True})
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        )
        locked.append({row[field]: row["last"] + settings.AXES_COOLOFF_TIME for row in rows})
    return locked[0], locked[1]


@require_GET
@roles.role_required(roles.ADMIN)
def users(request: HttpRequest) -> HttpResponse:
    people = list(
        User.objects.order_by("username").prefetch_related("groups").select_related("sso_identity")
    )
    sessions = session_count(people)
    locked_users, locked_addresses = _lockouts()
    rows = []
    for person in people:
        identity = getattr(person, "sso_identity", None)
        rows.append(
            {
                "user": person,
                "role": roles.role_of(person),
                "identity": identity,
                "sso_only": not person.has_usable_password(),
                "sessions": sessions.get(person.pk, 0),
                "locked_until": locked_users.get(person.username),
                "is_me": person.pk == request.user.pk,
            }
        )
    known = {person.username for person in people}
    context = {
        "rows": rows,
        "role_form": RoleForm(),
        "locked_unknown": {
            name: until for name, until in locked_users.items() if name not in known
        },
        "locked_addresses": locked_addresses,
        "sso_enabled": oidc.enabled(),
        "sso_name": oidc.provider_name(),
        "password_sign_in": settings.PASSWORD_SIGN_IN,
    }
    return render(request, "accounts/users.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def user_create(request: HttpRequest) -> HttpResponse:
    form = CreateUserForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "accounts/user_form.html", {"form": form}, status=status)
    data = form.cleaned_data
    user = User(username=data["username"], email=data["email"])
    password = ""
    if data["sign_in"] == PASSWORD:
        password = secrets.token_urlsafe(12)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    oidc.set_role(user, data["role"])
    audit.record(
        request,
        "CreateUser",
        user.username,
        AuditEntry.OK,
        detail={"role": data["role"], "sign_in": data["sign_in"], "email": data["email"]},
    )
    context = {"created": user, "role": data["role"], "password": password, "sso": data["sign_in"]}
    context["sso_name"] = oidc.provider_name()
    # The password is in this answer only: never cached, never in a redirect or the session.
    return render(request, "accounts/user_created.html", context)


def _target(request: HttpRequest, user_id: int) -> User:
    return get_object_or_404(User, pk=user_id)


@require_POST
@roles.role_required(roles.ADMIN)
def user_role(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _target(request, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick viewer, operator or admin.")
        return redirect("accounts:users")
    role = form.cleaned_data["role"]
    before = roles.role_of(user)
    if user.is_superuser:
        messages.error(request, f"{user.username} is a superuser: always an admin here.")
        return redirect("accounts:users")
    if _leaves_no_admin(user, role=role):
        audit.record(
            request,
            "ChangeRole",
            user.username,
            AuditEntry.FAILED,
            detail={"from": before, "to": role},
            error="Refused: it would leave no active admin.",
        )
        messages.error(
            request,
            f"{user.username} is the last active admin: make someone else an admin first.",
        )
        return redirect("accounts:users")
    oidc.set_role(user, role)
    audit.record(
        request, "ChangeRole", user.username, AuditEntry.OK, detail={"from": before, "to": role}
    )
    note = ""
    if hasattr(user, "sso_identity"):
        note = f" (at the next sign-in through {oidc.provider_name()} the groups decide again)"
    messages.success(request, f"{user.username} is now {role}{note}.")
    return redirect("accounts:users")


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def user_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _target(request, user_id)
    blocked = _leaves_no_admin(user, deactivate=True)
    if request.method == "GET" or blocked:
        if blocked and request.method == "POST":
            audit.record(
                request,
                "DeactivateUser",
                user.username,
                AuditEntry.FAILED,
                error="Refused: it would leave no active admin.",
            )
        context = {"target": user, "blocked": blocked, "is_me": user.pk == request.user.pk}
        return render(
            request,
            "accounts/user_deactivate.html",
            context,
            status=409 if blocked and request.method == "POST" else 200,
        )
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = sign_out_everywhere(user)
    audit.record(
        request, "DeactivateUser", user.username, AuditEntry.OK, detail={"sessions_ended": ended}
    )
    messages.success(request, f"{user.username} is deactivated and signed out everywhere.")
    return redirect("accounts:users")


@require_POST
@roles.role_required(roles.ADMIN)
def user_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _target(request, user_id)
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record(request, "ReactivateUser", user.username, AuditEntry.OK)
    messages.success(request, f"{user.username} can sign in again.")
    return redirect("accounts:users")


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def user_sign_out(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _target(request, user_id)
    if request.method == "GET":
        context = {"target": user, "is_me": user.pk == request.user.pk}
        context["sessions"] = session_count([user]).get(user.pk, 0)
        return render(request, "accounts/user_sign_out.html", context)
    ended = sign_out_everywhere(user)
    audit.record(
        request, "SignOutEverywhere", user.username, AuditEntry.OK, detail={"sessions": ended}
    )
    if user.pk == request.user.pk:
        return redirect(settings.LOGIN_URL)
    messages.success(request, f"{user.username} is signed out everywhere ({ended} sessions).")
    return redirect("accounts:users")


@require_POST
@roles.role_required(roles.ADMIN)
def unlock(request: HttpRequest) -> HttpResponse:
    form = UnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("__all__", ["Nothing to unlock."])))
        return redirect("accounts:users")
    username = form.cleaned_data.get("username") or None
    address = form.cleaned_data.get("ip_address") or None
    cleared = axes_reset(username=username) if username else 0
    cleared += axes_reset(ip=address) if address else 0
    target = username or address or ""
    audit.record(
        request,
        "UnlockSignIn",
        target,
        AuditEntry.OK,
        detail={"username": username, "address": address, "attempts_cleared": cleared},
    )
    messages.success(request, f"Unlocked {target}: sign-in is allowed again.")
    return redirect("accounts:users")
