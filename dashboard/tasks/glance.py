"""The investigation at a glance: what the task page shows above the journal.

From the task's current execution: the newest record (what the agent did last), the approval it
waits for (a request without an answer, while the task waits), the newest root cause and the
findings. One ListJournalRecords call (newest first, 100 records) covers an ordinary
investigation; a longer journal costs one typed call per part the first page did not hold.
"""

from __future__ import annotations

from typing import Any

from dashboard.aws import tasks as aws_tasks

from .templatetags.task_display import journal_view

PAGE = 100  # ListJournalRecords' maximum
WAITING = "PENDING_CUSTOMER_APPROVAL"


def empty() -> dict[str, Any]:
    return {"latest": None, "approval": None, "root_cause": None, "findings": []}


def read(space_id: str, task: dict[str, Any]) -> dict[str, Any]:
    execution_id = task.get("executionId")
    out = empty()
    if not execution_id:
        return out
    execution_id = str(execution_id)
    page = aws_tasks.list_journal(space_id, execution_id, order="DESC", limit=PAGE)
    records = page["records"]
    whole = not page.get("nextToken")
    out["latest"] = records[0] if records else None

    def of(record_type: str, *, order: str = "DESC", limit: int = PAGE) -> list[dict[str, Any]]:
        found = [r for r in records if r.get("recordType") == record_type]
        if found or whole:
            return found if order == "DESC" else list(reversed(found))
        return aws_tasks.list_journal(
            space_id, execution_id, record_type=record_type, order=order, limit=limit
        )["records"]

    causes = [r for r in of("ROOT_CAUSE", limit=1) if journal_view(r)["kind"] == "root_cause"]
    out["root_cause"] = causes[0] if causes else None
    findings = of("FINDING", order="ASC")
    out["findings"] = [r for r in findings if journal_view(r)["kind"] == "finding"]
    if task.get("status") == WAITING:
        answered = {journal_view(r).get("approvalId") for r in of("APPROVAL_RESPONSE")} - {None}
        for record in of("APPROVAL_REQUEST", limit=10):
            view = journal_view(record)
            if view["kind"] == "approval_request" and view["approvalId"] not in answered:
                out["approval"] = record
                break
    return out
