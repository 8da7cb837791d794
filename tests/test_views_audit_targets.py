"""The audit log shows each target by name with a link to it (dashboard/core/audit_targets.py),
for changes made through the console's own pages."""

from __future__ import annotations

import html
import re

from django.core.cache import cache

from dashboard.aws import chat as aws_chat
from dashboard.aws import clients as aws_clients
from dashboard.aws import tasks as aws_tasks


def _targets(admin_client) -> list[tuple[str, str, str]]:
    """(link, name, what) per entry, newest first."""
    body = admin_client.get("/audit/").content.decode()
    cells = re.findall(r'<td class="audit-target"[^>]*>(.*?)</td>', body, re.S)
    out = []
    for cell in cells:
        link = re.search(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', cell)
        what = re.search(r'<span class="muted small">([^<]+)</span>', cell)
        out.append(
            (
                link.group(1) if link else "",
                html.unescape(link.group(2) if link else re.sub(r"<[^>]+>", "", cell)).strip(),
                html.unescape(what.group(1)).strip() if what else "",
            )
        )
    return out


def test_targets_are_named_and_linked(admin_client, space):
    cache.clear()
    sid = space["agentSpaceId"]
    task = aws_tasks.create_task(
        sid, task_type="INVESTIGATION", title="Disk full on db-1", priority="HIGH"
    )
    admin_client.post(
        f"/spaces/{sid}/tasks/{task['taskId']}/status/",
        {
            "status": "CANCELED",
            "version": task["version"],
            "seen_status": task["status"],
            "confirm": "on",
        },
    )
    chat = aws_chat.create_chat(sid)
    admin_client.post(f"/spaces/{sid}/chat/{chat['executionId']}/rename/", {"summary": "Ledger"})
    admin_client.post(f"/spaces/{sid}/tags/", {"key": "team", "value": "core"})

    found = _targets(admin_client)
    assert (f"/spaces/{sid}/", "Payments", "agent space") in found  # the tag, by its ARN
    assert (f"/spaces/{sid}/chat/{chat['executionId']}/", "Ledger", "chat in Payments") in found
    assert (
        f"/spaces/{sid}/tasks/{task['taskId']}/",
        "Disk full on db-1",
        "task in Payments",
    ) in found


def test_names_are_kept_so_the_log_costs_few_calls(admin_client, space):
    cache.clear()
    sid = space["agentSpaceId"]
    for i in range(3):
        task = aws_tasks.create_task(sid, task_type="INVESTIGATION", title=f"T{i}", priority="LOW")
        admin_client.post(
            f"/spaces/{sid}/tasks/{task['taskId']}/status/",
            {
                "status": "CANCELED",
                "version": task["version"],
                "seen_status": task["status"],
                "confirm": "on",
            },
        )
    _targets(admin_client)
    made: list[str] = []
    aws_clients.client("devops-agent").meta.events.register(
        "before-call", lambda model, **kw: made.append(model.name)
    )
    names = [name for _, name, what in _targets(admin_client) if what.startswith("task")]
    assert sorted(names) == ["T0", "T1", "T2"]
    assert made == []  # every name came from the cache this time


def test_a_target_that_is_gone_keeps_its_id(admin_client, admin_user):
    from dashboard.core.models import AuditEntry

    AuditEntry.objects.create(
        user=admin_user,
        username="admin",
        operation="UpdateBacklogTask",
        target="0123456789abcdef",
        outcome="ok",
        detail={"agentSpaceId": "no-such-space", "taskId": "0123456789abcdef"},
    )
    found = _targets(admin_client)
    assert found[0][0] == "/spaces/no-such-space/tasks/0123456789abcdef/"
    assert found[0][1] == "01234567…"
