"""The backlog board: filters in the URL, the API's restrictions, paging, counts, bulk, export."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest

from dashboard.aws import tasks as aws_tasks
from dashboard.core.models import AuditEntry
from dashboard.tasks import views_board
from dashboard.tasks.filters import WHY_PRIORITY_AND_STATUS


def _url(space, suffix=""):
    return f"/spaces/{space['agentSpaceId']}/tasks/{suffix}"


def _make(space, n, **kwargs):
    out = []
    for i in range(n):
        params = {"task_type": "INVESTIGATION", "title": f"Task {i:03}", "priority": "MEDIUM"}
        params.update(kwargs)
        out.append(aws_tasks.create_task(space["agentSpaceId"], **params))
    return out


@pytest.fixture
def tasks(space):
    high = _make(space, 2, priority="HIGH", title="Checkout 5xx spike")
    low = _make(space, 3, priority="LOW", task_type="EVALUATION", title="Weekly evaluation")
    return high + low


def test_it_shows_the_board_with_each_tasks_facts(viewer_client, space, tasks):
    response = viewer_client.get(_url(space))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="task-row') == 5
    assert "Checkout 5xx spike" in body and "Weekly evaluation" in body
    assert "5 tasks" in body  # the per-status counts cover the whole space
    assert 'name="task"' not in body  # a viewer gets no bulk selection


def test_it_filters_by_priority_from_the_url(viewer_client, space, tasks):
    body = viewer_client.get(_url(space) + "?priority=HIGH").content.decode()
    assert body.count('class="task-row') == 2
    assert "Weekly evaluation" not in body


def test_an_htmx_filter_change_returns_only_the_board_region(viewer_client, space, tasks):
    response = viewer_client.get(_url(space) + "?type=EVALUATION", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="board">')
    assert "<html" not in body
    assert body.count('class="task-row') == 3


def test_a_rejected_combination_in_the_url_is_narrowed_with_a_notice(viewer_client, space, tasks):
    response = viewer_client.get(_url(space) + "?priority=HIGH&status=PENDING_START")
    assert response.status_code == 200
    body = response.content.decode()
    assert WHY_PRIORITY_AND_STATUS in body
    assert body.count('class="task-row') == 2


def test_options_that_would_be_rejected_are_disabled_with_the_reason(viewer_client, space, tasks):
    body = viewer_client.get(_url(space) + "?priority=HIGH&status=ALL").content.decode()
    # A single status with a priority needs a type; open work and all statuses stay open.
    assert re.search(r'<option value="PENDING_START"\s+disabled>', body)
    assert '<option value="">Open work</option>' in body
    assert re.search(r'<option value="ALL"\s+selected>', body)
    assert WHY_PRIORITY_AND_STATUS in body
    assert 'value="PRIORITY"  disabled' in body or 'value="PRIORITY" disabled' in body


@pytest.mark.parametrize("scope", ["", "ALL"])
def test_it_pages_with_load_more(viewer_client, space, scope):
    _make(space, 55)
    url = _url(space) + (f"?status={scope}" if scope else "")
    body = viewer_client.get(url).content.decode()
    assert body.count('class="task-row') == 50
    assert 'id="load-more"' in body
    more_link = html.unescape(
        body.split('id="load-more"', 1)[1].split('href="?', 1)[1].split('"')[0]
    )
    assert ("offset=50" in more_link) == (scope == "")  # open work is merged: it pages itself
    more = viewer_client.get(_url(space) + f"?{more_link}", HTTP_HX_REQUEST="true")
    rows = more.content.decode()
    assert rows.count('class="task-row') == 5
    assert 'id="load-more"' not in rows


def test_it_counts_tasks_per_status(viewer_client, space, tasks):
    body = viewer_client.get(_url(space)).content.decode()
    assert "chip st-" in body
    assert "<b>5</b>" in body or body.count("chip st-") >= 1


def test_bulk_changes_each_task_and_reports_per_task(operator_client, space, tasks):
    fresh = [aws_tasks.get_task(space["agentSpaceId"], t["taskId"]) for t in tasks[:3]]
    stale = fresh[2]
    aws_tasks.update_status(space["agentSpaceId"], stale["taskId"], "CANCELED")
    response = operator_client.post(
        _url(space, "bulk/"),
        {"target": "CANCELED", "task": [f"{t['taskId']}:{t['version']}" for t in fresh]},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "2 of 3 tasks set to Canceled" in body
    assert "changed since you selected it" in body
    for t in fresh[:2]:
        assert aws_tasks.get_task(space["agentSpaceId"], t["taskId"])["status"] == "CANCELED"
    assert AuditEntry.objects.filter(operation="UpdateBacklogTask", outcome="ok").count() == 2


def test_bulk_is_refused_to_a_viewer(viewer_client, space, tasks):
    response = viewer_client.post(
        _url(space, "bulk/"), {"target": "CANCELED", "task": [tasks[0]["taskId"]]}
    )
    assert response.status_code == 403
    assert aws_tasks.get_task(space["agentSpaceId"], tasks[0]["taskId"])["status"] != "CANCELED"


def test_bulk_without_a_selection_says_so(operator_client, space, tasks):
    response = operator_client.post(_url(space, "bulk/"), {"target": "CANCELED"}, follow=True)
    assert "Select at least one task" in response.content.decode()


def test_csv_export_has_every_task_the_filter_matches_across_pages(
    viewer_client, space, monkeypatch
):
    _make(space, 23, priority="HIGH")
    _make(space, 4, priority="LOW")
    monkeypatch.setattr(views_board, "EXPORT_PAGE_SIZE", 5)
    response = viewer_client.get(_url(space, "export.csv") + "?priority=HIGH")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 23
    assert {r["priority"] for r in rows} == {"HIGH"}
    assert len({r["taskId"] for r in rows}) == 23


def test_json_export_is_valid_and_complete(viewer_client, space, monkeypatch):
    _make(space, 12)
    monkeypatch.setattr(views_board, "EXPORT_PAGE_SIZE", 5)
    response = viewer_client.get(_url(space, "export.json"))
    data = json.loads(b"".join(response.streaming_content))
    assert len(data) == 12
    assert {"taskId", "title", "status", "version", "createdAt"} <= set(data[0])


def test_an_unknown_export_format_is_not_found(viewer_client, space):
    assert viewer_client.get(_url(space, "export.xml")).status_code == 404


def test_a_board_of_a_missing_space_is_a_friendly_404(viewer_client, db):
    response = viewer_client.get("/spaces/does-not-exist/tasks/")
    assert response.status_code == 404
    assert b"Traceback" not in response.content


def test_counts_come_from_the_board_watch_while_it_polls(viewer_client, space, tasks, monkeypatch):
    from django.core.cache import cache

    from dashboard.live import store
    from dashboard.tasks import live

    key = live.board_key(space["agentSpaceId"])
    cache.delete(f"board-counts:{space['agentSpaceId']}")
    store.save(key, {live.COUNTS: {"IN_PROGRESS": 7, "COMPLETED": 2}})
    assert store.claim_lease(key, "poller-token", 30)
    listed = []  # counting lists every task: no filter (the open work's lists have one)
    real = aws_tasks.iter_tasks

    def spy(*a, **k):
        if not k.get("filter"):
            listed.append(a)
        return real(*a, **k)

    monkeypatch.setattr(aws_tasks, "iter_tasks", spy)
    body = viewer_client.get(_url(space)).content.decode()
    assert "9 tasks" in body  # the watch's figures, not a recount
    assert listed == []
    store.release_lease(key, "poller-token")
    body = viewer_client.get(_url(space)).content.decode()
    assert "5 tasks" in body and listed  # nobody polls: counted afresh


def test_a_stale_page_link_starts_again_from_the_first_page(viewer_client, space, tasks):
    for token in ("not-a-token", "x" * 5000):
        response = viewer_client.get(_url(space) + f"?next={token}&priority=HIGH&status=ALL")
        assert response.status_code == 200
        body = response.content.decode()
        assert "That page link no longer works; showing the first page." in body
        assert body.count('class="task-row') == 2  # the filter is kept


@pytest.mark.parametrize("version", ["²", "9" * 5000, "-1", "x"])
def test_bulk_with_a_malformed_selection_changes_nothing_and_says_so(
    operator_client, space, tasks, version
):
    task = tasks[0]
    response = operator_client.post(
        _url(space, "bulk/"),
        {"target": "CANCELED", "task": [f"{task['taskId']}:{version}"]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "0 of 1 task set to Canceled." in body and "garbled" in body
    assert aws_tasks.get_task(space["agentSpaceId"], task["taskId"])["status"] != "CANCELED"


@pytest.mark.parametrize("selected", ["a/b:1", "../x:2", "?:3"])
def test_bulk_with_an_id_no_url_can_hold_reports_it_without_a_link(
    operator_client, space, tasks, selected
):
    response = operator_client.post(
        _url(space, "bulk/"), {"target": "CANCELED", "task": [selected]}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "0 of 1 task set to Canceled." in response.content.decode()


def test_csv_export_cells_cannot_run_as_spreadsheet_formulas(viewer_client, space):
    titles = ['=HYPERLINK("https://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "Plain"]
    for title in titles:
        _make(space, 1, title=title)
    response = viewer_client.get(_url(space, "export.csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    shown = {r["title"] for r in rows}
    assert shown == {"'" + t for t in titles[:4]} | {"Plain"}
    # The JSON export keeps the titles as they are: it is data, not a spreadsheet.
    data = json.loads(b"".join(viewer_client.get(_url(space, "export.json")).streaming_content))
    assert {t["title"] for t in data} == set(titles)


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("primary=not%20a%20task!", "Ignored primary task 'not a task!': not a task id."),
        ("created_after=2026-02-01&created_before=2026-01-01", None),
    ],
)
def test_filters_the_api_would_refuse_are_dropped_with_a_notice(
    viewer_client, space, tasks, query, notice
):
    response = viewer_client.get(_url(space) + "?" + query)
    assert response.status_code == 200  # was the ValidationException page for primary
    if notice:
        assert notice in html.unescape(response.content.decode())


def test_bulk_cancel_without_javascript_asks_first(operator_client, space, tasks):
    """With htmx the browser confirms (hx-confirm); a plain post must not cancel at once."""
    picked = [f"{t['taskId']}:{t['version']}" for t in tasks[:2]]
    response = operator_client.post(_url(space, "bulk/"), {"target": "CANCELED", "task": picked})
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "Cancel 2 tasks?" in body
    for t in tasks[:2]:
        assert t["title"] in body
        assert aws_tasks.get_task(space["agentSpaceId"], t["taskId"])["status"] != "CANCELED"
    assert body.count('name="task"') == 2 and 'name="confirm" value="1"' in body
    confirmed = {"target": "CANCELED", "task": picked, "confirm": "1"}
    response = operator_client.post(_url(space, "bulk/"), confirmed)
    assert response.status_code == 302
    for t in tasks[:2]:
        assert aws_tasks.get_task(space["agentSpaceId"], t["taskId"])["status"] == "CANCELED"
