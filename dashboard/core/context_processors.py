from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from . import nav, roles


def console(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "backend": settings.DASHBOARD_BACKEND,
        "role": roles.role_of(user) if user is not None else None,
        "can_operate": user is not None and roles.has_role(user, roles.OPERATOR),
        "can_admin": user is not None and roles.has_role(user, roles.ADMIN),
        "main_nav": nav.main_entries(request) if user is not None else [],
        # The largest websocket message, for the page's "too large" notice (close code 1009).
        "ws_max_mib": f"{settings.WEBSOCKET_MAX_MESSAGE_BYTES / 1048576:g}",
    }
