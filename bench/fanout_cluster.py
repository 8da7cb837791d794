"""Issue 13's B2: the realtime path through HAProxy and 3 daphne processes on one Redis and one
PostgreSQL, the emulator in its own process (tests/cluster_support.py starts the topology).

Run: .venv/bin/python bench/fanout_cluster.py                 (~3 min)
     .venv/bin/python bench/fanout_cluster.py --seconds 20 --rows 1x1000,100x3

Rows: 1 reply x 1,000 viewers spread over the processes (the proxy balances by least
connections; the table says how many landed on each), and 100 replies x 3 viewers each; each a
sustained run of `--seconds` (each chat asks again when its reply ends). Latency = arrival at a
viewer - emission by the agent (the emulator stamps every text delta), as in bench/fanout.py,
whose floor (a bare websockets relay of the same emulator) runs in the same run. Every reply
must reach every viewer whole, in order and once.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import _pct, chat_round, load  # noqa: E402
from tests.cluster_support import Cluster, free_port  # noqa: E402

QUESTION = "What is open?"


def _sandbox(port: int) -> list[str]:
    return [sys.executable, str(ROOT / "bench" / "fanout.py"), "--sandbox", str(port)]


async def _row(cluster: Cluster, ids: dict, chats: list[str], viewers: int, seconds: float):  # type: ignore[no-untyped-def]
    spread: collections.Counter[str] = collections.Counter()
    began = time.time()
    until = began + seconds
    per_chat = await asyncio.gather(
        *(
            chat_round(
                "console",
                (
                    f"{cluster.ws_url}/ws/spaces/{ids['space']}/chat/{c}/",
                    {"Cookie": f"sessionid={ids['session']}"},
                    cluster.url,
                ),
                ids,
                c,
                viewers,
                until,
                landed=spread,
            )
            for c in chats
        )
    )
    everyone = [v for vs in per_chat for v in vs]
    latencies = [lat for v in everyone for _, lat in v.samples]
    good = sum(v.whole()[0] for v in everyone)
    expected = sum(len(vs[0].ended) for vs in per_chat) * viewers
    return latencies, good, expected, spread


def main() -> None:
    parser = argparse.ArgumentParser(description="B2: fan-out through the proxy, 3 processes.")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rows", default="1x1000,100x3")
    parser.add_argument("--processes", type=int, default=3)
    args = parser.parse_args()
    rows = [tuple(int(n) for n in row.split("x")) for row in args.rows.split(",")]
    print(f"## bench/fanout_cluster.py ({load()}, {os.cpu_count()} cores)\n")
    redis_port = free_port()
    import shutil
    import subprocess
    import tempfile

    folder = tempfile.mkdtemp(prefix="bench-cluster-redis-")
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder,
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        cluster = Cluster(
            processes=args.processes,
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
            env={"STREAM_THREADS": "600", "AWS_EXECUTOR_THREADS": "32"},
            sandbox_env={
                "SANDBOX_CHAT_TOKEN_SECONDS": "0.04",
                "SANDBOX_CHAT_CONCURRENCY": "100000",
            },
            sandbox_command=_sandbox,
        )
        with cluster:
            chats = sum(r for r, _ in rows)
            ids = cluster.shell_json(
                "import json\n"
                "from dashboard.aws import chat, spaces, tasks\n"
                "sid = spaces.create_space(name='Bench')['agentSpaceId']\n"
                "for t, p in (('Elevated 5xx on checkout-api', 'CRITICAL'),"
                " ('p99 latency on ledger-service', 'HIGH')):\n"
                "    tasks.create_task(sid, task_type='INVESTIGATION', title=t, priority=p)\n"
                f"ids = [chat.create_chat(sid)['executionId'] for _ in range({chats})]\n"
                "print(json.dumps({'space': sid, 'chats': ids}))\n"
            )
            ids["session"] = cluster.sessions(1, role="operator", prefix="bench")[0]
            fresh = iter(ids["chats"])
            print(
                f"{args.processes} daphne processes behind HAProxy, one Redis, one PostgreSQL, "
                f"the emulator in its own process; tokens every 40 ms; {args.seconds:g} s "
                "sustained.\n"
            )
            print(
                "| replies x viewers | viewers per process | p50 ms | p99 ms | max ms | "
                "replies x viewers whole, in order, once | load |"
            )
            print("|---|---|---|---|---|---|---|")
            for replies, viewers in rows:
                chosen = [next(fresh) for _ in range(replies)]
                lat, good, expected, spread = asyncio.run(
                    _row(cluster, ids, chosen, viewers, args.seconds)
                )
                where = " / ".join(f"{n}" for _, n in sorted(spread.items()))
                print(
                    f"| {replies} x {viewers} | {where} | {_pct(lat, 0.5):.1f} | "
                    f"{_pct(lat, 0.99):.1f} | {_pct(lat, 1):.1f} | {good}/{expected} | "
                    f"{os.getloadavg()[0]:.2f} |",
                    flush=True,
                )
                time.sleep(3)
    finally:
        redis.kill()
        redis.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n({load()} at the end)")


if __name__ == "__main__":
    main()
