"""Chat streaming: relay-added latency per delta, time to first token, deltas per second, page
views while replies stream, and a full stream pool; against a minimal relay as the floor.

Run: .venv/bin/python bench/chat_stream.py            (about 8 minutes on a 2-core machine)
     .venv/bin/python bench/chat_stream.py --sizes 10,100 --only latency   (a part of it)
     REDIS_URL=redis://127.0.0.1:6379/5 REDIS_PREFIX=console-bench-$RANDOM \
         .venv/bin/python bench/chat_stream.py               (the production path: Redis layer
                                                              and cache; the floor is unchanged)
     .venv/bin/python bench/chat_stream.py --only latency --sandbox-process
                                                             (the console calls the sandbox's
                                                              HTTP server in another process, as
                                                              it calls AWS in production)

Set-up: a throwaway SQLite database and var directory under /tmp, `dashboard.test_settings`,
the embedded sandbox. The console runs as ONE daphne process (`daphne bench.chat_stream:
application`: the real dashboard.asgi application, in-memory channel layer, locmem cache).
Clients are `websockets` connections from this process: each signs in with a session cookie,
opens a chat's socket, says hello and sends "What is open?" as the chat page does. Every reply
goes to a chat of its own, never used before (a chat that already has replies would answer the
hello with them: the catch-up of an earlier round is not a live delta).

Checked, not only timed: a client counts the deltas of its own reply only, and each reply must
arrive whole, in order and without a repeat (every stamp once, in the order emitted); the table
says how many replies did not.

Measuring: in the server process the sandbox agent's `stream_reply` is wrapped so that every
text delta carries the wall-clock moment it was emitted (`⟦1700000000.123456⟧` appended to the
token). A client notes the moment each fragment arrives; latency = arrival - emission, for
every delta in the fragment (coalesced deltas count each with its own wait). Same machine,
same clock.

The floor: `bench/chat_stream.py --floor PORT` serves the same event stream (boto3 -> sandbox,
iterated in a thread) straight over a `websockets` server, one thread per reply, each text
delta sent as a small HTML fragment at once: no channel layer, no numbering, no log, no
coalescing, no Django consumer. Whatever the console adds on top shows against it.

Tables: latency p50/p99 with 1, 10 and 100 concurrent replies, with coalescing off
(STREAM_COALESCE_SECONDS=0: the relay's own cost) and as deployed (0.05 s: the deliberate
coalescing wait included); time to first token; deltas/s per process with tokens as fast as
the sandbox makes them; the chat list page's latency while 100 replies stream; what a full
stream pool answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAMP = re.compile(r"⟦(\d+\.\d+)⟧")
QUESTION = "What is open?"
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "console-bench")
SIZES = (1, 10, 100)
# The exchange a reply streams into (the relay's run) and each text delta of it.
EXCHANGE = re.compile(r'<article id="x-([0-9a-f]+)"')
DELTA = re.compile(r'beforeend:#x-([0-9a-f]+)-b\d+-raw">([^<]*)</span>')


# --- the server side (imported by daphne) -------------------------------------------------------


def _stamp_deltas() -> None:
    from dashboard.sandbox import chat_agent

    original = chat_agent.stream_reply

    def stamped(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        for kind, members in original(*args, **kwargs):
            delta = members.get("delta") if kind == "contentBlockDelta" else None
            if delta and "textDelta" in delta:
                text = delta["textDelta"]["text"]
                members = dict(members, delta={"textDelta": {"text": f"{text}⟦{time.time():.6f}⟧"}})
            yield kind, members

    chat_agent.stream_reply = stamped


def __getattr__(name: str) -> Any:
    # `daphne bench.chat_stream:application`: the console's own ASGI app, stamping deltas.
    if name == "application":
        from dashboard.asgi import application

        _stamp_deltas()
        return application
    raise AttributeError(name)


def _floor(port: int) -> None:
    """A minimal relay: the same sandbox stream, straight to a websockets client."""
    import django

    django.setup()
    _stamp_deltas()
    import websockets

    from dashboard.aws import chat as aws_chat

    async def handler(socket: Any) -> None:
        loop = asyncio.get_running_loop()
        async for raw in socket:
            message = json.loads(raw)
            params = aws_chat.send_params(message["space"], message["chat"], message["content"])

            def pump(params: dict[str, Any] = params) -> None:
                for kind, members in aws_chat.open_reply(params):
                    if kind == "contentBlockDelta" and "textDelta" in members["delta"]:
                        text = members["delta"]["textDelta"]["text"]
                        html = f'<span hx-swap-oob="beforeend:#raw">{text}</span>'
                        asyncio.run_coroutine_threadsafe(socket.send(html), loop)
                    elif kind in ("responseCompleted", "responseFailed"):
                        asyncio.run_coroutine_threadsafe(socket.send("xs-done"), loop)

            threading.Thread(target=pump, daemon=True).start()

    async def serve() -> None:
        async with websockets.serve(handler, "127.0.0.1", port, max_queue=None):
            await asyncio.Future()

    asyncio.run(serve())


# --- the bench ------------------------------------------------------------------------------------


_taken: set[int] = set()


def _free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _taken:  # two servers asked for ports in a row must not get the same
            _taken.add(port)
            return port


class World:
    def __init__(self, **env: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-chat-"))
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "SANDBOX_FAULTS", "DJANGO_SETTINGS_MODULE")
        }
        if REDIS_URL:  # the production path: Redis channel layer and cache
            self.env.update(REDIS_URL=REDIS_URL, REDIS_PREFIX=f"{REDIS_PREFIX}-{self.dir.name}")
        defaults = {
            "SANDBOX_CHAT_CONCURRENCY": "1000",
            "STREAM_THREADS": "200",
            "AWS_EXECUTOR_THREADS": "32",
        }
        self.env.update(
            **{**defaults, **env},
            DJANGO_SETTINGS_MODULE="dashboard.test_settings",
            DATABASE_URL=f"sqlite:///{self.dir / 'db.sqlite3'}",
            DASHBOARD_VAR_DIR=str(self.dir),
            DASHBOARD_BACKEND="sandbox",
            PYTHONPATH=str(ROOT),
            LOG_LEVEL="WARNING",
        )
        self.processes: list[subprocess.Popen[bytes]] = []

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def prepare(self, chats: int) -> dict[str, Any]:
        self.manage("migrate", "--noinput", "-v0")
        code = (
            "import json\n"
            "from django.contrib.auth.models import User, Group\n"
            "from django.contrib.sessions.backends.db import SessionStore\n"
            "from dashboard.aws import chat, spaces, tasks\n"
            "user = User.objects.create_user('bench', password='x')\n"
            "user.groups.add(Group.objects.get_or_create(name='operator')[0])\n"
            "s = SessionStore(); s['_auth_user_id'] = str(user.pk)\n"
            "s['_auth_user_backend'] = 'django.contrib.auth.backends.ModelBackend'\n"
            "s['_auth_user_hash'] = user.get_session_auth_hash(); s.create()\n"
            "sid = spaces.create_space(name='Bench')['agentSpaceId']\n"
            "for t, p in (('Elevated 5xx on checkout-api', 'CRITICAL'),"
            " ('p99 latency on ledger-service', 'HIGH')):\n"
            "    tasks.create_task(sid, task_type='INVESTIGATION', title=t, priority=p)\n"
            f"ids = [chat.create_chat(sid)['executionId'] for _ in range({chats})]\n"
            "print(json.dumps({'space': sid, 'chats': ids, 'session': s.session_key}))\n"
        )
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def serve(self, args: list[str], port: int, **env: str) -> None:
        log = (self.dir / f"server-{port}.log").open("ab")
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server on {port} did not start")

    def close(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


class Reply:
    def __init__(self) -> None:
        self.sent = 0.0
        self.first = 0.0
        self.first_stamp = 0.0
        self.done = 0.0
        self.latencies: list[float] = []
        self.stamps: list[float] = []  # the emission stamps of this reply's deltas, as received
        self.deltas = 0
        self.messages = 0
        self.error = ""
        self.run = ""  # the console's run of this reply (its exchange is x-<run>)
        self.foreign = 0  # deltas of other runs received (an earlier reply's catch-up)

    @property
    def intact(self) -> bool:
        """Every delta once, in the order emitted (stamps only grow within one reply)."""
        return all(a < b for a, b in zip(self.stamps, self.stamps[1:], strict=False))


async def _console_reply(port: int, ids: dict[str, Any], chat: str, out: Reply) -> None:
    import websockets

    url = f"ws://127.0.0.1:{port}/ws/spaces/{ids['space']}/chat/{chat}/"
    async with websockets.connect(
        url,
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": f"sessionid={ids['session']}"},
        max_size=None,
    ) as ws:
        await ws.send(json.dumps({"streams": "hello", "run": None, "after": 0}))
        out.sent = time.time()
        await ws.send(json.dumps({"action": "send", "content": QUESTION}))
        await _collect(ws, out, console=True)


async def _floor_reply(port: int, ids: dict[str, Any], chat: str, out: Reply) -> None:
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
        out.sent = time.time()
        await ws.send(json.dumps({"space": ids["space"], "chat": chat, "content": QUESTION}))
        await _collect(ws, out)


def _own_stamps(html: str, out: Reply) -> list[float]:
    """The stamps of this reply's deltas in a console message (the exchange it started)."""
    if html.startswith("["):  # a compact frame: text for the run the page follows
        frame = json.loads(html)
        found = [float(s) for s in STAMP.findall(str(frame[3]))] if frame[0] == "t" else []
        if out.run:
            return found
        out.foreign += len(found)
        return []
    if not out.run:
        runs = EXCHANGE.findall(html)
        if runs:
            out.run = runs[-1]  # the reply's exchange arrives with its stream.start
    stamps: list[float] = []
    for run, text in DELTA.findall(html):
        found = [float(s) for s in STAMP.findall(text)]
        if run == out.run:
            stamps.extend(found)
        else:
            out.foreign += len(found)
    return stamps


