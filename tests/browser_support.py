"""The real console as a subprocess, for the browser tests (and for looking at pages by hand).

`LiveServer` starts from a fresh SQLite file (a copy of one migrated database with an admin
whose password `manage.py bootstrap` generated, made once per test process), serves
`dashboard.asgi:application` with daphne on a free port and stops it again. Nothing here touches
the developer's own database or var/ directory.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts"
WIDE = {"width": 1280, "height": 800}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(args: tuple[str, ...] | list[str], *, env: dict[str, str], timeout: float = 120) -> str:
    """`manage.py *args` in a process of its own with `env`; its output, or RuntimeError
    with both streams when it fails."""
    result = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


class LiveServer:
    """One daphne process on its own database. Use as a context manager."""

    def __init__(self, workdir: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.username = "admin"
        self.password = ""
        self.log_path = self.workdir / "daphne.log"
        self.database = (self.workdir / "console.sqlite3").resolve()
        self.process: subprocess.Popen[bytes] | None = None
        env = {
            key: value
            for key, value in os.environ.items()
            # Never inherit another run's database, channel layer or settings.
            if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SANDBOX_FAULTS")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="dashboard.test_settings",
            DATABASE_URL=f"sqlite:///{self.database}",
            DASHBOARD_VAR_DIR=str(self.workdir),
            DASHBOARD_BACKEND="sandbox",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env or {})
        self.env = env

    # --- management commands in the server's database ---------------------------------
    def manage(self, *args: str, timeout: float = 120) -> str:
        return manage(args, env=self.env, timeout=timeout)

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> LiveServer:
        if not self.env["DATABASE_URL"].startswith("sqlite:"):
            # A database of the caller's (PostgreSQL): migrated and bootstrapped here.
            self.manage("migrate", "--noinput", "-v0")
            self.password = _bootstrap(self)
            return self.serve()
        template, self.password = _template_database(self)
        shutil.copyfile(template, self.database)
        return self.serve()

    def another_process(self) -> LiveServer:
        """A second daphne on this server's database and settings, on its own port (call
        `serve()` on it after `start()` here): two processes of one deployment."""
        other = LiveServer(self.workdir, extra_env={})
        other.env = dict(self.env)
        other.log_path = self.workdir / f"daphne-{other.port}.log"
        other.username, other.password = self.username, self.password
        return other

    def restart(self) -> LiveServer:
        """Stop daphne and serve again on the same port and database (open pages reconnect).
        Between `stop()` and `serve()` a test may change things with `shell()`."""
        self.stop()
        return self.serve()

    def serve(self) -> LiveServer:
        """Start daphne on the prepared database (start() migrates and bootstraps first)."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "dashboard.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited ({self.process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daphne did not answer /healthz within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        # Our own process group only (start_new_session above).
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_TEMPLATE: tuple[Path, str] | None = None
_TEMPLATE_LOCK = threading.Lock()


def _template_database(server: LiveServer) -> tuple[Path, str]:
    """A migrated database with the admin in it, made once per test process (migrating costs
    a few seconds; every LiveServer starts from a copy), and the admin's password."""
    global _TEMPLATE
    with _TEMPLATE_LOCK:
        if _TEMPLATE is None:
            folder = Path(tempfile.mkdtemp(prefix="console-template-"))
            maker = LiveServer(folder)
            maker.manage("migrate", "--noinput", "-v0")
            _TEMPLATE = (maker.database, _bootstrap(maker))
        return _TEMPLATE


def _bootstrap(server: LiveServer) -> str:
    """Create the admin (`manage.py bootstrap`); its generated password."""
    out = server.manage("bootstrap", "--username", server.username)
    match = re.search(r"with password: (\S+)", out)
    if not match:
        raise RuntimeError(f"bootstrap printed no password:\n{out}")
    return match.group(1)


def elapse(server: LiveServer, table: str, where: str = "") -> None:
    """Emulated time passes for the rows of a sandbox `table` that wait for a moment
    (`next_due_at`; `where`: an extra SQL condition on them): each is due now, so what the
    sandbox would do then happens on its next call. Tests use it instead of waiting out the
    emulated clock."""
    import sqlite3
    from contextlib import closing

    condition = f" AND ({where})" if where else ""
    with closing(sqlite3.connect(server.database, timeout=20)) as db, db:
        db.execute(
            f"UPDATE {table} SET next_due_at = strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 second') "
            f"WHERE next_due_at IS NOT NULL{condition}"
        )


# A task waiting for an approval is due when the request expires: hastening it would time out.
NOT_WAITING = "status != 'PENDING_CUSTOMER_APPROVAL'"


def hasten(server: LiveServer, table: str, done, timeout: float = 60, where: str = "") -> None:  # type: ignore[no-untyped-def]
    """Let emulated time pass for `table` (see `elapse`), a step at a time, until `done()`."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not done after {timeout:g} s of hastened time")
        elapse(server, table, where)
        time.sleep(0.25)  # a poll interval of the page's watcher, at most a few steps


def launch_chromium(playwright):  # type: ignore[no-untyped-def]
    """Debian's chromium (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def sign_in(page, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(server.username)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Sign in").click()
    # The inbox is the first page after sign-in.
    page.wait_for_url(server.url + "/inbox/")


def require_chromium() -> None:
    """Skip without Debian's chromium, except under CI=true, where the browser tests must run."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        import pytest

        pytest.fail(f"CI must run the browser tests, but {reason}")
    import pytest

    pytest.skip(reason)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """A full-page screenshot in test-artifacts/<name>.png, to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


class Pages:
    """Pages of one test, each in a fresh browser context (its own cookies), signed in unless
    told otherwise. JavaScript errors on any of them fail the test at `close()`.

    The `new_page` fixture (tests/conftest.py) hands out `Pages(browser, server).new`.
    """

    def __init__(self, browser, server: LiveServer, *, timeout_ms: int = 15_000) -> None:  # type: ignore[no-untyped-def]
        self.browser = browser
        self.server = server
        self.timeout_ms = timeout_ms
        self.contexts: list = []  # type: ignore[type-arg]
        self.errors: list[str] = []

    def new(  # type: ignore[no-untyped-def]
        self, color_scheme: str = "light", *, javascript: bool = True, signed_in: bool = True
    ):
        context = self.browser.new_context(
            color_scheme=color_scheme, viewport=WIDE, java_script_enabled=javascript
        )
        context.set_default_timeout(self.timeout_ms)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        if signed_in:
            sign_in(page, self.server)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        # Shown by pytest only when the test failed.
        print("--- daphne log (tail) ---\n" + self.server.log())
        assert not self.errors, f"JavaScript errors: {self.errors}"


def wait_until(page, expression: str, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    """Poll a JavaScript `expression` until it is true, with a deadline.
    page.wait_for_function evaluates strings with eval, which the console's CSP forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"{expression} stayed false for {timeout} s")
        page.wait_for_timeout(50)
