"""Failed sign-ins and lockouts go to the audit log (sign-ins are recorded by the two views
that sign people in, `record_sign_in`: Django's user_logged_in also fires for test clients'
force_login)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from dashboard.core import audit
from dashboard.core.models import AuditEntry


def _how(request: Any) -> str:
    return getattr(request, "console_sign_in_method", "password")


@receiver(user_login_failed)
def _sign_in_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    if request is None:
        return
    username = str(credentials.get("username", ""))[:150]
    locked = bool(getattr(request, "axes_locked_out", False))
    audit.record(
        request,
        "SignInFailed",
        username,
        AuditEntry.FAILED,
        detail={"method": _how(request), "address": _address(request)},
        error="Refused: locked out." if locked else "Wrong username or password.",
        username=username,
    )


@receiver(user_locked_out)
def _locked_out(sender: Any, request: Any, username: str, ip_address: str, **kwargs: Any) -> None:
    if request is None or getattr(request, "_console_lockout_recorded", False):
        return
    request._console_lockout_recorded = True
    audit.record(
        request,
        "LockedOut",
        str(username or "")[:150],
        AuditEntry.FAILED,
        detail={"address": ip_address},
        error="Too many failed sign-ins: refused until the cool-off ends or an admin unlocks.",
        username=str(username or ""),
    )


def _address(request: Any) -> str:
    from .lockout import client_ip

    return client_ip(request) or ""


def record_sign_in(request: Any, user: Any) -> None:
    audit.record(
        request,
        "SignIn",
        user.get_username(),
        AuditEntry.OK,
        detail={"method": _how(request), "address": _address(request)},
        actor=user,
    )