async def _collect(ws: Any, out: Reply, *, console: bool = False) -> None:
    while True:
        html = await asyncio.wait_for(ws.recv(), 120)
        now = time.time()
        if console:
            stamps = _own_stamps(html, out)
            ended = bool(out.run) and re.search(
                rf'id="x-{out.run}-status" class="xstatus xs-(done|failed|broken)"', html
            )
        else:
            stamps = [float(s) for s in STAMP.findall(html)]
            ended = "xs-done" in html
        if stamps:
            out.messages += 1
            out.deltas += len(stamps)
            out.stamps.extend(stamps)
            out.latencies.extend(now - s for s in stamps)
            if not out.first:
                out.first, out.first_stamp = now, stamps[0]
        if "as many as it is set up for" in html:
            out.error = "pool full"
            out.done = now
            return
        if ended:
            out.done = now
            return


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return f"{ordered[index] * 1000:.1f}"


async def _run(kind: str, port: int, ids: dict[str, Any], chats: list[str]) -> list[Reply]:
    replies = [Reply() for _ in chats]
    one = _console_reply if kind == "console" else _floor_reply

    async def attempt(chat: str, reply: Reply) -> None:
        for tries in range(3):
            try:
                await one(port, ids, chat, reply)
                return
            except (TimeoutError, OSError, Exception) as exc:
                if reply.sent or tries == 2:
                    reply.error = f"{type(exc).__name__}: {exc}"
                    return
                await asyncio.sleep(0.2)

    await asyncio.gather(*(attempt(c, r) for c, r in zip(chats, replies, strict=True)))
    failed = [r.error for r in replies if r.error and r.error != "pool full"]
    if failed:
        print(f"<!-- {kind}: {len(failed)} client error(s), e.g. {failed[0]} -->", flush=True)
    return replies


