"""Helpers for the task page tests (no tests here): tasks with a known future, the sandbox's
clock, and reading the forms a page draws."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from django.utils import timezone

from dashboard.aws import tasks as aws_tasks

HX = {"HX-Request": "true"}
START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def create(space_id: str, fate: str = "any", **extra: Any) -> dict[str, Any]:
    """A task created through the console's AWS layer whose (deterministic) sandbox script has
    `fate`: "approval" (asks for one; "approval_ttl" / "approval_no_ttl": offering a TTL or
    not), "complete" (finishes without one), "fail" or "any".
    Misses are canceled at once: they hold no slot and write nothing."""
    from dashboard.sandbox import scripts

    params: dict[str, Any] = {
        "task_type": "INVESTIGATION",
        "title": "Elevated 5xx on checkout-api",
        "priority": "HIGH",
        **extra,
    }
    for _ in range(200):
        task = aws_tasks.create_task(space_id, **params)
        if fate == "any":
            return task
        script = scripts.script_for(task["taskId"], task["title"], task["taskType"])
        ttl = any(
            s.record_type == "APPROVAL_REQUEST" and s.content.get("ttlSecondsAllowed")
            for s in script.steps
        )
        fits = {
            "approval": script.has_approval,
            "approval_ttl": script.has_approval and ttl,
            "approval_no_ttl": script.has_approval and not ttl,
            "fail": script.outcome == "FAILED",
            "complete": not script.has_approval and script.outcome == "COMPLETED",
        }[fate]
        if fits:
            return task
        aws_tasks.update_status(space_id, task["taskId"], "CANCELED")
    raise AssertionError(f"no task with fate {fate!r} in 200 tries")


def triage_task(space_id: str, **extra: Any) -> dict[str, Any]:
    """A task waiting for triage (PENDING_TRIAGE), as integrations file them; the API creates
    tasks ready to start, so this one is filed through the sandbox's own rules."""
    from dashboard.sandbox import tasks as sandbox_tasks
    from dashboard.sandbox.models import AgentSpace

    values: dict[str, Any] = {
        "task_type": "INVESTIGATION",
        "title": "Disk usage alarm on ledger-db",
        "priority": "MEDIUM",
        **extra,
    }
    row = sandbox_tasks.create_task(
        AgentSpace.objects.get(pk=space_id), status="PENDING_TRIAGE", at=timezone.now(), **values
    )
    return aws_tasks.get_task(space_id, row.task_id)


def run_until(clock: Any, space_id: str, task_id: str, *statuses: str, step: float = 20) -> dict:
    """Move the sandbox's clock until the task reaches one of `statuses`."""
    for _ in range(400):
        task = aws_tasks.get_task(space_id, task_id)
        if task["status"] in statuses:
            return task
        clock.shift(step)
    raise AssertionError(f"task never reached {statuses}; it is {task['status']}")


def executions(space_id: str, task_id: str) -> list[dict[str, Any]]:
    return aws_tasks.list_executions(space_id, task_id)["executions"]


def records(space_id: str, execution_id: str, **kwargs: Any) -> list[dict[str, Any]]:
    return aws_tasks.list_journal(space_id, execution_id, **kwargs)["records"]


def forms(body: str) -> list[dict[str, Any]]:
    """Every POST form on the page: its action and the values it would submit as drawn
    (hidden and text inputs, textareas; the buttons' name/value separately)."""
    out = []
    for attrs, inner in re.findall(r'<form([^>]*method="post"[^>]*)>(.*?)</form>', body, re.S):
        action = re.search(r'action="([^"]*)"', attrs)
        data: dict[str, str] = {}
        for tag in re.findall(r"<input[^>]*>", inner):
            name = re.search(r'name="([^"]+)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            kind = re.search(r'type="([^"]+)"', tag)
            if not name or name.group(1) == "csrfmiddlewaretoken":
                continue
            if kind and kind.group(1) in ("checkbox", "radio") and "checked" not in tag:
                continue
            data[name.group(1)] = html.unescape(value.group(1)) if value else ""
        for name, text in re.findall(
            r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', inner, re.S
        ):
            data[name] = html.unescape(text).lstrip("\n")
        buttons = [
            (html.unescape(n), html.unescape(v), re.sub(r"<[^>]+>", "", label).strip())
            for n, v, label in re.findall(
                r'<button[^>]*?(?:name="([^"]*)")?[^>]*?(?:value="([^"]*)")?[^>]*>(.*?)</button>',
                inner,
                re.S,
            )
        ]
        out.append(
            {
                "action": html.unescape(action.group(1)) if action else "",
                "data": data,
                "buttons": buttons,
            }
        )
    return out


def form_with_button(body: str, label: str) -> dict[str, Any]:
    """The POST form whose button reads `label` (e.g. "Cancel task…")."""
    for form in forms(body):
        if any(text == label for _, _, text in form["buttons"]):
            return form
    labels = [text for form in forms(body) for _, _, text in form["buttons"]]
    raise AssertionError(f"no form with a {label!r} button; buttons: {labels}")


def text(response: Any) -> str:
    """The response as text, entities decoded, tags kept."""
    return html.unescape(response.content.decode())
