"""The guard of one sandbox Chromium: runs it, and makes sure it never outlives its owner.

Started by `browser_host.launch()` as `python browser_guard.py --timeout S --profile DIR --
chromium ...`, with a pipe on its standard input. It starts Chromium in a process group of its
own, waits for DevTools to listen (the `DevToolsActivePort` file Chromium writes into its
profile) and prints ``READY <port> <path>`` (or ``FAILED <reason>``) on standard output. Then it
ends Chromium, its whole process group, and deletes the profile, when the first of these
happens:

- its standard input reaches end-of-file: the process that started it has exited, however it
  died (the kernel closes the pipe even after SIGKILL), or closed the pipe on purpose;
- SIGTERM, SIGINT or SIGHUP (a stop, Ctrl-C, a terminal closing);
- the session's timeout passes;
- Chromium exits by itself;
- the guard itself dies, even by SIGKILL (a process-group kill of the console takes the guard
  with it): on Linux the kernel then sends Chromium SIGKILL (PR_SET_PDEATHSIG).

Standard library only: it must start fast and must not need Django.
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

STARTUP_SECONDS = 30.0
GRACE_SECONDS = 3.0


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


def _die_with_guard() -> None:
    """In the child, before exec: SIGKILL when the guard dies (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _wait_for_devtools(chromium: subprocess.Popen[bytes], profile: Path) -> tuple[int, str]:
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if chromium.poll() is not None:
            raise RuntimeError(f"Chromium exited with status {chromium.returncode} while starting")
        try:
            lines = port_file.read_text().split()
        except OSError:
            lines = []
        if len(lines) >= 2 and lines[0].isdigit():
            return int(lines[0]), lines[1]
        time.sleep(0.05)
    raise RuntimeError(f"Chromium did not open DevTools within {STARTUP_SECONDS:.0f} s")


def _end(chromium: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(chromium.pid, sig)
        except ProcessLookupError:
            break
        try:
            chromium.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The browser process is gone; its helpers may linger a moment in the group.
        try:
            os.killpg(chromium.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        break


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [part for part in args.command if part != "--"]
    profile = Path(args.profile)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _raise_stop)
    deadline = time.monotonic() + args.timeout
    chromium = None
    try:
        try:
            chromium = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_guard,
            )
            port, path = _wait_for_devtools(chromium, profile)
        except (OSError, RuntimeError) as exc:
            print(f"FAILED {exc}", flush=True)
            return 1
        print(f"READY {port} {path}", flush=True)
        stdin = sys.stdin.fileno()
        while chromium.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            readable, _, _ = select.select([stdin], [], [], min(left, 1.0))
            if readable and not os.read(stdin, 4096):
                break  # the owner is gone
        return 0
    except _Stop:
        return 0
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if chromium is not None:
            _end(chromium)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
