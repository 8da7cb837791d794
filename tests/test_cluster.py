"""Three daphne processes behind a real HAProxy (deploy/haproxy.cfg), one PostgreSQL, one Redis,
and the sandbox in its own process as AWS (tests/cluster_support.py): what a team sees when
its pages are spread over the processes of a deployment.

- Viewers of one chat on all three processes get the whole reply, once, in order.
- A board change made through the console reaches the board tabs on every process.
- The process relaying a reply is killed (SIGKILL) mid-reply: its viewers reconnect through
  the proxy to another process and catch up with nothing lost or doubled, and the reply ends
  as the chat's journal recorded it.

Every socket goes through the proxy; the proxy's X-Console-Replica header says which process
it landed on. The cluster is started once for the module (about 10 s)."""

from __future__ import annotations

import asyncio
import html as html_lib
import json
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import websockets

from dashboard.core.markdown import render_markdown
from dashboard.streams.log import RedisLog

from .cluster_support import SESSIONS, Cluster, connect, haproxy_binary
from .frames_support import Page
from .test_backends import needs_backends

pytestmark = pytest.mark.backends

QUESTION = "What is open?"
HEARTBEAT = 1.0  # STREAM_HEARTBEAT_SECONDS: a dead relay's lock lapses after 3 of them
_POSITION = re.compile(r'class="stream-pos"[^>]*data-run="([^"]*)"\s+data-seq="(\d+)"')
_WHOLE_POSITION = re.compile(r'<div id="stream-pos-[^>]*></div>')
_APPEND = re.compile(r'<span hx-swap-oob="beforeend:#([^"]+)">(.*?)</span>', re.S)


def _require_haproxy() -> None:
    if haproxy_binary():
        return
    reason = "haproxy is missing: install Debian's haproxy (apt-get install haproxy)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the cluster tests, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    needs_backends()
    _require_haproxy()
    with Cluster(
        processes=3,
        env={"STREAM_HEARTBEAT_SECONDS": str(HEARTBEAT)},
        # A reply lasts two to three seconds: long enough to kill its relay in the middle.
        sandbox_env={"SANDBOX_CHAT_TOKEN_SECONDS": "0.025"},
        log_level="INFO",
    ) as started:
        yield started


@pytest.fixture(scope="module")
def world(cluster: Cluster) -> dict[str, Any]:
    """A space with a backlog and three chats (made through the console's AWS code, i.e. the
    sandbox server), and signed-in sessions."""
    return cluster.shell_json(
        "import json\n"
        f"{SESSIONS}"
        "from dashboard.aws import chat, spaces, tasks\n"
        "sid = spaces.create_space(name='Cluster')['agentSpaceId']\n"
        "made = [tasks.create_task(sid, task_type='INVESTIGATION', title=t, priority=p)['taskId']\n"
        "        for t, p in (('Elevated 5xx on checkout-api', 'CRITICAL'),\n"
        "                     ('p99 latency regression on ledger-service', 'HIGH'),\n"
        "                     ('Disk usage above 80% on build hosts', 'LOW'))]\n"
        "chats = [chat.create_chat(sid)['executionId'] for _ in range(3)]\n"
        "print(json.dumps({'space': sid, 'tasks': made, 'chats': chats,\n"
        "                  'operators': sessions(2, 'operator', 'operator-'),\n"
        "                  'viewers': sessions(12, 'viewer', 'viewer-')}))\n"
    )


def _explained(cluster: Cluster, what: str) -> str:
    return f"{what}\n\nThe cluster's logs:\n{cluster.logs()}"


# --- a chat page's socket -----------------------------------------------------------------------


