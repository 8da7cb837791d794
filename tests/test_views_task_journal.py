"""The journal: record-type filter, order, "Load more" paging (htmx and plain links), each
record type in its own layout, malformed records shown generically, and content escaped."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine
from django.template.loader import render_to_string

from dashboard.tasks import views_task

from .test_views_task_support import HX, START, create, executions, records, run_until


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def finished(space, clock):
    """A completed investigation (a full journal) and its one execution."""
    sid = space["agentSpaceId"]
    task = create(sid, "complete")
    run_until(clock, sid, task["taskId"], "COMPLETED")
    (execution,) = executions(sid, task["taskId"])
    return task, execution


def _journal_url(space: dict, task: dict, execution: dict) -> str:
    return (
        f"/spaces/{space['agentSpaceId']}/tasks/{task['taskId']}/executions/"
        f"{execution['executionId']}/journal/"
    )


def _record_ids(body: str) -> list[str]:
    return re.findall(r'<li class="record [^"]*" id="record-([^"]+)"', body)


def test_the_filter_shows_one_record_type(viewer_client, space, finished):
    task, execution = finished
    url = _journal_url(space, task, execution)
    response = viewer_client.get(url + "?type=DATA_FETCHED", headers=HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert f'id="journal-section-{execution["executionId"]}"' in body
    expected = records(space["agentSpaceId"], execution["executionId"], record_type="DATA_FETCHED")
    assert _record_ids(body) == [r["recordId"] for r in expected]
    assert len(expected) == 3
    assert '<option value="DATA_FETCHED" selected>' in body


def test_the_filter_works_on_the_task_page_without_javascript(viewer_client, space, finished):
    task, execution = finished
    body = viewer_client.get(
        f"/spaces/{space['agentSpaceId']}/tasks/{task['taskId']}/?type=FINDING&order=DESC"
    ).content.decode()
    ids = _record_ids(body)
    expected = records(
        space["agentSpaceId"], execution["executionId"], record_type="FINDING", order="DESC"
    )
    assert ids == [r["recordId"] for r in expected] and ids
    assert '<input type="radio" name="order" value="DESC" checked>' in body
    # The form reloads the task page (no JavaScript) and asks the journal endpoint (htmx).
    form = re.search(r'<form class="journal-filter"[^>]*>', body).group(0)
    assert f'action="/spaces/{space["agentSpaceId"]}/tasks/{task["taskId"]}/#execution-' in form
    assert 'hx-get="' + _journal_url(space, task, execution) + '"' in form


def test_order_desc_reverses_the_timeline(viewer_client, space, finished):
    task, execution = finished
    url = _journal_url(space, task, execution)
    asc = _record_ids(viewer_client.get(url + "?order=ASC", headers=HX).content.decode())
    desc = _record_ids(viewer_client.get(url + "?order=DESC", headers=HX).content.decode())
    assert asc and desc == list(reversed(asc))


def test_unknown_filter_values_are_ignored_not_errors(viewer_client, space, finished):
    task, execution = finished
    url = _journal_url(space, task, execution)
    response = viewer_client.get(url + "?type=<script>&order=sideways", headers=HX)
    assert response.status_code == 200
    assert len(_record_ids(response.content.decode())) > 5


def test_a_type_without_records_has_an_empty_state(viewer_client, space, finished):
    task, execution = finished
    url = _journal_url(space, task, execution)
    body = viewer_client.get(url + "?type=APPROVAL_RESPONSE", headers=HX).content.decode()
    assert _record_ids(body) == []
    assert "No approval response records in this execution." in body
    assert "Show all types" in body


def test_load_more_pages_through_the_journal_with_htmx(viewer_client, space, finished, monkeypatch):
    monkeypatch.setattr(views_task, "JOURNAL_PAGE", 4)
    task, execution = finished
    found = records(space["agentSpaceId"], execution["executionId"], order="ASC")
    everything = [r["recordId"] for r in found]
    assert len(everything) > 8

    body = viewer_client.get(f"/spaces/{space['agentSpaceId']}/tasks/{task['taskId']}/").content
    body = body.decode()
    seen = _record_ids(body)
    assert seen == everything[:4]
    for _ in range(10):
        more = re.search(
            r'<li class="load-more"><a class="button" href="([^"]+)" hx-get="([^"]+)"', body
        )
        if not more:
            break
        assert more.group(1) == more.group(2)  # the same link without JavaScript
        response = viewer_client.get(html.unescape(more.group(2)), headers=HX)
        assert response.status_code == 200
        body = response.content.decode()
        assert "journal-section" not in body  # only the next records and the next button
        seen += _record_ids(body)
    assert seen == everything


def test_load_more_keeps_the_filter_and_order(viewer_client, space, finished, monkeypatch):
    monkeypatch.setattr(views_task, "JOURNAL_PAGE", 1)
    task, execution = finished
    url = _journal_url(space, task, execution)
    body = viewer_client.get(url + "?type=DATA_FETCHED&order=DESC", headers=HX).content.decode()
    link = html.unescape(re.search(r'hx-get="([^"]+next=[^"]+)"', body).group(1))
    assert "type=DATA_FETCHED" in link and "order=DESC" in link
    second = viewer_client.get(link, headers=HX).content.decode()
    expected = records(
        space["agentSpaceId"], execution["executionId"], record_type="DATA_FETCHED", order="DESC"
    )
    assert _record_ids(body) + _record_ids(second)[:1] == [r["recordId"] for r in expected[:2]]


def test_the_journal_is_a_page_of_its_own_without_javascript(
    viewer_client, space, finished, monkeypatch
):
    monkeypatch.setattr(views_task, "JOURNAL_PAGE", 3)
    task, execution = finished
    url = _journal_url(space, task, execution)
    first = viewer_client.get(url)
    assert first.status_code == 200
    body = first.content.decode()
    assert "<html" in body and "Journal of" in body
    assert f'href="/spaces/{space["agentSpaceId"]}/tasks/{task["taskId"]}/">' in body
    link = html.unescape(
        re.search(r'<li class="load-more"><a class="button" href="([^"]+)"', body).group(1)
    )
    second = viewer_client.get(link)
    assert second.status_code == 200
    assert "Showing later records" in second.content.decode()
    assert set(_record_ids(second.content.decode())).isdisjoint(_record_ids(body))


def test_an_execution_of_another_task_is_not_found(viewer_client, space, finished):
    _, execution = finished
    other = create(space["agentSpaceId"])
    response = viewer_client.get(_journal_url(space, other, execution))
    assert response.status_code == 404


# --- each record type, from a record dict alone -----------------------------------------


def _record(record_type: str, content, **extra) -> dict:
    return {
        "agentSpaceId": "space-1",
        "executionId": "exec-1",
        "recordId": "rec-1",
        "recordType": record_type,
        "content": content,
        "createdAt": dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC),
        **extra,
    }


def _render(record, **context) -> str:
    return render_to_string("tasks/detail.html#record", {"record": record, **context})


def test_planning_is_a_step_list():
    body = _render(
        _record(
            "PLANNING",
            {"summary": "Find the cause", "steps": ["Look", {"title": "Check", "status": "DONE"}]},
        )
    )
    assert 'class="record record-planning"' in body and 'id="record-rec-1"' in body
    assert (
        '<ol class="plan-steps"><li>Look</li><li>Check '
        '<span class="tbadge tbadge-plain">Done</span>' in body
    )
    assert "Find the cause" in body
    assert "2026-05-04 09:30:00 UTC" in body


def test_data_fetched_shows_source_query_and_count():
    body = _render(
        _record(
            "DATA_FETCHED",
            {
                "source": "CloudWatch Logs",
                "query": "fields @message",
                "resultCount": 42,
                "sample": [{"t": "09:00", "v": 1}, {"t": "09:01", "v": 2}],
            },
        )
    )
    assert "Fetched <strong>42</strong> results from <strong>CloudWatch Logs</strong>" in body
    assert '<pre class="record-query">fields @message</pre>' in body
    assert '<table class="table compact doc-table">' in body  # rows of the same shape: a table


def test_a_finding_shows_its_severity():
    body = _render(
        _record(
            "FINDING",
            {
                "title": "Pool saturated",
                "severity": "HIGH",
                "details": "50/50",
                "evidence": ["alarm"],
            },
        )
    )
    assert '<span class="tbadge tone-failed">High</span> <strong>Pool saturated</strong>' in body
    assert "Evidence" in body and "<li>alarm</li>" in body


def test_the_root_cause_is_prominent_with_its_confidence():
    body = _render(
        _record(
            "ROOT_CAUSE",
            {
                "title": "Pool too small",
                "summary": "Traffic grew",
                "confidence": 0.87,
                "contributingFactors": ["No alarm"],
            },
        )
    )
    assert 'class="record record-root_cause"' in body
    assert '<p class="root-cause-title">Pool too small</p>' in body
    assert "87% confidence" in body
    assert 'value="87"' in body  # the meter
    assert "<li>No alarm</li>" in body


def test_a_user_request_is_a_quote_with_its_user():
    record = _record(
        "USER_REQUEST",
        {"text": "Is redis involved?"},
        userReference={"userId": "oncall-ann", "userType": "IAM"},
    )
    body = _render(record)
    assert '<blockquote class="user-request"><p>Is redis involved?</p>' in body
    assert "oncall-ann" in body and "(IAM)" in body


def test_an_update_is_a_status_line():
    body = _render(_record("UPDATE", {"text": "Investigation completed", "status": "COMPLETED"}))
    assert (
        '<p class="update-line"><span class="tbadge tone-ok">Completed</span> '
        "Investigation completed</p>" in body
    )


def test_an_approval_request_is_an_action_card():
    content = {
        "approvalId": "01890a5d-ac96-774b-bcce-b302099a8057",
        "tool": "aws___codedeploy_stop_deployment",
        "arguments": {"deploymentId": "d-1"},
        "reason": "Roll back",
        "ttlSecondsAllowed": True,
        "singleUseAllowed": False,
    }
    body = _render(_record("APPROVAL_REQUEST", content))
    assert '<div class="approval-card">' in body
    assert "<code>aws___codedeploy_stop_deployment</code>" in body
    assert "<dt>deploymentId</dt>" in body
    assert "Approve" not in body  # no controls without an operator's request


def test_an_approval_response_shows_the_answer():
    body = _render(
        _record(
            "APPROVAL_RESPONSE", {"approvalId": "a-1", "action": "REJECTED", "reason": "Not now"}
        )
    )
    assert '<span class="tbadge tone-failed">Rejected</span>' in body and "Not now" in body


@pytest.mark.parametrize(
    "content",
    [
        "just a string",
        ["a", "list", {"of": "things"}],
        None,
        42,
        {},
        {"unexpected": {"nested": [1, {"deep": True}]}, "items": [1, 2, 3]},
        {"summary": ["not", "text"], "steps": "not a list"},
        {"title": {"weird": 1}, "details": None},
    ],
)
@pytest.mark.parametrize(
    "record_type", ["PLANNING", "FINDING", "ROOT_CAUSE", "APPROVAL_REQUEST", "SOMETHING_NEW", ""]
)
def test_malformed_or_unknown_records_render_generically(record_type, content):
    body = _render(_record(record_type, content))
    assert 'id="record-rec-1"' in body
    assert "record-body" in body


def test_an_unknown_record_type_is_shown_as_key_value():
    body = _render(_record("CUSTOM_THING", {"alpha": "one", "beta": {"gamma": 2}}))
    assert 'class="record record-generic"' in body
    assert "Custom thing" in body
    assert '<dt>alpha</dt><dd><span class="doc-text">one</span></dd>' in body
    assert "<dt>gamma</dt>" in body


def test_a_record_that_is_not_even_a_dict_renders(rf=None):
    for record in (
        None,
        "text",
        [1, 2],
        {"recordType": 5, "content": {"a": 1}, "createdAt": "yesterday"},
    ):
        body = _render(record)
        assert "record-body" in body


def test_very_deep_content_becomes_pretty_json():
    deep: dict = {"v": 1}
    for _ in range(30):
        deep = {"level": deep}
    body = _render(_record("OBSERVATION", deep))
    assert '<pre class="doc-json">' in body


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.parametrize(
    "record",
    [
        _record("OBSERVATION", {"text": XSS}),
        _record(
            "FINDING",
            {"title": XSS, "severity": XSS, "details": XSS, "evidence": [XSS, {XSS: XSS}]},
        ),
        _record("PLANNING", {"summary": XSS, "steps": [XSS]}),
        _record(
            "DATA_FETCHED",
            {"source": XSS, "query": XSS, "resultCount": XSS, "sample": {XSS: [XSS]}},
        ),
        _record(
            "ROOT_CAUSE",
            {"title": XSS, "summary": XSS, "confidence": XSS, "contributingFactors": [XSS]},
        ),
        _record("USER_REQUEST", {"text": XSS}, userReference={"userId": XSS, "userType": XSS}),
        _record("UPDATE", {"text": XSS, "status": XSS}),
        _record(
            "APPROVAL_REQUEST",
            {"approvalId": XSS, "tool": XSS, "arguments": {XSS: XSS}, "reason": XSS},
        ),
        _record(XSS, {XSS: XSS}),
        {**_record("OBSERVATION", {"text": "x"}), "recordId": XSS},
    ],
)
def test_html_in_journal_content_is_escaped(record):
    body = _render(record, can_operate=True)
    assert "<script>" not in body
    assert "<img" not in body
    assert "&lt;script&gt;" in body or "&lt;SCRIPT&gt;" in body or "&lt;img" in body.lower()


def test_xss_in_a_live_journal_is_inert_on_the_page(viewer_client, space, finished, monkeypatch):
    from dashboard.aws import tasks as aws_tasks

    task, execution = finished
    evil = _record("FINDING", {"title": XSS, "severity": "HIGH", "details": XSS})
    evil.update(agentSpaceId=space["agentSpaceId"], executionId=execution["executionId"])
    monkeypatch.setattr(
        aws_tasks, "list_journal", lambda *a, **k: {"records": [evil], "nextToken": None}
    )
    body = viewer_client.get(
        f"/spaces/{space['agentSpaceId']}/tasks/{task['taskId']}/"
    ).content.decode()
    assert '<script>alert("x")' not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
