"""The task page: summary, reference, metadata, linked tasks, executions with their journals,
pending messages, empty states, and friendly pages for bad ids and a busy AWS."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import override_settings

from dashboard.aws import errors
from dashboard.aws import tasks as aws_tasks

from .test_views_task_support import HX, START, create, executions, run_until, text, triage_task

REFERENCE = {
    "system": "PagerDuty",
    "referenceId": "Q1W2E3",
    "referenceUrl": "https://example.pagerduty.com/incidents/Q1W2E3",
    "associationId": "pd-assoc-1",
    "title": "checkout-api 5xx rate high",
}


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _url(space: dict, task: dict) -> str:
    return f"/spaces/{space['agentSpaceId']}/tasks/{task['taskId']}/"


def test_a_new_task_shows_its_summary_and_the_not_started_state(viewer_client, space, clock):
    task = create(space["agentSpaceId"], description="Customers see <b>errors</b>.\nSince 09:02.")
    response = viewer_client.get(_url(space, task))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="task-summary-{task["taskId"]}"' in body
    assert "Elevated 5xx on checkout-api" in body
    assert "Pending start" in body and "High priority" in body and "Investigation" in body
    assert "Customers see &lt;b&gt;errors&lt;/b&gt;.<br>Since 09:02." in body
    summary = re.search(r'<section class="card task-summary".*?</section>', body, re.S).group(0)
    assert f">Version</dt><dd>{task['version']}</dd>" in summary
    # No field shown twice: the badges say status, priority and type; the facts the rest.
    for word in ("Pending start", "High priority", "Investigation", ">Version<"):
        assert summary.count(word) == 1, word
    assert "Status</dt>" not in summary and "Priority</dt>" not in summary
    # What the agent does now, in words.
    assert "Queued: the agent starts when it has capacity." in summary
    assert "The agent has not started on this task" in body
    # Breadcrumbs: spaces, the space, its board, the task.
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', body, re.S).group(0)
    assert 'href="/spaces/"' in crumbs
    assert f'href="/spaces/{space["agentSpaceId"]}/">Payments</a>' in crumbs
    assert f'href="/spaces/{space["agentSpaceId"]}/tasks/">Board</a>' in crumbs


def test_the_page_for_htmx_is_the_page_content_without_the_layout(viewer_client, space):
    task = create(space["agentSpaceId"])
    response = viewer_client.get(_url(space, task), headers=HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="task-page"' in body
    assert f'id="task-summary-{task["taskId"]}"' in body
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_the_reference_links_out_safely(viewer_client, space):
    task = create(space["agentSpaceId"], reference=REFERENCE)
    body = viewer_client.get(_url(space, task)).content.decode()
    link = re.search(r'<a href="https://example.pagerduty.com/incidents/Q1W2E3"[^>]*>', body)
    assert link is not None
    assert 'rel="noopener noreferrer"' in link.group(0)
    assert "checkout-api 5xx rate high" in body
    assert "pd-assoc-1" in body


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,<script>x</script>", "//evil.example/x", "ftp://x"],
)
def test_a_reference_url_that_is_not_http_is_shown_as_text_never_a_link(
    viewer_client, space, monkeypatch, url
):
    task = create(space["agentSpaceId"])
    odd = {**task, "reference": {**REFERENCE, "referenceUrl": url}}
    monkeypatch.setattr(aws_tasks, "get_task", lambda *a: odd)
    body = viewer_client.get(_url(space, task)).content.decode()
    assert "not an http address" in body
    assert f'href="{url}' not in body
    assert "<script>x" not in body


def test_metadata_is_nested_key_value_not_a_dict_dump(viewer_client, space, monkeypatch):
    task = create(space["agentSpaceId"])
    rich = {
        **task,
        "metadata": {
            "source": "SecurityHub",
            "finding": {"severity": {"label": "LOW"}},
            "items": [1, 2],
        },
        "supportMetadata": {"errorCode": "AccessDeniedException", "<b>key</b>": "<i>v</i>"},
    }
    monkeypatch.setattr(aws_tasks, "get_task", lambda *a: rich)
    body = viewer_client.get(_url(space, task)).content.decode()
    assert "<dt>finding</dt>" in body and "<dt>label</dt>" in body
    assert "<dt>items</dt>" in body  # a key named like a dict method is just a key
    assert "Support metadata" in body and "AccessDeniedException" in body
    assert "&lt;b&gt;key&lt;/b&gt;" in body and "&lt;i&gt;v&lt;/i&gt;" in body
    assert "{&#x27;" not in body and "{'" not in body  # no Python repr anywhere


def test_linked_tasks_show_both_ways(viewer_client, space):
    sid = space["agentSpaceId"]
    primary = create(sid, reference=REFERENCE)
    duplicate = create(sid, title="checkout-api 5xx (second page)", reference=REFERENCE)
    assert duplicate["status"] == "LINKED"

    body = text(viewer_client.get(_url(space, duplicate)))
    assert "Linked to" in body
    assert f'href="/spaces/{sid}/tasks/{primary["taskId"]}/">Elevated 5xx on checkout-api' in body
    assert "It is linked to another task" in body

    body = text(viewer_client.get(_url(space, primary)))
    assert "Linked to this task" in body
    assert (
        f'href="/spaces/{sid}/tasks/{duplicate["taskId"]}/">checkout-api 5xx (second page)' in body
    )


def test_a_task_without_links_says_so(viewer_client, space):
    body = viewer_client.get(_url(space, create(space["agentSpaceId"]))).content.decode()
    assert "No linked tasks." in body


def test_a_running_task_shows_its_execution_and_journal(viewer_client, space, clock):
    sid = space["agentSpaceId"]
    task = create(sid, "complete")
    run_until(clock, sid, task["taskId"], "COMPLETED")
    (execution,) = executions(sid, task["taskId"])
    records = aws_tasks.list_journal(sid, execution["executionId"], order="ASC")["records"]

    body = viewer_client.get(_url(space, task)).content.decode()
    assert "The agent has not started" not in body
    assert f'id="execution-{execution["executionId"]}"' in body
    assert f'id="journal-{execution["executionId"]}"' in body
    assert "Root cause analysis" in body and "Stopped" in body
    for record in records:
        assert f'id="record-{record["recordId"]}"' in body
    # Oldest first by default.
    positions = [body.index(f'id="record-{r["recordId"]}"') for r in records]
    assert positions == sorted(positions)
    assert 'class="record record-root_cause"' in body
    assert 'class="record record-planning"' in body


def test_pending_messages_are_listed_per_execution(viewer_client, space, clock, monkeypatch):
    sid = space["agentSpaceId"]
    task = create(sid, "complete")
    run_until(clock, sid, task["taskId"], "IN_PROGRESS")
    messages = [
        {"messageId": "m1", "message": {"userMessage": [{"text": "Check <redis> first"}]}},
        {"messageId": "m2", "message": {"assistantMessage": [{"toolUse": {"name": "x"}}]}},
        {"messageId": "m3", "message": "odd"},
    ]
    monkeypatch.setattr(aws_tasks, "pending_messages", lambda *a: messages)
    body = viewer_client.get(_url(space, task)).content.decode()
    assert "Waiting for the agent" in body
    assert "Check &lt;redis&gt; first" in body
    assert "<dt>name</dt>" in body
    assert "odd" in body


def test_pending_messages_that_fail_to_load_do_not_break_the_page(
    viewer_client, space, clock, monkeypatch
):
    sid = space["agentSpaceId"]
    task = create(sid, "complete")
    run_until(clock, sid, task["taskId"], "IN_PROGRESS")

    def busy(*a):
        raise errors.Throttled("AWS is throttling ListPendingMessages requests.")

    monkeypatch.setattr(aws_tasks, "pending_messages", busy)
    response = viewer_client.get(_url(space, task))
    assert response.status_code == 200
    assert "Pending messages could not be loaded" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/spaces/{sid}/tasks/no-such-task/", 404),
        ("/spaces/{sid}/tasks/bad%20id!/", 400),
        ("/spaces/no-such-space/tasks/t-1/", 404),
        ("/spaces/{sid}/tasks/{tid}/executions/no-such-execution/journal/", 404),
        ("/spaces/{sid}/tasks/{tid}/executions/bad%20id!/journal/", 404),
        ("/spaces/{sid}/tasks/{tid}/status/?to=CANCELED", 200),
    ],
)
def test_bad_ids_in_the_url_give_friendly_pages(operator_client, space, path, status):
    task = create(space["agentSpaceId"])
    url = path.format(sid=space["agentSpaceId"], tid=task["taskId"])
    response = operator_client.get(url)
    assert response.status_code == status, url
    body = response.content.decode()
    assert "<html" in body and "Traceback" not in body


def test_a_malformed_task_id_for_htmx_is_an_alert(viewer_client, space):
    response = viewer_client.get(f"/spaces/{space['agentSpaceId']}/tasks/bad%20id!/", headers=HX)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#alerts"


@pytest.mark.parametrize("suffix", ["", "executions/x/journal/"])
def test_throttling_renders_the_friendly_page(viewer_client, space, suffix):
    task = create(space["agentSpaceId"])
    with override_settings(SANDBOX_FAULTS="throttle=1"):
        response = viewer_client.get(_url(space, task) + suffix)
    assert response.status_code == 503
    assert "Retry in a moment" in response.content.decode()


def test_a_terminal_task_offers_no_status_change(operator_client, space):
    task = create(space["agentSpaceId"])
    aws_tasks.update_status(space["agentSpaceId"], task["taskId"], "CANCELED")
    body = operator_client.get(_url(space, task)).content.decode()
    assert "No actions: the task is canceled and will not change again." in body
    assert "Cancel task" not in body


def test_a_triage_task_offers_start_skip_and_cancel(operator_client, space):
    task = triage_task(space["agentSpaceId"])
    body = text(operator_client.get(_url(space, task)))
    assert "Pending triage" in body
    for label in ("Start investigation", "Skip", "Cancel task…"):
        assert f">{label}</button>" in body
    assert "It is waiting for triage" in body