class ChatTab:
    """One chat tab through the proxy: says hello like the page, applies frames like the page,
    and reconnects from where it stands when its socket drops."""

    def __init__(self, cluster: Cluster, space: str, chat: str, session: str) -> None:
        self.cluster = cluster
        self.path = f"/ws/spaces/{space}/chat/{chat}/"
        self.session = session
        self.socket: Any = None
        self.replicas: list[str] = []  # the process of each connection, in order
        self.page = Page()
        self.html: list[str] = []  # every frame, as the HTML it amounts to
        self.compact = 0  # compact text frames: batches as the relay published them, live
        # (run, seq, whether the frame showed something) after each frame with a position; a
        # frame may only restate where the tab stands (the answer to a hello with nothing new).
        self.positions: list[tuple[str, int, bool]] = []
        self.run = ""
        self.seq = 0

    @property
    def replica(self) -> str:
        return self.replicas[-1]

    async def open(self) -> ChatTab:
        self.socket = await connect(self.cluster, self.path, self.session)
        self.replicas.append(self.socket.replica)
        hello = {"streams": "hello", "run": self.run or None, "after": self.seq}
        await self.socket.send(json.dumps(hello))
        return self

    async def send(self, content: str) -> None:
        await self.socket.send(json.dumps({"action": "send", "content": content, "HEADERS": {}}))

    async def receive(self, timeout: float) -> str:
        frame = await asyncio.wait_for(self.socket.recv(), timeout)
        self.compact += frame.startswith('["t",')
        html = self.page.as_html(frame)
        self.html.append(html)
        found = _POSITION.search(html)
        if found and found.group(1):
            self.run, self.seq = found.group(1), int(found.group(2))
            shown = _WHOLE_POSITION.sub("", html).strip()
            self.positions.append((self.run, self.seq, bool(shown)))
        elif frame.startswith("[") and self.page.seq is not None:
            self.seq = self.page.seq
            self.positions.append((self.run, self.seq, True))
        return html

    async def until(self, done: Any, timeout: float = 60, *, reconnect: bool = False) -> None:
        """Receive until `done(self)`; a dropped socket is opened again (through the proxy,
        from this tab's position) when `reconnect`."""
        deadline = time.monotonic() + timeout
        while not done(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"a tab on {self.replicas} waited {timeout:g} s in vain; it is at "
                    f"{self.run}:{self.seq} and received:\n{''.join(self.html)[-3000:]}"
                )
            try:
                await self.receive(remaining)
            except websockets.ConnectionClosed:
                if not reconnect:
                    raise
                await self.open()
            except TimeoutError:
                continue

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()

    # what the tab shows
    @property
    def text(self) -> str:
        return "".join(self.html)

    def appended(self, target: str) -> str:
        """The text appended to element `target` (streamed deltas), as the page shows it."""
        return "".join(
            html_lib.unescape(text) for found, text in _APPEND.findall(self.text) if found == target
        )

    def state(self) -> str:
        """The exchange's last known state (done, failed, broken, recovering, ...)."""
        found = re.findall(
            rf'id="x-{self.run}(?:-status" class="xstatus|" class="exchange) xs-([a-z]+)"',
            self.text,
        )
        return found[-1] if found else ""


async def _spread_tabs(
    cluster: Cluster, world: dict[str, Any], chat: str, count: int
) -> tuple[ChatTab, list[ChatTab]]:
    """An operator's tab and `count` viewers' tabs, on every process."""
    sender = await ChatTab(cluster, world["space"], chat, world["operators"][0]).open()
    viewers = [
        await ChatTab(cluster, world["space"], chat, session).open()
        for session in world["viewers"][:count]
    ]
    return sender, viewers


def _log(cluster: Cluster) -> RedisLog:
    """The cluster's replay log, read with the console's own reader."""
    client = cluster.redis()
    return RedisLog(lambda: client, cluster.redis_prefix)


def _ended_run(cluster: Cluster, key: str, run: str, timeout: float = 60) -> list[dict[str, Any]]:
    """The run's events once its last one is terminal."""
    from dashboard.streams import TERMINAL

    deadline = time.monotonic() + timeout
    store = _log(cluster)
    while True:
        events = store.read(key, run)
        if events and events[-1]["type"] in TERMINAL:
            return events
        assert time.monotonic() < deadline, _explained(cluster, f"run {run} did not end")
        time.sleep(0.1)


def _journal_reply(cluster: Cluster, space: str, chat: str) -> dict[str, Any]:
    """The chat's last reply as the agent recorded it in the chat's journal."""
    records = cluster.shell_json(
        "import json\n"
        "from dashboard.aws import chat\n"
        f"print(json.dumps(chat.history({space!r}, {chat!r})['records'], default=str))\n"
    )
    replies = [r for r in records if r["recordType"] == "CHAT_RESPONSE"]
    assert replies, records
    return replies[-1]["content"]


def _assert_once_in_order(tab: ChatTab, run: str, last: int) -> None:
    """The tab's position only moved forward, and every frame that showed something moved it
    (a frame showing events the tab had would not)."""
    moves = [(seq, shown) for found, seq, shown in tab.positions if found == run]
    assert moves, f"tab on {tab.replicas} saw nothing of run {run}"
    seqs = [seq for seq, _ in moves]
    assert seqs == sorted(seqs), f"tab on {tab.replicas}: positions went {seqs}"
    shown = [seq for seq, showed in moves if showed]
    assert len(set(shown)) == len(shown), f"tab on {tab.replicas}: frames showed {moves}"
    assert seqs[-1] == last, f"tab on {tab.replicas} stopped at {seqs[-1]} of {last}"


# --- the tests ------------------------------------------------------------------------------------


