"""Opaque, tamper-evident pagination tokens, as the services hand out."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from ..wire import SandboxError, service_model


def _sign(payload: bytes) -> str:
    return hashlib.sha256(settings.SECRET_KEY.encode() + payload).hexdigest()[:16]


def make_token(offset: int, scope: str) -> str:
    payload = json.dumps({"o": offset, "s": scope}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode() + "." + _sign(payload)


def read_token(token: str | None, scope: str) -> int:
    if not token:
        return 0
    try:
        encoded, signature = token.rsplit(".", 1)
        payload = base64.urlsafe_b64decode(encoded.encode())
        data = json.loads(payload)
        if signature != _sign(payload) or data["s"] != scope:
            raise ValueError
        return int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise SandboxError(
            "ValidationException", "The nextToken is invalid or belongs to another request"
        ) from None


def list_max(service: str, operation: str, member: str) -> int | None:
    """The most items the output list `member` of `operation` may hold, by the model."""
    shape = service_model(service).operation_model(operation).output_shape.members[member]
    return shape.metadata.get("max")


def page(
    queryset: QuerySet[Any] | Sequence[Any],
    token: str | None,
    limit: int | None,
    scope: str,
    default: int = 50,
    cap: int | None = None,
) -> tuple[list[Any], str | None]:
    """One page of `queryset` and the token for the next one (None on the last page).

    `cap` is the most a page may hold whatever `limit` asks (some APIs take maxResults up to
    1,000 but answer at most 10 per page: the output list's own limit)."""
    offset = read_token(token, scope)
    size = limit or default
    if cap is not None:
        size = min(size, cap)
    rows = list(queryset[offset : offset + size + 1])
    more = len(rows) > size
    return rows[:size], (make_token(offset + size, scope) if more else None)
