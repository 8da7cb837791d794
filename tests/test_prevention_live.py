"""The live prevention pages over real websockets (dashboard.asgi.application, session cookies,
Origin), through the triage issue's machinery: ws refused for anonymous users and bad
ids, a change made through the console reaching every open list and detail page at once,
changes made elsewhere (the agent revising a spec, a trigger deleted) found by the watcher,
and pushed fragments without anybody's CSRF token."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from dashboard.asgi import application
from dashboard.aws import clients as aws_clients
from dashboard.aws import prevention as aws
from dashboard.live import default_registry
from dashboard.prevention import live

from .test_prevention_support import HX, make_goal, make_rec, make_recs
from .test_tasks_live import (  # the triage issue's fixtures and helpers, reused
    ORIGIN,
    Calls,
    _cookie,
    _fast_polls,  # noqa: F401 - autouse fixture
    _fresh_layer_and_registry,  # noqa: F401 - autouse fixture
    _own_aws_pool,  # noqa: F401 - autouse fixture
    receive,
    settle,
)
from .test_views_task_support import form_with_button, text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _one_sandbox_call_at_a_time(monkeypatch):
    """As in test_tasks_live: SQLite's shared in-memory database refuses concurrent writers."""
    import threading

    from django.db import connection

    if connection.vendor != "sqlite":
        return
    lock = threading.RLock()
    real = aws_clients.call

    def call(*args, **kwargs):
        with lock:
            return real(*args, **kwargs)

    monkeypatch.setattr(aws_clients, "call", call)
    monkeypatch.setattr(aws, "call", call)


@pytest.fixture
async def ws():
    """Opens signed-in communicators; disconnects them and stops the pollers afterwards."""
    opened: list[WebsocketCommunicator] = []

    async def open_(path: str, client, *, connect: bool = True):  # type: ignore[no-untyped-def]
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


def _path(sid: str, *parts: str) -> str:
    return "/ws/spaces/" + "/".join([sid, *parts]) + "/"


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["recommendations", "goals", "triggers"])
async def test_anonymous_sockets_are_refused_and_nothing_is_polled(ws, space, kind):
    communicator = await ws(_path(space["agentSpaceId"], kind), None, connect=False)
    connected, code = await communicator.connect()
    assert not connected and code == 4401
    assert default_registry().polling() == set()


@pytest.mark.parametrize("kind", ["recommendations", "goals", "triggers"])
async def test_ids_no_resource_can_have_are_refused(ws, viewer_client, space, kind):
    communicator = await ws(
        _path(space["agentSpaceId"], kind, "bad%20id!"), viewer_client, connect=False
    )
    connected, code = await communicator.connect()
    assert not connected and code == 4404
    assert default_registry().polling() == set()


