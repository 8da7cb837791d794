"""The code interpreter stream relay over real websockets (dashboard.asgi.application, session
cookies, Origin): a run's events arrive in order, a second viewer sees the same, a tab opened
mid-run catches up, a reconnect gets exactly what it missed; who may run (viewers watch,
operators run); and errors answered on the sender's socket with the typed code kept."""

from __future__ import annotations

import asyncio
import re

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from django.core.cache import cache

from dashboard import streams
from dashboard.aws import agentcore_code as code_api
from dashboard.aws import executor as aws_executor
from dashboard.core.models import AuditEntry

from .agentcore_code_support import (
    SYSTEM,
    Tab,
    code_path,
    position,
    serialize_sqlite,
    terminal_text,
)

pytestmark = pytest.mark.django_db(transaction=True)

DONE = "ci-state-done"
TICKS = "import time\nfor i in range(4):\n    print('tick', i)\n    time.sleep(0.25)\nprint('end')"


@pytest.fixture(autouse=True)
def _fresh(settings, monkeypatch):
    channel_layers.backends.clear()
    cache.clear()
    settings.SANDBOX_CODE_STEP_SECONDS = 0.0
    settings.SANDBOX_FAULTS = ""
    settings.STREAM_THREADS = 8
    settings.STREAM_COALESCE_SECONDS = 0.05
    aws_executor._executor = None
    serialize_sqlite(monkeypatch)
    yield
    pool, aws_executor._executor = aws_executor._executor, None
    if pool is not None:
        pool.shutdown(wait=True)
    channel_layers.backends.clear()


@pytest.fixture
def session_id(db):
    return code_api.start_session(SYSTEM, name="live")["sessionId"]


async def finish(*tabs: Tab) -> None:
    await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)
    for relay in streams.active():
        await relay.wait(10)


