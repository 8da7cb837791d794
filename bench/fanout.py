"""The realtime path at team scale (issue 13's B1, B3, B4): relay-added latency per token under
a sustained load, Redis commands per batch, memory per idle socket and bytes per token, each
against a bare `websockets` relay of the same stream in the same run (the floor).

Run: .venv/bin/python bench/fanout.py                    (B1 on both layers, B3, B4; ~20 min)
     .venv/bin/python bench/fanout.py --only b1 --layer memory --seconds 20 --rows 10x1,1x100
     .venv/bin/python bench/fanout.py --only b3            (Redis commands per batch)
     .venv/bin/python bench/fanout.py --only b4            (memory per socket, bytes per token)

Processes, as in production: the emulator (`manage.py sandbox_server`, its own process, the
agent stamping each text delta with the moment it was emitted), ONE console daphne process
(`DASHBOARD_BACKEND=aws` pointed at the emulator), the floor (its own process: the same event
stream from the emulator, one thread per reply, each delta sent at once to every socket of the
chat with websockets.broadcast: no log, no numbering, no coalescing), and the clients in this
process. Redis, when used, is a redis-server this bench starts on a free port (nobody else's
commands in its INFO).

B1, a sustained run: for `--seconds` (60) every chat of a row asks again as soon as its reply
ends; every viewer of the chat receives every reply. Latency = arrival at a viewer - emission
by the agent, for every delta (coalesced deltas each count their own wait). Rows: R replies at
once x V viewers each. Reported: p50/p99/max over the whole run, the p99 of the first and of
the last 10 s (a process that falls behind shows a growing last), and whether every reply
reached every viewer whole, in order and once (stamps only grow within a reply).
B3: INFO commandstats of the bench's Redis around one reply with 1, 10, 100 viewers: commands
per batch published (batches = messages a viewer received).
B4: the console process's RSS before and after opening 1,000 idle signed-in sockets (board
pages); bytes on the wire per token of a reply, without stamps, against the goal 4x the token
text + 40.

The load average is printed with every table: read figures from a loaded machine as such.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chat_stream import _free_port, _stamp_deltas, prepare_chats  # noqa: E402

STAMP = re.compile(r"⟦(\d+\.\d+)⟧")
QUESTION = "What is open?"
EXCHANGE = re.compile(r'<article id="x-([0-9a-f]+)"')
HTML_DELTA = re.compile(r'beforeend:#x-([0-9a-f]+)-b\d+-raw">([^<]*)</span>')
ENDED = re.compile(r'id="x-([0-9a-f]+)-status" class="xstatus xs-(done|failed|broken)"')
DOM = re.compile(r'data-dom="x-([0-9a-f]+)-"')


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- the floor (its own process) -----------------------------------------------------------


def _floor(port: int, endpoint: str) -> None:
    """Bare relay: viewers join a chat's room; a "send" streams the reply from the emulator in
    a thread and broadcasts each text delta to the room at once."""
    import boto3
    import websockets
    from botocore.config import Config

    client = boto3.client(
        "devops-agent",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="ASIASANDBOX",
        aws_secret_access_key="bench",
        # devops-agent operations carry cp./dp. host prefixes: not on 127.0.0.1.
        config=Config(inject_host_prefix=False, max_pool_connections=1000),
    )
    rooms: dict[str, set[Any]] = {}

    async def handler(socket: Any) -> None:
        loop = asyncio.get_running_loop()
        room = ""
        try:
            async for raw in socket:
                message = json.loads(raw)
                room = message["chat"]
                rooms.setdefault(room, set()).add(socket)
                if message.get("send"):
                    members = rooms[room]

                    def pump(m: dict[str, Any] = message, members: set[Any] = members) -> None:
                        stream = client.send_message(
                            agentSpaceId=m["space"], executionId=m["chat"], content=QUESTION
                        )
                        for event in stream["events"]:
                            kind = next(iter(event))
                            if kind == "contentBlockDelta":
                                text = event[kind]["delta"].get("textDelta", {}).get("text")
                                if text is not None:
                                    frame = f'<span hx-swap-oob="beforeend:#raw">{text}</span>'
                                    loop.call_soon_threadsafe(
                                        websockets.broadcast, list(members), frame
                                    )
                            elif kind in ("responseCompleted", "responseFailed"):
                                loop.call_soon_threadsafe(
                                    websockets.broadcast, list(members), "floor-done"
                                )

                    threading.Thread(target=pump, daemon=True).start()
        finally:
            if room:
                rooms.get(room, set()).discard(socket)

    async def serve() -> None:
        async with websockets.serve(handler, "127.0.0.1", port, max_queue=None, max_size=None):
            await asyncio.Future()

    asyncio.run(serve())


def _sandbox(port: int) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    if os.environ.get("BENCH_STAMP", "1") == "1":
        _stamp_deltas()
    call_command("sandbox_server", port=port, host="127.0.0.1")


# --- the world -------------------------------------------------------------------------------


class World:
    """A throwaway database, an emulator process, a console process, a floor process."""

    def __init__(self, *, redis: bool, stamp: bool = True, **env: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.redis_port = 0
        self.sandbox_db = f"sqlite:///{self.dir / 'sandbox.sqlite3'}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "SANDBOX_FAULTS", "DJANGO_SETTINGS_MODULE")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="dashboard.test_settings",
            DATABASE_URL=f"sqlite:///{self.dir / 'db.sqlite3'}",  # the console's
            DASHBOARD_VAR_DIR=str(self.dir),
            DASHBOARD_BACKEND="sandbox",
            PYTHONPATH=str(ROOT),
            LOG_LEVEL="WARNING",
            SANDBOX_CHAT_CONCURRENCY="100000",
            SANDBOX_CHAT_TOKEN_SECONDS="0.04",
            STREAM_THREADS="600",
            AWS_EXECUTOR_THREADS="32",
            BENCH_STAMP="1" if stamp else "0",
            **env,
        )
        if redis:
            self.redis_port = _free_port()
            self._spawn(
                [
                    "redis-server",
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.dir),
                ],
                self.redis_port,
            )
            self.env.update(
                REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0", REDIS_PREFIX="bench"
            )

    def redis(self) -> Any:
        import redis

        return redis.Redis(port=self.redis_port)

    def manage(self, *args: str, database: str = "") -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **({"DATABASE_URL": database} if database else {})},
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def prepare(self, chats: int) -> dict[str, Any]:
        """The emulator's world in a database of its own (AWS keeps its state elsewhere too:
        the console's writes and the emulator's never wait for each other's SQLite lock), and
        a signed-in operator in the console's."""
        self.manage("migrate", "--noinput", "-v0")
        self.manage("migrate", "--noinput", "-v0", database=self.sandbox_db)
        ids = prepare_chats(lambda *a: self.manage(*a, database=self.sandbox_db), chats)
        code = (
            "from django.contrib.auth.models import User, Group\n"
            "from django.contrib.sessions.backends.db import SessionStore\n"
            "user = User.objects.create_user('bench', password='x')\n"
            "user.groups.add(Group.objects.get_or_create(name='operator')[0])\n"
            "s = SessionStore(); s['_auth_user_id'] = str(user.pk)\n"
            "s['_auth_user_backend'] = 'django.contrib.auth.backends.ModelBackend'\n"
            "s['_auth_user_hash'] = user.get_session_auth_hash(); s.create()\n"
            "print(s.session_key)\n"
        )
        ids["session"] = self.manage("shell", "-c", code).strip().splitlines()[-1]
        return ids

    def _spawn(self, args: list[str], port: int, **env: str) -> subprocess.Popen[bytes]:
        log = (self.dir / f"process-{port}.log").open("ab")
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        deadline = time.monotonic() + 60
        import socket

        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return process
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{args[0]} on {port} did not start")

    def start(self) -> tuple[int, int, subprocess.Popen[bytes]]:
        """The emulator, the console and the floor: (console port, floor port, console)."""
        sandbox = _free_port()
        me = str(Path(__file__))
        self._spawn(
            [sys.executable, me, "--sandbox", str(sandbox)], sandbox, DATABASE_URL=self.sandbox_db
        )
        endpoint = f"http://127.0.0.1:{sandbox}"
        console = _free_port()
        process = self._spawn(
            [
                str(Path(sys.executable).parent / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(console),
                "dashboard.asgi:application",
            ],
            console,
            DASHBOARD_BACKEND="aws",
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="ASIASANDBOX",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_REGION="us-east-1",
        )
        floor = _free_port()
        self._spawn([sys.executable, me, "--floor", str(floor), endpoint], floor)
        return console, floor, process

    def close(self) -> None:
        for process in reversed(self.processes):
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


# --- viewers ---------------------------------------------------------------------------------


class Viewer:
    """One socket: what it received, per reply."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (arrival, latency)
        self.replies: dict[str, list[float]] = {}  # run -> stamps in arrival order
        self.run = ""  # the run the page's position is on (compact frames are of it)
        self.ended: set[str] = set()
        self.bytes = 0
        self.frames = 0
        self.sizes: list[tuple[int, bool]] = []  # (bytes, compact) of each frame
        self.done = asyncio.Event()

    def take(self, frame: str, now: float) -> None:
        self.bytes += len(frame.encode())
        self.frames += 1
        self.sizes.append((len(frame.encode()), frame.startswith("[")))
        if frame.startswith("["):
            parts = json.loads(frame)
            if parts[0] == "t":
                self._stamps(self.run, STAMP.findall(parts[3]), now)
            return
        dom = DOM.findall(frame)
        for run in EXCHANGE.findall(frame):
            self.replies.setdefault(run, [])
        for run, text in HTML_DELTA.findall(frame):
            self._stamps(run, STAMP.findall(text), now)
        if dom:
            self.run = dom[-1]
        for run, _ in ENDED.findall(frame):
            if run not in self.ended:
                self.ended.add(run)
                self.done.set()

    def _stamps(self, run: str, found: list[str], now: float) -> None:
        stamps = [float(s) for s in found]
        self.replies.setdefault(run, []).extend(stamps)
        self.samples.extend((now, now - s) for s in stamps)

    def whole(self) -> tuple[int, int]:
        """(replies whole, in order, once; replies received)."""
        good = sum(
            1
            for run, stamps in self.replies.items()
            if run in self.ended and stamps and all(a < b for a, b in itertools.pairwise(stamps))
        )
        return good, len([r for r in self.replies if r in self.ended])


async def _socket(url: str, headers: dict[str, str], origin: str | None) -> Any:
    import websockets

    return await websockets.connect(
        url, origin=origin, additional_headers=headers, max_size=None, open_timeout=60
    )


async def _read(ws: Any, viewer: Viewer, stop: asyncio.Event, ack: bool) -> None:
    received = acked = 0
    try:
        while not stop.is_set():
            frame = await ws.recv()
            viewer.take(frame, time.time())
            received += len(frame)
            if ack and received - acked >= 65_536:  # as static/js/console.js does
                acked = received
                await ws.send(f'{{"ack":{received}}}')
    except Exception:  # closed at the end
        return


def console_target(port: int, ids: dict[str, Any], chat: str) -> tuple[str, dict, str | None]:
    """(websocket URL, headers, origin) of a chat page's socket on a console at `port`."""
    url = f"ws://127.0.0.1:{port}/ws/spaces/{ids['space']}/chat/{chat}/"
    return url, {"Cookie": f"sessionid={ids['session']}"}, f"http://127.0.0.1:{port}"


async def chat_round(
    kind: str,
    target: tuple[str, dict, str | None],
    ids: dict[str, Any],
    chat: str,
    viewers: int,
    until: float,
    landed: Any = None,
    on_ready: Any = None,
) -> list[Viewer]:
    """One chat with `viewers` sockets at `target`; the first asks again each time a reply has
    ended, until `until`. `landed` (a Counter) counts the process each socket landed on."""
    url, headers, origin = target
    sockets = [await _socket(url, headers, origin) for _ in range(viewers)]
    if landed is not None:
        for ws in sockets:
            landed[ws.response.headers.get("X-Console-Replica", "?")] += 1
    out = [Viewer() for _ in sockets]
    stop = asyncio.Event()
    readers = [
        asyncio.create_task(_read(ws, v, stop, kind == "console"))
        for ws, v in zip(sockets, out, strict=True)
    ]
    if kind == "console":
        for ws in sockets:
            await ws.send(json.dumps({"streams": "hello", "run": None, "after": 0}))
        send = json.dumps({"action": "send", "content": QUESTION, "HEADERS": {}})
    else:
        for ws in sockets:
            await ws.send(json.dumps({"chat": chat}))
        send = json.dumps({"chat": chat, "space": ids["space"], "send": True})
        for v in out:  # the floor says "floor-done" instead of a status fragment
            v.take = _floor_take(v)  # type: ignore[method-assign]
    await asyncio.sleep(0.2)
    if on_ready is not None:  # every viewer is connected and caught up
        await asyncio.sleep(0.5)
        on_ready()
    sender = out[0]
    rounds = 0
    while time.time() < until or (until == 0 and rounds == 0):  # until 0: one reply
        rounds += 1
        sender.done.clear()
        await sockets[0].send(send)
        try:
            # A reply takes a few seconds; a message sent while the agent still recorded the
            # last one is refused (one reply at a time per chat) and sent again.
            await asyncio.wait_for(sender.done.wait(), 20)
        except TimeoutError:
            continue
        await asyncio.sleep(0.05)
    await asyncio.sleep(2.0)  # the other viewers' last frames
    stop.set()
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return out


async def _chat(
    kind: str,
    port: int,
    ids: dict[str, Any],
    chat: str,
    viewers: int,
    until: float,
    on_ready: Any = None,
) -> list[Viewer]:
    if kind == "console":
        target = console_target(port, ids, chat)
    else:
        target = (f"ws://127.0.0.1:{port}/", {}, None)
    return await chat_round(kind, target, ids, chat, viewers, until, on_ready=on_ready)


def _floor_take(viewer: Viewer):  # type: ignore[no-untyped-def]
    counter = {"n": 0}

    def take(frame: str, now: float) -> None:
        viewer.bytes += len(frame.encode())
        viewer.frames += 1
        run = f"floor{counter['n']}"
        if frame == "floor-done":
            viewer.ended.add(run)
            counter["n"] += 1
            viewer.done.set()
            return
        viewer._stamps(run, STAMP.findall(frame), now)

    return take


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] * 1000