async def test_a_foreign_origin_is_refused(viewer_client, space):
    communicator = WebsocketCommunicator(
        application,
        _path(space["agentSpaceId"], "recommendations"),
        headers=[(b"origin", b"http://evil.example"), _cookie(viewer_client)],
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


# --- broadcast on write ------------------------------------------------------------------------


async def test_accepting_reaches_the_open_list_and_detail_pages_at_once(
    ws, settings, viewer_client, operator_client, space
):
    settings.LIVE_POLL_INTERVAL = 60  # only the broadcast can deliver within this test
    sid = space["agentSpaceId"]
    goal = await sync_to_async(make_goal)(sid)
    rec, other = await sync_to_async(make_recs)(sid, 2, goal=goal)
    rec_id = rec["recommendationId"]
    listing = await ws(_path(sid, "recommendations"), viewer_client)
    detail = await ws(_path(sid, "recommendations", rec_id), viewer_client)
    goal_page = await ws(_path(sid, "goals", goal["goalId"]), viewer_client)
    await settle([listing], live.key(live.RECS, sid))
    await settle([detail], live.key(live.REC, sid, rec_id))
    await settle([goal_page], live.key(live.GOAL, sid, goal["goalId"]))

    page = await sync_to_async(operator_client.get)(f"/spaces/{sid}/recommendations/{rec_id}/")
    form = form_with_button(text(page), "Accept")
    response = await sync_to_async(operator_client.post)(form["action"], form["data"], headers=HX)
    assert response.status_code == 200

    html = await receive(listing, timeout=1)
    assert 'hx-swap-oob="beforeend:#rec-rows"' in html and f'id="rec-{rec_id}"' in html
    assert 'data-status="ACCEPTED"' in html and 'data-live="updated"' in html
    assert other["recommendationId"] not in html  # only what changed
    assert goal["title"][:30] in html  # the row keeps its goal's title (cut to 40)
    html = await receive(detail, timeout=1)
    assert f'id="rec-summary-{rec_id}"' in html and 'hx-swap-oob="outerHTML"' in html
    assert 'id="rec-actions"' in html and "Mark complete" in html
    assert "csrfmiddlewaretoken" not in html  # nobody's token goes to a group
    html = await receive(goal_page, timeout=1)
    assert 'hx-swap-oob="beforeend:#goal-rec-rows"' in html and 'data-status="ACCEPTED"' in html


async def test_a_schedule_switch_reaches_the_goal_list_and_page(
    ws, settings, viewer_client, operator_client, space
):
    settings.LIVE_POLL_INTERVAL = 60
    sid = space["agentSpaceId"]
    goal = await sync_to_async(make_goal)(sid)
    listing = await ws(_path(sid, "goals"), viewer_client)
    page_socket = await ws(_path(sid, "goals", goal["goalId"]), viewer_client)
    await settle([listing], live.key(live.GOALS, sid))
    await settle([page_socket], live.key(live.GOAL, sid, goal["goalId"]))

    page = await sync_to_async(operator_client.get)(f"/spaces/{sid}/goals/{goal['goalId']}/")
    form = form_with_button(text(page), "Disable the schedule")
    assert (
        await sync_to_async(operator_client.post)(form["action"], form["data"])
    ).status_code == 302

    html = await receive(listing, timeout=1)
    assert f'id="goal-{goal["goalId"]}"' in html and ">Off<" in html
    html = await receive(page_socket, timeout=1)
    assert f'id="goal-schedule-{goal["goalId"]}"' in html and "Enable the schedule" in html
    assert "operator-only" in html and "csrfmiddlewaretoken" not in html


# --- changes made elsewhere ----------------------------------------------------------------------


async def test_the_agent_revising_a_spec_reaches_the_detail_page(ws, viewer_client, space):
    sid = space["agentSpaceId"]
    rec = await sync_to_async(make_rec)(sid)
    rec_id = rec["recommendationId"]
    await sync_to_async(aws.update_recommendation)(
        sid, rec_id, status="UPDATE_IN_PROGRESS", additional_context="Terraform only."
    )
    detail = await ws(_path(sid, "recommendations", rec_id), viewer_client)
    await settle([detail], live.key(live.REC, sid, rec_id))
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5), tick=True):
        html = await receive(detail, timeout=3)
    assert 'data-status="PROPOSED"' in html
    assert f'id="rec-spec-{rec_id}"' in html and "Revision 1" in html  # the new spec
    assert "Terraform only." in html


async def test_recommendations_filed_by_the_agent_appear_on_the_list(ws, viewer_client, space):
    sid = space["agentSpaceId"]
    listing = await ws(_path(sid, "recommendations"), viewer_client)
    await settle([listing], live.key(live.RECS, sid))
    made = await sync_to_async(make_recs)(sid, 2)
    seen = ""
    for _ in range(2):
        seen += await receive(listing, timeout=3)
        if all(r["recommendationId"] in seen for r in made):
            break
    for rec in made:
        assert f'id="rec-{rec["recommendationId"]}"' in seen
    assert 'data-live="created"' in seen


async def test_a_trigger_deleted_elsewhere_is_removed_and_its_page_says_so(
    ws, viewer_client, space
):
    sid = space["agentSpaceId"]
    made = await sync_to_async(aws.create_trigger)(
        sid,
        trigger_type="TIME_BASED",
        expression="rate(1 day)",
        action={"actionType": "create:task", "task": {"agent": "custom:x"}},
    )
    listing = await ws(_path(sid, "triggers"), viewer_client)
    page = await ws(_path(sid, "triggers", made["triggerId"]), viewer_client)
    await settle([listing], live.key(live.TRIGGERS, sid))
    await settle([page], live.key(live.TRIGGER, sid, made["triggerId"]))
    await sync_to_async(aws.delete_trigger)(sid, made["triggerId"])
    html = await receive(listing, timeout=3)
    assert f'id="trigger-{made["triggerId"]}" data-live="deleted"' in html
    html = await receive(page, timeout=3)
    assert "This trigger was deleted" in html


async def test_one_list_call_per_interval_however_many_tabs_watch(ws, viewer_client, space):
    sid = space["agentSpaceId"]
    await sync_to_async(make_recs)(sid, 2)
    calls = Calls("ListRecommendations")
    pages = [await ws(_path(sid, "recommendations"), viewer_client) for _ in range(10)]
    await settle(pages, live.key(live.RECS, sid))
    began = time.monotonic()
    await asyncio.sleep(2.0)
    made = calls.since(began)
    # One ListRecommendations per 0.1 s interval, not one per tab; the lower bound only shows
    # the poller is alive on a busy machine.
    assert 3 <= made <= 2.0 / 0.1 + 1, made
    for page in pages[:3]:
        assert await page.receive_nothing(timeout=0.05)
