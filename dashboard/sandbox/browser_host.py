"""The sandbox's real browsers: one headless Chromium per browser session, on this host.

`launch()` starts Chromium through a guard process (`browser_guard.py`) and returns where its
DevTools websocket listens. The guard ends Chromium and deletes its profile when the session
times out, when `stop()` asks, or when the process that launched it exits in any way, so no
Chromium outlives the console (or a test run).

Sessions live in the database and any process of the deployment may stop one; the guard's pid
is recorded with the session and `stop()` signals it wherever it was started on this host
(after checking the pid still belongs to that session's guard). Chromium is used when the file
at SANDBOX_CHROMIUM exists (default /usr/bin/chromium); otherwise, or when it fails to start,
a session streams generated frames instead (see `browser_streams.py`).
"""

from __future__ import annotations

import atexit
import html
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

logger = logging.getLogger(__name__)

GUARD = Path(__file__).with_name("browser_guard.py")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
EXTRA_FLAGS = [
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
STARTUP_SECONDS = 40.0

_lock = threading.Lock()
_guards: dict[str, subprocess.Popen[bytes]] = {}


class LaunchFailed(Exception):
    pass


@dataclass(frozen=True)
class Launched:
    guard_pid: int
    cdp_port: int
    cdp_path: str
    host: str
    owner_pid: int


def chromium_path() -> str:
    """The Chromium binary to use, or "" when there is none (generated frames then)."""
    path = str(getattr(settings, "SANDBOX_CHROMIUM", "") or "")
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else ""


def hostname() -> str:
    return socket.gethostname()


def start_page(name: str, session_id: str) -> str:
    """A page that moves (a clock and a sweeping bar), so the live view has something to show."""
    label = html.escape(name or session_id)
    document = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Sandbox browser</title>"
        "<style>body{margin:0;height:100vh;display:grid;place-items:center;"
        "font:20px system-ui,sans-serif;background:#0f172a;color:#e2e8f0}"
        "h1{font-size:28px;margin:0 0 .5em}#bar{height:10px;background:#38bdf8;width:0}"
        "#clock{font:48px ui-monospace,monospace;margin:.3em 0}</style></head><body><div>"
        "<h1>AgentCore sandbox browser</h1>"
        f"<p>Session <b>{label}</b></p><p id='clock'></p><div id='bar'></div>"
        "<p>Drive it with Playwright's connect_over_cdp on the automation stream.</p>"
        "</div><script>function tick(){var d=new Date();"
        "document.getElementById('clock').textContent=d.toISOString().slice(11,21);"
        "document.getElementById('bar').style.width=(d.getSeconds()%10*10+d.getMilliseconds()/100)"
        "+'%'}setInterval(tick,100);tick()</script></body></html>"
    )
    return "data:text/html;charset=utf-8," + quote(document)


def launch(session_id: str, *, name: str, width: int, height: int, timeout: float) -> Launched:
    """Start a Chromium for the session; LaunchFailed says why it could not."""
    chromium = chromium_path()
    if not chromium:
        raise LaunchFailed("no Chromium at SANDBOX_CHROMIUM")
    reap()
    profile = tempfile.mkdtemp(prefix=f"agentcore-browser-{session_id}-")
    command = [
        sys.executable,
        str(GUARD),
        "--timeout",
        str(timeout),
        "--profile",
        profile,
        "--",
        chromium,
        *FLAGS,
        *EXTRA_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        start_page(name, session_id),
    ]
    try:
        guard = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
    except OSError as exc:
        raise LaunchFailed(f"could not start the browser guard: {exc}") from exc
    assert guard.stdout is not None
    line = b""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        readable, _, _ = select.select([guard.stdout], [], [], 0.5)
        if readable:
            chunk = os.read(guard.stdout.fileno(), 1024)
            if not chunk:
                break
            line += chunk
    guard.stdout.close()
    words = line.decode(errors="replace").split(maxsplit=2)
    if len(words) == 3 and words[0] == "READY" and words[1].isdigit():
        with _lock:
            _guards[session_id] = guard
        return Launched(guard.pid, int(words[1]), words[2].strip(), hostname(), os.getpid())
    _finish(guard)
    reason = " ".join(words[1:]) if words[:1] == ["FAILED"] else "Chromium did not start in time"
    raise LaunchFailed(reason)


def _finish(guard: subprocess.Popen[bytes], wait: float = 10.0) -> None:
    if guard.poll() is None:
        try:
            guard.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        guard.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        guard.kill()
        guard.wait(timeout=5)
    if guard.stdin is not None:
        guard.stdin.close()


def _is_guard_of(pid: int, session_id: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return GUARD.name.encode() in cmdline and f"agentcore-browser-{session_id}-".encode() in cmdline


def stop(session_id: str, *, guard_pid: int | None = None, host: str = "") -> None:
    """End the session's Chromium (here, or started by another process of this host)."""
    with _lock:
        guard = _guards.pop(session_id, None)
    if guard is not None:
        _finish(guard)
        return
    if guard_pid and (not host or host == hostname()) and _is_guard_of(guard_pid, session_id):
        try:
            os.kill(guard_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def reap() -> None:
    """Collect guards that ended by themselves (timeouts), so no zombie stays behind."""
    with _lock:
        done = [key for key, guard in _guards.items() if guard.poll() is not None]
        for key in done:
            guard = _guards.pop(key)
            if guard.stdin is not None:
                guard.stdin.close()


def stop_all() -> None:
    """End every Chromium this process started (tests, and the process's exit)."""
    with _lock:
        guards = list(_guards.items())
        _guards.clear()
    for _, guard in guards:
        if guard.poll() is None:
            try:
                guard.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
    for _, guard in guards:
        try:
            _finish(guard)
        except Exception:
            logger.exception("Could not end a sandbox browser")


atexit.register(stop_all)
