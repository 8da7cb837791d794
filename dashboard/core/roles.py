"""Roles are Django groups: viewer (read), operator (triage), admin (configuration).

Each role includes the ones below it. Superusers are admins. A signed-in user in no group can
read, like a viewer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

VIEWER = "viewer"
OPERATOR = "operator"
ADMIN = "admin"
ORDER = [VIEWER, OPERATOR, ADMIN]


def role_of(user: User | AnonymousUser) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    cached = getattr(user, "_console_role", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = next((r for r in reversed(ORDER) if r in names), VIEWER)
        user._console_role = cached  # type: ignore[union-attr]
    return cached


def has_role(user: User | AnonymousUser, role: str) -> bool:
    mine = role_of(user)
    return mine is not None and ORDER.index(mine) >= ORDER.index(role)


def has_role_now(user: User | AnonymousUser, role: str) -> bool:
    """`has_role` as the database says now. A websocket keeps the user it connected with: one
    deactivated or given a lower role since must not go on acting over a socket left open."""
    if not user.is_authenticated:
        return False
    fresh = User.objects.filter(pk=user.pk, is_active=True).first()
    return fresh is not None and has_role(fresh, role)


def role_required(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Views below `role` answer 403 (sign-in is already required everywhere)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if not has_role(request.user, role):
                raise PermissionDenied(f"This needs the {role} role.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