async def _row(kind: str, port: int, ids: dict, chats: list[str], viewers: int, seconds: float):
    began = time.time()
    until = began + seconds
    per_chat = await asyncio.gather(*(_chat(kind, port, ids, c, viewers, until) for c in chats))
    everyone = [v for vs in per_chat for v in vs]
    latencies = [lat for v in everyone for _, lat in v.samples]
    first = [lat for v in everyone for at, lat in v.samples if at < began + 10]
    last = [lat for v in everyone for at, lat in v.samples if at > until - 10]
    good = sum(v.whole()[0] for v in everyone)
    total = sum(v.whole()[1] for v in everyone)
    # A reply every viewer of the chat received whole: the sender's count times viewers.
    expected = sum(len(vs[0].ended) for vs in per_chat) * viewers
    return latencies, first, last, good, total, expected


def b1(layer: str, rows: list[tuple[int, int]], seconds: float) -> None:
    redis = layer == "redis"
    world = World(redis=redis)
    try:
        chats_needed = sum(r for r, _ in rows) * 2
        ids = world.prepare(chats_needed)
        console, floor, _ = world.start()
        fresh = iter(ids["chats"])
        print(f"\n### B1 ({layer}): relay-added latency per token, {seconds:g} s sustained\n")
        print(
            "Tokens every 40 ms; coalescing window 50 ms (stretched under pressure); one "
            "daphne process; the emulator in its own process.\n"
        )
        print(
            "| replies x viewers | relay | p50 ms | p99 ms | max ms | p99 first 10 s | "
            "p99 last 10 s | replies x viewers whole, in order, once | load |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for replies, viewers in rows:
            for kind, port in (("console", console), ("floor", floor)):
                chats = [next(fresh) for _ in range(replies)]
                lat, first, last, good, total, expected = asyncio.run(
                    _row(kind, port, ids, chats, viewers, seconds)
                )
                print(
                    f"| {replies} x {viewers} | {kind} | {_pct(lat, 0.5):.1f} | "
                    f"{_pct(lat, 0.99):.1f} | {_pct(lat, 1):.1f} | {_pct(first, 0.99):.1f} | "
                    f"{_pct(last, 0.99):.1f} | {good}/{expected} ({total} ended) | "
                    f"{os.getloadavg()[0]:.2f} |",
                    flush=True,
                )
                time.sleep(2)
    finally:
        world.close()


def b3(counts: tuple[int, ...] = (1, 10, 100)) -> None:
    world = World(redis=True)
    try:
        ids = world.prepare(len(counts))
        console, _, _ = world.start()
        client = world.redis()
        print("\n### B3: Redis commands per batch (one reply, INFO commandstats)\n")
        print("| viewers | batches | Redis commands | per batch | PUBLISH | RPUSH | load |")
        print("|---|---|---|---|---|---|---|")
        for chat, viewers in zip(ids["chats"], counts, strict=True):
            before: dict[str, Any] = {}

            async def one(
                chat: str = chat, viewers: int = viewers, before: dict[str, Any] = before
            ) -> list[Viewer]:
                # Counted from when every viewer is connected and caught up: the reply only.
                return await _chat(
                    "console",
                    console,
                    ids,
                    chat,
                    viewers,
                    0,
                    on_ready=lambda: before.update(client.info("commandstats")),
                )

            out = asyncio.run(one())
            after = client.info("commandstats")

            def calls(stats: dict, name: str | None = None) -> int:
                return sum(
                    int(v["calls"])
                    for k, v in stats.items()
                    if name is None or k == f"cmdstat_{name}"
                )

            total = calls(after) - calls(before) - 1  # the INFO call
            publish = calls(after, "publish") - calls(before, "publish")
            rpush = calls(after, "rpush") - calls(before, "rpush")
            batches = max(1, rpush)
            print(
                f"| {viewers} | {batches} | {total} | {total / batches:.1f} | {publish} | "
                f"{rpush} | {os.getloadavg()[0]:.2f} |",
                flush=True,
            )
            assert all(v.ended for v in out), "every viewer saw the reply end"
    finally:
        world.close()


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def b4(sockets: int = 1000) -> None:
    world = World(redis=False, stamp=False)
    try:
        ids = world.prepare(1)
        console, _, process = world.start()

        async def idle() -> tuple[int, int]:
            url = f"ws://127.0.0.1:{console}/ws/spaces/{ids['space']}/board/"
            headers = {"Cookie": f"sessionid={ids['session']}"}
            one = await _socket(url, headers, f"http://127.0.0.1:{console}")
            await asyncio.sleep(1)
            before = _rss(process.pid)
            opened = [one]
            for _ in range(sockets - 1):
                opened.append(await _socket(url, headers, f"http://127.0.0.1:{console}"))
            await asyncio.sleep(2)
            after = _rss(process.pid)
            for ws in opened:
                await ws.close()
            return before, after

        before, after = asyncio.run(idle())
        print(f"\n### B4: memory per idle signed-in socket ({sockets} board sockets)\n")
        print("| RSS before | RSS after | per socket | load |")
        print("|---|---|---|---|")
        print(
            f"| {before / 2**20:.1f} MiB | {after / 2**20:.1f} MiB | "
            f"{(after - before) / (sockets - 1) / 1024:.1f} KiB | {os.getloadavg()[0]:.2f} |"
        )

        async def reply() -> Viewer:
            # The second viewer: a teammate watching (the sender also gets its message box).
            _, viewer = await _chat("console", console, ids, ids["chats"][0], 2, 0)
            return viewer

        viewer = asyncio.run(reply())
        tokens, text = _reply_tokens(world, ids)
        compact = [size for size, is_compact in viewer.sizes if is_compact]
        html = [size for size, is_compact in viewer.sizes if not is_compact]
        deltas = len(compact)
        per_token = viewer.bytes / tokens
        goal = 4 * text / tokens + 40
        print("\n### B4: bytes on the wire per token (one reply, a teammate's tab, no stamps)\n")
        print(
            "| frames | payload bytes | text tokens (avg chars) | bytes per token, whole "
            "reply | goal (4 x text + 40) | compact text frames: count, bytes each | HTML "
            "frames (structure): count, bytes |"
        )
        print("|---|---|---|---|---|---|---|")
        print(
            f"| {viewer.frames} | {viewer.bytes} | {tokens} ({text / tokens:.1f}) | "
            f"{per_token:.1f} | {goal:.1f} | {deltas}, {sum(compact) / max(1, deltas):.1f} | "
            f"{len(html)}, {sum(html)} |"
        )
        print(
            "\nBefore: about 330 bytes per token frame (an HTML fragment and a position "
            "fragment, issue 13). The structure (the exchange, its blocks, the Markdown of the "
            "finished text, the summary, the status) is sent once per reply whatever its length."
        )
    finally:
        world.close()


def _reply_tokens(world: World, ids: dict[str, Any]) -> tuple[int, int]:
    """(text tokens the agent streamed, their characters) from the recorded reply."""
    code = (
        "import json\nfrom dashboard.sandbox.models import ChatRecord\n"
        "r = ChatRecord.objects.filter(record_type='CHAT_RESPONSE').latest('created_at')\n"
        "print(json.dumps(r.content))\n"
    )
    content = json.loads(
        world.manage("shell", "-c", code, database=world.sandbox_db).strip().splitlines()[-1]
    )
    from dashboard.sandbox.chat_agent import TOKEN

    text_tokens = [
        piece
        for block in content.get("blocks", [])
        if block.get("type") == "text"
        for piece in TOKEN.findall(block.get("text") or "")
    ]
    return len(text_tokens), sum(len(p) for p in text_tokens)


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--floor":
        _floor(int(sys.argv[2]), sys.argv[3])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--sandbox":
        _sandbox(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description="Fan-out benchmarks (see the docstring).")
    parser.add_argument("--only", choices=("b1", "b3", "b4"))
    parser.add_argument("--layer", choices=("memory", "redis"), help="B1: one layer only")
    parser.add_argument("--seconds", type=float, default=60.0, help="B1: sustained run length")
    parser.add_argument(
        "--rows",
        default="10x1,100x1,400x1,1x10,1x100,1x500",
        help="B1 rows, replies x viewers (default: the issue's)",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.test_settings")
    import django

    django.setup()
    rows = [tuple(int(n) for n in row.split("x")) for row in args.rows.split(",")]
    print(f"## bench/fanout.py ({load()}, {os.cpu_count()} cores)")
    if args.only in (None, "b1"):
        for layer in [args.layer] if args.layer else ["memory", "redis"]:
            b1(layer, rows, args.seconds)  # type: ignore[arg-type]
    if args.only in (None, "b3"):
        b3()
    if args.only in (None, "b4"):
        b4()
    print(f"\n({load()} at the end)")


if __name__ == "__main__":
    main()