def test_viewers_on_every_process_get_the_whole_reply_once_in_order(cluster, world):
    space, chat = world["space"], world["chats"][0]
    key = f"chat:{space}:{chat}"

    async def scenario() -> tuple[ChatTab, list[ChatTab]]:
        sender, viewers = await _spread_tabs(cluster, world, chat, 6)
        tabs = [sender, *viewers]
        try:
            await sender.send(QUESTION)
            await asyncio.gather(*(t.until(lambda t: t.state() == "done") for t in tabs))
            events = await asyncio.to_thread(_ended_run, cluster, key, sender.run)
            last = events[-1]["seq"]
            await asyncio.gather(*(t.until(lambda t: t.seq >= last) for t in tabs))
        finally:
            await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)
        return sender, viewers

    sender, viewers = asyncio.run(scenario())
    tabs = [sender, *viewers]
    assert {t.replica for t in tabs} == set(cluster.names), [t.replica for t in tabs]

    run = sender.run
    events = _ended_run(cluster, key, run)
    reply = _journal_reply(cluster, space, chat)
    assert reply["state"] == "COMPLETED"
    streamed = {b["index"]: b.get("text") or b.get("json") or "" for b in reply["blocks"]}
    assert any(b["type"] == "text" for b in reply["blocks"])
    for tab in tabs:
        assert tab.run == run, "every tab follows the same run"
        # Live, as the relay published it (a catch-up from the log is HTML, never compact).
        assert tab.compact > 0, f"tab on {tab.replica} got the reply only from the log"
        _assert_once_in_order(tab, run, events[-1]["seq"])
        # Each block's streamed text, whole and once, as the agent recorded it.
        for index, text in streamed.items():
            assert tab.appended(f"x-{run}-b{index}-raw") == text, (tab.replicas, index)
        assert tab.state() == "done"
        assert tab.text.count(f'<article id="x-{run}"') == 1, "the exchange is shown once"


def test_a_board_change_reaches_board_tabs_on_every_process(cluster, world):
    space, task = world["space"], world["tasks"][2]

    async def boards() -> list[Any]:
        sockets = []
        for session in world["viewers"][:6]:
            sockets.append(await connect(cluster, f"/ws/spaces/{space}/board/", session))
        return sockets

    async def scenario() -> tuple[list[str], list[str]]:
        sockets = await boards()
        try:
            # The change, made by an operator through the proxy (whichever process serves it).
            http = requests.Session()
            http.cookies.set("sessionid", world["operators"][1])
            served_by = await asyncio.to_thread(_cancel_task, cluster, http, space, task)

            async def until_changed(socket: Any) -> str:
                deadline = time.monotonic() + 30
                while True:
                    frame = await asyncio.wait_for(socket.recv(), deadline - time.monotonic())
                    if f'id="task-{task}"' in frame and 'data-status="CANCELED"' in frame:
                        return frame

            await asyncio.gather(*(until_changed(s) for s in sockets))
            return [s.replica for s in sockets], [served_by]
        finally:
            await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)

    replicas, served_by = asyncio.run(scenario())
    assert set(replicas) == set(cluster.names), replicas
    assert served_by[0] in cluster.names


