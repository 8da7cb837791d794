"""dashboard.streams delivers every event to every viewer exactly once and in order, also when
the rest of the process gets in the way: many runs at once with viewers that reconnect
mid-stream while other users of the cache fill it, a channel layer that drops messages for a
busy socket (even a run's last batch), and a client that has gone while a batch is sent.

Delivery is checked exactly: the fake kind renders each event as a tagged element
(tests/streams_support.py), so a viewer's messages say which sequence numbers it got."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import threading
import time
from typing import Any

import pytest
from channels.layers import channel_layers
from django.core.cache import cache

from dashboard import streams
from dashboard.fanout.hub import Hub, hub
from dashboard.streams import consumer as stream_consumer
from dashboard.streams import log

from . import streams_support
from .streams_support import KIND, Gate, Viewer, deltas, source

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh(settings):
    channel_layers.backends.clear()
    cache.clear()
    settings.STREAM_THREADS = 40
    settings.STREAM_COALESCE_SECONDS = 0.05
    settings.STREAM_IDLE_TIMEOUT = 10.0
    settings.STREAM_HEARTBEAT_SECONDS = 10.0
    yield
    channel_layers.backends.clear()
    cache.clear()


def key(name: str) -> str:
    return f"{KIND}:{name}"


def seqs(got: list[tuple]) -> list[int]:
    return [e[1] for e in got]


def small_outboxes(monkeypatch, capacity: int) -> None:
    """Sockets keep only `capacity` messages waiting; beyond, they overflow (and catch up)."""
    monkeypatch.setattr(stream_consumer.StreamConsumer, "outbox_capacity", capacity)


async def take(viewer: Viewer, timeout: float = 10.0) -> list[tuple]:
    """The events of the viewer's next message (its position follows)."""
    html = await viewer.communicator.receive_from(timeout=timeout)
    viewer.messages.append(html)
    found = streams_support.position(html)
    if found:
        viewer.run, viewer.seq = found
    return streams_support.items(html)


def lose_batches(monkeypatch, topic: str, seqs: Any) -> list[int]:
    """Batches of `topic` whose last seq is in `seqs` (or for which `seqs(batch number)` is
    true) never reach this process's sockets (as when Redis pub/sub drops them on the way);
    returns the last seqs of the lost batches."""
    real = Hub.deliver
    lost: list[int] = []
    counter = itertools.count()

    def chosen(message: dict) -> bool:
        number = next(counter)
        return seqs(number) if callable(seqs) else message["last"] in seqs

    def deliver(self, name, message):
        if name == topic and message.get("k") == "b" and chosen(message):
            lost.append(message["last"])
            return
        real(self, name, message)

    monkeypatch.setattr(Hub, "deliver", deliver)
    return lost


