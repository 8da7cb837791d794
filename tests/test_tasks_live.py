"""The live triage pages over real websockets (dashboard.asgi.application, session cookies,
Origin): one AWS list call per interval however many boards watch, broadcast on write to
every open page, changes made elsewhere found by the watcher (and only those), journals that
grow by themselves, the watcher stopping with its last page, and anonymous sockets refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import threading
import time

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.utils import timezone

from dashboard.asgi import application
from dashboard.aws import clients as aws_clients
from dashboard.aws import executor as aws_executor
from dashboard.aws import tasks as aws_tasks
from dashboard.live import default_registry, registry, store
from dashboard.tasks import live

from .test_views_task_support import create, triage_task

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")
INTERVAL = 0.1
SYNC = 'id="live-sync"'


@pytest.fixture(autouse=True)
def _fresh_layer_and_registry():
    # Each test runs its own event loop: nothing built under another loop may leak in.
    channel_layers.backends.clear()
    registry._default = None
    yield
    channel_layers.backends.clear()
    registry._default = None


@pytest.fixture(autouse=True)
def _own_aws_pool():
    """The pollers' fetches leave database connections in the AWS pool's threads; later tests
    without database access must not inherit them: each test here gets a pool of its own."""
    aws_executor._executor = None
    yield
    pool, aws_executor._executor = aws_executor._executor, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(autouse=True)
def _one_sandbox_call_at_a_time(monkeypatch):
    """SQLite's in-memory test database (shared cache) refuses a second connection at once
    ("database table is locked") instead of waiting as the console's file database does, and
    several pollers advancing the sandbox are just that. Serialize sandbox calls on SQLite;
    PostgreSQL runs keep the real concurrency."""
    if connection.vendor != "sqlite":
        return
    lock = threading.RLock()
    real = aws_clients.call

    def call(*args, **kwargs):
        with lock:
            return real(*args, **kwargs)

    monkeypatch.setattr(aws_clients, "call", call)
    monkeypatch.setattr(aws_tasks, "call", call)


@pytest.fixture(autouse=True)
def _fast_polls(settings):
    settings.LIVE_POLL_INTERVAL = INTERVAL
    # Tasks stay where they are unless a test moves the sandbox's clock.
    settings.SANDBOX_PACE = 1.0


def _cookie(client: Client) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture
async def sockets():
    """Opens signed-in communicators; disconnects them and stops the pollers afterwards."""
    opened: list[WebsocketCommunicator] = []

    async def open_(path: str, client: Client | None, *, connect: bool = True):
        headers = [ORIGIN] + ([_cookie(client)] if client is not None else [])
        communicator = WebsocketCommunicator(application, path, headers=headers)
        opened.append(communicator)
        if connect:
            connected, code = await communicator.connect()
            assert connected, code
        return communicator

    yield open_
    await asyncio.gather(*(c.disconnect() for c in opened), return_exceptions=True)
    await default_registry().shutdown()


class Calls:
    """Counts the real AWS calls of one operation (a botocore event on the sandbox client)."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.times: list[float] = []
        aws_clients.client("devops-agent").meta.events.register("before-call", self)

    def __call__(self, model, **kwargs) -> None:
        if model.name == self.operation:
            self.times.append(time.monotonic())

    def since(self, start: float) -> int:
        return sum(1 for t in self.times if t >= start)


async def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await sync_to_async(predicate)():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def has_baseline(key: str) -> bool:
    state = store.load(key)
    return state is not None and state["items"] is not None


async def settle(communicators, key: str) -> None:
    """Wait for the key's baseline, then take the catch-up resyncs some sockets get for it."""
    await wait_until(lambda: has_baseline(key))

    async def drain(communicator) -> None:
        # (receive_from's own timeout would cancel the socket: probe with receive_nothing.)
        while not await communicator.receive_nothing(timeout=3 * INTERVAL):
            html = await communicator.receive_from()
            assert SYNC in html, html

    await asyncio.gather(*(drain(c) for c in communicators))


async def messages(communicator, seconds: float) -> list[str]:
    """Whatever arrives within `seconds` (catch-up resyncs left out)."""
    out: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await communicator.receive_nothing(timeout=0.05):
            continue
        html = await communicator.receive_from()
        if SYNC not in html:
            out.append(html)
    return out