def _page_views(port: int, ids: dict[str, Any], count: int, stop: threading.Event) -> list[float]:
    times: list[float] = []
    url = f"http://127.0.0.1:{port}/spaces/{ids['space']}/chat/"
    while len(times) < count and not stop.is_set():
        request = urllib.request.Request(url, headers={"Cookie": f"sessionid={ids['session']}"})
        began = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        times.append(time.perf_counter() - began)
        time.sleep(0.05)
    return times


SANDBOX_PROCESS = False


def _daphne(port: int) -> list[str]:
    return [
        str(Path(sys.executable).parent / "daphne"),
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "bench.chat_stream:application",
    ]


def _console_env(world: World) -> dict[str, str]:
    """With --sandbox-process the console talks to AWS's API through the sandbox's own HTTP
    server in another process (`manage.py sandbox_server`), as it talks to AWS in production:
    the emulator's CPU (making the agent's reply, SQLite, encoding) is then not the console's."""
    if not SANDBOX_PROCESS:
        return {}
    port = _free_port()
    world.serve([sys.executable, str(Path(__file__)), "--sandbox-server", str(port)], port)
    return {
        "DASHBOARD_BACKEND": "aws",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "ASIASANDBOX",  # the owner of the chats prepare() made
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "us-east-1",
    }


