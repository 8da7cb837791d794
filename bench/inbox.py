"""Inbox: time to first byte and AWS calls for the inbox with 20 agent spaces on the sandbox.

Run: .venv/bin/python bench/inbox.py  (a throwaway SQLite database in /tmp)
Seeds 20 spaces with the demo's backlog (about 19 tasks each, one in four waiting for an
approval) and recommendations, then measures:

1. In-process (django.test.Client, DEBUG off, signed in as an operator): server time for the
   inbox, one space's overview, and one poll of the console-wide count, with every AWS call
   counted by operation; cold (nothing read in this interval: the shared reads are cleared
   before each request) and warm (another tab or a poller read the spaces within the interval).
   Cold pages are measured reading one space at a time and 8 at once (INBOX_FETCH_THREADS).
2. Over HTTP against one daphne process: time to first byte of GET /inbox/, cold and warm.

Goal: the inbox with 20 spaces within a second (time to first byte, cold), and no AWS call
for a page within the interval.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
tmp = tempfile.mkdtemp(prefix="console-bench-inbox-")
os.environ.pop("REDIS_URL", None)
os.environ.update(
    DJANGO_SETTINGS_MODULE="dashboard.test_settings",
    DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
    DASHBOARD_VAR_DIR=tmp,
    DASHBOARD_BACKEND="sandbox",
    DASHBOARD_DEBUG="0",
    LIVE_POLL_INTERVAL="5",
)

import django  # noqa: E402

django.setup()
import logging  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

logging.disable(logging.WARNING)
call_command("migrate", verbosity=0)

from dashboard.aws import clients  # noqa: E402
from dashboard.aws import spaces as aws_spaces  # noqa: E402
from dashboard.inbox import live  # noqa: E402
from dashboard.sandbox import demo, prevention_demo  # noqa: E402
from dashboard.sandbox.models import AgentSpace  # noqa: E402

SPACES = 20
REQUESTS = 15
GOAL_MS = 1000.0

# --- world ----------------------------------------------------------------------------------

seed_started = time.perf_counter()
now = timezone.now()
ids = []
for n in range(SPACES):
    made = aws_spaces.create_space(name=f"Space {n + 1:02d}")
    row = AgentSpace.objects.get(pk=made["agentSpaceId"])
    with transaction.atomic():
        demo.seed_backlog(row, now, with_approval=n % 4 == 0)
        prevention_demo.seed(row, now)
    ids.append(made["agentSpaceId"])
seed_seconds = time.perf_counter() - seed_started

user = User.objects.create_user(username="bench-operator", password="pw-bench-inbox-2026")
user.groups.add(Group.objects.get_or_create(name="operator")[0])
browser = Client()
browser.force_login(user)


class Calls:
    """AWS operations botocore sends, by name."""

    def __init__(self) -> None:
        self.counter: Counter[str] = Counter()
        clients.client("devops-agent").meta.events.register("before-call", self)

    def __call__(self, model, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.counter[model.name] += 1


calls = Calls()


def cold() -> None:
    """Nothing read in this interval (the journal reads cached per task version stay)."""
    keys = [f"needs:space:{s}" for s in ids] + [f"needs:overview:{s}" for s in ids]
    for key in [*keys, "needs:spaces", "needs:usage"]:
        cache.delete(key)


def forget_everything() -> None:
    cache.clear()


def run(label: str, fn, *, prepare=None, n: int = REQUESTS) -> dict:  # type: ignore[no-untyped-def]
    fn()  # warm the process: clients, templates
    times, counts = [], []
    by_op: Counter[str] = Counter()
    for _ in range(n):
        if prepare:
            prepare()
        calls.counter.clear()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        counts.append(sum(calls.counter.values()))
        by_op += calls.counter
    return {
        "label": label,
        "p50": statistics.median(times),
        "max": max(times),
        "calls": spread(counts),
        "ops": ", ".join(f"{op} {c // n}" for op, c in by_op.most_common()),
    }


def spread(values: list[int]) -> str:
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}..{hi}"


def inbox() -> None:
    response = browser.get("/inbox/")
    assert response.status_code == 200, response.status_code


def overview() -> None:
    response = browser.get(f"/spaces/{ids[0]}/")
    assert response.status_code == 200, response.status_code


def poll() -> None:
    live.fetch_needs()


inbox()
body = browser.get("/inbox/").content.decode()
shown = {slot: len(re.findall(rf'class="need need-{slot}"', body)) for slot in live.SLOTS.values()}

rows = []
for threads in (1, 8):
    settings.INBOX_FETCH_THREADS = threads
    rows.append(run(f"inbox, cold, {threads} space(s) at once", inbox, prepare=cold))
settings.INBOX_FETCH_THREADS = 1  # the sandbox's default (see settings.py)
rows.append(run("inbox, cold, first read of every journal", inbox, prepare=forget_everything, n=5))
rows.append(run("inbox, warm (within the interval)", inbox))
rows.append(run("overview of one space, cold", overview, prepare=cold))
rows.append(run("overview of one space, warm", overview))
rows.append(run("console-wide count: one poll, cold", poll, prepare=cold))
rows.append(run("console-wide count: one poll, warm", poll))

# --- over HTTP: time to first byte --------------------------------------------------------


def ttfb(port: int, cookie: str) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("GET", "/inbox/", headers={"Cookie": cookie, "Host": "127.0.0.1"})
    response = connection.getresponse()  # returns once the status line and headers are in
    first = (time.perf_counter() - started) * 1000
    response.read()
    connection.close()
    assert response.status == 200, response.status
    return first


def serve(interval: str) -> tuple[subprocess.Popen, int]:  # type: ignore[type-arg]
    from tests.browser_support import free_port

    port = free_port()
    env = {**os.environ, "LIVE_POLL_INTERVAL": interval}
    log = open(Path(tmp) / f"daphne-{port}.log", "wb")
    daphne = subprocess.Popen(
        [str(Path(sys.executable).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port),
         "dashboard.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return daphne, port
        except OSError:
            pass
        if time.monotonic() > deadline:
            daphne.terminate()
            raise RuntimeError("daphne did not start")
        time.sleep(0.1)


def http_rows() -> list[dict]:
    session = Client()
    session.force_login(user)
    cookie = f"sessionid={session.cookies['sessionid'].value}"
    out = []
    # A server whose reads are never fresh (every request reads every space), and one whose
    # reads stay fresh for the whole run (as within an interval).
    for label, interval in (("cold", "0.001"), ("warm (within the interval)", "60")):
        daphne, port = serve(interval)
        try:
            ttfb(port, cookie)  # warm the process (and, for "warm", read the spaces)
            samples = [ttfb(port, cookie) for _ in range(REQUESTS)]
        finally:
            daphne.terminate()
            daphne.wait(timeout=10)
        out.append({"label": label, "p50": statistics.median(samples), "max": max(samples)})
    return out


over_http = http_rows()

# --- report -------------------------------------------------------------------------------

print(__doc__.split("\n\n")[0].split(": ", 1)[1].strip())
print()
print(
    f"{SPACES} spaces seeded in {seed_seconds:.1f} s; the inbox shows "
    + ", ".join(f"{count} {slot}" for slot, count in shown.items())
    + f". {REQUESTS} requests per row after a warm-up one (5 for the first-read row)."
)
print()
print("### In-process: server time and AWS calls")
print()
print("| case | p50 ms | max ms | AWS calls | by operation (per request) | within 1 s |")
print("|---|---|---|---|---|---|")
for r in rows:
    ok = "yes" if r["p50"] < GOAL_MS else "**no**"
    print(f"| {r['label']} | {r['p50']:.0f} | {r['max']:.0f} | {r['calls']} | {r['ops']} | {ok} |")
print()
print("### Over HTTP (one daphne process): time to first byte of GET /inbox/")
print()
print("| case | p50 ms | max ms | within 1 s |")
print("|---|---|---|---|")
for r in over_http:
    ok = "yes" if r["p50"] < GOAL_MS else "**no**"
    print(f"| {r['label']} | {r['p50']:.0f} | {r['max']:.0f} | {ok} |")
print()
print(
    "- cold: every space read from AWS in this request (ListAgentSpaces once, then "
    "ListBacklogTasks and ListRecommendations per space; journal reads only for a task whose "
    "version this process has not read yet, so the first-read row pays them all)."
)
print("- warm: a poller or another tab read the spaces within the interval: no AWS call.")
print(
    "- over HTTP: cold is a daphne whose reads are never fresh (LIVE_POLL_INTERVAL=0.001), warm"
    " one whose reads stay fresh (60 s); the sandbox answers inside the daphne process."
)
shutil.rmtree(tmp, ignore_errors=True)
