"""Limited guessing (django-axes): the client's address, and what a locked-out attempt sees.

Failures are counted in the database (axes' database handler), so every daphne process sees
the same counts. `AXES_LOCKOUT_PARAMETERS` locks per user and, separately, per address.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str | None:
    """The socket's peer, or behind the proxy (DASHBOARD_BEHIND_PROXY) the address the proxy
    appended to X-Forwarded-For: the hops before it are whatever the client claimed."""
    if settings.BEHIND_PROXY:
        forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [hop for hop in forwarded if hop]
        if forwarded:
            found = _address(forwarded[-1])
            if found:
                return found
    return _address(request.META.get("REMOTE_ADDR") or "")


def _address(text: str) -> str | None:
    """An address as the Users page's unlock form writes it (and as PostgreSQL's inet column
    takes it): some proxies append the client's port ("203.0.113.7:51234", "[2001:db8::1]:443")."""
    for candidate in (text, text.rsplit(":", 1)[0].strip("[]") if ":" in text else ""):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def forgive(request: HttpRequest, username: str) -> None:
    """After the right password: the failures of this user from this address are forgiven
    (typos), nothing else. Failures at other users' names from here, and at this user's name
    from elsewhere, still count."""
    from axes.models import AccessAttempt

    address = client_ip(request)
    AccessAttempt.objects.filter(username=username, ip_address=address).delete()


def cooloff_minutes() -> int:
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_message() -> str:
    minutes = cooloff_minutes()
    return (
        f"Too many failed sign-ins for this user or from this address. Sign-in is refused for "
        f"{minutes} minute{'s' if minutes != 1 else ''}; an admin can unlock it sooner on the "
        "Users page."
    )


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: dict | None = None
) -> HttpResponse:
    """The sign-in page again, saying why (429), with the typed username kept."""
    from .views import login_context

    username = str((credentials or {}).get("username") or request.POST.get("username", ""))
    form = AuthenticationForm(request, initial={"username": username})
    context = login_context(request, form=form, locked_message=lockout_message())
    context["typed_username"] = username
    return render(request, "registration/login.html", context, status=429)
