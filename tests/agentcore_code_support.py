"""Helpers for the code interpreter and runtime playground tests: SQLite serialization of the
threads that touch the database at once, and signed-in sockets that say hello like the pages
do and collect what they receive."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from channels.testing import WebsocketCommunicator
from django.test import Client

from dashboard.asgi import application
from tests.frames_support import Page

SYSTEM = "aws.codeinterpreter.v1"
ASSISTANT = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/sre_assistant-Sbx7Qm2LpA"
ECHO = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/payload_echo-Sbx4Hk9TzB"
ORIGIN = (b"origin", b"http://testserver")
_POS = re.compile(r'class="stream-pos"[^>]*data-run="([^"]*)"\s+data-seq="(\d+)"')


def serialize_sqlite(monkeypatch: Any) -> None:
    """SQLite's in-memory test database (shared cache) refuses a second writer at once
    ("database table is locked") instead of waiting as a file database does. Runs call the
    sandbox in stream threads while views and consumers write the audit log: on SQLite take
    them one at a time (PostgreSQL runs keep the real concurrency)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    from dashboard.agentcore import running
    from dashboard.aws import clients as aws_clients

    lock = threading.RLock()

    def locked(real: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return real(*args, **kwargs)

        return run

    call = locked(aws_clients.call)
    for module in (
        "dashboard.aws.clients",
        "dashboard.aws.agentcore_code",
        "dashboard.aws.agentcore_runtime",
    ):
        monkeypatch.setattr(f"{module}.call", call)
    monkeypatch.setattr(running, "record", locked(running.record))
    monkeypatch.setattr("dashboard.core.roles.has_role", locked(_has_role()))
    monkeypatch.setattr("dashboard.core.roles.has_role_now", locked(_has_role(now=True)))


def _has_role(*, now: bool = False) -> Any:
    from dashboard.core import roles

    return roles.has_role_now if now else roles.has_role


def cookie(client: Client) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def position(html: str) -> tuple[str, int] | None:
    found = _POS.search(html)
    return (found.group(1), int(found.group(2))) if found else None


class Tab:
    """One browser tab's socket (a code interpreter session page or the playground)."""

    def __init__(self, client: Client | None, path: str) -> None:
        headers = [ORIGIN] + ([cookie(client)] if client is not None else [])
        self.communicator = WebsocketCommunicator(application, path, headers=headers)
        self.received: list[tuple[float, str]] = []
        self.run: str | None = None
        self.seq = 0
        self.page = Page()

    async def connect(self) -> tuple[bool, Any]:
        return await self.communicator.connect()

    async def open(self, run: str | None = None, after: int = 0) -> Tab:
        connected, code = await self.connect()
        assert connected, code
        await self.hello(run, after)
        return self

    async def hello(self, run: str | None = None, after: int = 0) -> None:
        await self.communicator.send_to(
            text_data=json.dumps({"streams": "hello", "run": run, "after": after})
        )

    async def send(self, **fields: Any) -> None:
        await self.communicator.send_to(text_data=json.dumps({**fields, "HEADERS": {}}))

    async def receive(self, timeout: float = 10.0) -> str:
        """The next frame, as HTML (compact frames as the page would apply them)."""
        frame = await self.communicator.receive_from(timeout=timeout)
        html = self.page.as_html(frame)
        self.received.append((time.monotonic(), html))
        found = position(html)
        if found:
            self.run, self.seq = found
        elif self.page.seq is not None and frame.startswith("["):
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


def code_path(session_id: str, interpreter: str = SYSTEM) -> str:
    return f"/ws/agentcore/code-interpreters/{interpreter}/sessions/{session_id}/"


def terminal_text(html: str, dom: str) -> list[tuple[str, str]]:
    """(stream, text) of every output piece appended to run `dom`'s terminal, in order."""
    pattern = re.compile(
        rf'<span hx-swap-oob="beforeend:#{re.escape(dom)}-term">'
        r'<span class="ci-(stdout|stderr)">(.*?)</span></span>',
        re.S,
    )
    return pattern.findall(html)
