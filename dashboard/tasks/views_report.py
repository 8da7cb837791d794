"""A task's incident report: a printable page and the same as a Markdown file
(dashboard/tasks/report.py reads and writes it)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import report as reports
from .templatetags.task_display import journal_view


@require_GET
def report(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    made = reports.gather(space_id, task_id)
    context = {
        "report": made,
        "space": made.space,
        "space_id": space_id,
        "task": made.task,
        "root_cause_view": journal_view(made.root_cause) if made.root_cause else None,
    }
    return render(request, "tasks/report.html", context)


@require_GET
def report_markdown(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    made = reports.gather(space_id, task_id)
    base = f"{request.scheme}://{request.get_host()}"
    response = HttpResponse(
        reports.markdown(made, base_url=base), content_type="text/markdown; charset=utf-8"
    )
    name = "".join(c for c in task_id if c.isalnum() or c in "-_")[:80]
    response["Content-Disposition"] = f'attachment; filename="incident-{name}.md"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
