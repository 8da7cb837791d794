"""Every screen, every hand, in Chromium: the command palette by keyboard and by touch, one time
format in three time zones, the runtime playground's answer where the user looks, saved views
from the board, and screenshots of the board, a task, a chat and a browser live view at 390 and
1280 px in light and dark (test-artifacts/screen-*.png)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, require_chromium, shot, sign_in, wait_until

pytestmark = pytest.mark.browser

ENV = {
    "SANDBOX_RUNTIME_TOKEN_SECONDS": "0.04",
    "SANDBOX_CHAT_TOKEN_SECONDS": "0",
    # The live view streams a generated picture: no Chromium per browser session here.
    "SANDBOX_CHROMIUM": "",
}
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 800}
ASSISTANT = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/sre_assistant-Sbx7Qm2LpA"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("every-screen"), extra_env=ENV) as live:
        live.manage("seed_sandbox")
        yield live


@pytest.fixture(scope="module")
def world(server: LiveServer) -> dict[str, str]:
    """The first demo space, one of its tasks, a chat with a reply and a browser session."""
    out = server.shell(
        "from dashboard.aws import spaces, tasks, chat, browser\n"
        "space = sorted(spaces.all_spaces(), key=lambda s: s['name'])[0]\n"
        "sid = space['agentSpaceId']\n"
        "task = tasks.list_tasks(sid, limit=50)['tasks'][0]\n"
        "c = chat.create_chat(sid)\n"
        "chat.update_chat(sid, c['executionId'], summary='What is open')\n"
        "s = browser.start_session('aws.browser.v1', name='checkout smoke test')\n"
        "name = space['name'].replace(' ', '_')\n"
        "print(sid, name, task['taskId'], c['executionId'], s['sessionId'])\n"
    )
    sid, name, task, chat_id, session = out.strip().splitlines()[-1].split()
    return {
        "space": sid,
        "name": name.replace("_", " "),
        "task": task,
        "chat": chat_id,
        "session": session,
    }


def _page(browser, server, *, viewport=WIDE, scheme="light", timezone_id=None, **extra):  # type: ignore[no-untyped-def]
    options = {"viewport": viewport, "color_scheme": scheme, "locale": "en-US", **extra}
    if timezone_id:
        options["timezone_id"] = timezone_id
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    sign_in(page, server)
    return page


# --- the command palette -------------------------------------------------------------------


def test_the_palette_by_keyboard_finds_a_task_by_title_and_goes_there(server, browser, world):  # type: ignore[no-untyped-def]
    page = _page(browser, server)
    page.goto(f"{server.url}/spaces/{world['space']}/tasks/")
    title = page.locator("#task-rows a.task-link").first.inner_text()
    page.keyboard.press("Control+k")
    dialog = page.get_by_role("dialog", name="Go to")
    expect(dialog).to_be_visible()
    box = page.get_by_role("combobox", name="Go to")
    expect(box).to_be_focused()
    # Nothing typed yet: what is at hand in this space, its actions first.
    expect(dialog.get_by_role("option").first).to_contain_text("New task")
    # Letters of two words of the title, with gaps: the task comes first, as typed.
    words = [w for w in re.findall(r"[A-Za-z]{4,}", title)][:2]
    query = " ".join(w[:-1] for w in words)
    box.press_sequentially(query, delay=40)
    first = dialog.get_by_role("option").first
    expect(first).to_contain_text(title)
    expect(first).to_have_attribute("aria-selected", "true")
    shot(page, "screen-palette-1280-light")
    # ↓ moves the choice, ↑ brings it back, Enter goes.
    box.press("ArrowDown")
    expect(dialog.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    expect(first).to_have_attribute("aria-selected", "true")
    with page.expect_navigation():
        box.press("Enter")
    assert "/tasks/" in page.url and page.url.rstrip("/").split("/")[-1] != "tasks"
    expect(page.locator("h1")).to_contain_text(title[:30])
    # Esc closes it again, on any page; Cmd+K opens it too.
    page.keyboard.press("Meta+k")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert not page.errors  # type: ignore[attr-defined]


def test_the_palette_on_a_phone_opens_from_its_button_and_runs_an_action(server, browser, world):  # type: ignore[no-untyped-def]
    page = _page(browser, server, viewport=PHONE, has_touch=True)
    page.goto(f"{server.url}/spaces/{world['space']}/")
    page.locator(".palette-button").tap()
    dialog = page.get_by_role("dialog", name="Go to")
    expect(dialog).to_be_visible()
    box = page.get_by_role("combobox", name="Go to")
    box.fill("new task")
    option = dialog.get_by_role("option").first
    expect(option).to_contain_text("New task")
    expect(option).to_contain_text(world["name"])
    shot(page, "screen-palette-390-light")
    geometry = dialog.bounding_box()
    assert geometry and geometry["x"] >= 0 and geometry["x"] + geometry["width"] <= PHONE["width"]
    option.locator(".palette-go").tap()
    page.wait_for_url(f"**/spaces/{world['space']}/tasks/new/")
    assert not page.errors  # type: ignore[attr-defined]


# --- one time format, three time zones -------------------------------------------------------


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_times_read_as_words_with_the_moment_in_the_browsers_zone(server, browser, world, zone):  # type: ignore[no-untyped-def]
    page = _page(browser, server, timezone_id=zone)
    page.goto(f"{server.url}/spaces/{world['space']}/tasks/?status=ALL")
    first = page.locator("#task-rows time.moment").first
    stamp = first.get_attribute("datetime")
    assert stamp and stamp.endswith("Z")
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    wait_until(page, "document.querySelector('#task-rows time.moment').hasAttribute('data-local')")
    local = first.get_attribute("title")
    # The moment in the browser's zone, with the zone said: e.g. "Dec 7, 2026, 09:31:24 EST".
    assert moment.strftime("%H:%M:%S") in local, local
    assert f"{moment:%b} {moment.day}, {moment.year}" in local, local
    expected_zone = {"UTC": "UTC", "America/New_York": moment.tzname(), "Asia/Kolkata": "GMT+5:30"}
    assert local.endswith(expected_zone[zone]), local
    # The words are the same everywhere: how long ago.
    assert re.fullmatch(r"just now|\d+ (minute|hour|day|week|month|year)s? ago", first.inner_text())
    # On focus the moment shows beside the words (keyboard users get no tooltip).
    first.focus()
    after = page.evaluate(
        "getComputedStyle(document.querySelector('#task-rows time.moment'), '::after').content"
    )
    assert local in after, after
    # Without JavaScript the title says the moment in UTC.
    if zone == "UTC":
        plain = browser.new_context(java_script_enabled=False, timezone_id="Asia/Kolkata")
        raw = plain.new_page()
        sign_in(raw, server)
        raw.goto(f"{server.url}/spaces/{world['space']}/tasks/?status=ALL")
        utc = raw.locator("#task-rows time.moment").first.get_attribute("title")
        assert utc.endswith(" UTC") and moment.strftime("%H:%M:%S") in utc
        plain.close()
    assert not page.errors  # type: ignore[attr-defined]


# --- the runtime playground ----------------------------------------------------------------


def test_the_playground_scrolls_to_its_answer_and_says_when_it_streams_out_of_sight(  # type: ignore[no-untyped-def]
    server, browser
):
    page = _page(browser, server, viewport=PHONE)
    page.goto(f"{server.url}/agentcore/runtime/")
    page.get_by_role("link", name="sre_assistant").click()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.locator("#id_payload").fill('{"prompt": "checkout-api p99 latency doubled since 14:05"}')
    page.locator("#rt-run").scroll_into_view_if_needed()
    page.locator("#rt-run").click()
    answer = page.locator("#rt-runs > .rt-inv").first
    expect(answer.locator(".rt-text")).to_contain_text("You asked", timeout=15_000)
    # The page went to the answer by itself: its top is on screen.
    wait_until(
        page,
        "(() => { const r = document.querySelector('#rt-runs > .rt-inv').getBoundingClientRect();"
        " return r.top >= 0 && r.top < innerHeight / 2; })()",
    )
    shot(page, "screen-runtime-answer-390-light")
    # Back up at the form while it still streams: a pill at the bottom says so and goes there.
    page.evaluate("window.scrollTo(0, 0)")
    pill = page.locator("#rt-progress")
    expect(pill).to_be_visible()
    expect(pill).to_contain_text("Answering")
    shot(page, "screen-runtime-progress-390-light")
    pill.click()
    wait_until(
        page,
        "(() => { const r = document.querySelector('#rt-runs > .rt-inv').getBoundingClientRect();"
        " return r.top >= -2 && r.top < innerHeight / 2; })()",
    )
    expect(page.locator("#rt-runs .ci-state").first).to_have_text("Done", timeout=30_000)
    assert not page.errors  # type: ignore[attr-defined]


# --- saved views from the board ---------------------------------------------------------------


def test_a_view_is_saved_picked_and_shared(server, browser, world):  # type: ignore[no-untyped-def]
    page = _page(browser, server)
    board = f"{server.url}/spaces/{world['space']}/tasks/"
    page.goto(board + "?status=ALL&type=INVESTIGATION")
    page.get_by_text("Views", exact=True).click()
    page.get_by_label("Save these filters and sort as").fill("All investigations")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".views-menu summary")).to_contain_text("All investigations")
    link = page.url
    assert "?view=" in link
    # Picked again from the board's menu.
    page.goto(board)
    page.locator(".views-menu summary").click()
    page.get_by_role("link", name="All investigations").click()
    expect(page.locator("#f-type")).to_have_value("INVESTIGATION")
    # The link opens the view for a colleague, who may keep it.
    other = _page(browser, server)
    other.goto(link)
    expect(other.locator("#f-type")).to_have_value("INVESTIGATION")
    expect(other.locator(".views-menu summary")).to_contain_text("All investigations")


# --- screenshots -------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["390", "1280"])
def test_screenshots_of_the_board_a_task_a_chat_and_the_live_view(  # type: ignore[no-untyped-def]
    server, browser, world, scheme, viewport
):
    page = _page(browser, server, viewport=viewport, scheme=scheme)
    width = viewport["width"]
    sid = world["space"]
    pages = {
        "board": f"/spaces/{sid}/tasks/",
        "board-all": f"/spaces/{sid}/tasks/?status=ALL",
        "task": f"/spaces/{sid}/tasks/{world['task']}/",
        "chat": f"/spaces/{sid}/chat/{world['chat']}/",
        "live-view": f"/agentcore/browsers/aws.browser.v1/sessions/{world['session']}/",
    }
    for name, path in pages.items():
        page.goto(server.url + path)
        if name == "live-view":
            expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        page.wait_for_timeout(300)  # a settled frame for the picture, not a condition
        assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth"), name
        shot(page, f"screen-{name}-{width}-{scheme}")
    if width == 1280:
        # One line per task, at least 12 above the fold.
        page.goto(server.url + pages["board-all"])
        rows = page.locator("#task-rows > tr.task-row")
        heights = {
            round(rows.nth(i).bounding_box()["height"]) for i in range(min(12, rows.count()))
        }
        assert max(heights) <= 40, heights
        fold = sum(
            1
            for i in range(rows.count())
            if rows.nth(i).bounding_box()["y"] + rows.nth(i).bounding_box()["height"] <= 800
        )
        assert fold >= 12, fold
    if width == 390:
        # The menu opens over the page with every link.
        page.get_by_role("button", name="Menu").click()
        shot(page, f"screen-menu-390-{scheme}")
    assert not page.errors  # type: ignore[attr-defined]
