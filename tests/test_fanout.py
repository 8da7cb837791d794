"""dashboard.fanout: a message reaches every local subscriber of its topic once, as the same
object; sockets buffer boundedly and pause a client that stops reading; between processes a
message costs one Redis PUBLISH whatever the number of viewers, publishing from sync code opens
no connection per call, and a broken subscription recovers by itself and tells subscribers to
resync."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid

import pytest

from dashboard import fanout
from dashboard.fanout import broker as broker_module
from dashboard.fanout.hub import Hub
from dashboard.fanout.outbox import OVERFLOW, Outbox
from dashboard.fanout.socket import RESUME, FanoutConsumer


class Collector:
    def __init__(self) -> None:
        self.got: list[tuple[str, dict]] = []
        self.resyncs = 0

    def deliver(self, topic: str, message: dict) -> None:
        self.got.append((topic, message))

    def resync(self, topic: str) -> None:
        self.resyncs += 1


def topic() -> str:
    return "test:" + uuid.uuid4().hex[:8]


# --- the hub ---------------------------------------------------------------------------------


async def test_a_message_reaches_every_local_subscriber_once_as_the_same_object():
    name = topic()
    subscribers = [Collector() for _ in range(50)]
    for subscriber in subscribers:
        await fanout.hub().subscribe(name, subscriber)
    message = {"frame": "<p>once</p>"}
    await fanout.apublish(name, message)
    assert all(len(s.got) == 1 and s.got[0][1] is message for s in subscribers)
    await fanout.hub().unsubscribe(name, subscribers[0])
    await fanout.apublish(name, {"frame": "again"})
    assert len(subscribers[0].got) == 1 and len(subscribers[1].got) == 2
    for subscriber in subscribers[1:]:
        await fanout.hub().unsubscribe(name, subscriber)
    assert fanout.hub().subscriber_count(name) == 0


async def test_publishing_from_another_thread_is_delivered_on_the_loop():
    name = topic()
    subscriber = Collector()
    await fanout.hub().subscribe(name, subscriber)
    threads: list[str] = []

    def deliver(topic: str, message: dict) -> None:
        threads.append(threading.current_thread().name)
        Collector.deliver(subscriber, topic, message)

    subscriber.deliver = deliver  # type: ignore[method-assign]
    await asyncio.to_thread(fanout.publish, name, {"n": 1})
    deadline = asyncio.get_running_loop().time() + 5
    while not subscriber.got:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    assert threads == [threading.current_thread().name], "handed over to the loop's thread"
    await fanout.hub().unsubscribe(name, subscriber)


async def test_a_failing_subscriber_does_not_keep_the_message_from_the_others(caplog):
    name = topic()

    class Broken(Collector):
        def deliver(self, topic: str, message: dict) -> None:
            raise RuntimeError("boom")

    broken, fine = Broken(), Collector()
    await fanout.hub().subscribe(name, broken)
    await fanout.hub().subscribe(name, fine)
    await fanout.apublish(name, {"n": 1})
    assert len(fine.got) == 1
    assert "failed to take a message" in caplog.text


# --- a socket's outbox and flow control ------------------------------------------------------


async def test_an_outbox_that_falls_behind_merges_into_one_overflow_and_keeps_order():
    handled: list = []
    gate = asyncio.Event()

    async def handle(item):
        await gate.wait()
        handled.append(item)

    box = Outbox(handle, capacity=5)
    box.start()
    box.put(0)
    await asyncio.sleep(0)  # the writer took item 0 and waits at the gate
    for n in range(1, 13):
        box.put(n)
    assert len(box) <= 6, "bounded: never more than capacity (+ the marker)"
    gate.set()
    while len(box):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.01)
    assert handled[0] == 0
    assert OVERFLOW in handled, "what was dropped is announced"
    after = handled[handled.index(OVERFLOW) + 1 :]
    assert after == sorted(after) and after[-1] == 12, "the newest items follow, in order"
    await box.close()


class Socket(FanoutConsumer):
    """A FanoutConsumer without a server: sends are recorded."""

    def __init__(self, window: int) -> None:
        self.sent: list[str] = []
        self.handled: list = []
        self._window = window
        self._fan()

    @property
    def window(self) -> int:  # type: ignore[override]
        return self._window

    async def send(self, text_data=None, bytes_data=None, close=False):  # type: ignore[override]
        self.sent.append(text_data)

    async def handle(self, item) -> None:
        self.handled.append(item)


async def test_a_client_that_stops_reading_is_paused_not_buffered_for_and_resumed_on_ack():
    socket = Socket(window=100)
    socket._outbox.start()
    frame = "x" * 30
    sent = [await socket.send_frame(frame) for _ in range(10)]
    # 30 characters a frame: after four frames (120 > 100 unacknowledged) nothing more is sent.
    assert sent == [True] * 4 + [False] * 6
    assert socket.paused and socket.dropped == 6 and len(socket.sent) == 4
    assert socket.take_ack('{"ack":60}')
    assert socket.paused, "still 60 characters behind: more than half the window"
    assert socket.take_ack('{"ack":120}')
    assert not socket.paused
    await asyncio.sleep(0.01)
    assert socket.handled == [RESUME], "the socket resyncs what it dropped"
    assert await socket.send_frame(frame)
    assert not socket.take_ack('{"streams":"hello"}'), "other messages are not acknowledgements"
    await socket._outbox.close()


# --- between processes (Redis) ---------------------------------------------------------------

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL") and os.environ.get("CI") != "true",
    reason="needs Redis (REDIS_URL; scripts/test.sh sets it in its second pass)",
)


@pytest.fixture
def redis_broker(settings):
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("CI=true: the Redis fan-out tests must run, but REDIS_URL is not set")
    settings.REDIS_URL = url
    settings.REDIS_PREFIX = "fanout-test-" + uuid.uuid4().hex[:8]
    broker = fanout.get_broker()
    assert isinstance(broker, broker_module.RedisBroker)
    return broker


async def _until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _publish_as_another_process(broker, name: str, message: dict) -> None:
    """What another daphne process's publish puts on Redis."""
    channel, payload = broker.encode(name, message)
    payload = payload.replace(broker_module.ORIGIN, "another-process")
    broker.sync_client().publish(channel, payload)