def dom_of(html: str) -> str:
    found = re.search(r'<article id="(r-[0-9a-f]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def run_code(code: str, **extra) -> dict:
    return {"action": "run", "tool": "executeCode", "code": code, "language": "python", **extra}


# --- one run ------------------------------------------------------------------------------------


async def test_a_run_streams_its_output_in_order_then_its_result(operator_client, session_id):
    tab = await Tab(operator_client, code_path(session_id)).open()
    await tab.send(**run_code(TICKS))
    html = await tab.until(DONE)
    # The sender's form answer: no error, nothing replaced but the error region.
    assert 'id="ci-form-errors"' in html and "alert-error" not in html
    dom = dom_of(html)
    assert terminal_text(html, dom) == [
        ("stdout", "tick 0\n"),
        ("stdout", "tick 1\n"),
        ("stdout", "tick 2\n"),
        ("stdout", "tick 3\n"),
        ("stdout", "end\n"),
    ]
    # The lines arrived in separate messages, as they were produced.
    carrying = [h for _, h in tab.received if f"beforeend:#{dom}-term" in h]
    assert len(carrying) >= 4
    assert f'id="{dom}-facts"' in html and "Exit code" in html
    assert "Simulated by the console&#x27;s sandbox" in html
    seqs = [p for p in (position(h) for _, h in tab.received) if p]
    assert [s for _, s in seqs] == sorted(s for _, s in seqs)
    await finish(tab)


async def test_a_second_viewer_sees_the_same_run(operator_client, viewer_client, session_id):
    sender = await Tab(operator_client, code_path(session_id)).open()
    watcher = await Tab(viewer_client, code_path(session_id)).open()
    await sender.send(**run_code(TICKS))
    mine = await sender.until(DONE)
    theirs = await watcher.until(DONE)
    dom = dom_of(mine)
    assert dom_of(theirs) == dom
    assert terminal_text(mine, dom) == terminal_text(theirs, dom)
    assert 'id="ci-form-errors"' not in theirs, "only the sender gets the form's answer"
    await finish(sender, watcher)


async def test_a_late_joiner_catches_up_then_follows_live(
    operator_client, viewer_client, session_id
):
    sender = await Tab(operator_client, code_path(session_id)).open()
    await sender.send(**run_code(TICKS))
    await sender.until("tick 1")
    late = await Tab(viewer_client, code_path(session_id)).open()
    first = await late.receive()
    dom = dom_of(first)
    # What streamed so far came at once, rendered into the run (not as appends).
    assert "tick 0" in first and "tick 1" in first
    rest = await late.until(DONE)
    everything = first + rest
    assert everything.count("tick 0") == 1 and everything.count("tick 1") == 1
    assert "tick 3" in rest and "end\n" in rest
    assert terminal_text(rest, dom)[-1] == ("stdout", "end\n")
    await finish(sender, late)


async def test_a_reconnecting_tab_gets_exactly_what_it_missed(operator_client, session_id):
    tab = await Tab(operator_client, code_path(session_id)).open()
    await tab.send(**run_code(TICKS))
    await tab.until("tick 0")
    run, seq = tab.run, tab.seq
    await tab.close()
    await asyncio.sleep(1.5)  # the rest streams while this tab is away
    back = await Tab(operator_client, code_path(session_id)).open(run=run, after=seq)
    html = await back.until(DONE)
    assert "tick 0" not in html
    assert "tick 3" in html and "end\n" in html
    await finish(back)


async def test_the_page_shows_a_finished_run_from_the_log(operator_client, session_id):
    tab = await Tab(operator_client, code_path(session_id)).open()
    await tab.send(**run_code("print('from the log')"))
    await tab.until(DONE)
    await finish(tab)
    page = await sync_to_async(operator_client.get)(
        f"/agentcore/code-interpreters/{SYSTEM}/sessions/{session_id}/"
    )
    html = page.content.decode()
    assert '<span class="ci-stdout">from the log\n</span>' in html
    assert 'class="stream-pos"' in html and "No runs yet" in html  # empty state hidden by CSS


# --- who may do what ----------------------------------------------------------------------------


async def test_viewers_watch_but_cannot_run(viewer_client, session_id):
    tab = await Tab(viewer_client, code_path(session_id)).open()
    await tab.send(**run_code("print(1)"))
    html = await tab.until('id="ci-form-errors"')
    assert "needs the operator role" in html
    assert await tab.communicator.receive_nothing(0.3)
    assert not streams.read_runs(f"codeinterp:{SYSTEM}:{session_id}")
    await finish(tab)


async def test_anonymous_sockets_and_unknown_sessions_are_refused(operator_client, session_id):
    anonymous = Tab(None, code_path(session_id))
    connected, code = await anonymous.connect()
    assert not connected and code == 4401
    unknown = Tab(operator_client, code_path("01UNKNOWN0000000000000000"))
    connected, code = await unknown.connect()
    assert not connected and code == 4403
    malformed = Tab(operator_client, code_path("bad-id!"))
    connected, code = await malformed.connect()
    assert not connected and code == 4404


# --- errors keep the typed code -----------------------------------------------------------------


async def test_invalid_input_is_refused_next_to_its_field_without_a_call(
    operator_client, session_id
):
    tab = await Tab(operator_client, code_path(session_id)).open()
    await tab.send(action="run", tool="readFiles", paths="  \n ")
    html = await tab.until('id="ci-form-errors"')
    assert re.search(r'<ul id="ci-err-paths" class="errorlist" hx-swap-oob="true"><li>Give', html)
    assert 'id="ci-err-code"' in html and 'id="id_code"' not in html, "fields are not replaced"
    assert not await sync_to_async(AuditEntry.objects.exists)()
    await finish(tab)


async def test_throttling_answers_the_sender_and_leaves_the_code_in_place(
    operator_client, session_id, settings
):
    tab = await Tab(operator_client, code_path(session_id)).open()
    settings.SANDBOX_FAULTS = "throttle=1"
    await tab.send(**run_code("print('precious')"))
    html = await tab.until('id="ci-form-errors"')
    assert "AWS is throttling InvokeCodeInterpreter" in html
    assert "your code is kept below" in html
    assert 'id="id_code"' not in html, "the typed code is not touched"
    await finish(tab)


async def test_a_second_run_while_one_streams_is_refused_politely(operator_client, session_id):
    tab = await Tab(operator_client, code_path(session_id)).open()
    await tab.send(**run_code(TICKS))
    await tab.until("tick 0")
    await tab.send(**run_code("print('second')"))
    html = await tab.until("still in progress")
    assert "your code is kept below" in html
    await tab.until(DONE)
    await finish(tab)


async def test_a_full_stream_pool_is_said_at_once_and_the_code_kept(
    operator_client, session_id, monkeypatch
):
    from dashboard.agentcore import running

    async def full(*args, **kwargs):
        raise streams.PoolFull(32)

    monkeypatch.setattr(running.streams, "start", full)
    tab = await Tab(operator_client, code_path(session_id)).open()
    await tab.send(**run_code("print('later')"))
    html = await tab.until('id="ci-form-errors"')
    assert "already relaying 32 streams" in html and "is kept below" in html
    entry = await sync_to_async(AuditEntry.objects.get)(operation="InvokeCodeInterpreter")
    assert entry.outcome == "failed"
    await finish(tab)


# --- malformed frames and unexpected failures ---------------------------------------------------


async def test_a_malformed_frame_is_answered_and_the_socket_keeps_working(
    operator_client, session_id
):
    tab = await Tab(operator_client, code_path(session_id)).open()
    # Nested too deep for json.loads (RecursionError, not ValueError): it killed the consumer.
    await tab.communicator.send_to(text_data="[" * 100_000)
    html = await tab.until('id="ci-form-errors"')
    assert "could not read" in html
    await tab.communicator.send_to(text_data="not json at all")
    assert "could not read" in await tab.until('id="ci-form-errors"')
    await tab.send(**run_code("print('still here')"))
    assert "still here" in await tab.until(DONE)
    await finish(tab)


async def test_an_unexpected_failure_to_start_is_answered_not_lost(
    operator_client, session_id, monkeypatch
):
    from dashboard.agentcore import running

    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(running, "run_tool", broken)
    tab = await Tab(operator_client, code_path(session_id)).open()
    await tab.send(**run_code("print('kept')"))
    html = await tab.until('id="ci-form-errors"')
    assert "could not start" in html and "kept below" in html and "boom" not in html
    await finish(tab)
