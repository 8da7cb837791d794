"""The inbox and the top bar's count over real websockets (dashboard.asgi.application, session
cookies, Origin): one read of each watched space per interval however many pages and top bars
watch it; an approval arriving and leaving; the count and its notices; refusals."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from dashboard.aws import clients as aws_clients
from dashboard.aws import executor as aws_executor
from dashboard.aws import spaces as aws_spaces
from dashboard.inbox import live, needs
from dashboard.live import default_registry, registry, store

from .test_views_task_support import create, executions, records, triage_task

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")
INTERVAL = 0.1


@pytest.fixture(autouse=True)
def _fresh_layer_registry_and_cache():
    channel_layers.backends.clear()
    registry._default = None
    cache.clear()
    yield
    channel_layers.backends.clear()
    registry._default = None
    cache.clear()


@pytest.fixture(autouse=True)
def _own_aws_pool():
    aws_executor._executor = None
    yield
    pool, aws_executor._executor = aws_executor._executor, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(autouse=True)
def _one_sandbox_call_at_a_time(monkeypatch):
    """As in test_tasks_live: several pollers advancing the sandbox at once on SQLite."""
    if connection.vendor != "sqlite":
        return
    from dashboard.aws import chat, configuration, prevention, tasks

    lock = threading.RLock()
    real = aws_clients.call

    def call(*args, **kwargs):
        with lock:
            return real(*args, **kwargs)

    for module in (aws_clients, tasks, prevention, aws_spaces, chat, configuration):
        monkeypatch.setattr(module, "call", call)


@pytest.fixture(autouse=True)
def _fast_polls(settings):
    settings.LIVE_POLL_INTERVAL = INTERVAL
    settings.SANDBOX_PACE = 1.0


def _cookie(client: Client) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture
async def sockets():
    opened: list[WebsocketCommunicator] = []

    async def open_(path: str, client: Client | None, *, connect: bool = True):
        headers = [ORIGIN] + ([_cookie(client)] if client is not None else [])
        communicator = WebsocketCommunicator(live_app(), path, headers=headers)
        opened.append(communicator)
        if connect:
            connected, code = await communicator.connect()
            assert connected, code
        return communicator

    yield open_
    await asyncio.gather(*(c.disconnect() for c in opened), return_exceptions=True)
    await default_registry().shutdown()


def live_app():
    from dashboard.asgi import application

    return application


class Reads:
    """The console's ListBacklogTasks calls, by agent space."""

    def __init__(self) -> None:
        self.by_space: Counter[str] = Counter()
        self.spaces_listed = 0
        events = aws_clients.client("devops-agent").meta.events
        events.register("before-parameter-build", self)

    def __call__(self, model, params, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # (before-parameter-build: `params` are the operation's own, as the console gave them)
        if model.name == "ListBacklogTasks":
            self.by_space[params.get("agentSpaceId", "")] += 1
        elif model.name == "ListAgentSpaces":
            self.spaces_listed += 1


async def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await sync_to_async(predicate)():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def has_baseline(key: str) -> bool:
    state = store.load(key)
    return state is not None and state["items"] is not None


async def until(communicator, pattern: str, timeout: float = 10.0) -> str:
    """The first message that matches `pattern` (others, e.g. unchanged counts, skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await communicator.receive_nothing(timeout=0.05):
            continue
        html = await communicator.receive_from()
        if re.search(pattern, html, re.S):
            return html
    raise AssertionError(f"no message matching {pattern!r}")


def inbox_path(*space_ids: str) -> str:
    return "/ws/inbox/?spaces=" + ",".join(space_ids)


def hasten(space_id: str, task_id: str, status: str) -> dict:
    """Let the sandbox's emulated time pass for the task until it reaches `status`."""
    from dashboard.aws import tasks as aws_tasks
    from dashboard.sandbox.models import BacklogTask

    for _ in range(200):
        task = aws_tasks.get_task(space_id, task_id)
        if task["status"] == status:
            return task
        BacklogTask.objects.filter(pk=task_id, next_due_at__isnull=False).update(
            next_due_at=timezone.now()
        )
    raise AssertionError(f"task never reached {status}")


# --- access ---------------------------------------------------------------------------------


async def test_anonymous_sockets_are_refused_and_nothing_is_read(sockets, space):
    sid = space["agentSpaceId"]
    reads = Reads()
    for path in (inbox_path(sid), "/ws/needs/", f"/ws/spaces/{sid}/overview/"):
        communicator = await sockets(path, None, connect=False)
        connected, code = await communicator.connect()
        assert not connected and code == 4401
    await asyncio.sleep(3 * INTERVAL)
    assert default_registry().polling() == set() and not reads.by_space


async def test_an_inbox_socket_names_spaces_by_their_ids(sockets, viewer_client, space):
    for query in ("bad%20id!", ",".join(["s"] * 2) + ":x"):
        communicator = await sockets(f"/ws/inbox/?spaces={query}", viewer_client, connect=False)
        connected, code = await communicator.connect()
        assert not connected and code == 4404


# --- one read per space per interval ------------------------------------------------------


async def test_one_read_per_space_per_interval_however_many_watch(sockets, viewer_client):
    """Ten inbox pages and ten top bars on two spaces: each space is read once per interval
    (the inbox watch and the console-wide count share the read), not once per page."""
    first = (await sync_to_async(aws_spaces.create_space)(name="First"))["agentSpaceId"]
    second = (await sync_to_async(aws_spaces.create_space)(name="Second"))["agentSpaceId"]
    for sid in (first, second):
        await sync_to_async(triage_task)(sid)
    reads = Reads()
    pages = [await sockets(inbox_path(first, second), viewer_client) for _ in range(10)]
    bars = [await sockets("/ws/needs/", viewer_client) for _ in range(10)]
    for key in (live.inbox_key(first), live.inbox_key(second), live.NEEDS_KEY):
        await wait_until(lambda key=key: has_baseline(key))
    assert default_registry().subscriber_count(live.NEEDS_KEY) == 10
    assert default_registry().subscriber_count(live.inbox_key(first)) == 10

    reads.by_space.clear()
    reads.spaces_listed = 0
    start = time.monotonic()
    await asyncio.sleep(20 * INTERVAL)
    elapsed = time.monotonic() - start
    # A read is fresh for 0.9 of an interval: at most one per 0.9 interval, whoever asks.
    most = elapsed / (0.9 * INTERVAL) + 2
    for sid in (first, second):
        assert 3 <= reads.by_space[sid] <= most, (sid, reads.by_space[sid], most)
    assert 3 <= reads.spaces_listed <= most
    assert default_registry().polling() == {
        live.inbox_key(first),
        live.inbox_key(second),
        live.NEEDS_KEY,
    }
    # Nothing changed: nothing was sent but the catch-up (the pages connected before anyone had
    # read the spaces) and each top bar's count at connect.
    for page in pages[:3]:
        while not await page.receive_nothing(timeout=0.05):
            assert 'id="live-sync"' in await page.receive_from()
    for bar in bars[:3]:
        assert 'data-count="0"' in await bar.receive_from(timeout=2)


# --- an approval arrives and leaves ---------------------------------------------------------


async def test_an_approval_arrives_and_leaves_live(sockets, viewer_client, operator_client, space):
    sid = space["agentSpaceId"]
    inbox = await sockets(inbox_path(sid), viewer_client)
    bar = await sockets("/ws/needs/", viewer_client)
    await wait_until(lambda: has_baseline(live.inbox_key(sid)))
    await wait_until(lambda: has_baseline(live.NEEDS_KEY))
    assert 'data-count="0"' in await until(bar, r'id="needs-count"')

    # The agent asks (the sandbox's emulated time hastened).
    task = await sync_to_async(create)(sid, "approval", title="5xx spike")
    task = await sync_to_async(hasten)(sid, task["taskId"], "PENDING_CUSTOMER_APPROVAL")
    (execution,) = await sync_to_async(executions)(sid, task["taskId"])
    (request,) = await sync_to_async(records)(
        sid, execution["executionId"], record_type="APPROVAL_REQUEST"
    )
    approval_id = request["content"]["approvalId"]
    element = live.dom_id(sid, f"approval:{approval_id}")

    html = await until(inbox, rf'id="{element}"[^>]*data-slot="approvals"')
    assert 'hx-swap-oob="beforeend:#needs-sink"' in html and 'data-live="created"' in html
    assert request["content"]["tool"] in html
    # Role-neutral: the answer form is there, marked for operators, without a CSRF token.
    assert '<div class="operator-only need-answer">' in html and "csrfmiddlewaretoken" not in html
    counted = await until(bar, r'id="needs-count"[^>]*data-count="1"')
    assert "1<span" in counted
    # The notice for the new request comes with the count, or right after it.
    notice = counted if "data-notice" in counted else await until(bar, r"data-notice")
    assert 'data-kind="approval"' in notice and f'data-key="{sid}/approval:{approval_id}"' in notice
    assert f"/spaces/{sid}/tasks/{task['taskId']}/#record-{request['recordId']}" in notice

    # Answered in another tab: it leaves every inbox and the count drops, at once.
    response = await sync_to_async(operator_client.post)(
        f"/spaces/{sid}/approvals/{approval_id}/",
        {"task": task["taskId"], "execution": execution["executionId"], "action": "APPROVED"},
    )
    assert response.status_code == 302
    gone = await until(inbox, rf'id="{element}" data-live="deleted"', timeout=INTERVAL * 5)
    assert "hidden" in gone
    assert 'data-count="0"' in await until(bar, r'id="needs-count"', timeout=INTERVAL * 5)


async def test_the_count_comes_when_the_top_bar_connects(
    sockets, viewer_client, space, monkeypatch
):
    """From the shared snapshot, before (and without) any read of AWS."""
    real = needs.spaces

    def slow():
        time.sleep(1)
        return real()

    monkeypatch.setattr(needs, "spaces", slow)
    store.save(live.NEEDS_KEY, {live.TOTAL: 3})
    reads = Reads()
    bar = await sockets("/ws/needs/", viewer_client)
    html = await bar.receive_from(timeout=0.9)
    assert 'id="needs-count"' in html and 'data-count="3"' in html
    assert 'hx-swap-oob="true"' in html
    assert not reads.by_space and reads.spaces_listed == 0


@pytest.mark.parametrize("waiting_for", ["a board's baseline", "the approvals count"])
async def test_a_socket_waiting_for_a_poll_that_keeps_failing_reads_the_cache_once_a_second(
    waiting_for, monkeypatch
):
    """A page socket waits (minutes at most) for the first poll of what it watches. While AWS
    keeps failing that poll never comes: every open tab must not read the cache twenty times a
    second meanwhile (each read a thread of the default pool every consumer's catch-up uses)."""
    from dashboard.inbox.consumers import NeedsConsumer
    from dashboard.tasks import consumers as task_consumers

    reads: list[str] = []
    if waiting_for == "a board's baseline":
        monkeypatch.setattr(task_consumers, "_has_snapshot", lambda key: bool(reads.append(key)))
        board = task_consumers.BoardConsumer()
        board._resyncs = 0
        waiting = board._catch_up(["board:s1"])
    else:
        monkeypatch.setattr(live, "waiting_count", lambda: reads.append("count"))
        waiting = NeedsConsumer()._send_count()
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float, *args) -> None:  # a minute goes by, simulated
        slept.append(seconds)
        if sum(slept) >= 60:
            raise asyncio.CancelledError  # the page went away
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert len(reads) <= 70, f"{len(reads)} cache reads in a minute"
