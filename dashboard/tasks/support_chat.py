"""The console's side of a support case chat: which contact it is, who opened it, and the
connection token that authorizes its calls.

The token is a credential: it lives in the shared cache (every process of the console sees the
chat; Redis with REDIS_URL), never in a page, a form, htmx's history or a log line. It expires
with the connection. Losing it loses nothing: escalating again reconnects to the open chat.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache import cache
from django.utils import timezone

DEFAULT_TTL = 24 * 3600


def _key(space_id: str, task_id: str) -> str:
    return f"support-chat:{space_id}:{task_id}"


def get(space_id: str, task_id: str) -> dict[str, Any] | None:
    found = cache.get(_key(space_id, task_id))
    return found if isinstance(found, dict) else None


def put(space_id: str, task_id: str, state: dict[str, Any], expiry: str = "") -> None:
    """Keep `state` until the connection's `expiry` (Connect's ISO 8601 text)."""
    ttl = DEFAULT_TTL
    try:
        until = dt.datetime.fromisoformat(expiry.replace("Z", "+00:00"))
    except ValueError:
        until = None
    if until is not None:
        if timezone.is_naive(until):  # no zone given: ISO 8601 times from AWS are UTC
            until = until.replace(tzinfo=dt.UTC)
        ttl = max(int((until - timezone.now()).total_seconds()), 1)
    cache.set(_key(space_id, task_id), state, timeout=min(ttl, DEFAULT_TTL))


def drop(space_id: str, task_id: str) -> None:
    cache.delete(_key(space_id, task_id))