def stall_first_hello(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """The socket's consumer is busy right after its hello read the log (until `release` is
    set), so whatever the relay publishes meanwhile waits in, or overflows, its outbox.
    `entered` is set once it is busy."""
    real = stream_consumer.views.read_runs
    entered, release = threading.Event(), threading.Event()

    def slow(key: str):
        runs = real(key)
        if not entered.is_set():
            entered.set()
            assert release.wait(10), "never released"
        return runs

    monkeypatch.setattr(stream_consumer.views, "read_runs", slow)
    return entered, release


# --- many runs, viewers that stay and viewers that reconnect ------------------------------------


async def test_every_viewer_gets_every_event_once_in_order_while_the_cache_is_busy():
    """12 runs at once, two viewers each that stay and one that drops mid-stream and comes
    back with its position after other users of the cache (live pages' leases and snapshots,
    counts) wrote far more entries than the replay log holds."""
    count, size = 12, 40
    total = size + 2  # stream.start, the deltas, stream.end
    names = [f"many{n}" for n in range(count)]
    staying = {n: [await Viewer(n).open(), await Viewer(n).open()] for n in names}
    leaving = {n: await Viewer(n).open() for n in names}
    gates = {n: Gate() for n in names}
    relays = {
        n: await streams.start(key(n), source(deltas(size, n), gate=gates[n]), meta={})
        for n in names
    }
    # Each leaving viewer has the first half, then its socket drops.
    before = {n: await leaving[n].receive_until("delta") for n in names}
    for n in names:
        while seqs(before[n])[-1] < size // 2 + 1:
            before[n] += await leaving[n].receive_until("delta")
        await leaving[n].close()
    for number in range(1500):
        cache.set(f"elsewhere:{number}", {"snapshot": "x" * 64}, 60)
    # Still one run per key: the lock of each run in progress is where it was.
    for n in names:
        with pytest.raises(streams.AlreadyStreaming):
            await streams.start(key(n), source(deltas(1)), meta={})
    back = {n: await Viewer(n).open(leaving[n].run, leaving[n].seq) for n in names}
    for gate in gates.values():
        gate.set()
    for n in names:
        run = relays[n].run
        for viewer in staying[n]:
            got = await viewer.receive_until(streams.END, timeout=20)
            assert seqs(got) == list(range(1, total + 1)), n
            assert {e[0] for e in got} == {run}
        after = await back[n].receive_until(streams.END, timeout=20)
        whole = seqs(before[n]) + seqs(after)
        assert whole == list(range(1, total + 1)), (n, leaving[n].seq, seqs(after)[:5])
        assert (back[n].run, back[n].seq) == (run, total)
        assert await relays[n].wait(5) == streams.END
    for viewer in [v for vs in staying.values() for v in vs] + list(back.values()):
        await viewer.close()


@pytest.mark.parametrize("seed", range(6))
async def test_order_no_loss_no_duplicates_under_random_delays_drops_and_reconnects(
    seed, settings, monkeypatch
):
    """Random pacing of the source, random batches lost on the way to this process (as Redis
    pub/sub loses them), a random window, and viewers that drop and come back with their
    position at random moments: every viewer ends with every event once, in order."""
    rng = random.Random(seed)
    settings.STREAM_COALESCE_SECONDS = rng.choice([0, 0.01, 0.05])
    settings.STREAM_HEARTBEAT_SECONDS = 0.3
    name = f"chaos{seed}"
    size = 60
    total = size + 2
    dropped = lose_batches(
        monkeypatch, streams.topic(key(name)), lambda n: n == 1 or rng.random() < 0.25
    )
    items = [("delta", {"text": f"c{n} "}) for n in range(size)]
    pause = [rng.choice([0, 0, 0, 0.002, 0.01]) for _ in items]

    def paced():
        def generate():
            for item, gap in zip(items, pause, strict=True):
                if gap:
                    time.sleep(gap)
                yield item

        return generate()

    viewers = [await Viewer(name).open() for _ in range(3)]
    await viewers[0].settled()
    relay = await streams.start(key(name), paced, meta={})
    results = []
    for viewer in viewers:
        got: list[tuple] = []
        while not any(e[2] == streams.END for e in got):
            # A few messages, then (sometimes) the socket drops and comes back where it was.
            for _ in range(rng.randint(1, 6)):
                got += await take(viewer)
                if any(e[2] == streams.END for e in got):
                    break
            else:
                if rng.random() < 0.7:
                    run, seq = viewer.run, viewer.seq
                    await viewer.close()
                    viewer = await Viewer(name).open(run, seq)
        results.append(got)
        await viewer.close()
    assert await relay.wait(10) == streams.END
    for got in results:
        assert seqs(got) == list(range(1, total + 1)), (seed, seqs(got))
    assert dropped, "some batches were lost on the way"


async def test_the_replay_log_of_a_run_survives_the_rest_of_the_caches_traffic():
    gate = Gate()
    relay = await streams.start(key("kept"), source(deltas(200), gate=gate), meta={})
    first = await Viewer("kept").open()
    while not first.seq or first.seq < 101:
        await first.receive_until("delta")
    for number in range(1500):
        cache.set(f"elsewhere:{number}", number, 60)
    events = await asyncio.to_thread(log.read, key("kept"), relay.run)
    assert seqs([(e["seq"], e["seq"]) for e in events]) == list(range(1, 102))
    runs = await asyncio.to_thread(streams.read_runs, key("kept"))
    assert [(r["run"], r["open"]) for r in runs] == [(relay.run, True)], "not read as lost"
    gate.set()
    await first.receive_until(streams.END)
    await first.close()
    assert await relay.wait(5) == streams.END


# --- batches dropped on the way ------------------------------------------------------------


async def test_batches_a_full_outbox_dropped_are_caught_up_even_the_last_one(settings, monkeypatch):
    settings.STREAM_COALESCE_SECONDS = 0  # a message per event: the outbox overflows
    settings.STREAM_HEARTBEAT_SECONDS = 0.2
    small_outboxes(monkeypatch, capacity=3)
    entered, release = stall_first_hello(monkeypatch)
    viewer = await Viewer("full").open()
    assert await asyncio.to_thread(entered.wait, 5)
    relay = await streams.start(
        key("full"), source([*deltas(30), ("done", {"text": "ok"})]), meta={}
    )
    # Everything is published while the viewer is busy: its outbox overflows again and again
    # and keeps only the last batches after an overflow marker.
    assert await relay.wait(5) == streams.END
    release.set()
    got = await viewer.receive_until(streams.END, timeout=10)
    assert seqs(got) == list(range(1, 34)), "every event once, in order, the end included"
    assert (viewer.run, viewer.seq) == (relay.run, 33)
    await viewer.close()


async def test_a_quiet_run_tells_a_viewer_that_lost_batches_what_it_lacks(settings, monkeypatch):
    settings.STREAM_COALESCE_SECONDS = 0
    settings.STREAM_HEARTBEAT_SECONDS = 0.3
    lost = lose_batches(monkeypatch, streams.topic(key("quiet")), range(3, 12))
    gate = Gate()
    viewer = await Viewer("quiet").open()
    await viewer.settled()
    relay = await streams.start(key("quiet"), source(deltas(20), gate=gate), meta={})
    # The first half (stream.start and 10 deltas) is published, seqs 3 to 11 lost on the way;
    # then the run goes quiet at the gate: no next batch shows the gap.
    while relay.published < 11:  # a batch per event with no coalescing
        await asyncio.sleep(0.01)
    got = await viewer.receive_until("delta")
    while got[-1][1] < 11:  # no new batch comes while the run is quiet: the beats must tell
        got += await viewer.receive_until("delta", timeout=5)
    assert lost == list(range(3, 12))
    gate.set()
    got += await viewer.receive_until(streams.END)
    assert seqs(got) == list(range(1, 23))
    await relay.wait(5)
    await viewer.close()


async def test_a_hello_dropped_by_an_overflowing_outbox_is_answered_all_the_same(
    settings, monkeypatch
):
    """The socket's writer is held up (a busy process) while its page says hello and batches
    keep coming: the outbox overflows and drops the hello with the batches. The viewer must
    still be caught up and follow, not wait for ever for batches it ignores until a hello."""
    settings.STREAM_COALESCE_SECONDS = 0  # a message per event: the outbox overflows
    small_outboxes(monkeypatch, capacity=3)
    entered, busy = asyncio.Event(), asyncio.Event()
    real_batch = stream_consumer.StreamConsumer._batch

    async def batch(self, message):
        if not entered.is_set():
            entered.set()
            await busy.wait()  # the writer is held up: what comes meanwhile waits, overflows
        await real_batch(self, message)

    monkeypatch.setattr(stream_consumer.StreamConsumer, "_batch", batch)
    said_hello = asyncio.Event()
    real_receive = stream_consumer.StreamConsumer.receive_frame

    async def receive_frame(self, text_data, bytes_data):
        await real_receive(self, text_data, bytes_data)
        said_hello.set()  # the hello waits in the outbox behind the held-up batch

    monkeypatch.setattr(stream_consumer.StreamConsumer, "receive_frame", receive_frame)
    viewer = Viewer("lost-hello")
    connected, _ = await viewer.communicator.connect()
    assert connected
    gate = Gate()
    events = [*deltas(20), ("done", {"text": "ok"})]
    relay = await streams.start(key("lost-hello"), source(events, gate=gate), meta={})
    await asyncio.wait_for(entered.wait(), 5)
    await viewer.communicator.send_to(
        text_data=json.dumps({"streams": "hello", "run": None, "after": 0})
    )
    await asyncio.wait_for(said_hello.wait(), 5)
    gate.set()  # the second half overflows the outbox again: the hello is dropped
    assert await relay.wait(5) == streams.END
    busy.set()
    got = await viewer.receive_until(streams.END)
    assert seqs(got) == list(range(1, 24)), "every event once, in order"
    await viewer.close()


async def test_a_paused_viewer_costs_no_log_read_per_batch_and_catches_up_once_resumed(
    settings, monkeypatch
):
    """A page that stops reading is paused: nothing is sent to it, and nothing is read or
    rendered for it either, batch after batch (a log read per batch per paused tab would tie up
    the threads every other viewer's catch-up and every relay's lock renewal wait for). Its
    acknowledgement resumes it with everything, once, in order."""
    settings.STREAM_COALESCE_SECONDS = 0  # a batch per event
    settings.FANOUT_WINDOW = 200  # characters unacknowledged: paused after the first frame
    reads: list[tuple] = []
    real_read = log.read

    def read(*args, **kwargs):
        reads.append(args)
        return real_read(*args, **kwargs)

    monkeypatch.setattr(log, "read", read)
    handled: list[dict] = []
    real_batch = stream_consumer.StreamConsumer._batch

    async def batch(self, message):
        await real_batch(self, message)
        handled.append(message)

    monkeypatch.setattr(stream_consumer.StreamConsumer, "_batch", batch)
    viewer = await Viewer("paused").open()
    await viewer.settled()
    (consumer,) = hub().topics[streams.topic(key("paused"))]
    relay = await streams.start(key("paused"), source(deltas(40)), meta={})
    assert await relay.wait(5) == streams.END
    deadline = time.monotonic() + 5
    while len(handled) < relay.published:
        assert time.monotonic() < deadline, "the viewer never handled every batch"
        await asyncio.sleep(0.01)
    assert consumer.paused
    assert reads == [], "no log read for a paused viewer"
    await viewer.communicator.send_to(text_data=json.dumps({"ack": consumer.sent_chars}))
    got = await viewer.receive_until(streams.END)
    assert seqs(got) == list(range(1, 43))
    await viewer.close()


# --- a client that has gone ---------------------------------------------------------------------


async def test_a_send_to_a_client_that_has_gone_leaves_the_consumer_running(monkeypatch):
    """daphne raises when a consumer sends on a socket the client has just closed; the consumer
    must not die of it (an error in the log, its group membership left behind)."""
    gone = asyncio.Event()
    real_send = streams_support.Consumer.send

    async def send(self, text_data=None, bytes_data=None, close=False):
        if gone.is_set():
            raise RuntimeError("Attempt to send on a closed protocol")
        await real_send(self, text_data=text_data, bytes_data=bytes_data, close=close)

    monkeypatch.setattr(streams_support.Consumer, "send", send)
    gate = Gate()
    viewer = await Viewer("gone").open()
    relay = await streams.start(key("gone"), source(deltas(10), gate=gate), meta={})
    await viewer.receive_until("delta")
    gone.set()
    gate.set()
    assert await relay.wait(5) == streams.END
    await asyncio.sleep(0.1)  # the consumer tried to send the rest
    await viewer.close()  # raises if the consumer died of its failed sends
    assert hub().subscriber_count(streams.topic(key("gone"))) == 0, "it left the topic"
