"""The triage watches piece by piece: what each fetch asks AWS for, the fragments each render
makes (role-neutral, no CSRF token, no database), the pages' live wiring, and the broadcast on
write recording what it sent so the watcher does not send it again."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dashboard.aws import clients as aws_clients
from dashboard.aws import tasks as aws_tasks
from dashboard.live import CREATED, DELETED, UPDATED, Change, status_placeholder, store
from dashboard.tasks import live
from dashboard.tasks.filters import STATUSES

from .test_views_task_support import triage_task

WHEN = dt.datetime(2026, 5, 4, 9, 30, 15, 123456, tzinfo=dt.UTC)
TASK = {
    "agentSpaceId": "space-1",
    "taskId": "task-1",
    "executionId": None,
    "title": "Disk <full> on ledger-db",
    "description": "Alarm fired",
    "reference": None,
    "taskType": "INVESTIGATION",
    "priority": "HIGH",
    "status": "PENDING_TRIAGE",
    "createdAt": WHEN,
    "updatedAt": WHEN,
    "version": 3,
    "supportMetadata": None,
    "metadata": {"source": "API"},
    "primaryTaskId": None,
    "statusReason": None,
    "hasLinkedTasks": False,
}
EXECUTION = {
    "agentSpaceId": "space-1",
    "executionId": "exec-1",
    "agentSubTask": "ROOT_CAUSE_ANALYSIS",
    "createdAt": WHEN,
    "updatedAt": WHEN,
    "executionStatus": "RUNNING",
}
APPROVAL = {
    "agentSpaceId": "space-1",
    "executionId": "exec-1",
    "recordId": "rec-1",
    "recordType": "APPROVAL_REQUEST",
    "createdAt": WHEN,
    "content": {"approvalId": "appr-1", "tool": "ecs:UpdateService", "reason": "Roll back"},
}
ANSWER = {
    **APPROVAL,
    "recordId": "rec-2",
    "recordType": "APPROVAL_RESPONSE",
    "content": {"approvalId": "appr-1", "action": "APPROVED"},
}

BOARD_KEY = "board:space-1"
TASK_KEY = "task:space-1:task-1"
JOURNAL_KEY = "journal:space-1:exec-1"


class Calls:
    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.count = 0
        aws_clients.client("devops-agent").meta.events.register("before-call", self)

    def __call__(self, model, **kwargs) -> None:
        self.count += model.name == self.operation


# --- renders: pure, role-neutral -------------------------------------------------------------
# No django_db mark: pytest-django fails any database access in these tests.


def test_a_board_row_carries_what_the_tab_filters_and_sorts_by():
    html = live.render_board(Change(BOARD_KEY, UPDATED, "task-1", live.board_item(TASK)))
    assert html.startswith('<tbody hx-swap-oob="beforeend:#task-rows">')
    row = re.search(r"<tr [^>]*>", html).group(0)
    for attribute in (
        'id="task-task-1"',
        'data-live="updated"',
        'data-status="PENDING_TRIAGE"',
        'data-priority="HIGH"',
        'data-priority-rank="4"',
        'data-type="INVESTIGATION"',
        'data-primary=""',
        'data-created-at="2026-05-04T09:30:15.123456+00:00"',
        'data-created-us="1777887015123456"',
        'data-version="3"',
    ):
        assert attribute in row, attribute
    assert "Disk &lt;full&gt; on ledger-db" in html
    # The selection box, for operators only (the page hides it from others); no CSRF token.
    pick = '<td class="pick operator-only"><input type="checkbox" name="task" value="task-1:3"'
    assert pick in html
    assert "csrfmiddlewaretoken" not in html


def test_a_deleted_task_and_the_counts():
    deleted = live.render_board(Change(BOARD_KEY, DELETED, "task-1", None))
    assert 'id="task-task-1" data-live="deleted" hidden' in deleted
    counts = live.render_board(Change(BOARD_KEY, UPDATED, live.COUNTS, {"IN_PROGRESS": 2}))
    assert (
        '<span id="board-total" class="visually-hidden" hx-swap-oob="true">In this space, 2 tasks:'
        in (counts)
    )
    for status in STATUSES:
        n = 2 if status == "IN_PROGRESS" else 0
        assert f'<b id="chip-count-{status}" hx-swap-oob="true">{n}</b>' in counts


def test_the_task_summary_and_actions_panel():
    moved = {**TASK, "status": "PENDING_START", "version": 4}
    html = live.render_task(Change(TASK_KEY, UPDATED, live.TASK_ITEM, moved, TASK))
    assert 'id="task-summary-task-1"' in html and 'hx-swap-oob="outerHTML"' in html
    assert 'id="task-actions" class="task-actions" hx-swap-oob="true"' in html
    assert "Cancel task" in html and 'name="version" value="4"' in html
    assert "csrfmiddlewaretoken" not in html
    # Only the description changed: the panel (status and version) is not sent again.
    same = {**moved, "description": "More detail"}
    html = live.render_task(Change(TASK_KEY, UPDATED, live.TASK_ITEM, same, moved))
    assert "task-summary-task-1" in html and "task-actions" not in html


def test_a_new_execution_and_an_execution_that_changed():
    key = live.EXECUTION_PREFIX + "exec-1"
    html = live.render_task(Change(TASK_KEY, CREATED, key, EXECUTION))
    assert html.startswith('<div hx-swap-oob="afterbegin:#executions-task-1">')
    assert 'data-execution-id="exec-1"' in html and 'data-live="created"' in html
    assert 'id="journal-exec-1"' in html and 'id="execution-head-exec-1"' in html
    assert str(status_placeholder(JOURNAL_KEY)) in html
    stopped = {**EXECUTION, "executionStatus": "STOPPED"}
    html = live.render_task(Change(TASK_KEY, UPDATED, key, stopped, EXECUTION))
    assert html.startswith('<header class="execution-head" id="execution-head-exec-1" hx-swap-oob')
    assert "Stopped" in html
    assert live.render_task(Change(TASK_KEY, DELETED, key, None, EXECUTION)) == ""


def test_journal_records_are_role_neutral():
    html = live.render_journal(Change(JOURNAL_KEY, CREATED, "rec-1", APPROVAL))
    assert html.startswith('<ol hx-swap-oob="beforeend:#journal-exec-1">')
    item = re.search(r"<li [^>]*>", html).group(0)
    assert 'id="record-rec-1"' in item and 'data-type="APPROVAL_REQUEST"' in item
    assert 'data-approval-id="appr-1"' in item and 'data-live="created"' in item
    assert 'data-created-us="1777887015123456"' in item
    # The approval form goes to everyone, marked for operators (the server refuses others).
    assert '<div class="operator-only approval-controls">' in html and ">Approve</button>" in html
    assert "csrfmiddlewaretoken" not in html
    answer = live.render_journal(Change(JOURNAL_KEY, CREATED, "rec-2", ANSWER))
    assert 'data-approval-id="appr-1"' in answer and 'data-action="APPROVED"' in answer
    gone = live.render_journal(Change(JOURNAL_KEY, DELETED, "rec-2", None))
    assert 'id="record-rec-2" data-live="deleted"' in gone


# --- fetches ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_board_fetch_is_one_list_call_for_a_space_under_1000_tasks(space, monkeypatch):
    sid = space["agentSpaceId"]
    made = [triage_task(sid, title=f"Alarm {n}") for n in range(5)]
    aws_tasks.update_status(sid, made[0]["taskId"], "SKIPPED")
    calls = Calls("ListBacklogTasks")
    items = live.fetch_board(sid)
    assert calls.count == 1
    assert items[live.COUNTS] == {"PENDING_TRIAGE": 4, "SKIPPED": 1}
    assert set(items) == {t["taskId"] for t in made} | {live.COUNTS}
    assert set(items[made[1]["taskId"]]) == set(live.ROW_FIELDS)
    # Bigger spaces take one more call per page (1000 in life, 2 here).
    monkeypatch.setattr(live, "BOARD_PAGE", 2)
    calls.count = 0
    assert live.fetch_board(sid) == items
    assert calls.count == 3


@pytest.mark.django_db
def test_the_task_fetch_and_execution_ids(space):
    sid = space["agentSpaceId"]
    task = triage_task(sid)
    calls = Calls("ListExecutions")
    items = live.fetch_task(sid, task["taskId"])
    assert items == {live.TASK_ITEM: task} and calls.count == 1
    assert live.execution_ids(sid, task["taskId"]) == [] and calls.count == 2
    # With the task watch's snapshot, no AWS call.
    store.save(live.task_key(sid, task["taskId"]), {**items, "execution:e-1": EXECUTION})
    assert live.execution_ids(sid, task["taskId"]) == ["e-1"] and calls.count == 2


@pytest.mark.django_db
def test_the_journal_fetch_reads_every_page_up_to_the_cap(monkeypatch):
    pages = [{"records": [{"recordId": f"r{n}"}], "nextToken": f"t{n}"} for n in range(30)]
    asked: list[tuple] = []

    def list_journal(space_id, execution_id, *, order, limit, next_token):
        asked.append((order, limit, next_token))
        return pages[len(asked) - 1]

    monkeypatch.setattr(live.aws_tasks, "list_journal", list_journal)
    items = live.fetch_journal("s", "e")
    assert len(asked) == live.JOURNAL_MAX_PAGES == len(items)
    assert asked[0] == ("ASC", 100, None) and asked[1][2] == "t0"
    assert list(items) == [f"r{n}" for n in range(live.JOURNAL_MAX_PAGES)]


# --- broadcast on write ----------------------------------------------------------------------


@pytest.fixture
def published(monkeypatch):
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(live, "publish", lambda key, html: sent.append((key, html)))
    return sent


@pytest.mark.django_db
def test_task_changed_publishes_to_the_board_and_the_task_page(space, published):
    sid = space["agentSpaceId"]
    task = triage_task(sid)
    board = live.board_key(sid)
    store.save(board, live.fetch_board(sid))
    changed = aws_tasks.update_status(sid, task["taskId"], "SKIPPED")

    live.task_changed(sid, changed)
    (board_sent, board_html), (task_sent, task_html) = published
    assert board_sent == board and task_sent == live.task_key(sid, task["taskId"])
    assert 'data-live="updated"' in board_html and 'data-status="SKIPPED"' in board_html
    assert '<b id="chip-count-SKIPPED" hx-swap-oob="true">1</b>' in board_html
    assert "task-summary-" in task_html and "task-actions" in task_html
    # Recorded in the snapshot in the fetch's shape: the next poll finds nothing new.
    assert store.load(board)["items"] == live.fetch_board(sid)


@pytest.mark.django_db
def test_task_changed_without_a_snapshot_sends_the_row_as_created(space, published):
    sid = space["agentSpaceId"]
    task = triage_task(sid)
    live.task_changed(sid, task)
    assert 'data-live="created"' in published[0][1] and "chip-count" not in published[0][1]
    assert store.load(live.board_key(sid)) is None  # no snapshot made of one task


@pytest.mark.django_db
def test_task_changed_never_fails_the_write(space, published, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("cache down")

    monkeypatch.setattr(live.store, "load", broken)
    monkeypatch.setattr(live.store, "merge", broken)
    live.task_changed(space["agentSpaceId"], TASK)
    assert published == []


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_board_page_is_wired_for_live_updates(viewer_client, operator_client, space):
    sid = space["agentSpaceId"]
    triage_task(sid)
    viewer = viewer_client.get(f"/spaces/{sid}/tasks/").content.decode()
    root = re.search(r'<div id="board-live"[^>]*>', viewer).group(0)
    assert f'hx-ext="ws" ws-connect="/ws/spaces/{sid}/board/"' in root
    assert "data-can-operate" not in root
    assert str(status_placeholder(live.board_key(sid))) in viewer
    assert '<div id="live-sync" hidden></div>' in viewer
    resync = re.search(r'<div id="board-resync"[^>]*>', viewer).group(0)
    assert 'hx-include="#board-filters"' in resync and "console:resync from:body" in resync
    # Every status has its chip (those counting nothing hidden), for live counts.
    assert viewer.count('class="chip st-') == len(STATUSES)
    assert '<b id="chip-count-PENDING_TRIAGE">1</b>' in viewer
    operator = operator_client.get(f"/spaces/{sid}/tasks/").content.decode()
    assert "data-can-operate" in re.search(r'<div id="board-live"[^>]*>', operator).group(0)


@pytest.mark.django_db
def test_an_empty_board_still_has_its_table_for_live_rows(viewer_client, space):
    body = viewer_client.get(f"/spaces/{space['agentSpaceId']}/tasks/").content.decode()
    assert '<tbody id="task-rows">' in body and "No tasks yet" in body


@pytest.mark.django_db
def test_the_task_page_is_wired_for_live_updates(viewer_client, operator_client, space):
    sid = space["agentSpaceId"]
    task = triage_task(sid)
    url = f"/spaces/{sid}/tasks/{task['taskId']}/"
    viewer = viewer_client.get(url).content.decode()
    root = re.search(r'<div id="task-live"[^>]*>', viewer).group(0)
    assert f'ws-connect="/ws/spaces/{sid}/tasks/{task["taskId"]}/"' in root
    assert "data-can-operate" not in root
    assert str(status_placeholder(live.task_key(sid, task["taskId"]))) in viewer
    assert f'id="executions-{task["taskId"]}"' in viewer
    # Where a pushed actions panel lands for a viewer: hidden, and nothing in it.
    assert (
        '<div class="operator-only" hidden><div id="actions-approval"></div>'
        '<div id="task-actions"></div></div>'
    ) in viewer
    operator = operator_client.get(url).content.decode()
    assert "data-can-operate" in re.search(r'<div id="task-live"[^>]*>', operator).group(0)
    assert operator.count('id="task-actions"') == 1
