"""Task ids in agent replies and journal text become links to the task when the task belongs
to the space (dashboard/tasks/refs.py), rendered on the server from the final text."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from django.core.cache import cache

from dashboard.aws import spaces as aws_spaces
from dashboard.aws import tasks as aws_tasks
from dashboard.core.markdown import render_markdown
from dashboard.tasks.refs import link_task_ids

from .chat_support import backlog, new_chat, serialize_sqlite


@pytest.fixture(autouse=True)
def _clear():
    from dashboard.tasks import refs

    cache.clear()
    refs._read.clear()
    yield
    cache.clear()
    refs._read.clear()


def _new(space_id: str, title: str = "Disk full") -> str:
    task = aws_tasks.create_task(space_id, task_type="INVESTIGATION", title=title, priority="HIGH")
    return task["taskId"]


def test_only_the_spaces_own_task_ids_are_linked(space):
    sid = space["agentSpaceId"]
    mine = _new(sid)
    other_space = aws_spaces.create_space(name="Other", description="", locale="en-US")
    theirs = _new(other_space["agentSpaceId"])
    nobody = str(uuid.uuid4())
    html = str(link_task_ids(f"See {mine}, {theirs} and {nobody} <b>", sid))
    assert f'<a class="task-ref" href="/spaces/{sid}/tasks/{mine}/">{mine}</a>' in html
    assert html.count("task-ref") == 1
    assert "&lt;b&gt;" in html  # plain text is escaped, not trusted


def test_in_markdown_ids_in_code_are_linked_but_not_inside_links(space):
    sid = space["agentSpaceId"]
    tid = _new(sid)
    html = str(
        link_task_ids(
            render_markdown(f"Open `{tid}` or [the task](https://example.com/{tid})"), sid
        )
    )
    assert f'<code><a class="task-ref" href="/spaces/{sid}/tasks/{tid}/">{tid}</a></code>' in html
    assert f'href="https://example.com/{tid}"' in html and html.count("task-ref") == 1


def test_an_older_task_than_the_newest_listed_is_found_by_its_id(space, monkeypatch):
    sid = space["agentSpaceId"]
    tid = _new(sid)
    # As if the space had more tasks than one list call returns: the id is not among them.
    monkeypatch.setattr(aws_tasks, "list_tasks", lambda *a, **k: {"tasks": [], "nextToken": None})
    assert "task-ref" in str(link_task_ids(f"about {tid}", sid))


def test_ids_that_are_no_tasks_cost_a_bounded_number_of_calls_per_space(space, monkeypatch):
    from dashboard.tasks import refs

    sid = space["agentSpaceId"]
    tid = _new(sid)
    looked_up = []
    real_get = aws_tasks.get_task
    monkeypatch.setattr(aws_tasks, "get_task", lambda s, t: looked_up.append(t) or real_get(s, t))
    # A journal page of log excerpts: request and trace ids are UUIDs too.
    for _ in range(25):
        text = " ".join(str(uuid.uuid4()) for _ in range(refs.MAX_LOOKUPS))
        link_task_ids(f"{text} while {tid} ran", sid)
    assert len(looked_up) == refs.SPACE_LOOKUPS
    # The space's own tasks are still linked from its list, without a lookup.
    assert "task-ref" in str(link_task_ids(f"{uuid.uuid4()} then {tid}", sid))
    assert len(looked_up) == refs.SPACE_LOOKUPS


def test_a_list_aws_refuses_is_not_asked_for_again_for_every_text(space, monkeypatch):
    from dashboard.aws import errors

    sid = space["agentSpaceId"]
    listed = []

    def throttled(*args, **kwargs):
        listed.append(args)
        raise errors.Throttled("AWS is throttling ListBacklogTasks requests.")

    monkeypatch.setattr(aws_tasks, "list_tasks", throttled)
    for _ in range(10):
        link_task_ids(f"about {uuid.uuid4()}", sid)
    assert len(listed) == 1


def test_on_an_event_loop_it_calls_nothing_and_links_what_this_process_read(space, monkeypatch):
    # A chat reply pushed live is rendered by the stream relay on the event loop, where a
    # blocking AWS call would stall every socket of the process.
    from dashboard.tasks import refs

    sid = space["agentSpaceId"]
    tid = _new(sid)
    calls = []
    for name in ("list_tasks", "get_task"):
        real = getattr(aws_tasks, name)
        monkeypatch.setattr(
            aws_tasks,
            name,
            lambda *a, real=real, name=name, **k: calls.append(name) or real(*a, **k),
        )

    async def pushed() -> str:
        return str(link_task_ids(f"see {tid}", sid))

    assert "task-ref" not in asyncio.run(pushed()) and calls == []
    refs.warm(sid)  # what sending a message does first, in a thread
    assert calls == ["list_tasks"]
    assert f'href="/spaces/{sid}/tasks/{tid}/"' in asyncio.run(pushed())
    assert calls == ["list_tasks"]


@pytest.mark.django_db(transaction=True)
def test_a_chat_reply_links_the_tasks_it_names(operator_client, space, settings, monkeypatch):
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.0
    settings.SANDBOX_CHAT_FAULTS = ""
    serialize_sqlite(monkeypatch)
    sid = space["agentSpaceId"]
    backlog(sid)
    chat_id = new_chat(sid)
    response = operator_client.post(
        f"/spaces/{sid}/chat/{chat_id}/send/", {"content": "What is open?"}
    )
    page = operator_client.get(response["Location"]).content.decode()
    linked = re.findall(rf'<a class="task-ref" href="/spaces/{sid}/tasks/([0-9a-f-]+)/">', page)
    open_ids = {t["taskId"] for t in aws_tasks.list_tasks(sid, limit=100)["tasks"]}
    assert linked and set(linked) <= open_ids


def test_journal_text_links_the_tasks_it_names(viewer_client, space):
    from django.utils import timezone

    from dashboard.sandbox.lifecycle import record
    from dashboard.sandbox.models.core import BacklogTask, Execution

    sid = space["agentSpaceId"]
    related = _new(sid, "Earlier outage")
    tid = _new(sid, "Checkout errors")
    now = timezone.now()
    task = BacklogTask.objects.get(task_id=tid)
    execution = Execution.objects.create(
        execution_id=str(uuid.uuid4()),
        space_id=sid,
        task=task,
        status="RUNNING",
        agent_sub_task="investigation",
        created_at=now,
        updated_at=now,
    )
    BacklogTask.objects.filter(task_id=tid).update(
        execution_id=execution.execution_id, status="IN_PROGRESS", next_due_at=None
    )
    record(execution, "OBSERVATION", {"text": f"Same signature as {related}."}, now).save()
    page = viewer_client.get(f"/spaces/{sid}/tasks/{tid}/").content.decode()
    assert f'<a class="task-ref" href="/spaces/{sid}/tasks/{related}/">{related}</a>' in page
