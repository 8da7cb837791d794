"""A relay that dies is not the end of the reply: a process with viewers notices that nobody
holds the run any more, tells them, and shows the reply once the agent has recorded it in the
chat's journal — once, across processes, without a retry.

The relay's death is made as it happens to a killed process: the run is in the replay log,
open, with part of the reply, and nobody holds its lock; the agent (the sandbox) saw its reader
go away and recorded the whole reply."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from django.core.cache import cache

from dashboard import streams
from dashboard.aws import chat as aws_chat
from dashboard.aws import executor as aws_executor
from dashboard.chat import exchanges
from dashboard.streams import log, recovery

from .chat_support import Tab, backlog, new_chat, serialize_sqlite

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh(settings, monkeypatch):
    channel_layers.backends.clear()
    cache.clear()
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.0
    settings.SANDBOX_CHAT_FAULTS = ""
    settings.STREAM_RECOVER_POLL = 0.05
    settings.STREAM_HEARTBEAT_SECONDS = 0.5
    aws_executor._executor = None
    serialize_sqlite(monkeypatch)
    yield
    pool, aws_executor._executor = aws_executor._executor, None
    if pool is not None:
        pool.shutdown(wait=True)


@pytest.fixture
def chat(space):
    sid = space["agentSpaceId"]
    backlog(sid)
    return sid, new_chat(sid)


def die_mid_reply(sid: str, chat_id: str, question: str, keep: int) -> tuple[str, str]:
    """A relay streamed `keep` events of the reply to `question`, then its process died: its
    run stays open in the log and its connection to the agent closed. Returns (key, run)."""
    key = exchanges.stream_key(sid, chat_id)
    run = streams.relay.new_run()
    meta = {"content": question, "user": "oscar-operator", "at": time.time()}
    log.begin(key, run, meta)
    events = [streams.Event(seq=1, type=streams.START, data=meta, at=time.time())]
    reply = iter(aws_chat.open_reply(aws_chat.send_params(sid, chat_id, question)))
    for event_type, data in reply:
        if event_type == "heartbeat":
            continue
        events.append(streams.Event(seq=len(events) + 1, type=event_type, data=data, at=0.0))
        if len(events) >= keep:
            break
    log.append(key, run, events)
    reply.close()  # the connection drops with the process: the agent finishes on its own
    return key, run


async def test_a_viewer_sees_the_relay_lost_then_the_reply_as_recorded(operator_client, chat):
    sid, cid = chat
    key, run = await sync_to_async(die_mid_reply)(sid, cid, "What is open?", keep=8)
    tab = await Tab(operator_client, sid, cid).open()
    html = await tab.until("xs-done")
    assert "Waiting for the recorded reply" in html or "relaying this reply stopped" in html
    assert "Tool call: ListBacklogTasks" in html
    assert "<strong>CRITICAL</strong>" in html, "the whole reply, rendered as recorded"
    assert "Tokens:" in html
    events = await sync_to_async(log.read)(key, run)
    types = [e["type"] for e in events]
    assert types[-3:] == [streams.RELAY_LOST, exchanges.RECOVERED, streams.END]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert (tab.run, tab.seq) == (run, events[-1]["seq"])
    assert await sync_to_async(log.holder)(key) is None, "the key is free for the next message"
    await tab.close()


async def test_recovery_happens_once_for_every_viewer_and_late_tabs_get_it_from_the_log(
    operator_client, chat
):
    sid, cid = chat
    key, run = await sync_to_async(die_mid_reply)(sid, cid, "What is open?", keep=6)
    tabs = [await Tab(operator_client, sid, cid).open() for _ in range(3)]
    for tab in tabs:
        await tab.until("xs-done")
    events = await sync_to_async(log.read)(key, run)
    assert [e["type"] for e in events].count(exchanges.RECOVERED) == 1
    assert [e["type"] for e in events].count(streams.RELAY_LOST) == 1
    # Every tab got the recovered reply once.
    for tab in tabs:
        assert tab.text.count("<strong>CRITICAL</strong>") == 1
    late = await Tab(operator_client, sid, cid).open()
    html = await late.until("xs-done")
    assert html.count("<strong>CRITICAL</strong>") == 1
    await asyncio.gather(*(t.close() for t in [*tabs, late]))


async def test_a_reply_not_yet_recorded_is_waited_for(operator_client, chat, monkeypatch):
    sid, cid = chat
    key, _ = await sync_to_async(die_mid_reply)(sid, cid, "What is open?", keep=5)
    real = exchanges.recover
    answers: list[bool] = []

    def slow(key, run, events):  # the agent records the reply on the third look
        answers.append(len(answers) >= 2)
        return real(key, run, events) if answers[-1] else None

    kind = streams.kind_of(key)
    monkeypatch.setitem(streams.relay.KINDS, kind.name, dataclasses.replace(kind, recover=slow))
    tab = await Tab(operator_client, sid, cid).open()
    html = await tab.until("Waiting for the recorded reply")
    assert "xs-done" not in html
    await tab.until("xs-done")
    assert answers == [False, False, True]
    await tab.close()


async def test_a_run_another_process_recovers_is_left_to_it(operator_client, chat):
    sid, cid = chat
    key, run = await sync_to_async(die_mid_reply)(sid, cid, "What is open?", keep=5)
    other = f"{run}+recovery:another-process"
    assert await sync_to_async(log.claim)(key, other) is None  # another process took it
    tab = await Tab(operator_client, sid, cid).open()
    html = await tab.until("Waiting for the recorded reply")
    await asyncio.sleep(0.3)  # several recovery polls' worth: nobody here recovers
    events = await sync_to_async(log.read)(key, run)
    assert exchanges.RECOVERED not in [e["type"] for e in events]
    assert "xs-done" not in html + tab.text
    # That process dies too: its claim lapses and this one takes over.
    await sync_to_async(log.release)(key, other)
    await tab.until("xs-done", timeout=10)
    await tab.close()
    assert not recovery._RECOVERING
