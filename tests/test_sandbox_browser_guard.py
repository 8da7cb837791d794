"""The sandbox Chromium's guard (dashboard/sandbox/browser_guard.py), with a stand-in for
Chromium: a shell that writes DevToolsActivePort as Chromium does and then waits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard.sandbox import browser_guard

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")

STAND_IN = (
    'printf "9222\\n/devtools/browser/x\\n" > "$0/DevToolsActivePort"; '
    'echo $$ > "$0/pid"; exec sleep 120'
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its (re)parent counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _start_guard(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    profile = tmp_path / "profile"
    profile.mkdir()
    guard = subprocess.Popen(
        [
            *(sys.executable, browser_guard.__file__, "--timeout", "60", "--profile", str(profile)),
            *("--", "sh", "-c", STAND_IN, str(profile)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert guard.stdout is not None
    assert guard.stdout.readline().startswith(b"READY 9222")
    return guard, int((profile / "pid").read_text())


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_the_browser_dies_with_its_guard_even_when_the_guard_is_killed(tmp_path):
    guard, browser = _start_guard(tmp_path)
    try:
        assert _alive(browser)
        guard.send_signal(signal.SIGKILL)  # no cleanup code of the guard runs
        guard.wait(timeout=5)
        assert _gone_within(browser, 5), "the stand-in browser outlived its killed guard"
    finally:
        if _alive(browser):
            os.kill(browser, signal.SIGKILL)


def test_the_browser_ends_when_the_owner_closes_the_pipe(tmp_path):
    guard, browser = _start_guard(tmp_path)
    try:
        assert guard.stdin is not None
        guard.stdin.close()  # the owner is gone
        assert guard.wait(timeout=10) == 0
        assert _gone_within(browser, 5)
        assert not (tmp_path / "profile").exists()
    finally:
        if _alive(browser):
            os.kill(browser, signal.SIGKILL)