async def receive(communicator, timeout: float = 3.0) -> str:
    """The next message that is not a catch-up resync."""
    while True:
        html = await communicator.receive_from(timeout=timeout)
        if SYNC not in html:
            return html


def board_path(space_id: str) -> str:
    return f"/ws/spaces/{space_id}/board/"


def task_path(space_id: str, task_id: str) -> str:
    return f"/ws/spaces/{space_id}/tasks/{task_id}/"


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["board", "task"])
async def test_anonymous_sockets_are_refused_and_nothing_is_polled(sockets, space, kind):
    sid = space["agentSpaceId"]
    task = await sync_to_async(triage_task)(sid)
    path = board_path(sid) if kind == "board" else task_path(sid, task["taskId"])
    calls = Calls("ListBacklogTasks")
    communicator = await sockets(path, None, connect=False)
    connected, code = await communicator.connect()
    assert not connected and code == 4401
    await asyncio.sleep(3 * INTERVAL)
    assert default_registry().polling() == set() and calls.times == []


async def test_a_foreign_origin_is_refused(viewer_client, space):
    communicator = WebsocketCommunicator(
        application,
        board_path(space["agentSpaceId"]),
        headers=[(b"origin", b"http://evil.example"), _cookie(viewer_client)],
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


async def test_a_task_that_does_not_exist_is_refused(sockets, viewer_client, space):
    sid = space["agentSpaceId"]
    for task_id in ("no-such-task-0000", "bad id!"):
        communicator = await sockets(task_path(sid, task_id), viewer_client, connect=False)
        connected, code = await communicator.connect()
        assert not connected and code == 4404


# --- one poll per interval -------------------------------------------------------------------


@pytest.mark.parametrize("subscribers", [1, 10, 100])
async def test_one_list_call_per_interval_however_many_boards_watch(
    sockets, viewer_client, space, subscribers
):
    sid = space["agentSpaceId"]
    for n in range(3):
        await sync_to_async(triage_task)(sid, title=f"Alarm {n}")
    key = live.board_key(sid)
    calls = Calls("ListBacklogTasks")
    pages = [await sockets(board_path(sid), viewer_client) for _ in range(subscribers)]
    assert default_registry().subscriber_count(key) == subscribers
    await settle(pages, key)

    start = time.monotonic()
    window = 20 * INTERVAL
    await asyncio.sleep(window)
    made = calls.since(start)
    # One ListBacklogTasks per interval (a space under 1000 tasks is one page), not one per
    # page; the lower bound only shows the poller is alive on a busy machine.
    assert 3 <= made <= window / INTERVAL + 1, made
    assert default_registry().polling() == {key}
    # Nothing changed, so nothing was sent.
    for page in pages[:5]:
        assert await page.receive_nothing(timeout=0.05)


# --- broadcast on write ----------------------------------------------------------------------


async def test_a_status_change_through_the_console_reaches_every_open_board_at_once(
    sockets, settings, viewer_client, operator_client, space
):
    settings.LIVE_POLL_INTERVAL = 60  # only the broadcast can deliver within this test
    sid = space["agentSpaceId"]
    task = await sync_to_async(triage_task)(sid)
    other = await sync_to_async(triage_task)(sid, title="Unrelated")
    key = live.board_key(sid)
    first = await sockets(board_path(sid), viewer_client)
    second = await sockets(board_path(sid), operator_client)
    await settle([first, second], key)

    response = await sync_to_async(operator_client.post)(
        f"/spaces/{sid}/tasks/bulk/",
        {"target": "SKIPPED", "task": [f"{task['taskId']}:{task['version']}"]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "1 of 1 task set to Skipped" in response.text
    for page in (first, second):
        html = await receive(page, timeout=1)
        # The row, appended for board.js to place, with what it filters and sorts by...
        assert 'hx-swap-oob="beforeend:#task-rows"' in html
        assert f'id="task-{task["taskId"]}"' in html and 'data-live="updated"' in html
        assert 'data-status="SKIPPED"' in html and f"task-{other['taskId']}" not in html
        # ...the same for everyone: the selection box is marked for operators only...
        assert 'class="pick operator-only"' in html and "csrfmiddlewaretoken" not in html
        # ...and the counts, from the snapshot (no extra AWS call).
        assert re.search(r'<b id="chip-count-SKIPPED" hx-swap-oob="true">1</b>', html)
        assert re.search(r'<b id="chip-count-PENDING_TRIAGE" hx-swap-oob="true">1</b>', html)
        extra = None if await page.receive_nothing(timeout=0.2) else await page.receive_from()
        assert extra is None, extra


async def test_a_status_change_on_the_task_page_reaches_its_other_tabs(
    sockets, settings, viewer_client, operator_client, space
):
    settings.LIVE_POLL_INTERVAL = 60
    sid = space["agentSpaceId"]
    task = await sync_to_async(triage_task)(sid)
    path = task_path(sid, task["taskId"])
    viewer = await sockets(path, viewer_client)
    board = await sockets(board_path(sid), viewer_client)
    await settle([viewer], live.task_key(sid, task["taskId"]))
    await settle([board], live.board_key(sid))

    response = await sync_to_async(operator_client.post)(
        f"/spaces/{sid}/tasks/{task['taskId']}/status/",
        {"status": "PENDING_START", "version": task["version"], "seen_status": "PENDING_TRIAGE"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = await receive(viewer, timeout=1)
    assert f'id="task-summary-{task["taskId"]}"' in html and 'hx-swap-oob="outerHTML"' in html
    assert 'data-status="PENDING_START"' in html
    # The actions panel for the new status, without anybody's CSRF token in it.
    assert 'id="task-actions" class="task-actions" hx-swap-oob="true"' in html
    assert "Cancel task" in html and "csrfmiddlewaretoken" not in html
    assert 'data-status="PENDING_START"' in await receive(board, timeout=1)


# --- changes made elsewhere ------------------------------------------------------------------


async def test_a_change_made_elsewhere_is_found_by_the_watcher_and_sent_once(
    sockets, viewer_client, operator_client, space
):
    sid = space["agentSpaceId"]
    task = await sync_to_async(triage_task)(sid)
    other = await sync_to_async(triage_task)(sid, title="Stays as it is")
    key = live.board_key(sid)
    pages = [
        await sockets(board_path(sid), viewer_client),
        await sockets(board_path(sid), operator_client),
    ]
    await settle(pages, key)

    # Another console (or the agent) changes the task: AWS directly, not through a view.
    await sync_to_async(aws_tasks.update_status)(sid, task["taskId"], "CANCELED")
    for page in pages:
        html = await receive(page, timeout=2)
        assert f'id="task-{task["taskId"]}"' in html and 'data-status="CANCELED"' in html
        assert f"task-{other['taskId']}" not in html  # unchanged rows are not sent
        assert 'id="chip-count-CANCELED" hx-swap-oob="true">1<' in html
    # Unchanged since: nothing more, however many polls run.
    for page in pages:
        assert await page.receive_nothing(timeout=6 * INTERVAL)

    # A task created elsewhere arrives as a new row.
    made = await sync_to_async(aws_tasks.create_task)(
        sid, task_type="EVALUATION", title="Filed by the agent", priority="LOW"
    )
    html = await receive(pages[0], timeout=2)
    assert f'id="task-{made["taskId"]}"' in html and 'data-live="created"' in html
    assert "Filed by the agent" in html


async def test_the_sandbox_advancing_reaches_the_board(sockets, viewer_client, space):
    sid = space["agentSpaceId"]
    task = await sync_to_async(create)(sid)  # PENDING_START, starts after a few seconds
    page = await sockets(board_path(sid), viewer_client)
    await settle([page], live.board_key(sid))
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=30), tick=True):
        html = await receive(page, timeout=3)
    assert f'id="task-{task["taskId"]}"' in html
    assert 'data-status="PENDING_START"' not in html


# --- the watcher stops -----------------------------------------------------------------------


async def test_the_watcher_stops_when_the_last_page_leaves(sockets, viewer_client, space):
    sid = space["agentSpaceId"]
    key = live.board_key(sid)
    calls = Calls("ListBacklogTasks")
    pages = [await sockets(board_path(sid), viewer_client) for _ in range(2)]
    await settle(pages, key)
    await pages[0].disconnect()
    assert default_registry().subscriber_count(key) == 1 and key in default_registry().polling()
    await pages[1].disconnect()
    assert default_registry().subscriber_count(key) == 0
    assert default_registry().polling() == set()
    stopped = len(calls.times)
    await asyncio.sleep(5 * INTERVAL)
    assert len(calls.times) == stopped
    assert store.lease_holder(key) is None


# --- journals --------------------------------------------------------------------------------


async def test_journal_records_appear_live_once(sockets, viewer_client, space):
    sid = space["agentSpaceId"]
    task = await sync_to_async(create)(sid, fate="complete")
    now = timezone.now()
    with time_machine.travel(now, tick=True) as clock:
        # Let the investigation start and write its first records.
        for _ in range(100):
            clock.shift(5)
            current = await sync_to_async(aws_tasks.get_task)(sid, task["taskId"])
            if current.get("executionId"):
                break
        execution_id = current["executionId"]
        page = await sockets(task_path(sid, task["taskId"]), viewer_client)
        journal = live.journal_key(sid, execution_id)
        assert journal in default_registry().polling()
        await settle([page], journal)
        seen = set((await sync_to_async(live.fetch_journal)(sid, execution_id)).keys())

        clock.shift(60)
        pushed: list[str] = []
        for html in await messages(page, 3):
            if f'hx-swap-oob="beforeend:#journal-{execution_id}"' in html:
                assert 'data-live="created"' in html
                pushed += re.findall(r'<li class="record [^"]*" id="record-([^"]+)"', html)
    assert pushed, "no journal record was pushed"
    assert len(pushed) == len(set(pushed)) and not set(pushed) & seen


async def test_a_new_execution_is_pushed_and_its_journal_watched_on_request(
    sockets, viewer_client, space
):
    sid = space["agentSpaceId"]
    task = await sync_to_async(create)(sid, fate="complete")  # no execution yet
    page = await sockets(task_path(sid, task["taskId"]), viewer_client)
    key = live.task_key(sid, task["taskId"])
    await settle([page], key)
    assert default_registry().polling() == {key}

    with time_machine.travel(timezone.now(), tick=True) as clock:
        clock.shift(30)
        html = await receive(page, timeout=3)
        while "afterbegin:#executions-" not in html:
            html = await receive(page, timeout=3)
        match = re.search(r'data-execution-id="([^"]+)"', html)
        assert match and 'data-live="created"' in html
        assert f'hx-swap-oob="afterbegin:#executions-{task["taskId"]}"' in html
        execution_id = match.group(1)

        # The page asks for the new execution's journal; once its baseline exists, the server
        # has the page re-render (it drew the section empty).
        await page.send_to(text_data=json.dumps({"journal": execution_id}))
        journal = live.journal_key(sid, execution_id)
        deadline = time.monotonic() + 3
        while SYNC not in await page.receive_from(timeout=3):
            assert time.monotonic() < deadline
        assert journal in default_registry().polling()
        assert has_baseline(journal)

        # Asking for a journal of another task, or twice, changes nothing.
        other = await sync_to_async(triage_task)(sid)
        await page.send_to(text_data=json.dumps({"journal": other["taskId"]}))
        await page.send_to(text_data=json.dumps({"journal": execution_id}))
        await page.send_to(text_data="not json")
        await asyncio.sleep(3 * INTERVAL)
        assert default_registry().subscriber_count(journal) == 1
        assert live.journal_key(sid, other["taskId"]) not in default_registry().polling()


async def test_a_reconnecting_page_subscribes_to_every_journal(sockets, viewer_client, space):
    sid = space["agentSpaceId"]
    task = await sync_to_async(create)(sid, fate="complete")
    with time_machine.travel(timezone.now(), tick=True) as clock:
        clock.shift(30)
        current = await sync_to_async(aws_tasks.get_task)(sid, task["taskId"])
    assert current.get("executionId")
    await sockets(task_path(sid, task["taskId"]), viewer_client)
    assert default_registry().polling() == {
        live.task_key(sid, task["taskId"]),
        live.journal_key(sid, current["executionId"]),
    }


async def test_a_message_nested_too_deep_is_ignored_and_the_socket_stays(
    sockets, viewer_client, space
):
    sid = space["agentSpaceId"]
    task = await sync_to_async(create)(sid, fate="complete")
    page = await sockets(task_path(sid, task["taskId"]), viewer_client)
    await settle([page], live.task_key(sid, task["taskId"]))
    await page.send_to(text_data="[" * 100_000)  # was a RecursionError: the consumer died
    await page.send_to(text_data='{"journal": "\\ud800"}')
    assert await page.receive_nothing(timeout=0.5)
    assert not page.future.done()
