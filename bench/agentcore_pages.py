"""AgentCore pages: server time to render a flow trace of 100, 500 and 1,000 events (one page
at maxResults 1,000, and the default 100 per page with flow events merged), and the memory
search page over 1,000 and 5,000 records.

Run: .venv/bin/python bench/agentcore_pages.py  (uses a throwaway SQLite database in /tmp)
Requests go through django.test.Client as a signed-in viewer, DEBUG off, DASHBOARD_BACKEND=
sandbox: "server time" covers the console, boto3 and the emulator answering in-process; the
emulator column is the time inside `dashboard.sandbox.wire.dispatch`.
The CPU column (this process's CPU time) is what a request costs; wall times also count waiting
for a busy machine (the load average is printed first).
Goal: a 1,000-event trace page under 1 s (p50); 100-event pages and search at 5,000 records
under 250 ms.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
tmp = tempfile.mkdtemp(prefix="console-bench-")
os.environ.pop("REDIS_URL", None)
os.environ.update(
    DJANGO_SETTINGS_MODULE="dashboard.test_settings",
    DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
    DASHBOARD_VAR_DIR=tmp,
    DASHBOARD_BACKEND="sandbox",
    DASHBOARD_DEBUG="0",
)

import django  # noqa: E402

django.setup()
import logging  # noqa: E402

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

logging.disable(logging.WARNING)
call_command("migrate", verbosity=0)

from dashboard.sandbox import demo_flows, demo_memory, wire  # noqa: E402
from dashboard.sandbox.models import FlowExecutionEvent, Memory, MemoryRecord  # noqa: E402

REQUESTS = 12
emulator = {"seconds": 0.0}
_dispatch = wire.dispatch


def _timed_dispatch(*args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        return _dispatch(*args, **kwargs)
    finally:
        emulator["seconds"] += time.perf_counter() - started


wire.dispatch = _timed_dispatch


def measure(client: Client, url: str) -> dict[str, float]:
    totals, cpu, inside, size = [], [], [], 0
    for _ in range(REQUESTS):
        emulator["seconds"] = 0.0
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        totals.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        inside.append(emulator["seconds"])
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.content)
    totals.sort()
    return {
        "p50": statistics.median(totals) * 1000,
        "p95": totals[int(len(totals) * 0.95) - 1] * 1000,
        # CPU time of this process: what the request costs, less disturbed by other load.
        "cpu": statistics.median(cpu) * 1000,
        "emulator": statistics.median(inside) * 1000,
        "kb": size / 1024,
    }


def main() -> None:
    load = os.getloadavg()[0]
    print(f"Load average at start: {load:.1f} on {os.cpu_count()} CPUs.\n")
    user = User.objects.create_user("bench", password="x")
    client = Client()
    client.force_login(user)
    now = timezone.now()

    print("## Flow trace page\n")
    print(
        "| events in execution | view | events on page | p50 ms | p95 ms | CPU ms (p50) "
        "| emulator ms | HTML KiB |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for alerts in (25, 125, 250):
        execution, trace = demo_flows._batch(now - dt.timedelta(hours=1), size=alerts)
        execution.execution_id = f"bench-{alerts}"
        execution.save()
        for event in trace.events:
            event.execution = execution
        trace.save()
        total = FlowExecutionEvent.objects.filter(execution=execution).count()
        base = reverse(
            "flows:trace", args=[execution.flow_id, execution.flow_alias_id, execution.execution_id]
        )
        for label, query, shown in (
            ("all, 1,000 per page", "?type=All&max=1000", total),
            ("all, 100 per page", "?type=All&max=100", min(total, 101)),
            ("node, 100 per page", "?type=Node&max=100", min(total - 2, 100)),
        ):
            found = measure(client, base + query)
            print(
                f"| {total} | {label} | ~{shown} | {found['p50']:.0f} | {found['p95']:.0f} | "
                f"{found['cpu']:.0f} | {found['emulator']:.0f} | {found['kb']:.0f} |"
            )

    print("\n## Memory search page (RetrieveMemoryRecords, top 10)\n")
    print("| records in scope | p50 ms | p95 ms | CPU ms (p50) | emulator ms |")
    print("|---:|---:|---:|---:|---:|")
    memory = Memory.objects.create(memory_id="BenchMemory-abcdef1234", name="Bench", created_at=now)
    words = "deploy rollback latency database connections pool gateway certificate kinesis lambda"
    written = 0
    for target in (1000, 5000):
        MemoryRecord.objects.bulk_create(
            MemoryRecord(
                memory_record_id=demo_memory.record_id("bench", str(i)),
                memory=memory,
                text=f"Note {i}: {' '.join(words.split()[i % 7 : i % 7 + 4])} on service-{i % 40}",
                memory_strategy_id="bench",
                namespace=f"/facts/user-{i % 10}",
                created_at=now,
            )
            for i in range(written, target)
        )
        written = target
        url = reverse("agentcore:memory-search", args=[memory.memory_id])
        found = measure(client, f"{url}?q=database+connections+pool&namespace=/&scope=path")
        print(
            f"| {target} | {found['p50']:.0f} | {found['p95']:.0f} | {found['cpu']:.0f} | "
            f"{found['emulator']:.0f} |"
        )


if __name__ == "__main__":
    main()
