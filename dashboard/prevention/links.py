"""The link between a recommendation and the tasks started about it.

CreateBacklogTask takes no metadata, and its `reference` is for tickets of an integration (it
needs the integration's associationId), so the link travels in the task's description: a line
``Recommendation: <recommendationId>`` that the console writes when a task is created from a
recommendation and reads back on both pages. The agent reads it too, as context.

- `prefill` gives the create-task form's initial values for a recommendation;
- `with_marker` makes sure a description carries the line (within the API's 10,000 characters);
- `recommendation_id_in` finds it in a task's description;
- `tasks_about` finds the tasks about one recommendation (only tasks created after it can be).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import regex

from dashboard.aws import tasks as aws_tasks

DESCRIPTION_MAX = 10_000  # CreateBacklogTask's description
TITLE_MAX = 400
MARKER = "Recommendation: "
_MARKER_LINE = regex.compile(r"(?m)^Recommendation: ([A-Za-z0-9_.-]{1,128})[ \t]*$")
# Tasks created since the recommendation that are searched for the link (pages of 1000).
SEARCH_PAGES = 5
PRIORITY = {"HIGH": "HIGH", "MEDIUM": "MEDIUM", "LOW": "LOW"}
TASK_TYPES = ("INVESTIGATION", "EVALUATION")


def marker(rec_id: str) -> str:
    return MARKER + rec_id


def recommendation_id_in(description: str | None) -> str:
    """The recommendation a task is about, from its description ("" when none)."""
    found = _MARKER_LINE.search(description or "")
    return found.group(1) if found else ""


def with_marker(description: str, rec_id: str) -> str:
    """`description` ending with the recommendation's line, cut to fit the API's limit."""
    if recommendation_id_in(description) == rec_id:
        return description
    line = marker(rec_id)
    room = DESCRIPTION_MAX - len(line) - 2
    body = description.rstrip()
    if len(body) > room:
        note = " …"
        body = body[: room - len(note)].rstrip() + note
    return f"{body}\n\n{line}" if body else line


def prefill(rec: dict[str, Any], task_type: str) -> dict[str, str]:
    """The create-task form's initial values for a task about `rec`."""
    verb = "Evaluate" if task_type == "EVALUATION" else "Investigate"
    title = f"{verb}: {rec.get('title') or rec.get('recommendationId')}"
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    content = rec.get("content") or {}
    summary = str(content.get("summary") or "").strip()
    spec = str(content.get("spec") or "").strip()
    ask = (
        "Evaluate whether this recommendation fits our systems, what it would take and what "
        "could go wrong."
        if task_type == "EVALUATION"
        else "Investigate the problem this recommendation addresses and confirm its cause."
    )
    head = f"{ask}\n\nThe agent's recommendation “{rec.get('title', '')}”: {summary}".rstrip()
    line = marker(str(rec.get("recommendationId", "")))
    room = DESCRIPTION_MAX - len(head) - len(line) - 40
    if spec and room > 200:
        if len(spec) > room:
            spec = spec[:room].rstrip() + "\n… (the spec goes on: see the recommendation)"
        head = f"{head}\n\nSpec:\n{spec}"
    return {
        "task_type": task_type if task_type in TASK_TYPES else "INVESTIGATION",
        "title": title,
        "priority": PRIORITY.get(str(rec.get("priority")), "MEDIUM"),
        "description": with_marker(head, str(rec.get("recommendationId", ""))),
        "recommendation": str(rec.get("recommendationId", "")),
    }


def tasks_about(space_id: str, rec: dict[str, Any]) -> dict[str, Any]:
    """{"tasks": [...], "truncated": bool}: tasks whose description links to `rec`.

    ListBacklogTasks cannot search descriptions, so the tasks created since the
    recommendation are read (oldest first, pages of 1000) and matched here."""
    rec_id = rec.get("recommendationId")
    created = rec.get("createdAt")
    filter: dict[str, Any] = {}
    if isinstance(created, dt.datetime):
        filter["createdAfter"] = created
    found: list[dict[str, Any]] = []
    token = None
    for _ in range(SEARCH_PAGES):
        page = aws_tasks.list_tasks(
            space_id, filter=filter, order="ASC", limit=1000, next_token=token
        )
        found.extend(
            t for t in page["tasks"] if recommendation_id_in(t.get("description")) == rec_id
        )
        token = page.get("nextToken")
        if not token:
            return {"tasks": found, "truncated": False}
    return {"tasks": found, "truncated": True}


def about_recommendation(
    request: Any, space_id: str
) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    """For the create-task view: the recommendation named by ``?recommendation=`` (or the
    form's hidden field) and, on a GET, the form's initial values. An id that is malformed or
    unreadable gives a note instead; the form still works as a plain one."""
    from dashboard.aws import errors
    from dashboard.aws import prevention as aws_prevention

    from .forms import valid_id

    source = request.POST if request.method == "POST" else request.GET
    rec_id = (source.get("recommendation") or "").strip()
    if not rec_id:
        return None, None
    if not valid_id(rec_id):
        return {"recommendationId": rec_id[:128], "error": "This is not a recommendation id."}, None
    try:
        rec = aws_prevention.get_recommendation(space_id, rec_id)
    except errors.NotFound:
        return {"recommendationId": rec_id, "error": "No such recommendation in this space."}, None
    except (errors.AccessDenied, errors.Throttled, errors.Unavailable) as exc:
        note = f"It could not be read ({exc.message}); the task still links to it."
        return {"recommendationId": rec_id, "error": note}, {"recommendation": rec_id}
    if request.method == "POST":
        return rec, None
    task_type = (request.GET.get("type") or "INVESTIGATION").upper()
    return rec, prefill(rec, task_type)
