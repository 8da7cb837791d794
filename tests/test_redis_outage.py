"""Outages that lose nothing: with the console's Redis killed (a redis-server this test starts
and owns), pages answer with their content or a clear notice, never a 5xx; a chat message is
never lost and never sent twice; everything comes back by itself when Redis does.

The drill, in Chromium against daphne with REDIS_URL set: Redis dies in the middle of a
streamed reply and in the middle of a plain-POST send (the page without JavaScript waits for
the reply), then comes back."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dashboard.core.cache import ResilientRedisCache
from tests.browser_support import LiveServer, free_port, require_chromium, shot

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    """A redis-server of the test's own, which it may kill and start again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                REDIS,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.folder),
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


def test_the_cache_answers_not_cached_while_redis_is_unreachable():
    cache = ResilientRedisCache(
        f"redis://127.0.0.1:{free_port()}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}},
    )
    assert cache.get("lease", "absent") == "absent"
    assert cache.add("lease", "me", 5) is False
    cache.set("snapshot", {"a": 1})
    assert cache.get_many(["a", "b"]) == {}
    assert cache.delete("snapshot") is False


# --- the drill -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if not Path(REDIS).exists():
        pytest.skip("redis-server is missing (Debian: apt-get install redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, redis: RedisServer) -> Iterator[LiveServer]:
    require_chromium()
    env = {
        "REDIS_URL": redis.url,
        "REDIS_PREFIX": "drill",
        "SANDBOX_CHAT_TOKEN_SECONDS": "0.05",
        "STREAM_HEARTBEAT_SECONDS": "1",
        "STREAM_RECOVER_POLL": "0.5",
    }
    with LiveServer(tmp_path_factory.mktemp("outage-console"), extra_env=env) as live:
        yield live


def _chat(server: LiveServer) -> tuple[str, str]:
    out = server.shell(
        "import json\n"
        "from dashboard.aws import chat, spaces, tasks\n"
        "sid = spaces.create_space(name='Outage')['agentSpaceId']\n"
        "tasks.create_task(sid, task_type='INVESTIGATION', title='Elevated 5xx on checkout-api',"
        " priority='CRITICAL')\n"
        "print(json.dumps([sid, chat.create_chat(sid)['executionId']]))\n"
    )
    sid, cid = json.loads(out.strip().splitlines()[-1])
    return sid, cid


def _messages_in_journal(server: LiveServer, sid: str, cid: str, text: str) -> int:
    out = server.shell(
        "from dashboard.aws import chat\n"
        f"records = chat.history({sid!r}, {cid!r})['records']\n"
        "print(sum(1 for r in records if r['recordType'] == 'CHAT_MESSAGE' and "
        f"(r.get('content') or {{}}).get('text') == {text!r}))\n"
    )
    return int(out.strip().splitlines()[-1])


def _watch_statuses(page) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, str]] = []
    page.on("response", lambda response: seen.append((response.status, response.url)))
    return seen


@pytest.mark.browser
def test_redis_dies_mid_reply_and_comes_back(server, redis, new_page):
    sid, cid = _chat(server)
    url = f"{server.url}/spaces/{sid}/chat/{cid}/"
    page = new_page()
    statuses = _watch_statuses(page)
    page.goto(url)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    box = page.get_by_label("Message")
    box.fill("What is open?")
    box.press("Enter")
    expect(page.locator("#chat-live .exchange [id$='-raw']").first).not_to_be_empty()
    redis.kill()
    # The reply goes on for this page (its relay is in this process) and ends.
    expect(page.locator("#chat-live .xstatus").last).to_have_text("Done", timeout=30_000)
    # A reload while Redis is down: the chat from AWS and a notice, not an error page.
    page.reload()
    expect(page.locator(".alert", has_text="cannot reach its Redis")).to_be_visible()
    expect(page.locator(".exchange")).to_have_count(1)
    shot(page, "outage-chat-without-redis")
    # Sending now is refused with the reason, the typed text kept.
    box = page.get_by_label("Message")
    box.fill("Anything new?")
    box.press("Enter")
    expect(page.locator("#composer .alert-error")).to_contain_text("cannot reach its Redis")
    expect(page.get_by_label("Message")).to_have_value("Anything new?")
    redis.start()
    # Back: the same box sends it, once.
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".exchange")).to_have_count(2, timeout=30_000)
    expect(page.locator("#chat-live .xstatus").last).to_have_text("Done", timeout=30_000)
    page.reload()
    expect(page.locator(".exchange")).to_have_count(2)
    assert _messages_in_journal(server, sid, cid, "What is open?") == 1
    assert _messages_in_journal(server, sid, cid, "Anything new?") == 1
    assert not [s for s in statuses if s[0] >= 500], statuses


@pytest.mark.browser
def test_redis_dies_during_a_plain_post_send_and_a_resend_is_not_a_second_message(
    server, redis, new_page
):
    sid, cid = _chat(server)
    url = f"{server.url}/spaces/{sid}/chat/{cid}/"
    page = new_page(javascript=False)
    statuses = _watch_statuses(page)
    page.goto(url)
    page.get_by_label("Message").fill("What is open?")
    key = page.locator("input[name=message_key]").get_attribute("value")
    assert key and len(key) == 32
    with page.expect_navigation(timeout=60_000):
        page.get_by_role("button", name="Send").click(no_wait_after=True)
        time.sleep(1.0)  # the reply is streaming: the post waits for it
        redis.kill()
    # The post finished (the reply was relayed by this process) and shows the chat once.
    expect(page.locator(".exchange")).to_have_count(1)
    expect(page.locator(".exchange .md li strong").first).to_have_text("CRITICAL")
    redis.start()
    # The browser posts the same form again (a retry, the back button): nothing is sent twice.
    again = page.request.post(
        f"{url}send/",
        form={"content": "What is open?", "message_key": key, "csrfmiddlewaretoken": _csrf(page)},
        max_redirects=0,
    )
    assert again.status == 302
    page.goto(url)
    expect(page.locator(".alert", has_text="already sent")).to_be_visible()
    expect(page.locator(".exchange")).to_have_count(1)
    assert _messages_in_journal(server, sid, cid, "What is open?") == 1
    assert not [s for s in statuses if s[0] >= 500], statuses


def _csrf(page) -> str:  # type: ignore[no-untyped-def]
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