@pytest.mark.backends
@needs_redis
async def test_a_message_from_another_process_reaches_local_subscribers_once(redis_broker):
    name = topic()
    subscribers = [Collector() for _ in range(20)]
    for subscriber in subscribers:
        await fanout.hub().subscribe(name, subscriber)
    await asyncio.to_thread(_publish_as_another_process, redis_broker, name, {"n": "far"})
    await _until(lambda: all(s.got for s in subscribers))
    # Our own publish is delivered here at once and ignored when Redis sends it back.
    await fanout.apublish(name, {"n": "near"})
    await asyncio.sleep(0.2)
    assert all([m["n"] for _, m in s.got] == ["far", "near"] for s in subscribers)
    for subscriber in subscribers:
        await fanout.hub().unsubscribe(name, subscriber)


@pytest.mark.backends
@needs_redis
async def test_a_task_cancelled_while_it_publishes_is_cancelled(redis_broker):
    # redis-py's asyncio client can lose a cancellation that lands mid-command; a live poller
    # cancelled then kept polling and its registry's shutdown waited for ever.
    name = topic()
    await fanout.apublish(name, {"n": "warm"})  # the connection exists

    stopped = False

    async def publish_for_ever() -> None:
        while not stopped:  # (so that a test that fails still ends)
            await fanout.apublish(name, {"n": "x" * 1000})

    lost = 0
    for attempt in range(60):
        task = asyncio.ensure_future(publish_for_ever())
        await asyncio.sleep(0.0005 * (attempt % 12))
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=2.0)
        if not done or not task.cancelled():
            lost += 1
    stopped = True
    assert lost == 0, f"{lost} of 60 cancellations were lost"


