"""Chat over real websockets (dashboard.asgi.application, session cookies, Origin) against the
sandbox's simulated agent: a reply relayed in order and complete, several viewers, a tab that
opens mid-reply or reconnects, failures and cut streams, untrusted output made inert, replies
progressing in parallel, and the limits (stream pool, the space's quota, throttling) answered
with the typed message kept."""

from __future__ import annotations

import asyncio
import re

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from django.core.cache import cache

from dashboard import streams
from dashboard.aws import executor as aws_executor
from dashboard.streams.pool import pool as stream_pool

from .chat_support import Tab, backlog, new_chat, position, serialize_sqlite, streamed_text

pytestmark = pytest.mark.django_db(transaction=True)

DONE = "xs-done"


@pytest.fixture(autouse=True)
def _fresh(settings, monkeypatch):
    channel_layers.backends.clear()
    cache.clear()
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.0
    settings.SANDBOX_CHAT_FAULTS = ""
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
def chat(space):
    sid = space["agentSpaceId"]
    backlog(sid)
    return sid, new_chat(sid)


async def finish(*tabs: Tab) -> None:
    await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)
    for relay in streams.active():
        await relay.wait(10)


def dom_of(html: str) -> str:
    found = re.search(r'<article id="(x-[0-9a-f]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def final_text_block(html: str) -> str:
    bodies = re.findall(
        r'class="block-body" hx-swap-oob="true">\s*<div class="md">(.*?)</div>', html, re.S
    )
    return bodies[-1] if bodies else ""


# --- one reply ----------------------------------------------------------------------------------


async def test_a_message_over_the_socket_streams_the_whole_reply_in_order(operator_client, chat):
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("What is open?")
    html = await tab.until(DONE)
    if 'id="composer-body"' not in html:  # the box comes after the audit write: maybe later
        html += await tab.until('id="composer-body"')
    # The sender's message box comes back empty: the message went out.
    assert (
        'id="composer-body"' in html and "alert-error" not in html.split("composer-body")[1][:400]
    )
    dom = dom_of(html)
    # The exchange, the working indicator, the tool call nested with its result, the text
    # streamed token by token and then rendered as Markdown, the summary and the usage.
    assert "What is open?" in html
    assert "Working…" in html
    assert 'hx-swap-oob="beforeend:#' + dom + '-blocks"' in html
    assert 'hx-swap-oob="beforeend:#' + dom + '-b0-kids"' in html, "toolResult under toolUse"
    assert "Tool call: ListBacklogTasks" in html
    streamed = streamed_text(html, dom, 2)
    assert streamed.startswith("2 high-priority tasks are open")
    final = final_text_block(html)
    assert "<strong>CRITICAL</strong>" in final and "<ol>" in final
    # The task ids it names are links, live too (rendered without an AWS call on the loop).
    assert f'<a class="task-ref" href="/spaces/{sid}/tasks/' in final
    assert "What the agent did" in html and "Listed 2 open high-priority task(s)" in html
    assert re.search(r"Tokens: \d+ in · \d+ out · \d+ total", html)
    # Every message carried the position; the sequence only grows, by batches.
    seqs = [position(h)[1] for _, h in tab.received if position(h)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    await finish(tab)


async def test_deltas_are_coalesced_with_the_first_pushed_alone(operator_client, chat, settings):
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.003
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("What is open?")
    html = await tab.until(DONE)
    dom = dom_of(html)
    messages = [h for _, h in tab.received if f"beforeend:#{dom}-b2-raw" in h]
    first = streamed_text(messages[0], dom, 2)
    assert first == "2 ", "the first delta travels at once, alone"
    tokens = len(re.findall(r"\S+\s*", streamed_text(html, dom, 2)))
    assert len(messages) < tokens / 2, "later deltas travel together"
    await finish(tab)


async def test_reopening_the_chat_shows_its_history(operator_client, chat):
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("What is open?")
    await tab.until(DONE)
    await finish(tab)
    cache.clear()  # the stream log is gone: the page must come from the chat's history
    page = (await sync_to_async(operator_client.get)(f"/spaces/{sid}/chat/{cid}/")).content.decode()
    assert "What is open?" in page
    assert "<strong>CRITICAL</strong>" in page
    assert "Tool call: ListBacklogTasks" in page and "Done" in page


# --- several viewers ----------------------------------------------------------------------------


async def test_two_viewers_see_the_same_reply_live(operator_client, viewer_client, chat):
    sid, cid = chat
    sender = await Tab(operator_client, sid, cid).open()
    watcher = await Tab(viewer_client, sid, cid).open()
    await sender.send("What is open?")
    mine = await sender.until(DONE)
    theirs = await watcher.until(DONE)
    dom = dom_of(mine)
    assert dom_of(theirs) == dom
    assert streamed_text(mine, dom, 2) == streamed_text(theirs, dom, 2)
    assert final_text_block(mine) == final_text_block(theirs)
    assert 'id="composer-body"' not in theirs, "only the sender's box is reset"
    await finish(sender, watcher)


async def test_a_tab_opened_mid_reply_shows_what_streamed_and_then_the_rest(
    operator_client, viewer_client, chat, settings
):
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.01
    sid, cid = chat
    sender = await Tab(operator_client, sid, cid).open()
    await sender.send("What is open?")
    html = await sender.until("high-priority")
    dom = dom_of(html)
    # A new tab: the page as the server renders it now, then its socket from that position.
    page = (await sync_to_async(viewer_client.get)(f"/spaces/{sid}/chat/{cid}/")).content.decode()
    start = position(page)
    assert start is not None and start[1] > 0
    raw = re.search(rf'id="{dom}-b2-raw" class="raw">(.*?)</span>', page, re.S)
    assert raw is not None, "the page shows the reply so far"
    late = await Tab(viewer_client, sid, cid).open(*start)
    rest = await late.until(DONE)
    full = await sender.until(DONE)
    everything = html + full
    assert raw.group(1) + streamed_text(rest, dom, 2) == streamed_text(everything, dom, 2)
    assert f'<article id="{dom}"' not in rest, "the exchange is not sent twice"
    await finish(sender, late)


async def test_a_tab_that_reconnects_loses_nothing_and_gets_nothing_twice(
    operator_client, chat, settings
):
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.01
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("What is open?")
    before = await tab.until("high-priority")
    dom = dom_of(before)
    run, seq = tab.run, tab.seq
    await tab.close()  # the socket drops mid-reply
    await asyncio.sleep(0.15)
    back = await Tab(operator_client, sid, cid).open(run, seq)
    after = await back.until(DONE)
    relay_text = "".join(
        streams.render_from(e_key, run, events, 0)
        for e_key, events in [
            (f"chat:{sid}:{cid}", await sync_to_async(streams.log.read)(f"chat:{sid}:{cid}", run))
        ]
    )
    whole = streamed_text(relay_text, dom, 2)
    assert streamed_text(before, dom, 2) + streamed_text(after, dom, 2) == whole
    assert position(after)[1] > seq
    await finish(back)


# --- failures -----------------------------------------------------------------------------------


async def test_a_failed_reply_shows_the_code_the_message_and_a_retry(
    operator_client, chat, settings
):
    settings.SANDBOX_CHAT_FAULTS = "fail=1"
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("What is open?")
    html = await tab.until("xs-failed")
    assert "The agent could not reply" in html
    assert "<code>InternalServerException</code>" in html
    assert "The agent could not finish this reply (injected fault)" in html
    assert 'class="retry-form operator-only"' in html and 'value="What is open?"' in html
    # Retry sends the same message again (once the failed run has ended: xs-failed may arrive
    # a moment before its stream.end); this time it succeeds.
    for relay in streams.active():
        await relay.wait(10)
    settings.SANDBOX_CHAT_FAULTS = ""
    await tab.send("What is open?")
    await tab.until(DONE)
    await finish(tab)


async def test_a_stream_cut_mid_reply_says_so_and_offers_a_retry(operator_client, chat, settings):
    settings.SANDBOX_CHAT_FAULTS = "cut=1"
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("What is open?")
    html = await tab.until("xs-broken")
    assert "The reply broke off" in html
    assert "ended before the agent finished" in html
    assert "Retry" in html
    await finish(tab)


async def test_a_silent_stream_is_given_up_not_waited_for(operator_client, chat, settings):
    settings.SANDBOX_CHAT_FAULTS = "stall=1,stall_seconds=1.5"
    settings.STREAM_IDLE_TIMEOUT = 0.3
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("What is open?")
    html = await tab.until("xs-broken")
    assert "Nothing arrived for 0.3 seconds" in html
    await finish(tab)
    # The stalled reader still holds its stream thread (and a database connection) until the
    # stall is over: the test database must outlive it.
    deadline = asyncio.get_running_loop().time() + 10
    while stream_pool().busy:
        assert asyncio.get_running_loop().time() < deadline, "the stalled reader never ended"
        await asyncio.sleep(0.05)


async def test_agent_output_is_rendered_inert(operator_client, chat):
    sid, cid = chat
    payload = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[click](javascript:alert(3)) <a href='javascript:alert(4)'>x</a>"
    )
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send(payload)
    html = await tab.until(DONE)
    assert "could not match" in html  # the agent quotes the message back
    for bad in ("<script", "<img", 'href="javascript:', "href='javascript:"):
        assert bad not in html, bad
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", html), "no element has an event handler"
    assert "&lt;script&gt;" in html
    await finish(tab)


# --- several replies at once ----------------------------------------------------------------


async def test_two_replies_progress_in_parallel(operator_client, space, settings):
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.005
    sid = space["agentSpaceId"]
    await sync_to_async(backlog)(sid)
    one, two = [await sync_to_async(new_chat)(sid) for _ in range(2)]
    first = await Tab(operator_client, sid, one).open()
    second = await Tab(operator_client, sid, two).open()
    await first.send("What is open?")
    await second.send("What is open?")
    await asyncio.gather(first.until(DONE), second.until(DONE))

    def span(tab: Tab) -> tuple[float, float]:
        times = [t for t, h in tab.received if '-raw">' in h and "beforeend" in h]
        return times[0], times[-1]

    a, b = span(first), span(second)
    assert b[0] < a[1] and a[0] < b[1], "the replies overlapped in time, not one after the other"
    await finish(first, second)


async def test_concurrent_replies_reach_every_tab_once_and_in_order_even_after_a_reconnect(
    operator_client, space, settings
):
    """Four replies at once, each watched by the sender's tab and by a tab whose socket drops
    mid-reply and comes back with its position: every tab ends with the whole reply as the
    log has it, each fragment once, the positions only growing."""
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.005
    settings.SANDBOX_CHAT_CONCURRENCY = 10
    sid = space["agentSpaceId"]
    await sync_to_async(backlog)(sid)
    chats = [await sync_to_async(new_chat)(sid) for _ in range(4)]
    senders = [await Tab(operator_client, sid, c).open() for c in chats]
    leavers = [await Tab(operator_client, sid, c).open() for c in chats]
    for tab in senders:
        await tab.send("What is open?")
    firsts = [await tab.until("high-priority") for tab in leavers]
    for tab in leavers:
        await tab.close()
    backs = [
        await Tab(operator_client, sid, c).open(t.run, t.seq)
        for c, t in zip(chats, leavers, strict=True)
    ]
    for chat_id, sender, leaver, back, first in zip(
        chats, senders, leavers, backs, firsts, strict=True
    ):
        mine = await sender.until(DONE)
        rest = await back.until(DONE)
        dom = dom_of(mine)
        key = f"chat:{sid}:{chat_id}"
        events = await sync_to_async(streams.log.read)(key, dom[2:])
        whole = streamed_text(streams.render_from(key, dom[2:], events, 0), dom, 2)
        assert streamed_text(mine, dom, 2) == whole
        assert streamed_text(first, dom, 2) + streamed_text(rest, dom, 2) == whole
        assert f'<article id="{dom}"' not in rest, "the exchange is not sent twice"
        for tab in (sender, leaver, back):
            seqs = [position(h)[1] for _, h in tab.received if position(h)]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "every batch once"
        assert back.run == dom[2:] and back.seq > leaver.seq
    await finish(*senders, *backs)


# --- limits: the typed message is kept ------------------------------------------------------


async def test_a_full_stream_pool_is_told_and_the_message_kept(operator_client, space, settings):
    settings.STREAM_THREADS = 1
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.02
    sid = space["agentSpaceId"]
    one, two = [await sync_to_async(new_chat)(sid) for _ in range(2)]
    busy = await Tab(operator_client, sid, one).open()
    await busy.send("What is open?")
    await busy.until("Working")
    tab = await Tab(operator_client, sid, two).open()
    await tab.send("Is checkout healthy?")
    html = await tab.until('id="composer-body"')
    assert "as many as it is set up for" in html
    assert re.search(r">\s*Is checkout healthy\?</textarea>", html)
    await busy.until(DONE)
    await finish(busy, tab)


async def test_the_spaces_reply_quota_is_told_and_the_message_kept(
    operator_client, space, settings
):
    settings.SANDBOX_CHAT_CONCURRENCY = 1
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.02
    sid = space["agentSpaceId"]
    one, two = [await sync_to_async(new_chat)(sid) for _ in range(2)]
    busy = await Tab(operator_client, sid, one).open()
    await busy.send("What is open?")
    await busy.until("Working")
    tab = await Tab(operator_client, sid, two).open()
    await tab.send("Is checkout healthy?")
    html = await tab.until('id="composer-body"')
    assert "chat replies in progress" in html and "kept below" in html
    assert re.search(r">\s*Is checkout healthy\?</textarea>", html)
    await busy.until(DONE)
    await finish(busy, tab)


async def test_throttling_is_told_and_the_message_kept(operator_client, chat, settings):
    settings.SANDBOX_FAULTS = "throttle=1"
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("Is checkout healthy?")
    html = await tab.until('id="composer-body"')
    assert "throttling" in html and "kept below" in html
    assert re.search(r">\s*Is checkout healthy\?</textarea>", html)
    await finish(tab)


async def test_a_second_message_while_the_agent_replies_is_kept(operator_client, chat, settings):
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.02
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("What is open?")
    await tab.until("Working")
    await tab.send("And the ledger?")
    html = await tab.until("still replying")
    assert re.search(r">\s*And the ledger\?</textarea>", html)
    await tab.until(DONE)
    await finish(tab)


async def test_viewers_cannot_send(viewer_client, chat):
    sid, cid = chat
    tab = await Tab(viewer_client, sid, cid).open()
    await tab.send("What is open?")
    html = await tab.until('id="composer-body"')
    assert "needs the operator role" in html
    assert await sync_to_async(lambda: streams.read_runs(f"chat:{sid}:{cid}"))() == []
    await finish(tab)


async def test_a_socket_left_open_stops_sending_once_its_user_is_demoted_or_deactivated(
    operator_client, operator_user, chat
):
    from django.contrib.auth.models import Group

    from dashboard.accounts.oidc import set_role

    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("What is open?")
    if 'id="composer-body"' not in await tab.until(DONE):  # the box may come after the reply
        await tab.until('id="composer-body"')
    # An admin makes them a viewer on the Users page: the socket, opened as an operator, is not.
    await sync_to_async(set_role)(operator_user, "viewer")
    await tab.send("And the ledger?")
    html = await tab.until('id="composer-body"')
    assert "needs the operator role" in html
    # Given the role back, then deactivated: refused again.
    await sync_to_async(lambda: operator_user.groups.add(Group.objects.get(name="operator")))()
    operator_user.is_active = False
    await sync_to_async(operator_user.save)()
    await tab.send("Anything else?")
    html = await tab.until('id="composer-body"')
    assert "needs the operator role" in html
    runs = await sync_to_async(lambda: streams.read_runs(f"chat:{sid}:{cid}"))()
    assert len(runs) == 1
    await finish(tab)


async def test_a_socket_left_open_is_closed_once_its_user_is_signed_out_everywhere(
    operator_client, operator_user, chat
):
    from dashboard.accounts.sessions import sign_out_everywhere

    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    assert await sync_to_async(sign_out_everywhere)(operator_user) == 1
    await tab.send("Still here?")
    while True:  # whatever the hello brought, then the close
        output = await tab.communicator.receive_output(timeout=10)
        if output["type"] == "websocket.close":
            break
    assert output["code"] == 4401
    assert await sync_to_async(lambda: streams.read_runs(f"chat:{sid}:{cid}"))() == []
    await finish(tab)


async def test_an_empty_message_is_refused_in_place(operator_client, chat):
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("   ")
    html = await tab.until('id="composer-body"')
    assert "Type a message for the agent." in html
    await finish(tab)


# --- prompts --------------------------------------------------------------------------------


async def test_a_prompt_is_answered_back_as_the_user_action_response(operator_client, chat):
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("Can you restart checkout-api for the 5xx?")
    html = await tab.until(DONE)
    assert 'class="prompt"' in html
    choices = re.findall(r'name="answer" value="([^"]+)"', html)
    assert choices and "Start the mitigation" in choices
    await tab.send("", answer="Start the mitigation")
    answered = await tab.until(DONE)
    assert "Answered the agent:" in answered and "Start the mitigation" in answered
    assert "You chose <strong>Start the mitigation</strong>" in answered
    await finish(tab)

    from dashboard.aws import chat as aws_chat

    history = await sync_to_async(aws_chat.history)(sid, cid)
    sent = [r["content"] for r in history["records"] if r["recordType"] == "CHAT_MESSAGE"]
    assert sent[-1].get("userActionResponse") == "Start the mitigation"
    assert sent[-1].get("lastMessage"), "the last message id travels in the context"


async def test_anonymous_and_unknown_chat_sockets_are_refused(anon_client, viewer_client, space):
    from channels.testing import WebsocketCommunicator

    from dashboard.asgi import application

    from .chat_support import ORIGIN, cookie

    sid = space["agentSpaceId"]
    anon = WebsocketCommunicator(
        application, f"/ws/spaces/{sid}/chat/{'a' * 36}/", headers=[ORIGIN]
    )
    connected, code = await anon.connect()
    assert not connected and code == 4401
    for chat_id in ("b" * 36, "bad id"):
        missing = WebsocketCommunicator(
            application,
            f"/ws/spaces/{sid}/chat/{chat_id}/",
            headers=[ORIGIN, cookie(viewer_client)],
        )
        connected, code = await missing.connect()
        assert not connected and code in (4403, 4404)


async def test_an_unexpected_failure_while_sending_is_told_and_the_message_kept(
    operator_client, chat, monkeypatch
):
    # E.g. Redis (the stream lock and log) unreachable for a moment: the socket answers with
    # the reason and the typed text instead of leaving the Send button spinning for ever.
    async def broken(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(streams, "start", broken)
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.send("Is checkout healthy?")
    html = await tab.until('id="composer-body"')
    assert "could not be sent" in html and "kept below" in html
    assert "6379" not in html, "internal details stay in the log"
    assert re.search(r">\s*Is checkout healthy\?</textarea>", html)
    await finish(tab)


# --- malformed frames -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    ["not json", "[1, 2]", "null", '{"action": "dance"}', "{}"],
)
async def test_a_malformed_frame_gets_an_error_and_the_socket_stays_usable(
    operator_client, chat, frame
):
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.communicator.send_to(text_data=frame)
    html = await tab.until('role="alert"')
    assert 'hx-swap-oob="afterbegin:#alerts"' in html
    assert "could not understand" in html
    await tab.send("What is open?")
    await tab.until(DONE)
    await finish(tab)


async def test_a_message_that_is_not_text_is_refused(operator_client, chat):
    sid, cid = chat
    tab = await Tab(operator_client, sid, cid).open()
    await tab.communicator.send_to(
        text_data='{"action": "send", "content": {"a": 1}, "answer": ["x"]}'
    )
    html = await tab.until('id="composer-body"')
    assert "must be text" in html
    assert await sync_to_async(lambda: streams.read_runs(f"chat:{sid}:{cid}"))() == []
    await finish(tab)
