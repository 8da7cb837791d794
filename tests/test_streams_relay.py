"""dashboard.streams: one relay per stream, numbered and logged events, coalescing, several
viewers (joining mid-stream, reconnecting with their last sequence), errors, timeouts,
interruption, pool exhaustion. A fake kind renders each event as a tagged element
(tests/streams_support.py), on the in-memory channel layer and the local-memory cache."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.layers import channel_layers
from django.core.cache import cache

from dashboard import streams
from dashboard.aws import errors
from dashboard.streams import log

from .streams_support import KIND, Gate, Viewer, deltas, items, source

# The relay needs no database, but channels' consumers close stale connections around each
# message, and earlier tests in the same thread may have left one open.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh(settings):
    channel_layers.backends.clear()
    cache.clear()
    settings.STREAM_THREADS = 8
    settings.STREAM_COALESCE_SECONDS = 0.05
    settings.STREAM_IDLE_TIMEOUT = 5.0
    settings.STREAM_HEARTBEAT_SECONDS = 10.0
    yield
    channel_layers.backends.clear()
    cache.clear()


def key(name: str = "one") -> str:
    return f"{KIND}:{name}"


async def test_it_relays_every_event_in_order_and_ends_the_run():
    viewer = await Viewer().open()
    relay = await streams.start(key(), source([*deltas(20), ("done", {"text": "ok"})]), meta={})
    got = await viewer.receive_until(streams.END)
    assert [e[1] for e in got] == list(range(1, 24))
    assert got[0][2] == streams.START
    assert [e[3] for e in got[1:21]] == [f"t{n} " for n in range(20)]
    assert got[21][2:] == ("done", "ok")
    assert {e[0] for e in got} == {relay.run}
    assert await relay.wait(2) == streams.END
    assert (viewer.run, viewer.seq) == (relay.run, 23)
    await viewer.close()


async def test_it_pushes_the_first_delta_at_once_and_coalesces_later_ones():
    viewer = await Viewer().open()
    # 30 deltas 5 ms apart: at most 50 ms windows means roughly 4-5 batches, not 30 messages.
    relay = await streams.start(key(), source(deltas(30), gap=0.005), meta={})
    await viewer.receive_until(streams.END)
    await relay.wait(2)
    batches = [[e for e in items(m) if e[2] == "delta"] for m in viewer.messages]
    batches = [b for b in batches if b]
    assert len(batches[0]) == 1, "the first delta travels alone, at once"
    assert len(batches) < 15
    assert max(len(b) for b in batches) > 1
    seqs = [e[1] for b in batches for e in b]
    assert seqs == sorted(seqs) and len(seqs) == 30
    await viewer.close()


async def test_a_zero_window_sends_every_delta_on_its_own(settings):
    settings.STREAM_COALESCE_SECONDS = 0
    viewer = await Viewer().open()
    relay = await streams.start(key(), source(deltas(12), gap=0.005), meta={})
    await viewer.receive_until(streams.END)
    await relay.wait(2)
    batches = [[e for e in items(m) if e[2] == "delta"] for m in viewer.messages]
    assert [len(b) for b in batches if b] == [1] * 12
    await viewer.close()


async def test_two_viewers_get_the_same_events_from_one_relay():
    first = await Viewer().open()
    second = await Viewer().open()
    relay = await streams.start(key(), source(deltas(10), gap=0.002), meta={})
    one = await first.receive_until(streams.END)
    two = await second.receive_until(streams.END)
    assert one == two
    assert len(streams.active()) == 0  # one relay, now done
    assert relay.published < 12  # batches published once for both viewers
    await first.close()
    await second.close()


async def test_a_viewer_joining_mid_stream_gets_what_streamed_so_far_then_the_rest():
    gate = Gate()
    early = await Viewer().open()
    relay = await streams.start(key(), source(deltas(10), gate=gate), meta={})
    # The first half has streamed (and been logged) before the gate opens.
    got = []
    while len([e for e in got if e[2] == "delta"]) < 5:
        got.extend(items(await early.communicator.receive_from(timeout=5)))
    late = await Viewer().open()  # a tab opened now, knowing nothing
    gate.set()
    late_got = await late.receive_until(streams.END)
    early_got = got + await early.receive_until(streams.END)
    assert [e[1] for e in late_got] == [e[1] for e in early_got] == list(range(1, 13))
    await relay.wait(2)
    await early.close()
    await late.close()


async def test_a_reconnecting_viewer_gets_exactly_what_it_missed():
    gate = Gate()
    viewer = await Viewer().open()
    relay = await streams.start(key(), source(deltas(10), gate=gate), meta={})
    got = []
    while len([e for e in got if e[2] == "delta"]) < 5:
        html = await viewer.communicator.receive_from(timeout=5)
        got.extend(items(html))
    last_run, last_seq = relay.run, max(e[1] for e in got)
    await viewer.close()  # the socket drops mid-stream
    gate.set()
    await relay.wait(5)  # the rest streams while it is away
    back = await Viewer().open(run=last_run, after=last_seq)
    rest = await back.receive_until(streams.END)
    assert [e[1] for e in rest] == list(range(last_seq + 1, 13))
    seen = [e[1] for e in got] + [e[1] for e in rest]
    assert seen == list(range(1, 13)), "nothing lost, nothing twice"
    assert await back.communicator.receive_nothing(0.2)
    await back.close()


async def test_a_viewer_with_a_position_the_log_lost_is_told_to_reload():
    viewer = await Viewer().open(run="f" * 32, after=7)
    html = await viewer.communicator.receive_from(timeout=5)
    assert 'data-resync="1"' in html
    await viewer.close()


async def test_batches_before_the_hello_are_not_sent_twice():
    gate = Gate()
    relay = await streams.start(key(), source(deltas(6), gate=gate), meta={})
    # Connected (in the group) but not yet said hello while the first half streams.
    viewer = Viewer()
    connected, _ = await viewer.communicator.connect()
    assert connected
    while log.read(key(), relay.run)[-1:] and log.read(key(), relay.run)[-1]["seq"] < 4:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    await viewer.communicator.send_json_to({"streams": "hello", "run": None, "after": 0})
    gate.set()
    got = await viewer.receive_until(streams.END)
    assert [e[1] for e in got] == list(range(1, 9))
    await viewer.close()


async def test_a_source_that_raises_ends_the_run_with_an_error_event():
    def broken():
        def generate():
            yield "delta", {"text": "a "}
            raise errors.Unavailable("The reply stream broke off: connection reset")

        return generate()

    viewer = await Viewer().open()
    relay = await streams.start(key(), broken, meta={})
    got = await viewer.receive_until(streams.ERROR)
    assert [e[2] for e in got] == [streams.START, "delta", streams.ERROR]
    assert await relay.wait(2) == streams.ERROR
    event = log.read(key(), relay.run)[-1]
    assert event["data"]["message"] == "The reply stream broke off: connection reset"
    await viewer.close()


async def test_a_failing_call_raises_from_start_and_publishes_nothing():
    def refused():
        raise errors.QuotaExceeded("Too many replies in progress", code="ServiceQuota")

    viewer = await Viewer().open()
    with pytest.raises(errors.QuotaExceeded):
        await streams.start(key(), refused, meta={})
    assert await viewer.communicator.receive_nothing(0.2)
    assert log.holder(key()) is None, "the key is free again"
    assert log.runs(key()) == []
    await viewer.close()


async def test_a_silent_stream_times_out_and_says_so(settings):
    settings.STREAM_IDLE_TIMEOUT = 0.3
    gate = Gate()
    viewer = await Viewer().open()
    relay = await streams.start(key(), source(deltas(4), gate=gate), meta={})
    got = await viewer.receive_until(streams.TIMEOUT)
    assert got[-1][2] == streams.TIMEOUT
    assert await relay.wait(2) == streams.TIMEOUT
    gate.set()  # the reader wakes up later: nothing more is published
    assert await viewer.communicator.receive_nothing(0.3)
    await viewer.close()


async def test_heartbeats_keep_a_slow_stream_alive_without_being_sent(settings):
    settings.STREAM_IDLE_TIMEOUT = 0.3
    events = []
    for _ in range(6):
        events.append(("heartbeat", {}))
    events.append(("delta", {"text": "late"}))
    viewer = await Viewer().open()
    relay = await streams.start(key(), source(events, gap=0.1), meta={})
    got = await viewer.receive_until(streams.END)
    assert [e[2] for e in got] == [streams.START, "delta", streams.END]
    assert await relay.wait(2) == streams.END
    await viewer.close()


async def test_a_quiet_stream_sends_beats_to_viewers(settings):
    settings.STREAM_HEARTBEAT_SECONDS = 0.1
    gate = Gate()
    viewer = await Viewer().open()
    relay = await streams.start(key(), source(deltas(2), gate=gate), meta={})
    html = ""
    for _ in range(10):
        html = await viewer.communicator.receive_from(timeout=2)
        if "stream-beat" in html:
            break
    assert 'class="stream-beat"' in html
    gate.set()
    await relay.wait(2)
    await viewer.close()


async def test_shutdown_interrupts_runs_and_tells_viewers():
    gate = Gate()
    viewer = await Viewer().open()
    relay = await streams.start(key(), source(deltas(6), gate=gate), meta={})
    await viewer.receive_until("delta")
    await streams.shutdown("Restarting")
    got = await viewer.receive_until(streams.INTERRUPTED)
    assert got[-1][2] == streams.INTERRUPTED
    assert await relay.wait(1) == streams.INTERRUPTED
    assert streams.active() == []
    assert log.holder(key()) is None
    gate.set()
    await viewer.close()


async def test_a_run_stopped_while_a_batch_is_on_its_way_to_the_log_stays_whole(monkeypatch):
    """With Redis a batch waits for the log writer's round trip; a shutdown that interrupts the
    relay right then must leave the log dense and whole: what the reader had handed over but
    was not published yet is published at the end, and the buffer on its way is not again."""
    from dashboard.streams import relay as relay_module

    real = relay_module.Writer.write
    held = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def write(self, key_, run, events, topic, message):
        if events[0]["type"] == streams.START:
            # Let the reader hand over everything while the first batch is on its way.
            relay = relay_module._ACTIVE[run]
            deadline = loop.time() + 5
            while not relay._closed:
                assert loop.time() < deadline, "the source never ended"
                await asyncio.sleep(0.01)
        # The writer logs (and delivers) a batch handed to it whatever becomes of its caller.
        await real(self, key_, run, events, topic, message)
        if not held.is_set() and any(e["type"] == "mark" for e in events):
            held.set()
            await asyncio.Event().wait()  # the round trip, which the shutdown interrupts

    monkeypatch.setattr(relay_module.Writer, "write", write)
    marks = [("mark", {"text": letter}) for letter in "abc"]
    relay = await streams.start(key("cut"), source([*deltas(3), *marks]), meta={})
    await asyncio.wait_for(held.wait(), 5)
    await relay.interrupt()
    events = log.read(key("cut"), relay.run)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "dense, each once"
    assert [e["data"].get("text") for e in events if e["type"] in ("delta", "mark")] == [
        "t0 ",
        "t1 ",
        "t2 ",
        "a",
        "b",
        "c",
    ]
    assert events[-1]["type"] in streams.TERMINAL


async def test_one_run_per_key_at_a_time():
    gate = Gate()
    relay = await streams.start(key(), source(deltas(4), gate=gate), meta={})
    with pytest.raises(streams.AlreadyStreaming):
        await streams.start(key(), source(deltas(1)), meta={})
    other = await streams.start(key("two"), source(deltas(1)), meta={})  # another key is fine
    gate.set()
    await relay.wait(2)
    await other.wait(2)
    again = await streams.start(key(), source(deltas(1)), meta={})
    assert await again.wait(2) == streams.END


async def test_a_full_pool_refuses_at_once_instead_of_queueing(settings):
    settings.STREAM_THREADS = 2
    gate = Gate()
    first = await streams.start(key("a"), source(deltas(2), gate=gate), meta={})
    second = await streams.start(key("b"), source(deltas(2), gate=gate), meta={})
    began = time.monotonic()
    with pytest.raises(streams.PoolFull) as raised:
        await streams.start(key("c"), source(deltas(2)), meta={})
    assert time.monotonic() - began < 1
    assert "STREAM_THREADS" in str(raised.value)
    assert log.holder(key("c")) is None
    gate.set()
    await first.wait(2)
    await second.wait(2)
    for _ in range(50):  # the threads are handed back as the readers finish
        if streams.pool.pool().busy == 0:
            break
        await asyncio.sleep(0.02)
    third = await streams.start(key("c"), source(deltas(1)), meta={})
    assert await third.wait(2) == streams.END


async def test_concurrent_runs_progress_in_parallel():
    viewers = [await Viewer(f"p{n}").open() for n in range(4)]
    relays = [
        await streams.start(key(f"p{n}"), source(deltas(10), gap=0.02), meta={}) for n in range(4)
    ]
    began = time.monotonic()
    await asyncio.gather(*(r.wait(10) for r in relays))
    elapsed = time.monotonic() - began
    # Each run takes ~0.2 s of sleeping; in sequence four would take ~0.8 s.
    starts = [log.read(r.key, r.run)[1]["at"] for r in relays]
    ends = [log.read(r.key, r.run)[-2]["at"] for r in relays]
    assert max(starts) < min(ends), "every run had begun before any had finished"
    assert elapsed < 0.8 * 4
    for viewer in viewers:
        await viewer.close()


async def test_a_run_whose_relay_died_reads_as_lost():
    gate = Gate()
    relay = await streams.start(key(), source(deltas(4), gate=gate), meta={})
    while len(log.read(key(), relay.run)) < 3:
        await asyncio.sleep(0.01)
    # What another process sees once this one died: the lock expired, the head says open.
    log.release(key(), relay.run)
    runs = streams.read_runs(key())
    assert runs[-1]["events"][-1]["type"] == streams.LOST
    assert runs[-1]["open"] is False
    relay._task.cancel()
    gate.set()


async def test_anonymous_sockets_are_refused():
    from channels.testing import WebsocketCommunicator

    from .streams_support import application

    communicator = WebsocketCommunicator(application, "/anon/ws/one/")
    connected, code = await communicator.connect()
    assert not connected and code == 4401
    await communicator.disconnect()


def test_runs_of_an_event_loop_that_has_ended_are_not_active():
    """A run its loop left behind (a test, a restarted server loop) is not handed out to be
    awaited on another loop."""
    from dashboard.streams import relay as relay_module

    stale_loop = asyncio.new_event_loop()

    class Stale:
        _loop = stale_loop

    relay_module._ACTIVE["stale-run"] = Stale()  # type: ignore[assignment]
    try:
        stale_loop.close()

        async def inside() -> list:
            return streams.active()

        assert asyncio.run(inside()) == []
        assert "stale-run" not in relay_module._ACTIVE
    finally:
        relay_module._ACTIVE.pop("stale-run", None)


def test_the_in_memory_log_forgets_what_expired_rather_than_only_hiding_it(settings):
    """One process streams into memory for weeks: a run the TTL let go must leave memory, not
    stay until thousands of other keys push it out."""
    settings.STREAM_LOG_TTL = 0.05
    store = log.MemoryLog()
    event = log.Event(seq=1, type=streams.START, data={}, at=0.0)
    store.save_runs("testkind:old", [log.RunInfo(run="r1", open=False, started=0.0, meta={})])
    store.append("testkind:old", "r1", [event])
    deadline = time.monotonic() + 5
    while store.runs("testkind:old") or store.read("testkind:old", "r1"):
        assert time.monotonic() < deadline, "never expired"
        time.sleep(0.01)
    # Any later run's start or end sweeps.
    store.save_runs("testkind:new", [log.RunInfo(run="r2", open=True, started=0.0, meta={})])
    assert "testkind:old" not in store._heads
    assert ("testkind:old", "r1") not in store._events


class _LapsingLock:
    """A Redis whose lock on the key lapses right after our SET NX failed, and that another
    process claims before we set it ourselves."""

    def __init__(self) -> None:
        self.value: bytes | None = b"old-run"

    def set(self, name, value, nx=False, px=None):
        if nx and self.value is not None:
            return None
        self.value = value.encode()
        return True

    def get(self, name):
        if self.value == b"old-run":
            self.value = b"other-run"  # lapsed, and taken by another process at once
            return None
        return self.value


def test_a_lock_that_lapses_while_claimed_goes_to_one_run_only():
    redis = _LapsingLock()
    store = log.RedisLog(lambda: redis, "test")
    assert store.claim("testkind:k", "my-run") == "other-run"
    assert redis.value == b"other-run", "the other process keeps its claim"


async def test_a_call_aws_took_is_relayed_even_when_its_log_cannot_be_begun(monkeypatch):
    """The log's Redis goes away between the claim and the start of the run, while AWS takes
    the call: `start` must not say it failed (a retry would send the message twice); the run
    is relayed to this process's viewers."""
    import redis.exceptions

    def begin(*args):
        raise redis.exceptions.ConnectionError("Redis is restarting")

    monkeypatch.setattr(log, "begin", begin)
    viewer = await Viewer("unlogged").open()
    await viewer.settled()
    relay = await streams.start(key("unlogged"), source(deltas(3)), meta={})
    got = await viewer.receive_until(streams.END)
    assert [e[1] for e in got] == [1, 2, 3, 4, 5]
    assert await relay.wait(2) == streams.END
    await viewer.close()


async def test_a_recoverer_whose_claim_lapsed_leaves_the_run_to_the_process_that_took_it():
    """A look at AWS that outlasts the recoverer's claim: another process has taken the run
    over meanwhile and finishes it; this one must not log the end as well (twice, at the same
    seqs)."""
    from dashboard.streams import recovery

    from . import streams_support

    other: list[str] = []

    def recover(key_, run, events):
        if not other:  # this look outlasted the claim: another process took the run over
            other.append(f"{run}+recovery:another-process")
            log.release(key_, recovery.claimer(run))
            assert log.claim(key_, other[0]) is None
        return [("done", {"text": "as recorded"})]

    streams.register("testrecover", render=streams_support.render, recover=recover)
    key_, run = "testrecover:one", streams.relay.new_run()
    log.begin(key_, run, {})
    log.append(key_, run, [log.Event(seq=1, type=streams.START, data={}, at=0.0)])
    await recovery._recover(key_, run)
    assert [e["type"] for e in log.read(key_, run)] == [streams.START, streams.RELAY_LOST]
    assert log.holder(key_) == other[0]
    log.release(key_, other[0])
