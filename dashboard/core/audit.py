"""Write the audit log. Parameters are redacted by the botocore model (sensitive members) and
by name (anything that looks like a secret), so no secret is ever stored here."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import regex
from django.http import HttpRequest

from dashboard.aws.model import REDACTED, redact

from .models import AuditEntry

logger = logging.getLogger("dashboard.audit")

_SECRET_NAMES = regex.compile(r"(?i)secret|password|token|apikey|api_key|credential|private")


def scrub(value: Any) -> Any:
    """Replace values under secret-looking keys, however deep."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if _SECRET_NAMES.search(str(k)) else scrub(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def record(
    request: HttpRequest,
    operation: str,
    target: str,
    outcome: str,
    *,
    detail: dict[str, Any] | None = None,
    error: str = "",
    username: str = "",
    actor: Any = None,
) -> AuditEntry:
    """One entry by `actor` or the request's user, or by `username` when nobody is signed in
    (a failed sign-in names the user it tried)."""
    user = actor or getattr(request, "user", None)
    user = user if user is not None and user.is_authenticated else None
    entry = AuditEntry.objects.create(
        user=user,
        username=(user.get_username() if user else username[:150]) or "(anonymous)",
        operation=operation,
        target=target,
        outcome=outcome,
        detail=scrub(detail or {}),
        error=error[:2000],
    )
    logger.info(
        "audit user=%s op=%s target=%s outcome=%s",
        _one_line(entry.username),
        operation,
        _one_line(target),
        outcome,
    )
    return entry


_BREAKS = regex.compile(r"[\p{Cc}\p{Zl}\p{Zp}]+")


def _one_line(value: str) -> str:
    """For the log line: a name typed by anyone (a failed sign-in's username) cannot start a
    line of its own or carry terminal escapes."""
    return _BREAKS.sub(" ", value)[:300]


@contextlib.contextmanager
def audited(
    request: HttpRequest,
    service: str,
    operation: str,
    target: str,
    params: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Record the AWS call made inside the block, whether it succeeds or fails."""
    detail = redact(service, operation, params or {}) if params else {}
    try:
        yield
    except Exception as exc:
        record(request, operation, target, AuditEntry.FAILED, detail=detail, error=str(exc))
        raise
    record(request, operation, target, AuditEntry.OK, detail=detail)
