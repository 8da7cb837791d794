"""Helpers for the chat tests: a chat in a space with a backlog, signed-in chat sockets that
say hello like the page does, and readers of what a socket received."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from channels.testing import WebsocketCommunicator
from django.test import Client

from dashboard.asgi import application
from dashboard.aws import chat as aws_chat

from .frames_support import Page

ORIGIN = (b"origin", b"http://testserver")
_POS = re.compile(r'class="stream-pos"[^>]*data-run="([^"]*)"\s+data-seq="(\d+)"')


def serialize_sqlite(monkeypatch: Any) -> None:
    """SQLite's in-memory test database (shared cache) refuses a second writer at once
    ("database table is locked") instead of waiting as a file database does. The chat runs
    sandbox calls in stream threads while consumers write the audit log: on SQLite take them
    one at a time (PostgreSQL runs keep the real concurrency)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    from dashboard.aws import clients as aws_clients
    from dashboard.chat import sending
    from dashboard.sandbox.ops import chat as sandbox_chat

    lock = threading.RLock()

    def locked(real: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return real(*args, **kwargs)

        return run

    call = locked(aws_clients.call)
    for module in ("dashboard.aws.clients", "dashboard.aws.chat", "dashboard.aws.spaces"):
        monkeypatch.setattr(f"{module}.call", call)
    monkeypatch.setattr(sandbox_chat, "_save", locked(sandbox_chat._save))
    monkeypatch.setattr(sending, "record", locked(sending.record))


def backlog(space_id: str) -> dict[str, Any]:
    """Open high-priority tasks the agent can talk about (one critical, one high, one low)."""
    from dashboard.aws import tasks

    made = {}
    for title, priority in (
        ("Elevated 5xx on checkout-api", "CRITICAL"),
        ("p99 latency regression on ledger-service", "HIGH"),
        ("Disk usage above 80% on build hosts", "LOW"),
    ):
        made[priority] = tasks.create_task(
            space_id, task_type="INVESTIGATION", title=title, priority=priority
        )
    return made


def new_chat(space_id: str) -> str:
    return aws_chat.create_chat(space_id)["executionId"]


def cookie(client: Client) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def position(html: str) -> tuple[str, int] | None:
    found = _POS.search(html)
    return (found.group(1), int(found.group(2))) if found else None


class Tab:
    """One browser tab's chat socket."""

    def __init__(self, client: Client, space_id: str, chat_id: str) -> None:
        self.communicator = WebsocketCommunicator(
            application, f"/ws/spaces/{space_id}/chat/{chat_id}/", headers=[ORIGIN, cookie(client)]
        )
        self.received: list[tuple[float, str]] = []
        self.run: str | None = None
        self.seq = 0
        self.page = Page()
        self.frames: list[str] = []  # as they came over the socket

    async def open(self, run: str | None = None, after: int = 0) -> Tab:
        connected, code = await self.communicator.connect()
        assert connected, code
        await self.hello(run, after)
        return self

    async def hello(self, run: str | None = None, after: int = 0) -> None:
        await self.communicator.send_to(
            text_data=json.dumps({"streams": "hello", "run": run, "after": after})
        )

    async def send(self, content: str = "", **extra: str) -> None:
        await self.communicator.send_to(
            text_data=json.dumps({"action": "send", "content": content, **extra, "HEADERS": {}})
        )

    async def receive(self, timeout: float = 10.0) -> str:
        """The next frame, as HTML (compact frames as the page would apply them)."""
        self.frames.append(await self.communicator.receive_from(timeout=timeout))
        html = self.page.as_html(self.frames[-1])
        self.received.append((time.monotonic(), html))
        found = position(html)
        if found:
            self.run, self.seq = found
        elif self.page.seq is not None and self.frames[-1].startswith("["):
            self.seq = self.page.seq
        return html

    async def until(self, needle: str, timeout: float = 15.0) -> str:
        """Receive until a message contains `needle`; returns everything received meanwhile."""
        deadline = time.monotonic() + timeout
        got: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{needle!r} did not arrive; got {''.join(got)[-3000:]}"
            html = await self.receive(remaining)
            got.append(html)
            if needle in html:
                return "".join(got)

    @property
    def text(self) -> str:
        return "".join(html for _, html in self.received)

    async def close(self) -> None:
        await self.communicator.disconnect()


def streamed_text(html: str, dom: str, index: int) -> str:
    """The text appended to block `index` of exchange `dom` by the delta fragments in `html`."""
    pattern = re.compile(
        rf'<span hx-swap-oob="beforeend:#{re.escape(dom)}-b{index}-raw">(.*?)</span>', re.S
    )
    return "".join(pattern.findall(html))
