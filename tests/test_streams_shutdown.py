"""Stopping daphne mid-reply: the process ends at once (it does not wait for the stream, nor
print "took too long to shut down"), and the relay tells the stream's viewers and its log that
the reply was interrupted. A real daphne process, a real websocket client."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from tests.browser_support import LiveServer

# Slow enough that the reply would still be streaming for a minute.
ENV = {"SANDBOX_CHAT_TOKEN_SECONDS": "0.25", "LOG_LEVEL": "INFO"}


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "console", extra_env=ENV) as live:
        yield live


def _setup(server: LiveServer) -> dict:
    out = server.shell(
        "import json\n"
        "from django.contrib.auth.models import User\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        "from dashboard.aws import chat, spaces\n"
        "user = User.objects.get(username='admin')\n"
        "session = SessionStore()\n"
        "session['_auth_user_id'] = str(user.pk)\n"
        "session['_auth_user_backend'] = 'django.contrib.auth.backends.ModelBackend'\n"
        "session['_auth_user_hash'] = user.get_session_auth_hash()\n"
        "session.create()\n"
        "sid = spaces.create_space(name='Shutdown')['agentSpaceId']\n"
        "print(json.dumps({'space': sid, 'chat': chat.create_chat(sid)['executionId'],"
        " 'session': session.session_key}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


async def _reply_in_progress(server: LiveServer, ids: dict) -> list[str]:
    url = f"ws://127.0.0.1:{server.port}/ws/spaces/{ids['space']}/chat/{ids['chat']}/"
    received: list[str] = []
    async with websockets.connect(
        url,
        origin=server.url,
        additional_headers={"Cookie": f"sessionid={ids['session']}"},
    ) as socket:
        await socket.send(json.dumps({"streams": "hello", "run": None, "after": 0}))
        await socket.send(json.dumps({"action": "send", "content": "What is open?"}))
        while not any("-raw" in m and "beforeend" in m for m in received):
            received.append(await asyncio.wait_for(socket.recv(), 20))
        server.stop()
        try:
            while True:
                received.append(await asyncio.wait_for(socket.recv(), 15))
        except (websockets.ConnectionClosed, TimeoutError):
            pass
    return received


def test_stopping_daphne_mid_reply_ends_the_stream_cleanly(server):
    ids = _setup(server)
    process_holder = {}
    original_stop = server.stop

    def stop() -> None:
        process_holder["process"] = server.process
        began = time.monotonic()
        original_stop()
        process_holder["seconds"] = time.monotonic() - began

    server.stop = stop  # type: ignore[method-assign]
    asyncio.run(_reply_in_progress(server, ids))
    process = process_holder["process"]
    assert process.returncode is not None, "daphne exited"
    # SIGTERM is followed by SIGKILL after 10 s (LiveServer.stop): a clean exit never needs it.
    assert process.returncode != -9
    assert process_holder["seconds"] < 10
    log = server.log()
    print(f"daphne stopped {process_holder['seconds']:.2f}s after SIGTERM")
    assert "took too long to shut down" not in log
    assert "Interrupting 1 stream(s) for shutdown" in log
