"""Live watchers: fetches per poll interval, and change → socket latency at 100/500 sockets.

Run: .venv/bin/python bench/live_watchers.py
Runs once on the in-memory channel layer + locmem cache, and again on Redis (channel layer and
cache) when REDIS_URL is set or Redis answers at redis://127.0.0.1:6379/5. Each run is a child
process, since settings pick the layer from REDIS_URL at start. Prints markdown tables.

Clients are channels.testing.WebsocketCommunicator instances connected to a LiveConsumer in a
minimal ASGI app (a fake signed-in user, no HTTP server, no session lookups), all in one
process and one event loop, with the fake backend's fetch counting its calls.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"
RATE_INTERVAL = 0.1  # seconds, for the fetch-rate runs
RATE_WINDOW = 3.0
LATENCY_INTERVAL = 0.1
ROUNDS = 20


# --- child: one layer -------------------------------------------------------------------------


class Backend:
    """A fake AWS: the bench changes `items`; fetch counts calls and notes when a round's change
    first came back (the moment the poller could know about it)."""

    def __init__(self) -> None:
        self.items = {f"t{n}": {"title": f"task {n}", "round": -1} for n in range(20)}
        self.calls = 0
        self.seen: dict[int, float] = {}
        self.lock = threading.Lock()

    def fetch(self, space_id: str) -> dict:
        with self.lock:
            self.calls += 1
            items = copy.deepcopy(self.items)
        round_ = items["t0"]["round"]
        self.seen.setdefault(round_, time.perf_counter())
        return items


def render(change) -> str:
    item = change.item or {}
    return (
        f'<div id="task-{change.item_id}" hx-swap-oob="true" data-round="{item.get("round")}">'
        f"{item.get('title')}</div>"
    )


ROUND = re.compile(r'data-round="(-?\d+)"')


def build_app(registry):
    from channels.routing import URLRouter
    from django.urls import path

    from dashboard.live import LiveConsumer

    consumer = type(
        "BenchConsumer", (LiveConsumer,), {"registry": registry, "key_templates": ("board:{s}",)}
    )
    router = URLRouter([path("ws/<str:s>/", consumer.as_asgi())])

    class User:
        is_authenticated = True

    async def app(scope, receive, send):
        return await router({**scope, "user": User()}, receive, send)

    return app


async def connect(app, space_id: str, n: int) -> list:
    from channels.testing import WebsocketCommunicator

    clients = [WebsocketCommunicator(app, f"/ws/{space_id}/") for _ in range(n)]
    for chunk in range(0, n, 50):
        results = await asyncio.gather(
            *(c.connect(timeout=10) for c in clients[chunk : chunk + 50])
        )
        assert all(ok for ok, _ in results), "a client was refused"
    return clients


async def disconnect(clients: list) -> None:
    # In chunks, like connect: 500 at once exhaust channels_redis's connection pool.
    for chunk in range(0, len(clients), 50):
        await asyncio.gather(*(c.disconnect() for c in clients[chunk : chunk + 50]))


async def fetch_rate(clients_per_registry: list[int]) -> dict:
    from dashboard.live import Registry, Watch

    backend = Backend()
    watches = {"board": Watch("board", backend.fetch, render)}
    registries = [Registry(watches, interval=RATE_INTERVAL) for _ in clients_per_registry]
    space_id = uuid.uuid4().hex[:12]
    clients = []
    for registry, n in zip(registries, clients_per_registry, strict=True):
        clients += await connect(build_app(registry), space_id, n)
    await asyncio.sleep(RATE_INTERVAL * 2)
    start, started = backend.calls, time.perf_counter()
    await asyncio.sleep(RATE_WINDOW)
    fetches, elapsed = backend.calls - start, time.perf_counter() - started
    await disconnect(clients)
    for registry in registries:
        await registry.shutdown()
    intervals = elapsed / RATE_INTERVAL
    return {"intervals": round(intervals, 1), "fetches": fetches, "per": fetches / intervals}


async def latency(n: int) -> dict:
    from dashboard.live import Registry, Watch, apublish, make_key

    backend = Backend()
    registry = Registry({"board": Watch("board", backend.fetch, render)}, interval=LATENCY_INTERVAL)
    space_id = uuid.uuid4().hex[:12]
    key = make_key("board", space_id)
    clients = await connect(build_app(registry), space_id, n)
    arrivals: dict[int, list[float]] = {}

    async def read(client) -> None:
        while True:
            html = await client.receive_from(timeout=60)
            now = time.perf_counter()
            arrivals.setdefault(int(ROUND.search(html).group(1)), []).append(now)

    readers = [asyncio.create_task(read(c)) for c in clients]
    await asyncio.sleep(LATENCY_INTERVAL * 3)  # the baseline poll

    async def all_arrived(round_: int) -> None:
        deadline = time.perf_counter() + 10
        while len(arrivals.get(round_, ())) < n:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"round {round_}: {len(arrivals.get(round_, ()))}/{n} arrived")
            await asyncio.sleep(0.002)

    poll, change, published = [], [], []
    for round_ in range(ROUNDS):
        # Change at a random point of the interval, as a real change would be.
        await asyncio.sleep(LATENCY_INTERVAL * (0.13 + 0.61 * (round_ % 7) / 7))
        changed_at = time.perf_counter()
        with backend.lock:
            backend.items["t0"] = {"title": f"round {round_}", "round": round_}
        await all_arrived(round_)
        poll += [t - backend.seen[round_] for t in arrivals[round_]]
        change += [t - changed_at for t in arrivals[round_]]
    for round_ in range(1000, 1000 + ROUNDS):
        sent_at = time.perf_counter()
        await apublish(key, render(_Change(f"p{round_}", {"title": "pushed", "round": round_})))
        await all_arrived(round_)
        published += [t - sent_at for t in arrivals[round_]]
        await asyncio.sleep(0.01)

    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    await disconnect(clients)
    await registry.shutdown()
    return {"poll": stats(poll), "change": stats(change), "publish": stats(published)}


class _Change:
    def __init__(self, item_id: str, item: dict) -> None:
        self.item_id, self.item = item_id, item


def stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"n": len(ordered), "p50": statistics.median(ordered) * 1000, "p99": p99 * 1000}


async def child_main() -> dict:
    from channels.layers import get_channel_layer

    layer = type(get_channel_layer()).__name__
    rates = {}
    for label, split in (
        ("1", [1]),
        ("10", [10]),
        ("100", [100]),
        ("100 (2 registries x 50)", [50, 50]),
    ):
        rates[label] = await fetch_rate(split)
    latencies = {n: await latency(n) for n in (100, 500)}
    return {"layer": layer, "rates": rates, "latencies": latencies}


def child(layer: str) -> None:
    tmp = tempfile.mkdtemp(prefix="console-bench-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="dashboard.test_settings",
        DASHBOARD_VAR_DIR=tmp,
        REDIS_PREFIX=f"console-bench-{os.getpid()}",
    )
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    print(json.dumps(asyncio.run(child_main())))


# --- parent: run each layer, print the tables ------------------------------------------------


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        return None
    return url


def run(layer: str, url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if url:
        env["REDIS_URL"] = url
    out = subprocess.run(
        [sys.executable, __file__, "--child", layer],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    runs = [("in-memory layer, locmem cache", run("memory", None))]
    url = redis_url()
    if url:
        runs.append((f"Redis layer + cache ({url})", run("redis", url)))
    print(__doc__.split("\n\n")[-1].strip())
    print()
    print(f"Fetches per poll interval, one watched key (interval {RATE_INTERVAL * 1000:.0f} ms,")
    print(f"{RATE_WINDOW:.0f} s window; goal 1):")
    print()
    print("| layer | clients | intervals | fetches | fetches / interval |")
    print("|---|---|---|---|---|")
    for name, result in runs:
        for clients, rate in result["rates"].items():
            print(
                f"| {name} | {clients} | {rate['intervals']} | {rate['fetches']} "
                f"| {rate['per']:.2f} |"
            )
    print()
    print(f"Latency to every socket, {ROUNDS} rounds (goal: p99 < 250 ms at 500 sockets):")
    print("- poll → socket: the fetch returned the change → the fragment reached the socket;")
    wait = f"{LATENCY_INTERVAL * 1000:.0f} ms"
    print(f"- change → socket: the same, plus waiting for the next poll ({wait} interval here;")
    print("  with the default 5 s interval add up to 5 s);")
    print("- publish() → socket: a view's broadcast on write.")
    print()
    print("| layer | sockets | path | samples | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    for name, result in runs:
        for sockets, paths in result["latencies"].items():
            for path, label in (
                ("poll", "poll → socket"),
                ("change", "change → socket"),
                ("publish", "publish() → socket"),
            ):
                s = paths[path]
                print(
                    f"| {name} | {sockets} | {label} | {s['n']} | {s['p50']:.1f} | {s['p99']:.1f} |"
                )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
