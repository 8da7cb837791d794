"""First load of the board in production settings, with an empty browser cache: every request
Chromium makes, its encoding and caching, and the bytes it transferred (headers included).

Run: .venv/bin/python bench/first_load.py   (about 30 s; a throwaway var/ folder in /tmp)
Production settings: DASHBOARD_DEBUG off, a SECRET_KEY, `collectstatic` done (whitenoise's
compressed, cache-busting files), daphne serving, the sandbox seeded. A first context signs in;
a second one with only its cookies (an empty HTTP cache) opens the first demo space's board and
is measured until the network is idle (the live-update websocket's frames are not counted).
Goal: at most 60 KB transferred.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOAL = 60 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        DASHBOARD_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DASHBOARD_HTTPS="0",
        DASHBOARD_VAR_DIR=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp}/console.sqlite3",
        DASHBOARD_BACKEND="sandbox",
        SANDBOX_CHROMIUM="",
        LOG_LEVEL="WARNING",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def serve(tmp: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """Migrate, collect static files, make the admin, seed, and start daphne."""
    env = _env(tmp)
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "collectstatic", "--noinput", "-v0")
    out = _manage(env, "bootstrap", "--username", "admin")
    password = re.search(r"with password: (\S+)", out).group(1)  # type: ignore[union-attr]
    _manage(env, "seed_sandbox")
    port = _free_port()
    process = subprocess.Popen(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "dashboard.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    return process, url, password


def measure(url: str, password: str, path: str = "") -> list[dict[str, object]]:
    """The requests of one first load of `path` (the first demo space's board by default)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        signed = browser.new_context()
        page = signed.new_page()
        page.goto(url + "/accounts/login/")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        if not path:
            page.goto(url + "/spaces/")
            href = page.locator("main a[href$='/tasks/']").first.get_attribute("href")
            path = str(href)
        state = signed.storage_state()
        signed.close()

        fresh = browser.new_context(storage_state=state)  # cookies only: an empty cache
        page = fresh.new_page()
        rows: list[dict[str, object]] = []

        def finished(request) -> None:  # type: ignore[no-untyped-def]
            response = request.response()
            sizes = request.sizes()
            headers = response.all_headers() if response else {}
            rows.append(
                {
                    "url": request.url.replace(url, ""),
                    "type": request.resource_type,
                    "status": response.status if response else 0,
                    "encoding": headers.get("content-encoding", "-"),
                    "cache": headers.get("cache-control", "-"),
                    "bytes": sizes["responseBodySize"] + sizes["responseHeadersSize"],
                    "body": sizes["responseBodySize"],
                }
            )

        page.on("requestfinished", finished)
        page.goto(url + path, wait_until="load")
        try:
            page.wait_for_load_state("networkidle", timeout=5000)
        except Exception:
            pass
        fresh.close()
        browser.close()
    return rows


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="console-first-load-"))
    process, url, password = serve(tmp)
    try:
        rows = measure(url, password)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    total = sum(int(r["bytes"]) for r in rows)  # type: ignore[call-overload]
    print(f"Board, first load, empty cache, production settings: {len(rows)} requests")
    print(f"{'request':<52} {'type':<11} {'enc':<5} {'cache':<34} {'bytes':>8}")
    for r in rows:
        name = str(r["url"])
        name = name if len(name) <= 52 else name[:24] + "…" + name[-27:]
        cache = str(r["cache"])[:34]
        print(f"{name:<52} {r['type']!s:<11} {r['encoding']!s:<5} {cache:<34} {r['bytes']:>8,}")
    print(f"{'total':<52} {'':<11} {'':<5} {'':<34} {total:>8,}")
    verdict = "met" if total <= GOAL else "NOT met"
    print(f"goal: at most {GOAL:,} bytes ({GOAL // 1024} KB) — {verdict}")
    return 0 if total <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
