"""Board render: server time and SQL queries for GET /spaces/<id>/tasks/ at 50, 200, 1,000 tasks.

Run: .venv/bin/python bench/board_render.py  (uses a throwaway SQLite database in /tmp)
Requests go through django.test.Client as a signed-in operator (so rows carry the bulk-select
checkbox), DEBUG off (cached template loader), locmem cache, DASHBOARD_BACKEND=sandbox: the
emulator answers in-process at botocore's before-send, so "server time" covers the console, the
boto3 client (serialize, sign, parse) and the emulator (routing, validation, DB, serialization).
Goal: p50 under 50 ms for 200 rows; query count independent of row count.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
tmp = tempfile.mkdtemp(prefix="console-bench-")
os.environ.pop("REDIS_URL", None)  # locmem cache: the per-status counts live in-process
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

import botocore  # noqa: E402
from botocore.client import BaseClient  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.template.backends.django import Template as DjangoTemplate  # noqa: E402
from django.template.defaulttags import URLNode  # noqa: E402
from django.test import Client  # noqa: E402

logging.disable(logging.WARNING)
call_command("migrate", verbosity=0)

from dashboard.sandbox import wire  # noqa: E402
from dashboard.sandbox.models import AgentSpace  # noqa: E402
from dashboard.tasks import views_board  # noqa: E402

REQUESTS = 30
SIZES = (50, 200, 1000)
GOAL_MS = 50.0
DEFAULT_PAGE_SIZE = views_board.PAGE_SIZE

# --- instruments -------------------------------------------------------------------------------


class Meter:
    """Per request: queries split by origin, AWS calls, and the time spent in boto3 operations,
    inside the emulator and rendering templates."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.console = self.sandbox = self.calls = 0
        self.emulator = self.boto = self.template = 0.0

    def __call__(self, execute, sql, params, many, context):
        # A query is the emulator's when any frame on the stack is in a dashboard.sandbox module
        # (its ops, lifecycle, paging, models). Walking ~100 frames costs a few µs per query.
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_globals.get("__name__", "").startswith("dashboard.sandbox"):
                self.sandbox += 1
                break
            frame = frame.f_back
        else:
            self.console += 1
        return execute(sql, params, many, context)


meter = Meter()
_dispatch = wire.dispatch


def timed_dispatch(*args, **kwargs):
    # transport.attach calls `wire.dispatch` through the module at each request, so this sees
    # every AWS call. The body is bytes already (JSON); nothing is left to run lazily.
    started = time.perf_counter()
    try:
        return _dispatch(*args, **kwargs)
    finally:
        meter.calls += 1
        meter.emulator += time.perf_counter() - started


wire.dispatch = timed_dispatch
_api_call = BaseClient._make_api_call
_render = DjangoTemplate.render


def timed_api_call(self, *args, **kwargs):
    # Every boto3 operation: validate, serialize, sign, the emulator, parse the response.
    started = time.perf_counter()
    try:
        return _api_call(self, *args, **kwargs)
    finally:
        meter.boto += time.perf_counter() - started


def timed_render(self, *args, **kwargs):
    started = time.perf_counter()
    try:
        return _render(self, *args, **kwargs)
    finally:
        meter.template += time.perf_counter() - started


BaseClient._make_api_call = timed_api_call
DjangoTemplate.render = timed_render

# --- world -------------------------------------------------------------------------------------

user = User.objects.create_user(username="bench-operator", password="pw-bench")
user.groups.add(Group.objects.get_or_create(name="operator")[0])
browser = Client()
browser.force_login(user)

spaces: dict[int, str] = {}
seed_started = time.perf_counter()
for size in SIZES:
    call_command("seed_sandbox", large=f"bench-{size}", tasks=size, stdout=io.StringIO())
    spaces[size] = AgentSpace.objects.get(name=f"bench-{size}").pk
seed_seconds = time.perf_counter() - seed_started


def get(space_id: str):
    response = browser.get(f"/spaces/{space_id}/tasks/")
    assert response.status_code == 200, response.status_code
    return response


def measure(space_id: str, cold: bool, n: int = REQUESTS) -> dict:
    get(space_id)  # warm the process (clients, templates, the counts for the warm runs)
    times, emulator, boto, template, console_q, sandbox_q, calls = [], [], [], [], [], [], []
    rows = 0
    with connection.execute_wrapper(meter):
        for _ in range(n):
            if cold:
                views_board.forget_counts(space_id)
            meter.reset()
            started = time.perf_counter()
            response = get(space_id)
            times.append((time.perf_counter() - started) * 1000)
            emulator.append(meter.emulator * 1000)
            boto.append(meter.boto * 1000)
            template.append(meter.template * 1000)
            console_q.append(meter.console)
            sandbox_q.append(meter.sandbox)
            calls.append(meter.calls)
            rows = response.content.count(b'class="task-row')
    return {
        "n": n,
        "rows": rows,
        "p50": statistics.median(times),
        "p99": pct(times, 0.99),
        "emulator": statistics.median(emulator),
        "boto": statistics.median(boto),
        "template": statistics.median(template),
        "console_q": spread(console_q),
        "sandbox_q": spread(sandbox_q),
        "calls": spread(calls),
    }


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def spread(values: list[int]) -> str:
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}..{hi}"