def _sandbox_server(port: int) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    _stamp_deltas()
    call_command("sandbox_server", port=port, host="127.0.0.1")


def _layer() -> str:
    return "Redis channel layer and cache" if REDIS_URL else "in-memory channel layer"


def _checked(replies: list[Reply]) -> str:
    """Replies that did not arrive whole, in order and once (or caught up an earlier one)."""
    bad = sum(1 for r in replies if not r.intact or r.foreign or not r.deltas)
    return f"{len(replies) - bad}/{len(replies)}"


def _latency_tables(sizes: tuple[int, ...] = SIZES) -> None:
    rows: list[str] = []
    ttft: list[str] = []
    total = sum(sizes)
    for window in ("0", "0.05"):
        world = World(SANDBOX_CHAT_TOKEN_SECONDS="0.04", STREAM_COALESCE_SECONDS=window)
        try:
            ids = world.prepare(2 * total)
            console, floor = _free_port(), _free_port()
            world.serve(_daphne(console), console, **_console_env(world))
            world.serve([sys.executable, str(Path(__file__)), "--floor", str(floor)], floor)
            # Every reply in a chat of its own: a chat used by an earlier round would answer
            # the hello with that round's reply first (history, not live deltas).
            fresh = iter(ids["chats"])
            for n in sizes:
                for kind, port in (("console", console), ("floor", floor)):
                    chats = [next(fresh) for _ in range(n)]
                    replies = asyncio.run(_run(kind, port, ids, chats))
                    lat = [x for r in replies for x in r.latencies]
                    msgs = sum(r.messages for r in replies)
                    deltas = sum(r.deltas for r in replies)
                    rows.append(
                        f"| {window} | {n} | {kind} | {_ms(lat, 0.5)} | {_ms(lat, 0.99)} | "
                        f"{_ms(lat, 1)} | {deltas} | {msgs} | {_checked(replies)} |"
                    )
                    if window == "0":
                        first = [r.first - r.sent for r in replies if r.first]
                        emit = [r.first_stamp - r.sent for r in replies if r.first]
                        ttft.append(
                            f"| {n} | {kind} | {_ms(first, 0.5)} | {_ms(first, 0.99)} | "
                            f"{_ms(emit, 0.5)} |"
                        )
                    time.sleep(0.5)
        finally:
            world.close()
    print("### Relay-added latency per delta (sandbox emits → websocket client receives)\n")
    print(f"Tokens every 40 ms; one daphne process; {_layer()}.\n")
    print(
        "| coalesce (s) | concurrent replies | relay | p50 ms | p99 ms | max ms | deltas | "
        "messages | replies whole, in order, once |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n### Time to first token (client sends → first text delta arrives)\n")
    print("| concurrent replies | relay | p50 ms | p99 ms | until the sandbox emitted it, p50 ms |")
    print("|---|---|---|---|---|")
    print("\n".join(ttft))


