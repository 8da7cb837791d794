"""Latency of the configuration area through boto3 + the embedded sandbox and the pages.

- GetAccountUsage, which the sandbox derives from every execution of the month: how it grows
  with the executions of 0, 1,000 and 6,000 seeded tasks;
- the private-connection list (the live watcher's fetch) with 20 connections;
- an asset file page with text of 10 KB, 1 MB and 6 MB (the page shows the first 100,000
  characters; the rest is a download).

Run: .venv/bin/python bench/configuration.py  (throwaway SQLite database in /tmp, ~1 min)
Prints Markdown tables: case, calls, p50 ms, p99 ms.
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
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

call_command("migrate", verbosity=0)

from dashboard.aws import configuration as api  # noqa: E402
from dashboard.aws import spaces  # noqa: E402
from dashboard.sandbox import demo  # noqa: E402
from dashboard.sandbox.models import AgentSpace, Execution  # noqa: E402


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
    print(f"| {name:<46} | {len(samples):>5} | {statistics.median(samples):>8.2f} | {p99:>8.2f} |")


def header(title: str) -> None:
    print(f"\n{title}\n")
    print("| case                                           | calls |   p50 ms |   p99 ms |")
    print("|------------------------------------------------|-------|----------|----------|")


api.get_account_usage()  # build the client first: its cost is not the operation's
header("GetAccountUsage (derived from the month's executions)")
row("0 executions", timed(api.get_account_usage, 50))
for tasks in (1000, 5000):
    space = AgentSpace.objects.get(pk=spaces.create_space(name=f"bench {tasks}")["agentSpaceId"])
    with transaction.atomic():
        demo.seed_large(space, tasks, timezone.now())
    count = Execution.objects.count()
    row(f"{count:,} executions", timed(api.get_account_usage, 20))

header("Private connections")
mode = {
    "serviceManaged": {
        "hostAddress": "grafana.internal",
        "vpcId": "vpc-0123abcd",
        "subnetIds": ["subnet-0123abcd"],
    }
}
for n in range(20):
    api.create_private_connection(f"conn-{n:02d}", mode)
row("ListPrivateConnections (20)", timed(api.list_private_connections, 100))
row("DescribePrivateConnection", timed(lambda: api.describe_private_connection("conn-07"), 100))

header("Asset file page (GET, signed in, DEBUG off)")
user = User.objects.create_superuser("bench", password="bench-password-1")
client = Client()
client.force_login(user)
space_id = spaces.create_space(name="assets")["agentSpaceId"]
for label, size in (("10 KB", 10_000), ("1 MB", 1_000_000), ("6 MB", 6_000_000)):
    text = ("x" * 99 + "\n") * (size // 100)
    asset = api.create_asset(
        space_id,
        asset_type="attachment",
        content={"file": {"path": "big.log", "body": {"text": text}}},
    )
    url = f"/spaces/{space_id}/assets/{asset['assetId']}/file/?path=big.log"
    assert client.get(url).status_code == 200
    row(f"text file of {label}", timed(lambda url=url: client.get(url), 10))
