"""The board opens on open work: pending triage, pending start, in progress and waiting for
approval, critical and high first, then the oldest. ListBacklogTasks takes one status per call
and sorts by priority only without a status filter, so the board makes one call per open
status, sorted by creation time, and merges them; these tests check the calls it makes against
the API's documented restrictions (the sandbox enforces them too) and the order it shows."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dashboard.aws import clients as aws_clients
from dashboard.aws import tasks as aws_tasks
from dashboard.sandbox.models.core import BacklogTask
from dashboard.tasks.filters import OPEN_STATUSES, PRIORITIES, STATUSES, TASK_TYPES

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


class Calls:
    """The ListBacklogTasks calls made, with their parameters as the console passed them."""

    def __init__(self) -> None:
        self.made: list[dict] = []
        events = aws_clients.client("devops-agent").meta.events
        events.register("before-parameter-build.devops-agent.ListBacklogTasks", self)

    def __call__(self, params, **kwargs) -> None:
        self.made.append(dict(params))

    def lists(self) -> list[dict]:
        return [c for c in self.made if c.get("filter")]


def _task(space, title, priority, status, minutes, task_type="INVESTIGATION"):
    task = aws_tasks.create_task(
        space["agentSpaceId"], task_type=task_type, title=title, priority=priority
    )
    # Freeze the emulated agent: the task stays where the test puts it.
    BacklogTask.objects.filter(task_id=task["taskId"]).update(
        status=status, created_at=T0 + dt.timedelta(minutes=minutes), next_due_at=None
    )
    return task["taskId"]


@pytest.fixture
def backlog(space):
    """A task per status, and some open ones of each priority at different ages."""
    made = {}
    for i, status in enumerate(STATUSES):
        made[f"{status}-low"] = _task(space, f"{status} low", "LOW", status, i)
    made["old-high"] = _task(space, "Old high", "HIGH", "PENDING_TRIAGE", -100)
    made["new-high"] = _task(space, "New high", "HIGH", "IN_PROGRESS", 100)
    made["critical"] = _task(space, "Critical one", "CRITICAL", "PENDING_START", 200)
    made["evaluation"] = _task(
        space, "Evaluation", "MEDIUM", "PENDING_CUSTOMER_APPROVAL", 50, "EVALUATION"
    )
    return made


def _rows(body: str) -> list[str]:
    return re.findall(r'<tr id="task-([^"]+)"[^>]*class="task-row', body)


def _url(space, query=""):
    return f"/spaces/{space['agentSpaceId']}/tasks/{query}"


def test_the_default_view_is_open_work_from_one_call_per_open_status(viewer_client, space, backlog):
    calls = Calls()
    body = viewer_client.get(_url(space)).content.decode()
    lists = calls.lists()
    assert sorted(c["filter"]["status"] for c in lists) == sorted([s] for s in OPEN_STATUSES)
    for call in lists:
        # One status, nothing else filtered, and the only sort a status filter allows.
        assert set(call["filter"]) == {"status"} and len(call["filter"]["status"]) == 1
        assert call["sortField"] == "CREATED_AT"
    # The rest are the per-status counts: every task, unfiltered.
    assert all(not c.get("filter") for c in calls.made if c not in lists)

    shown = _rows(body)
    open_ids = {
        tid for key, tid in backlog.items() if any(key.startswith(s) for s in OPEN_STATUSES)
    }
    open_ids |= {backlog[k] for k in ("old-high", "new-high", "critical", "evaluation")}
    assert set(shown) == open_ids
    # Critical and high first, then the oldest within a priority.
    assert shown[:3] == [backlog["critical"], backlog["old-high"], backlog["new-high"]]
    ranks = [PRIORITIES.index(t.priority) for t in map(_model, shown)]
    assert ranks == sorted(ranks)
    medium_and_low = [t for t in map(_model, shown) if t.priority == "LOW"]
    assert [t.created_at for t in medium_and_low] == sorted(t.created_at for t in medium_and_low)


def _model(task_id: str) -> BacklogTask:
    return BacklogTask.objects.get(task_id=task_id)


def test_open_work_with_a_priority_asks_per_status_and_type(viewer_client, space, backlog):
    calls = Calls()
    body = viewer_client.get(_url(space, "?priority=HIGH")).content.decode()
    lists = calls.lists()
    # Priority and status together need a type: one call per open status and task type.
    pairs = sorted((c["filter"]["status"][0], c["filter"]["taskType"][0]) for c in lists)
    assert pairs == sorted((s, t) for s in OPEN_STATUSES for t in TASK_TYPES)
    assert all(c["filter"]["priority"] == ["HIGH"] for c in lists)
    assert _rows(body) == [backlog["old-high"], backlog["new-high"]]


def test_open_work_with_a_type_keeps_one_call_per_status(viewer_client, space, backlog):
    calls = Calls()
    body = viewer_client.get(_url(space, "?type=EVALUATION")).content.decode()
    assert len(calls.lists()) == len(OPEN_STATUSES)
    assert all(c["filter"]["taskType"] == ["EVALUATION"] for c in calls.lists())
    assert _rows(body) == [backlog["evaluation"]]


def test_all_statuses_is_one_click_away_and_one_call(viewer_client, space, backlog):
    body = viewer_client.get(_url(space)).content.decode()
    link = re.search(r'<a id="scope-all" href="\?([^"]*)"', body)
    assert link and link.group(1) == "status=ALL"
    calls = Calls()
    everything = viewer_client.get(_url(space, "?status=ALL")).content.decode()
    assert len(_rows(everything)) == len(backlog)
    rows_call = [c for c in calls.made if c.get("limit") == 50]
    assert len(rows_call) == 1 and not rows_call[0].get("filter")


def test_newest_first_within_open_work(viewer_client, space, backlog):
    body = viewer_client.get(_url(space, "?sort=CREATED_AT")).content.decode()
    created = [_model(t).created_at for t in _rows(body)]
    assert created == sorted(created, reverse=True)


def test_export_of_open_work_has_the_same_tasks_in_utc(viewer_client, space, backlog):
    response = viewer_client.get(_url(space, "export.json"))
    import json

    rows = json.loads(b"".join(response.streaming_content))
    assert {r["status"] for r in rows} <= set(OPEN_STATUSES)
    assert rows[0]["taskId"] == backlog["critical"]
    assert all(r["createdAt"].endswith("+00:00") for r in rows)


def test_no_open_work_says_so_and_offers_all_statuses(viewer_client, space):
    _task(space, "Done", "HIGH", "COMPLETED", 0)
    body = viewer_client.get(_url(space)).content.decode()
    assert _rows(body) == []
    assert "No open work" in body and 'href="?status=ALL"' in body
