"""A stream kind and sources for testing dashboard.streams without AWS or a database: every
event renders as `<i data-run=R data-seq=N data-type=T>payload</i>`, so a test reads back
exactly which events a socket received, in which order and how they were batched."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path
from django.utils.html import format_html_join

from dashboard import streams

KIND = "testkind"


def render(key: str, run: str, events: list[streams.Event], state: dict[str, Any]) -> str:
    state["seen"] = state.get("seen", 0) + len(events)
    return (
        "<b>"
        + format_html_join(
            "",
            '<i data-run="{}" data-seq="{}" data-type="{}">{}</i>',
            ((run, e["seq"], e["type"], e["data"].get("text", "")) for e in events),
        )
        + "</b>"
    )


streams.register(KIND, render=render, coalesce={"delta"}, quiet={"heartbeat"})


class Consumer(streams.StreamConsumer):
    def stream_key(self) -> str:
        name = self.scope["url_route"]["kwargs"]["name"]
        if ":" in name:
            raise ValueError(name)
        return f"{KIND}:{name}"


class FakeUser:
    """Channels' auth would look the user up; these tests have no database."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        user = SimpleNamespace(is_authenticated=not scope["path"].startswith("/anon/"))
        return await self.app(dict(scope, user=user), receive, send)


application = FakeUser(
    URLRouter(
        [
            path("ws/<str:name>/", Consumer.as_asgi()),
            path("anon/ws/<str:name>/", Consumer.as_asgi()),
        ]
    )
)

_ITEM = re.compile(r'<i data-run="([^"]*)" data-seq="(\d+)" data-type="([^"]*)">([^<]*)</i>')
_POS = re.compile(r'data-run="([^"]*)"\s+data-seq="(\d+)"')


def items(html: str) -> list[tuple[str, int, str, str]]:
    """(run, seq, type, text) of every event in a received message."""
    return [(r, int(s), t, x) for r, s, t, x in _ITEM.findall(html)]


def position(html: str) -> tuple[str, int] | None:
    """The (run, seq) of the message's position fragment."""
    found = re.search(r'id="stream-pos-[^"]*"[^>]*', html)
    if not found:
        return None
    match = _POS.search(found.group(0))
    return (match.group(1), int(match.group(2))) if match else None


class Viewer:
    """One tab: a communicator that says hello and collects what it receives."""

    def __init__(self, name: str = "one") -> None:
        self.name = name
        self.communicator = WebsocketCommunicator(application, f"/ws/{name}/")
        self.messages: list[str] = []
        self.run: str | None = None
        self.seq = 0

    async def open(self, run: str | None = None, after: int = 0) -> Viewer:
        connected, code = await self.communicator.connect()
        assert connected, code
        await self.communicator.send_to(
            text_data=json.dumps({"streams": "hello", "run": run, "after": after})
        )
        return self

    async def settled(self) -> None:
        """Wait until the key's consumers have answered their hellos (the log was read)."""
        from dashboard.fanout import hub

        topic = streams.topic(f"{KIND}:{self.name}")
        deadline = time.monotonic() + 5
        while not all(getattr(c, "ready", False) for c in hub().topics.get(topic, ())):
            assert time.monotonic() < deadline, "the hello was never answered"
            await asyncio.sleep(0.01)

    async def receive_until(self, kind: str, timeout: float = 5.0) -> list[tuple]:
        """Receive until an event of type `kind` arrived; returns every event received."""
        got: list[tuple] = []
        deadline = time.monotonic() + timeout
        while not any(e[2] == kind for e in got):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {kind} within {timeout}s; got {got}"
            html = await self.communicator.receive_from(timeout=remaining)
            self.messages.append(html)
            got.extend(items(html))
            found = position(html)
            if found:
                self.run, self.seq = found
        return got

    async def close(self) -> None:
        await self.communicator.disconnect()


def source(events: list[tuple[str, dict[str, Any]]], gap: float = 0.0, gate=None):
    """A blocking source yielding `events`, `gap` seconds apart; waits on `gate` (a
    threading.Event) before the second half when given."""

    def open_() -> Iterator[tuple[str, dict[str, Any]]]:
        def generate() -> Iterator[tuple[str, dict[str, Any]]]:
            for number, item in enumerate(events):
                if gate is not None and number == len(events) // 2:
                    assert gate.wait(10), "gate never opened"
                if gap:
                    time.sleep(gap)
                yield item

        return generate()

    return open_


def deltas(count: int, prefix: str = "t") -> list[tuple[str, dict[str, Any]]]:
    return [("delta", {"text": f"{prefix}{n} "}) for n in range(count)]


class Gate(threading.Event):
    pass