# --- 1. timings and queries ----------------------------------------------------------------------

runs = []
for page_size, sizes in ((DEFAULT_PAGE_SIZE, SIZES), (200, (200, 1000))):
    views_board.PAGE_SIZE = page_size
    for size in sizes:
        for cold in (True, False):
            runs.append((page_size, size, cold, measure(spaces[size], cold)))
views_board.PAGE_SIZE = DEFAULT_PAGE_SIZE

print(__doc__.split("\n\n")[-1].strip())
print()
print(
    f"Seeded {len(SIZES)} spaces ({', '.join(map(str, SIZES))} tasks) in {seed_seconds:.1f} s; "
    f"{REQUESTS} requests per row after one warm-up request. The view's PAGE_SIZE is "
    f"{DEFAULT_PAGE_SIZE}; the rows with page size 200 set views_board.PAGE_SIZE = 200 in this "
    "process (a monkeypatch) to draw 200 rows in one page."
)
print()
print("- counts cache cold: `board-counts:<space>` is deleted before each request, so the view")
print("  lists every task of the space (ListBacklogTasks, 1,000 a page) to count them per status;")
print("  warm: the counts come from the cache (as for LIVE_POLL_INTERVAL after a miss).")
print("- boto3 ms: p50 time inside botocore's `BaseClient._make_api_call` (validate, serialize,")
print("  sign, the emulator, parse the response); emulator ms: the part inside")
print(
    "  `dashboard.sandbox.wire.dispatch` (routing, validation, handler and its queries, JSON out);"
)
print("  template ms: inside Django's `Template.render` (board.html and its includes).")
print(
    "- queries: counted with `connection.execute_wrapper`; a query is the emulator's when a frame"
)
print("  of a `dashboard.sandbox` module is on the stack as it runs (the BEGIN of its atomic")
print("  block included; COMMIT is a driver call, not a query), else the console's (session,")
print("  user, the user's groups for the role).")
print("  A range means the count varied between requests.")
print("- AWS calls: operations botocore sent to the emulator per request.")
print()
print(
    "| page size | tasks in space | rows drawn | counts cache | p50 ms | p99 ms | boto3 ms "
    "| emulator ms | template ms | console queries | sandbox queries | AWS calls | p50 < 50 ms |"
)
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for page_size, size, cold, r in runs:
    ok = "yes" if r["p50"] < GOAL_MS else "**no**"
    print(
        f"| {page_size} | {size:,} | {r['rows']} | {'cold' if cold else 'warm'} "
        f"| {r['p50']:.1f} | {r['p99']:.1f} | {r['boto']:.1f} | {r['emulator']:.1f} "
        f"| {r['template']:.1f} | {r['console_q']} | {r['sandbox_q']} | {r['calls']} | {ok} |"
    )
queries = {(r["console_q"], r["sandbox_q"]) for _, _, cold, r in runs if not cold}
queries_cold = {(r["console_q"], r["sandbox_q"]) for _, _, cold, r in runs if cold}
same = len(queries) == 1 and len(queries_cold) == 1
print()
print(
    "Query count independent of row count: "
    + ("yes (the same for every space and page size)." if same else "**no**, see the table.")
)

# --- 2. where the time goes: the 200-row page ----------------------------------------------------

PROFILED = 20
HERE = str(Path(__file__).resolve())
PHASES = [
    # (depth, label, file path ending, function name). Cumulative times, so a phase is part of
    # the nearest one above it with a smaller depth.
    (0, "request (test client, middleware, session)", HERE, "get"),
    (0, "view `board()`", "dashboard/tasks/views_board.py", "board"),
    (1, "boto3 operations (`_make_api_call`)", "botocore/client.py", "_make_api_call"),
    (2, "botocore: validate + serialize", "botocore/client.py", "_convert_to_request_dict"),
    (2, "botocore: sign", "botocore/signers.py", "sign"),
    (2, "emulator: `wire.dispatch`", "dashboard/sandbox/wire.py", "dispatch"),
    (3, "ListBacklogTasks handler", "dashboard/sandbox/ops/backlog.py", "list_backlog_tasks"),
    (3, "`lifecycle.advance`", "dashboard/sandbox/lifecycle.py", "advance"),
    (3, "`serialize_output` (JSON)", "dashboard/sandbox/wire.py", "serialize_output"),
    (2, "botocore: parse the response", "botocore/parsers.py", "parse"),
    (3, "timestamps (`parse_timestamp`: dateutil)", "botocore/utils.py", "parse_timestamp"),
    (1, "template rendering (`Template.render`)", "django/template/backends/django.py", "render"),
    (2, "`{% url %}` tags", "django/template/defaulttags.py", "render"),
    (2, "`|date` filters", "django/template/defaultfilters.py", "date"),
    (2, "`|timesince` (includes/ago.html)", "django/utils/timesince.py", "timesince"),
    (0, "ORM: run queries, fetch rows", "django/db/models/sql/compiler.py", "execute_sql"),
]


