"""The browser live view in a real browser: the console (daphne) starts a real headless
Chromium in the sandbox, its page shows the screencast, Playwright drives that Chromium over
the automation stream (`connect_over_cdp` with SigV4 headers) while the page keeps receiving
frames, and taking control, seen by two viewers, pauses the automation.
Screenshots go to test-artifacts/browser-live-*.png."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser_support import (
    ARTIFACTS,
    WIDE,
    LiveServer,
    launch_chromium,
    require_chromium,
    shot,
    sign_in,
    wait_until,
)

pytestmark = pytest.mark.browser


SYSTEM = "aws.browser.v1"
STARTED: list[str] = []


def _chromium_running(session_id: str) -> bool:
    needle = f"agentcore-browser-{session_id}-".encode()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and needle in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    live = LiveServer(
        tmp_path_factory.mktemp("browser-live"), extra_env={"LIVE_POLL_INTERVAL": "1"}
    )
    # The sandbox's stream endpoints are served by this daphne.
    live.env["SANDBOX_STREAM_URL"] = live.url
    live.env["SANDBOX_CHROMIUM"] = "/usr/bin/chromium"
    with live:
        yield live
    # daphne is gone: so is every Chromium it started (its guards saw it go).
    deadline = time.monotonic() + 10
    while any(_chromium_running(s) for s in STARTED) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert STARTED and not any(_chromium_running(s) for s in STARTED)


@pytest.fixture(scope="module")
def playwright_and_browser(server: LiveServer):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield playwright, chromium
        finally:
            chromium.close()


def _page(browser, server: LiveServer, errors: list[str]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=WIDE)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    sign_in(page, server)
    return page


def _frames(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("#live-view-frame").get_attribute("data-frames") or 0)


def _wait_frames(page, more_than: int) -> int:  # type: ignore[no-untyped-def]
    wait_until(
        page,
        f"Number(document.getElementById('live-view-frame').dataset.frames || 0) > {more_than}",
        timeout=20,
    )
    return _frames(page)


def test_live_view_shows_the_real_browser_while_playwright_drives_it(
    server: LiveServer, playwright_and_browser
) -> None:
    from dashboard.aws import browser as aws_browser

    playwright, browser = playwright_and_browser
    errors: list[str] = []
    page = _page(browser, server, errors)

    # Start a session through the console.
    page.goto(server.url + "/agentcore/browsers/")
    page.get_by_role("link", name="Start session").click()
    page.get_by_label("Name").fill("Checkout investigation")
    page.get_by_label("Viewport width").fill("960")
    page.get_by_label("Viewport height").fill("600")
    page.get_by_role("button", name="Start session").click()
    page.wait_for_url(re.compile(r"/sessions/[0-9A-Z]{26}/$"), timeout=30_000)
    session_url = page.url
    STARTED.append(session_url.rstrip("/").rsplit("/", 1)[1])
    assert _chromium_running(STARTED[-1])
    expect(page.locator("h1")).to_have_text("Checkout investigation")

    # The live view shows the browser's screencast, and it moves (the start page has a clock).
    expect(page.locator("#live-view-state")).to_have_text("Live")
    first_count = _wait_frames(page, 1)
    expect(page.locator("#live-view-meta")).to_contain_text("real headless Chromium")
    stage = page.locator(".viewer-stage")
    before = stage.screenshot(path=str(ARTIFACTS / "browser-live-1-start-page.png"))
    shot(page, "browser-live-page")

    # An agent drives the same Chromium over the automation stream, SigV4-signed.
    endpoint = page.locator(".endpoint").inner_text().strip()
    assert endpoint.startswith(f"ws://127.0.0.1:{server.port}/sandbox/browser-streams/")
    url, headers = aws_browser.automation_connection(endpoint)
    agent = playwright.chromium.connect_over_cdp(url, headers=headers)
    try:
        driven = agent.contexts[0].pages[0]
        driven.set_content(
            "<body style='margin:0;background:#b91c1c;color:#fff;font:bold 72px sans-serif;"
            "display:grid;place-items:center;height:100vh'>Driven by Playwright</body>"
        )
        assert driven.evaluate("document.body.textContent") == "Driven by Playwright"
        raw = agent.contexts[0].new_cdp_session(driven)
        # The page kept receiving frames and now shows what the agent did.
        _wait_frames(page, first_count + 1)
        page.wait_for_timeout(700)
        after = stage.screenshot(path=str(ARTIFACTS / "browser-live-2-driven.png"))
        assert after != before

        # A second viewer watches; an operator takes control: both see who, automation stops.
        second_errors: list[str] = []
        watcher = _page(browser, server, second_errors)
        watcher.goto(session_url)
        expect(watcher.locator("#live-view-state")).to_have_text("Live")
        page.get_by_role("button", name="Take control").click()
        for viewer in (page, watcher):
            expect(viewer.locator(".control-flag")).to_contain_text("admin has control")
        # Refused: Playwright's evaluate fails, and a raw CDP command says why.
        with pytest.raises(PlaywrightError):
            driven.evaluate("1 + 1")
        with pytest.raises(PlaywrightError, match="Automation stream is DISABLED"):
            raw.send("Runtime.evaluate", {"expression": "1 + 1"})
        shot(watcher, "browser-live-3-control-taken-second-viewer")

        page.get_by_role("button", name="Release control").click()
        for viewer in (page, watcher):
            expect(viewer.locator(".automation-on")).to_be_visible()
        assert driven.evaluate("1 + 1") == 2
        assert not second_errors, second_errors
    finally:
        agent.close()

    # Stop: the browser closes, every viewer is told.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Stop session…").click()
    expect(page.locator("#live-view-state")).to_have_text("Session ended")
    expect(page.locator(".browser-status .bstatus")).to_have_text("Terminated")
    expect(page.locator(".endpoint")).to_have_count(0)
    shot(page, "browser-live-4-stopped")

    # One more, left running: stopping daphne must end its Chromium too (see the fixture).
    page.goto(server.url + f"/agentcore/browsers/{SYSTEM}/sessions/new/")
    page.get_by_role("button", name="Start session").click()
    page.wait_for_url(re.compile(r"/sessions/[0-9A-Z]{26}/$"), timeout=30_000)
    STARTED.append(page.url.rstrip("/").rsplit("/", 1)[1])
    assert _chromium_running(STARTED[-1])
    assert not errors, errors
    print("--- daphne log (tail) ---\n" + server.log())
