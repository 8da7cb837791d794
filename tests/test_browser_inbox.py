"""The inbox in a real browser: Debian's chromium driven by Playwright against daphne (polling
every 0.5 s). Two tabs on the inbox: one approves, the other sees the request leave and the
top bar's count (and the tab's title) drop; a new approval request arrives by itself and, with
notifications turned on, shows a desktop notification whose click opens the task.
Screenshots of the inbox, the task page and the space overview at 1280 and 390 px go to
test-artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, require_chromium, shot, wait_until

pytestmark = pytest.mark.browser

LIVE_ENV = {"LIVE_POLL_INTERVAL": "0.5"}
SLOW = 30_000
PHONE = {"width": 390, "height": 844}

# Playwright injects this before the page's own scripts (allowed under the CSP): every
# notification the page shows is recorded instead of reaching the desktop.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notes = [];
  class Recorded {
    constructor(title, options) {
      this.title = title; this.body = (options || {}).body; this.tag = (options || {}).tag;
      this.onclick = null; window.__notes.push(this);
    }
    close() {}
    static get permission() { return Real ? Real.permission : "denied"; }
    static requestPermission() {
      return Real ? Real.requestPermission() : Promise.resolve("denied");
    }
  }
  window.Notification = Recorded;
})();
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("inbox-console"), extra_env=LIVE_ENV) as live:
        live.shell(
            "from django.contrib.auth.models import User, Group\n"
            "u = User.objects.create_user('oona', password='oona-pw-2026')\n"
            "u.groups.add(Group.objects.get_or_create(name='operator')[0])\n"
        )
        yield live


def make_space(server: LiveServer, name: str) -> str:
    out = server.shell(
        "from dashboard.aws import spaces\n"
        f"print(spaces.create_space(name={name!r})['agentSpaceId'])\n"
    )
    return out.strip().splitlines()[-1]


def ask_for_approval(server: LiveServer, space_id: str, title: str) -> dict:
    """A task whose agent asks for an approval, with the sandbox's emulated time hastened to
    that moment (as if AWS's agent had got there by itself)."""
    out = server.shell(
        "import json\n"
        "from django.utils import timezone\n"
        "from dashboard.aws import tasks\n"
        "from dashboard.sandbox.models import BacklogTask\n"
        "from tests.test_views_task_support import create\n"
        f"task = create({space_id!r}, 'approval', title={title!r}, priority='CRITICAL')\n"
        "for _ in range(200):\n"
        f"    task = tasks.get_task({space_id!r}, task['taskId'])\n"
        "    if task['status'] == 'PENDING_CUSTOMER_APPROVAL':\n"
        "        break\n"
        "    BacklogTask.objects.filter(pk=task['taskId']).update(next_due_at=timezone.now())\n"
        "(request,) = tasks.list_journal(\n"
        f"    {space_id!r}, task['executionId'], record_type='APPROVAL_REQUEST')['records']\n"
        "print(json.dumps({'task': task['taskId'], 'record': request['recordId'],\n"
        "    'approval': request['content']['approvalId'], 'tool': request['content']['tool']}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


def wait_live(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#live-status[data-state='live']").wait_for(timeout=SLOW)


def item(page, space_id: str, approval_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#need-{space_id}-approval-{approval_id}")


def test_an_approval_arrives_in_two_tabs_one_approves_the_other_sees_it_leave(server, new_page):  # type: ignore[no-untyped-def]
    sid = make_space(server, "Inbox tabs")
    acting, watching = new_page(), new_page()
    for page in (acting, watching):
        page.goto(server.url + "/inbox/")
        wait_live(page)
        page.evaluate("window.__notReloaded = true")
    before = watching.locator("#needs-count").get_attribute("data-count") or "0"

    # The agent asks (elsewhere: AWS's agent, here the sandbox's): it arrives in both tabs.
    asked = ask_for_approval(server, sid, "5xx spike on payments-api")
    card = item(watching, sid, asked["approval"])
    expect(card).to_be_visible(timeout=SLOW)
    expect(item(acting, sid, asked["approval"])).to_be_visible(timeout=SLOW)
    expect(card).to_contain_text(asked["tool"])
    waiting = str(int(before) + 1)
    expect(watching.locator("#needs-count")).to_have_attribute("data-count", waiting, timeout=SLOW)
    expect(watching.locator("#needs-count .needs-badge")).to_contain_text(waiting)
    wait_until(watching, f"document.title.startsWith('({waiting}) Inbox')")
    shot(watching, "inbox-approval-waiting")

    # One tab approves, in place.
    mine = item(acting, sid, asked["approval"])
    mine.get_by_role("button", name="Approve").click()
    expect(acting.locator("#alerts")).to_contain_text("Approved the request")
    expect(mine).to_have_count(0, timeout=SLOW)

    # The other sees it leave, and the count drop, without a reload.
    expect(card).to_have_count(0, timeout=SLOW)
    expect(watching.locator("#needs-count")).to_have_attribute("data-count", before, timeout=SLOW)
    if before == "0":
        expect(watching.locator("#needs-count .needs-badge")).to_have_count(0)
        wait_until(watching, "!document.title.startsWith('(')")
    else:
        wait_until(watching, f"document.title.startsWith('({before}) Inbox')")
    expect(watching.locator('[data-needs-count-of="approvals"]')).to_have_text(before)
    assert watching.evaluate("window.__notReloaded") is True
    shot(watching, "inbox-approval-answered-elsewhere")


def test_a_new_approval_arrives_with_a_desktop_notification(server, browser):  # type: ignore[no-untyped-def]
    from tests.browser_support import WIDE, sign_in

    sid = make_space(server, "Inbox notifications")
    context = browser.new_context(viewport=WIDE)
    context.set_default_timeout(15_000)
    errors: list[str] = []
    try:
        context.grant_permissions(["notifications"], origin=server.url)
        context.add_init_script(RECORD_NOTIFICATIONS)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, server)  # lands on the inbox
        wait_live(page)
        settings = page.locator("[data-notify-settings]")
        expect(settings).to_be_visible()
        expect(settings).to_contain_text("Off in this browser.")
        settings.get_by_role("button", name="Turn on desktop notifications").click()
        expect(settings).to_contain_text("On in this browser.")
        page.evaluate("window.__notReloaded = true")

        asked = ask_for_approval(server, sid, "Disk full on ledger-db")
        arrived = item(page, sid, asked["approval"])
        expect(arrived).to_be_visible(timeout=SLOW)
        expect(arrived).to_contain_text("Disk full on ledger-db")
        expect(page.locator("#needs-count")).to_have_attribute("data-count", "1", timeout=SLOW)
        wait_until(page, "window.__notes.length > 0")
        note = page.evaluate("({title: window.__notes[0].title, body: window.__notes[0].body})")
        assert note["title"] == f"Approval needed: {asked['tool']}"
        assert note["body"] == "Disk full on ledger-db · Inbox notifications"
        assert page.evaluate("window.__notReloaded") is True

        # Clicking it opens the task, at the request.
        page.evaluate("window.__notes[0].onclick()")
        page.wait_for_url(
            f"{server.url}/spaces/{sid}/tasks/{asked['task']}/#record-{asked['record']}"
        )
        expect(page.locator("#approval-banner")).to_be_visible()
        expect(page.locator("#approval-banner")).to_contain_text(asked["tool"])
        shot(page, "task-approval-banner")
    finally:
        context.close()
    assert not errors, errors


def test_screenshots_of_the_inbox_the_task_page_and_the_overview(server, browser):  # type: ignore[no-untyped-def]
    """The three pages at 1280 and 390 px, light and dark, to look at; none of them scrolls
    sideways."""
    from tests.browser_support import sign_in

    sid = make_space(server, "Screenshots")
    asked = ask_for_approval(server, sid, "Elevated 5xx on checkout-api")
    pages = {
        "inbox": "/inbox/",
        "task": f"/spaces/{sid}/tasks/{asked['task']}/",
        "overview": f"/spaces/{sid}/",
    }
    for scheme in ("light", "dark"):
        for width, viewport in (("1280", {"width": 1280, "height": 900}), ("390", PHONE)):
            context = browser.new_context(viewport=viewport, color_scheme=scheme)
            try:
                page = context.new_page()
                sign_in(page, server)
                for name, path in pages.items():
                    page.goto(server.url + path)
                    wait_live(page)
                    expect(page.locator("#approval-banner, .need-approvals").first).to_be_visible()
                    # The page itself is no wider than the window (a row of tabs may scroll
                    # inside its own box on a phone); what sticks out is named when it is.
                    wide = page.evaluate(
                        "document.scrollingElement.scrollWidth <= innerWidth ? [] :"
                        " Array.from(document.querySelectorAll('main *'))"
                        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
                        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
                    )
                    assert wide == [], (name, width, wide)
                    shot(page, f"{name}-{width}-{scheme}")
            finally:
                context.close()
