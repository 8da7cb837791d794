"""Latency of agent-space calls through boto3 + the embedded sandbox, and client build cost.

Run: .venv/bin/python bench/sandbox_calls.py  (uses a throwaway SQLite database in /tmp)
Prints a table: operation, calls, p50 ms, p99 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
tmp = tempfile.mkdtemp(prefix="console-bench-")
os.environ.update(
    DJANGO_SETTINGS_MODULE="dashboard.test_settings",
    DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
    DASHBOARD_VAR_DIR=tmp,
)

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)

from dashboard.aws import spaces  # noqa: E402
from dashboard.aws.clients import _build, client, collect  # noqa: E402


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def row(name: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"| {name:<40} | {len(samples):>5} | {statistics.median(samples):>8.2f} | {p99:>8.2f} |")


print("| operation                                | calls |   p50 ms |   p99 ms |")
print("|------------------------------------------|-------|----------|----------|")
row("build a devops-agent client", timed(lambda: _build("devops-agent"), 10))
client("devops-agent")
created = []
row("CreateAgentSpace", timed(lambda: created.append(spaces.create_space(name="bench")), 200))
space_id = created[0]["agentSpaceId"]
row("GetAgentSpace", timed(lambda: spaces.get_space(space_id), 300))
row("ListAgentSpaces (50 of 200)", timed(lambda: spaces.list_spaces(max_results=50), 100))
row("UpdateAgentSpace", timed(lambda: spaces.update_space(space_id, name="renamed"), 200))
row(
    "ListAgentSpaces, all 200 in pages of 50",
    timed(lambda: collect("devops-agent", "ListAgentSpaces", "agentSpaces", maxResults=50), 50),
)
row("DeleteAgentSpace", timed(lambda: spaces.delete_space(created.pop()["agentSpaceId"]), 100))