def _throughput_and_load() -> None:
    world = World(SANDBOX_CHAT_TOKEN_SECONDS="0", STREAM_COALESCE_SECONDS="0.05")
    rows: list[str] = []
    try:
        ids = world.prepare(40)
        console, floor = _free_port(), _free_port()
        world.serve(
            _daphne(console),
            console,
        )
        world.serve([sys.executable, str(Path(__file__)), "--floor", str(floor)], floor)
        for kind, port, pool in (
            ("console", console, ids["chats"][:20]),
            ("floor", floor, ids["chats"][20:]),
        ):
            began = time.time()
            replies = asyncio.run(_run(kind, port, ids, pool))
            wall = max(r.done for r in replies) - began
            deltas = sum(r.deltas for r in replies)
            rows.append(
                f"| {kind} | {len(pool)} | {deltas} | {wall:.2f} | {deltas / wall:.0f} | "
                f"{sum(r.messages for r in replies)} | {_checked(replies)} |"
            )
    finally:
        world.close()
    print("\n### Deltas per second, one process (tokens as fast as the sandbox makes them)\n")
    print(
        "| relay | concurrent replies | deltas | seconds | deltas/s | websocket messages | "
        "replies whole, in order, once |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))

    world = World(SANDBOX_CHAT_TOKEN_SECONDS="0.04")
    try:
        ids = world.prepare(100)
        port = _free_port()
        world.serve(
            _daphne(port),
            port,
        )
        idle = _page_views(port, ids, 20, threading.Event())
        stop = threading.Event()
        busy: list[float] = []
        viewer = threading.Thread(target=lambda: busy.extend(_page_views(port, ids, 40, stop)))
        began = time.time()
        viewer.start()
        replies = asyncio.run(_run("console", port, ids, ids["chats"]))
        stop.set()
        viewer.join()
        spans = [(r.first, r.done) for r in replies if r.first]
        peak = max(sum(1 for a, b in spans if a <= t <= b) for t, _ in spans)
        print("\n### Page views while 100 replies stream (GET the chat list, one daphne)\n")
        print("| while | requests | p50 ms | p99 ms |")
        print("|---|---|---|---|")
        print(f"| idle | {len(idle)} | {_ms(idle, 0.5)} | {_ms(idle, 0.99)} |")
        print(f"| 100 replies streaming | {len(busy)} | {_ms(busy, 0.5)} | {_ms(busy, 0.99)} |")
        print(
            f"\n100 replies took {max(d for _, d in spans) - began:.1f} s in all; at the peak "
            f"{peak} of them were streaming at the same moment (one alone takes about "
            f"{statistics.median(d - a for a, d in spans):.1f} s from first token to last)."
        )
    finally:
        world.close()


def _pool_full() -> None:
    world = World(SANDBOX_CHAT_TOKEN_SECONDS="0.04", STREAM_THREADS="4")
    try:
        ids = world.prepare(8)
        port = _free_port()
        world.serve(
            _daphne(port),
            port,
        )
        replies = asyncio.run(_run("console", port, ids, ids["chats"]))
        refused = [r for r in replies if r.error]
        served = [r for r in replies if not r.error]
        answer = [r.done - r.sent for r in refused]
        print("\n### A full stream pool (STREAM_THREADS=4, 8 replies asked at once)\n")
        print("| replies | streamed | refused at once | time to the refusal p50 ms | max ms |")
        print("|---|---|---|---|---|")
        print(
            f"| {len(replies)} | {len(served)} | {len(refused)} | {_ms(answer, 0.5)} | "
            f"{_ms(answer, 1)} |"
        )
    finally:
        world.close()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--floor":
        _floor(int(sys.argv[2]))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--sandbox-server":
        _sandbox_server(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description="Chat streaming bench (see the docstring).")
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="concurrent replies per latency round, e.g. 10,100 (default 1,10,100)",
    )
    parser.add_argument(
        "--only", choices=("latency", "throughput", "pool"), help="run one part of the bench"
    )
    parser.add_argument(
        "--sandbox-process",
        action="store_true",
        help="latency: the console calls the sandbox's HTTP server in another process",
    )
    args = parser.parse_args()
    global SANDBOX_PROCESS
    SANDBOX_PROCESS = args.sandbox_process
    sizes = tuple(int(n) for n in args.sizes.split(",") if n.strip())
    print(f"## bench/chat_stream.py ({_layer()})\n")
    if args.only in (None, "latency"):
        _latency_tables(sizes)
    if args.only in (None, "throughput"):
        _throughput_and_load()
    if args.only in (None, "pool"):
        _pool_full()


if __name__ == "__main__":
    main()
