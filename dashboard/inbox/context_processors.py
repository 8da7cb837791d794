"""The number of approvals waiting, for the top bar and the tab's title of every page: read
from the live watch's shared snapshot, never from AWS (None until someone watches)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def needs(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from . import live

    try:
        return {"needs_count": live.waiting_count()}
    except Exception:  # the cache is down: the page still renders; the socket brings it later
        return {"needs_count": None}
