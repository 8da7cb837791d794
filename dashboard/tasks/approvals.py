"""One approval request: finding it in its execution's journal, and the guard every way of
answering it goes through (the inbox, the task page's banner and Actions panel, the journal,
the approval page): an approval answered already (in another tab, by another person, outside
the console) says so and changes nothing; one that expired says it expired.

Who answered comes from the audit log when it was this console (AWS does not say who), else
from the response record's user reference when it has one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from dashboard.aws import tasks as aws_tasks
from dashboard.core.models import AuditEntry

from .templatetags.task_display import journal_view, label, when

PAGES = 10  # pages of 100 records looked through for a request or its answer

# Statuses in which the agent no longer waits for an answer to anything.
_DONE = {"COMPLETED", "FAILED", "CANCELED", "SKIPPED"}


def find(
    space_id: str, execution_id: str, approval_id: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The APPROVAL_REQUEST record for `approval_id` and its APPROVAL_RESPONSE, if any."""
    found: dict[str, dict[str, Any] | None] = {"APPROVAL_REQUEST": None, "APPROVAL_RESPONSE": None}
    for record_type in found:
        token = None
        for _ in range(PAGES):
            page = aws_tasks.list_journal(
                space_id, execution_id, record_type=record_type, limit=100, next_token=token
            )
            for record in page["records"]:
                view = journal_view(record)
                if view.get("approvalId") == approval_id and view["kind"] != "generic":
                    found[record_type] = record
            token = page.get("nextToken")
            if not token or found[record_type]:
                break
    return found["APPROVAL_REQUEST"], found["APPROVAL_RESPONSE"]


@dataclass(frozen=True)
class Closed:
    """Why an approval can no longer be answered: "answered" or "expired", in words."""

    reason: str
    message: str


def answered_by(approval_id: str, response: dict[str, Any] | None) -> str:
    """ "by alice at 2026-05-04 09:01:00 UTC", as well as it is known."""
    entry = (
        AuditEntry.objects.filter(
            operation="UpdateApprovalAction", target=approval_id, outcome=AuditEntry.OK
        )
        .order_by("-at", "-id")
        .first()
    )
    if entry is not None:
        return f"by {entry.username} at {when(entry.at)}"
    view = journal_view(response) if response else {}
    at = (response or {}).get("createdAt")
    moment = f" at {when(at)}" if isinstance(at, dt.datetime) else ""
    user = view.get("user")
    if user:
        return f"by {user['id']}{moment}"
    return f"outside this console{moment}"


def closed(
    approval_id: str,
    request: dict[str, Any] | None,
    response: dict[str, Any] | None,
    task: dict[str, Any] | None,
    now: dt.datetime | None = None,
) -> Closed | None:
    """None while the approval can be answered; else why not."""
    now = now or timezone.now()
    if response is not None:
        view = journal_view(response)
        action = str(view.get("action") or "")
        reason = f": {view['reason']}" if view.get("reason") else ""
        return Closed(
            "answered",
            f"This approval was already answered ({action.lower()}{reason}) "
            f"{answered_by(approval_id, response)}. Nothing was changed.",
        )
    expires = journal_view(request).get("expires") if request else None
    status = str((task or {}).get("status") or "")
    if (isinstance(expires, dt.datetime) and expires <= now) or status == "TIMED_OUT":
        moment = f" at {when(expires)}" if isinstance(expires, dt.datetime) else ""
        return Closed(
            "expired",
            f"This approval request expired{moment}: the agent stopped waiting for an answer. "
            "Nothing was sent.",
        )
    if status in _DONE:
        return Closed(
            "expired",
            f"The task is {label(status).lower()}: the agent no longer waits for this "
            "approval. Nothing was sent.",
        )
    return None
