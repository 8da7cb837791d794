"""The watcher registry: one fetch per watched key per interval however many subscribers and
"processes" (registries sharing the cache and channel layer), diffs, the lease, backoff."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from channels.layers import channel_layers

from dashboard.aws.errors import Throttled
from dashboard.live import store
from dashboard.live.watch import diff

from .test_live_fakes import (
    INTERVAL,
    FakeBackend,
    Listener,
    Sink,
    assert_one_fetch_per_interval,
    fetches_during,
    new_key,
    new_registry,
    sink,
    wait_until,
)

TASKS = {"t1": {"title": "Disk full", "status": "OPEN"}, "t2": {"title": "5xx", "status": "OPEN"}}


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    # Each test runs its own event loop; a layer built under another loop must not leak in.
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
async def cleanup():
    """Registries and listeners registered here are stopped after the test, pass or fail."""
    things: list = []
    yield things.append
    for thing in reversed(things):
        if isinstance(thing, Listener):
            await thing.stop()
        else:
            await thing.shutdown()


async def _listener(cleanup) -> Listener:
    listener = await Listener().start()
    cleanup(listener)
    return listener


def test_diff_names_created_updated_and_deleted_items():
    old = {"a": 1, "b": 2, "c": 3}
    new = {"a": 1, "b": 20, "d": 4}
    assert [(c.kind, c.item_id, c.item, c.previous) for c in diff("k", old, new)] == [
        ("updated", "b", 20, 2),
        ("created", "d", 4, None),
        ("deleted", "c", None, 3),
    ]


async def test_two_processes_with_many_subscribers_still_fetch_once_per_interval(cleanup):
    key, _ = new_key()
    first, second = FakeBackend(TASKS), FakeBackend(TASKS)
    registries = [new_registry(first), new_registry(second)]
    for registry in registries:
        cleanup(registry)
        for n in range(50):
            await registry.subscribe(key, Sink(f"fake.channel-{n}"))
    calls = await asyncio.gather(fetches_during(first, 0.5), fetches_during(second, 0.5))
    # One registry holds the lease; the other never fetches while it does.
    assert first.count == 0 or second.count == 0
    # And the leader (whichever it is) fetches once per interval.
    assert_one_fetch_per_interval(calls[0] + calls[1], 0.5)


async def test_the_first_poll_is_a_silent_baseline_and_only_changes_are_sent(cleanup):
    key, _ = new_key()
    backend = FakeBackend(TASKS)
    registry = new_registry(backend)
    cleanup(registry)
    listener = await _listener(cleanup)
    await registry.subscribe(key, listener.channel)
    await wait_until(lambda: backend.count >= 3)
    assert await listener.nothing()

    backend.items["t1"] = {"title": "Disk full (ack)", "status": "ACKNOWLEDGED"}
    html = await listener.next()
    assert 'id="task-t1"' in html and 'data-kind="updated"' in html and "(ack)" in html
    assert "task-t2" not in html
    assert await listener.nothing()

    backend.items["t3"] = {"title": "New one", "status": "OPEN"}
    del backend.items["t2"]
    html = await listener.next()
    assert 'id="task-t3" hx-swap-oob="beforeend:#tasks"' in html
    assert '<div id="task-t2" hx-swap-oob="delete"></div>' in html
    assert await listener.nothing()


async def test_the_poller_stops_when_the_last_subscriber_leaves(cleanup):
    key, _ = new_key()
    backend = FakeBackend(TASKS)
    registry = new_registry(backend)
    cleanup(registry)
    await registry.subscribe(key, sink("fake.one"))
    await registry.subscribe(key, sink("fake.two"))
    await registry.unsubscribe(key, sink("fake.one"))
    await wait_until(lambda: backend.count >= 3)
    assert registry.polling() == {key}

    await registry.unsubscribe(key, sink("fake.two"))
    stopped_at = backend.count
    await asyncio.sleep(5 * INTERVAL)
    assert backend.count == stopped_at
    assert registry.polling() == set()
    assert await asyncio.to_thread(store.lease_holder, key) is None


async def test_a_second_process_waits_while_the_lease_is_held_and_takes_over_a_crashed_leader(
    cleanup,
):
    key, _ = new_key()
    first, second = FakeBackend(TASKS), FakeBackend(TASKS)
    leader, standby = new_registry(first), new_registry(second)
    cleanup(leader)
    cleanup(standby)
    watching_first = await _listener(cleanup)
    watching_second = await _listener(cleanup)
    await leader.subscribe(key, watching_first.channel)
    await wait_until(lambda: first.count >= 1)
    await standby.subscribe(key, watching_second.channel)
    await asyncio.sleep(0.3)
    assert second.count == 0
    assert await asyncio.to_thread(store.lease_holder, key) == leader.token

    # Both processes' sockets are in the one group: the leader's poll reaches both.
    first.items["t1"] = second.items["t1"] = {"title": "Changed once", "status": "OPEN"}
    for listener in (watching_first, watching_second):
        assert "Changed once" in await listener.next()

    # The leader dies without a word: its lease stops being renewed and runs out.
    await leader.shutdown(release_leases=False)
    crashed_at = first.count
    await wait_until(lambda: second.count >= 2, timeout=3.0)
    assert first.count == crashed_at
    assert await asyncio.to_thread(store.lease_holder, key) == standby.token

    # The new leader continues from the shared snapshot: nothing old is sent again ...
    assert await watching_second.nothing()
    # ... and new changes are sent once.
    second.items["t2"] = {"title": "After takeover", "status": "OPEN"}
    assert "After takeover" in await watching_second.next()
    assert await watching_second.nothing()


async def test_a_leader_whose_last_subscriber_leaves_hands_over_at_once(cleanup):
    key, _ = new_key()
    first, second = FakeBackend(TASKS), FakeBackend(TASKS)
    leader, standby = new_registry(first), new_registry(second)
    cleanup(leader)
    cleanup(standby)
    await leader.subscribe(key, sink("fake.on-leader"))
    await wait_until(lambda: first.count >= 1)
    await standby.subscribe(key, sink("fake.on-standby"))
    await leader.unsubscribe(key, sink("fake.on-leader"))
    # Released, not expired: the standby needs one tick, far less than the one-second lease.
    await wait_until(lambda: second.count >= 1, timeout=0.8)


async def test_an_aws_error_backs_off_shows_a_delayed_notice_and_clears_it(cleanup):
    key, _ = new_key()
    backend = FakeBackend(TASKS)
    registry = new_registry(backend, max_interval=4 * INTERVAL)
    cleanup(registry)
    listener = await _listener(cleanup)
    await registry.subscribe(key, listener.channel)
    await wait_until(lambda: backend.count >= 2)

    backend.error = Throttled("Rate exceeded", code="ThrottlingException")
    html = await listener.next()
    assert "Live updates delayed: Rate exceeded" in html
    assert f'id="live-delayed-{key.replace(":", "-")}"' in html
    assert 'hx-swap-oob="true"' in html
    failing_from = backend.count
    await asyncio.sleep(0.6)
    # Doubling up to the cap of 4 intervals: well under the 12 polls of a steady interval.
    failed = backend.calls[failing_from - 1 :]
    gaps = [b - a for a, b in itertools.pairwise(failed)]
    assert len(gaps) <= 6
    assert max(gaps) >= 3.5 * INTERVAL
    assert registry.polling() == {key}  # the poller lives on

    backend.error = None
    backend.items["t1"] = {"title": "Back", "status": "OPEN"}
    while "Back" not in (html := await listener.next(timeout=1.0)):
        assert "Live updates delayed" in html
    # The same message clears the notice (hidden, no text) and carries the change.
    assert "hidden" in html and "Live updates delayed" not in html
    assert await listener.nothing(timeout=0.2)


async def test_a_notice_shown_before_the_first_good_fetch_is_cleared_too(cleanup):
    key, _ = new_key()
    backend = FakeBackend(TASKS)
    backend.error = Throttled("Rate exceeded")
    registry = new_registry(backend, max_interval=2 * INTERVAL)
    cleanup(registry)
    listener = await _listener(cleanup)
    await registry.subscribe(key, listener.channel)
    assert "Live updates delayed" in await listener.next()
    backend.error = None
    while "Live updates delayed" in (html := await listener.next()):
        pass
    assert "hidden" in html
    # That first good fetch was the baseline: no item was announced.
    assert "task-" not in html
    assert await listener.nothing()


async def test_a_bug_in_fetch_does_not_kill_the_poller(cleanup):
    key, _ = new_key()
    backend = FakeBackend(TASKS)
    registry = new_registry(backend, max_interval=2 * INTERVAL)
    cleanup(registry)
    listener = await _listener(cleanup)
    await registry.subscribe(key, listener.channel)
    backend.error = RuntimeError("boom")
    assert "internal error" in await listener.next()
    backend.error = None
    failed_at = backend.count
    await wait_until(lambda: backend.count >= failed_at + 2)
    assert registry.polling() == {key}


async def test_an_unknown_watch_is_refused(cleanup):
    registry = new_registry(FakeBackend())
    cleanup(registry)
    with pytest.raises(LookupError):
        await registry.subscribe("nothing:here", sink("fake.channel"))
    assert registry.polling() == set()
