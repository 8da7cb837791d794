"""Code interpreter and runtime playground: what the sandbox's simulated interpreter costs per
run, and what the stream relay adds between the sandbox producing a piece of output (or a
token) and a websocket receiving it, with 1 and 10 sessions streaming at once.

Run: .venv/bin/python bench/agentcore_code.py  (about 1 minute; a throwaway SQLite database and
var directory in /tmp, `dashboard.test_settings`, the embedded sandbox, the in-memory channel
layer and locmem cache)

Simulator: `dashboard.sandbox.code_sim.simulate` / `code_shell.run` on typical inputs, CPU only
(no pacing), 30 runs each.

Relay: the real ASGI application (`dashboard.asgi.application`) in this process, one signed-in
`WebsocketCommunicator` per session page saying hello as the page does, then sending a run
over the socket. The sandbox's paced output is wrapped so that every stdout piece carries the
wall-clock moment the sandbox yielded it (`⟦1700000000.123456⟧`); latency = arrival at the
socket - that moment, per piece (pieces coalesced into one message count each with its own
wait). Each run prints 20 lines, 0.1 s apart. With STREAM_COALESCE_SECONDS 0 (the relay's own
cost) and 0.05 (as deployed: the deliberate coalescing wait included). Runtime: time from the
invoke message to the first token at the socket, and the whole answer's duration, with the
sandbox's token pause at 0 (as fast as it makes them).

Goal (what a person watching notices, ~100 ms): the relay adds p99 < 100 ms per output piece
at 10 concurrent sessions; a run's first output reaches the page within 250 ms of the run being
sent (p50), role check, audit write and the sandbox call included.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
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
    SANDBOX_CODE_MAX_SESSIONS="50",
    SANDBOX_CODE_STEP_SECONDS="0",
    SANDBOX_RUNTIME_TOKEN_SECONDS="0",
)

import django  # noqa: E402

django.setup()
import logging  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

logging.disable(logging.WARNING)
call_command("migrate", verbosity=0)

from channels.layers import channel_layers  # noqa: E402
from channels.testing import WebsocketCommunicator  # noqa: E402

from dashboard.agentcore import runtime_runs  # noqa: E402
from dashboard.asgi import application  # noqa: E402
from dashboard.aws import agentcore_code as code_api  # noqa: E402
from dashboard.sandbox import code_shell, code_sim  # noqa: E402
from dashboard.sandbox.ops import agentcore_code as sandbox_code  # noqa: E402

STAMP = re.compile(r"⟦(\d+\.\d+)⟧")
SYSTEM = code_api.SYSTEM_CODE_INTERPRETER
ASSISTANT = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/sre_assistant-Sbx7Qm2LpA"
LINES = "import time\nfor i in range(20):\n    print('line', i)\n    time.sleep(0.1)\n"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- the simulator ------------------------------------------------------------------------------

SAMPLES = {
    "print of literals and arithmetic": ("python", "print('total:', 6 * 7, 2 ** 10)"),
    "loop printing 1,000 lines": ("python", "for i in range(1000):\n    print('row', i)"),
    "f-strings and sorted (25 lines)": (
        "python",
        "\n".join(
            f"x{i} = {i} * 3\nprint(f'{{x{i}:>6}}', sorted([x{i}, 1, 2]))" for i in range(25)
        ),
    ),
    "runaway loop stopped at the step bound": ("python", "while True:\n    pass"),
    "JavaScript console.log (20 lines)": (
        "javascript",
        "\n".join(f"const v{i} = {i} * 2; console.log('v', v{i}, [1, 2])" for i in range(20)),
    ),
}


def bench_simulator() -> None:
    print("## Simulated interpreter: CPU per run (30 runs)\n")
    print("| input | p50 ms | p99 ms | output pieces |")
    print("|---|---:|---:|---:|")
    for name, (language, code) in SAMPLES.items():
        times = []
        pieces = 0
        for _ in range(30):
            began = time.perf_counter()
            outcome = code_sim.simulate(code, language, {})
            times.append((time.perf_counter() - began) * 1000)
            pieces = len(outcome.steps)
        print(f"| {name} | {pct(times, 0.5):.2f} | {pct(times, 0.99):.2f} | {pieces} |")
    times = []
    for _ in range(30):
        files: dict = {}
        began = time.perf_counter()
        code_shell.run(
            "mkdir -p a/b && echo hi > a/b/x.txt && ls -l a/b && cat a/b/x.txt", files, django_now()
        )
        times.append((time.perf_counter() - began) * 1000)
    print(
        f"| shell: mkdir, echo >, ls -l, cat | {pct(times, 0.5):.2f} | {pct(times, 0.99):.2f} | 2 |"
    )
    print()


def django_now():  # type: ignore[no-untyped-def]
    from django.utils import timezone

    return timezone.now()


# --- the relay ----------------------------------------------------------------------------------


def stamp_output() -> None:
    original = sandbox_code._paced

    def stamped(planned):  # type: ignore[no-untyped-def]
        for kind, members in original(planned):
            structured = members.get("structuredContent") or {}
            if "stdout" in structured:
                text = structured["stdout"].rstrip("\n") + f"⟦{time.time():.6f}⟧\n"
                members = dict(members, structuredContent=dict(structured, stdout=text))
                members["content"] = [{"type": "text", "text": text}]
            yield kind, members

    sandbox_code._paced = stamped


def user_cookie() -> tuple[bytes, bytes]:
    user, _ = User.objects.get_or_create(username="bench-operator")
    user.groups.add(Group.objects.get_or_create(name="operator")[0])
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def one_run(cookie, session_id: str) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    path = f"/ws/agentcore/code-interpreters/{SYSTEM}/sessions/{session_id}/"
    tab = WebsocketCommunicator(
        application, path, headers=[(b"origin", b"http://testserver"), cookie]
    )
    connected, _ = await tab.connect()
    assert connected
    await tab.send_to(text_data=json.dumps({"streams": "hello", "run": None, "after": 0}))
    sent = time.time()
    await tab.send_to(text_data=json.dumps({"action": "run", "tool": "executeCode", "code": LINES}))
    latencies: list[float] = []
    first = 0.0
    while True:
        html = await tab.receive_from(timeout=30)
        now = time.time()
        stamps = [float(s) for s in STAMP.findall(html)]
        if stamps and not first:
            first = now - sent
        latencies.extend(now - s for s in stamps)
        if "ci-state-done" in html or "ci-state-failed" in html:
            break
    await tab.disconnect()
    return latencies, first


def bench_relay() -> None:
    stamp_output()
    cookie = user_cookie()
    print("## Relay-added latency per output piece (sandbox yields → socket receives)\n")
    print("20 lines per run, 0.1 s apart; every session has one page open.\n")
    print("| sessions | coalescing | pieces | p50 ms | p99 ms | max ms | first output p50 ms |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for coalesce in (0.0, 0.05):
        settings.STREAM_COALESCE_SECONDS = coalesce
        for count in (1, 10):
            channel_layers.backends.clear()
            ids = [code_api.start_session(SYSTEM)["sessionId"] for _ in range(count)]

            async def everything(ids=ids):  # type: ignore[no-untyped-def]
                return await asyncio.gather(*(one_run(cookie, i) for i in ids))

            results = asyncio.run(everything())
            latencies = [x * 1000 for lat, _ in results for x in lat]
            firsts = [first * 1000 for _, first in results]
            for session_id in ids:
                code_api.stop_session(SYSTEM, session_id)
            print(
                f"| {count} | {'off' if not coalesce else f'{coalesce * 1000:.0f} ms'} "
                f"| {len(latencies)} | {pct(latencies, 0.5):.1f} | {pct(latencies, 0.99):.1f} "
                f"| {max(latencies):.1f} | {statistics.median(firsts):.0f} |"
            )
    print()


async def one_invocation(cookie) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    session = f"bench-{time.time_ns()}-{'x' * 20}"
    digest = runtime_runs.digest(ASSISTANT, "", session)
    tab = WebsocketCommunicator(
        application,
        f"/ws/agentcore/runtime/{digest}/",
        headers=[(b"origin", b"http://testserver"), cookie],
    )
    connected, _ = await tab.connect()
    assert connected
    await tab.send_to(text_data=json.dumps({"streams": "hello", "run": None, "after": 0}))
    sent = time.time()
    await tab.send_to(
        text_data=json.dumps(
            {
                "action": "invoke",
                "arn": ASSISTANT,
                "qualifier": "",
                "session": session,
                "payload": json.dumps({"prompt": "p99 latency on checkout-api after a deploy"}),
                "content_type": "application/json",
                "accept": "text/event-stream",
            }
        )
    )
    first = 0.0
    messages = 0
    while True:
        html = await tab.receive_from(timeout=30)
        messages += 1
        if not first and '-text">' in html:
            first = time.time() - sent
        if "ci-state-done" in html:
            break
    total = time.time() - sent
    await tab.disconnect()
    return first, total, messages


def bench_runtime() -> None:
    cookie = user_cookie()
    settings.STREAM_COALESCE_SECONDS = 0.05
    print("## Runtime playground: an answer of ~140 tokens, as fast as the sandbox makes them\n")
    print(
        "| invocations at once | first token p50 ms | whole answer p50 ms | messages per answer |"
    )
    print("|---:|---:|---:|---:|")
    for count in (1, 10):
        channel_layers.backends.clear()

        async def everything(count=count):  # type: ignore[no-untyped-def]
            return await asyncio.gather(*(one_invocation(cookie) for _ in range(count)))

        results = asyncio.run(everything())
        firsts = [r[0] * 1000 for r in results]
        totals = [r[1] * 1000 for r in results]
        messages = [r[2] for r in results]
        print(
            f"| {count} | {statistics.median(firsts):.0f} | {statistics.median(totals):.0f} "
            f"| {statistics.median(messages):.0f} |"
        )
    print()


def main() -> None:
    load = os.getloadavg()
    print(f"Load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    bench_simulator()
    bench_relay()
    bench_runtime()


if __name__ == "__main__":
    main()