def profile(space_id: str, cold: bool) -> pstats.Stats:
    views_board.PAGE_SIZE = 200
    get(space_id)
    profiler = cProfile.Profile()
    for _ in range(PROFILED):
        if cold:
            views_board.forget_counts(space_id)
        profiler.enable()
        get(space_id)
        profiler.disable()
    views_board.PAGE_SIZE = DEFAULT_PAGE_SIZE
    return pstats.Stats(profiler)


def cumulative(stats: pstats.Stats, path: str, name: str) -> float:
    total = 0.0
    for (file, line, func), (_, _, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        if func != name or not (file == path or file.endswith(path)):
            continue
        if path.endswith("defaulttags.py") and line != URL_NODE_RENDER:
            continue  # only URLNode.render among the many `render`s there
        total += ct
    return total


URL_NODE_RENDER = URLNode.render.__code__.co_firstlineno


def short(file: str) -> str:
    return file.split("site-packages/")[-1].replace(str(Path(HERE).parent.parent) + "/", "")


profiles = {cold: profile(spaces[200], cold) for cold in (False, True)}
print()
print(
    f"Where the time goes, 200 rows (page size 200, space of 200 tasks): cProfile over {PROFILED} "
    "requests, ms per request. Cumulative: an indented phase is part of the one above it. The "
    "profiler inflates many small calls (templates) more than few big ones: read shares, and "
    "the unprofiled columns above for absolute times."
)
print()
print("| phase | warm ms | share | cold ms | share |")
print("|---|---|---|---|---|")
totals = {cold: cumulative(profiles[cold], HERE, "get") for cold in profiles}
for depth, label_, path, name in PHASES:
    cells = []
    for cold in (False, True):
        value = cumulative(profiles[cold], path, name)
        cells += [f"{value * 1000 / PROFILED:.1f}", f"{value / totals[cold]:.0%}"]
    indent = "\u2003" * 2 * (depth - 1) + "└ " if depth else ""
    print(f"| {indent}{label_} | {' | '.join(cells)} |")

# Top functions by cumulative time below the request/middleware/view chain. Frames whose
# cumulative time is within 2 % of one listed already are the same call chain one level down
# (Template.render → NodeList.render → …) and are folded into it.
stats = profiles[False]
total = totals[False]
chain = cumulative(stats, "dashboard/tasks/views_board.py", "board")
entries = [
    (ct, nc, file, line, func)
    for (file, line, func), (_, nc, tt, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
    if ct < chain * 0.99
]
entries.sort(reverse=True)
top: list[tuple] = []
for entry in entries:
    if all(abs(entry[0] - kept[0]) > 0.02 * total for kept in top):
        top.append(entry)
    if len(top) == 5:
        break
print()
print("Top 5 by cumulative time, warm 200-row page (below the view; nested chains folded):")
print()
print("| function | calls / request | cumulative ms / request | share of request |")
print("|---|---|---|---|")
for ct, nc, file, line, func in top:
    print(
        f"| `{func}` ({short(file)}:{line}) | {nc / PROFILED:g} | {ct * 1000 / PROFILED:.1f} "
        f"| {ct / total:.0%} |"
    )
own = sorted(
    ((tt, nc, file, line, func) for (file, line, func), (_, nc, tt, _, _) in stats.stats.items()),  # type: ignore[attr-defined]
    reverse=True,
)[:5]
print()
print("Top 5 by own time (tottime), warm 200-row page:")
print()
print("| function | calls / request | own ms / request | share of request |")
print("|---|---|---|---|")
for tt, nc, file, line, func in own:
    print(
        f"| `{func}` ({short(file)}:{line}) | {nc / PROFILED:g} | {tt * 1000 / PROFILED:.1f} "
        f"| {tt / total:.0%} |"
    )
print()
print(
    f"(Python {sys.version.split()[0]}, Django {django.get_version()}, botocore "
    f"{botocore.__version__}; DEBUG={settings.DEBUG}, cache "
    f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}, SQLite in {tmp}.)"
)