def _cancel_task(cluster: Cluster, http: requests.Session, space: str, task: str) -> str:
    """Cancel `task` through the task page's form; returns the process that did it."""
    page = http.get(f"{cluster.url}/spaces/{space}/tasks/{task}/", timeout=30)
    assert page.status_code == 200, page.status_code
    version = re.search(r'name="version" value="(\d+)"', page.text)
    status = re.search(r'name="seen_status" value="([A-Z_]+)"', page.text)
    assert version and status, page.text[:2000]
    done = http.post(
        f"{cluster.url}/spaces/{space}/tasks/{task}/status/",
        data={
            "status": "CANCELED",
            "seen_status": status.group(1),
            "version": version.group(1),
            "confirm": "on",
            "csrfmiddlewaretoken": http.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 302, (done.status_code, done.text[:2000])
    return done.headers["X-Console-Replica"]


def test_a_relay_killed_mid_reply_loses_nothing_and_the_reply_ends_as_recorded(cluster, world):
    space, chat = world["space"], world["chats"][1]
    key = f"chat:{space}:{chat}"
    killed: list[int] = []

    async def scenario() -> tuple[ChatTab, list[ChatTab]]:
        sender, viewers = await _spread_tabs(cluster, world, chat, 6)
        tabs = [sender, *viewers]
        try:
            await sender.send(QUESTION)
            # Mid-reply: the agent's text has begun (block 2, after the tool call's result).
            await sender.until(lambda t: t.run and t.appended(f"x-{t.run}-b2-raw"))
            relay = cluster.index_of(sender.replica)  # the sender's process relays its reply
            cluster.kill(relay)
            killed.append(relay)
            await asyncio.gather(
                *(
                    t.until(lambda t: t.state() in ("done", "failed", "broken"), reconnect=True)
                    for t in tabs
                )
            )
            events = await asyncio.to_thread(_ended_run, cluster, key, sender.run)
            last = events[-1]["seq"]
            await asyncio.gather(*(t.until(lambda t: t.seq >= last, reconnect=True) for t in tabs))
        finally:
            await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)
        return sender, viewers

    try:
        sender, viewers = asyncio.run(scenario())
        tabs = [sender, *viewers]
        dead = cluster.names[killed[0]]
        assert {t.replicas[0] for t in tabs} == set(cluster.names)
        moved = [t for t in tabs if t.replicas[0] == dead]
        assert moved and all(len(t.replicas) > 1 and dead not in t.replicas[1:] for t in moved), [
            t.replicas for t in moved
        ]
        # The proxy's health checks take the dead process out.
        deadline = time.monotonic() + 30
        while dead in cluster.up():
            assert time.monotonic() < deadline, f"haproxy still sends traffic to {dead}"
            time.sleep(0.1)

        run = sender.run
        events = _ended_run(cluster, key, run)
        reply = _journal_reply(cluster, space, chat)
        assert reply["state"] == "COMPLETED"
        text = next(b["text"] for b in reply["blocks"] if b["type"] == "text")
        shown = str(render_markdown(text))
        for tab in tabs:
            _assert_once_in_order(tab, run, events[-1]["seq"])
            assert tab.state() == "done", (tab.replicas, tab.state())
            # What streamed before the relay died was the start of the recorded reply...
            streamed = tab.appended(f"x-{run}-b2-raw")
            assert text.startswith(streamed), (tab.replicas, streamed, text)
            # ...and the exchange ends showing the reply as the journal has it.
            assert shown in tab.text.rsplit(f'<article id="x-{run}"', 1)[-1], tab.replicas
            # Told once that the relay stopped (whether live or caught up from the log).
            assert tab.text.count('class="muted small xrecovering"') <= 1, tab.replicas
    except AssertionError as exc:
        raise AssertionError(_explained(cluster, str(exc))) from None
    finally:
        for index in killed:
            cluster.revive(index)


def test_the_proxy_serves_tls_and_websockets_over_it_when_given_a_certificate(
    cluster, world, tmp_path
):
    """deploy/haproxy.cfg's optional TLS (PROXY_TLS_CERT), in front of the same processes."""
    import ssl

    from .cluster_support import INHERITED, Process, free_port, local_haproxy_config
    from .test_compose import _self_signed

    pem = tmp_path / "console.pem"
    pem.write_text(_self_signed("localhost"))
    config = tmp_path / "haproxy.cfg"
    config.write_text(local_haproxy_config(list(zip(cluster.names, cluster.ports, strict=True))))
    plain, tls = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k in INHERITED}
    env.update(
        CONSOLE_HOST="127.0.0.1",
        PROXY_BIND=f"127.0.0.1:{plain}",
        PROXY_TLS_BIND=f"127.0.0.1:{tls}",
        PROXY_TLS_CERT=str(pem),
        HAPROXY_SOCKET=str(tmp_path / "haproxy.sock"),
    )
    proxy = Process(
        "haproxy-tls", [haproxy_binary(), "-db", "-f", str(config)], env, tmp_path / "log"
    )
    proxy.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = requests.get(
                    f"https://localhost:{tls}/healthz", verify=str(pem), timeout=5
                )
                break
            except requests.ConnectionError:
                assert proxy.alive(), proxy.log()
                assert time.monotonic() < deadline, proxy.log()
                time.sleep(0.1)
        assert answer.status_code == 200 and answer.json()["ok"] is True
        assert answer.headers["X-Console-Replica"] in cluster.names
        moved = requests.get(f"http://localhost:{plain}/healthz", allow_redirects=False, timeout=5)
        assert moved.status_code == 301
        assert moved.headers["Location"].startswith("https://localhost")
        assert moved.headers["Location"].endswith("/healthz")

        async def board_over_tls() -> str:
            context = ssl.create_default_context(cafile=str(pem))
            socket = await websockets.connect(
                f"wss://localhost:{tls}/ws/spaces/{world['space']}/board/",
                origin=f"https://localhost:{tls}",  # type: ignore[arg-type]
                additional_headers={"Cookie": f"sessionid={world['viewers'][0]}"},
                ssl=context,
                open_timeout=30,
            )
            try:
                return socket.response.headers["X-Console-Replica"]
            finally:
                await socket.close()

        assert asyncio.run(board_over_tls()) in cluster.names
    finally:
        proxy.stop()