def _commands(client, name: str) -> int:
    stats = client.info("commandstats")
    return int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))


@pytest.mark.backends
@needs_redis
@pytest.mark.parametrize("viewers", [1, 10, 100])
async def test_one_publish_costs_one_redis_command_whatever_the_number_of_viewers(
    redis_broker, viewers
):
    name = topic()
    subscribers = [Collector() for _ in range(viewers)]
    for subscriber in subscribers:
        await fanout.hub().subscribe(name, subscriber)
    client = redis_broker.sync_client()
    before = await asyncio.to_thread(_commands, client, "publish")
    for n in range(10):
        await fanout.apublish(name, {"n": n})
    after = await asyncio.to_thread(_commands, client, "publish")
    # Other tests may publish meanwhile on a shared server: at most a few more, never per viewer.
    assert 10 <= after - before < 10 + viewers
    assert all(len(s.got) == 10 for s in subscribers)


@pytest.mark.backends
@needs_redis
async def test_publishing_from_sync_code_opens_no_connection_per_publish(redis_broker):
    client = redis_broker.sync_client()
    await asyncio.to_thread(fanout.publish, topic(), {"warm": True})
    before = (await asyncio.to_thread(client.info, "stats"))["total_connections_received"]
    for n in range(50):
        await asyncio.to_thread(fanout.publish, topic(), {"n": n})
    after = (await asyncio.to_thread(client.info, "stats"))["total_connections_received"]
    # Other tests' processes may connect meanwhile; fifty publishes must not add fifty.
    assert after - before < 10


@pytest.mark.backends
@needs_redis
async def test_a_broken_subscription_comes_back_and_tells_subscribers_to_resync(redis_broker):
    name = topic()
    subscriber = Collector()
    await fanout.hub().subscribe(name, subscriber)
    client = redis_broker.sync_client()
    ours = [
        c["id"]
        for c in await asyncio.to_thread(client.client_list, "pubsub")
        if c.get("name") == f"console-fanout-{broker_module.ORIGIN}"
    ]
    assert ours, "this process's subscription connection"
    for client_id in ours:  # only ours: other test processes share the server
        await asyncio.to_thread(client.client_kill_filter, _id=client_id)
    await _until(lambda: subscriber.resyncs >= 1, timeout=10)
    await asyncio.to_thread(_publish_as_another_process, redis_broker, name, {"n": "after"})
    await _until(lambda: subscriber.got)
    assert subscriber.got[-1][1] == {"n": "after"}


@pytest.mark.backends
@needs_redis
async def test_a_malformed_message_is_ignored_not_taken_for_a_broken_subscription(redis_broker):
    name = topic()
    subscriber = Collector()
    await fanout.hub().subscribe(name, subscriber)
    client = redis_broker.sync_client()
    for payload in ["[1]", '{"o": "elsewhere"}', '{"o": "elsewhere", "m": 3}', "not json"]:
        await asyncio.to_thread(client.publish, redis_broker.channel(name), payload)
    await asyncio.to_thread(_publish_as_another_process, redis_broker, name, {"n": "fine"})
    await _until(lambda: subscriber.got)
    assert [m for _, m in subscriber.got] == [{"n": "fine"}]
    assert subscriber.resyncs == 0, "the subscription never broke"
    await fanout.hub().unsubscribe(name, subscriber)


def test_hub_lookup_needs_a_running_loop():
    with pytest.raises(RuntimeError):
        fanout.hub()


async def test_each_event_loop_has_its_own_hub():
    here = fanout.hub()
    assert fanout.hub() is here and here.loop is asyncio.get_running_loop()
    other = await asyncio.to_thread(lambda: asyncio.run(_hub_of_a_new_loop()))
    assert other is not here and isinstance(other, Hub)


async def _hub_of_a_new_loop() -> Hub:
    return fanout.hub()
