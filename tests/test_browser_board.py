"""The live triage pages in a real browser: Debian's chromium driven by Playwright against
daphne (polling every 0.5 s, the sandbox running ten times faster than life).

Two tabs on one board see each other's changes and those made elsewhere without a reload, each
within its own filter; a tab whose server went away says so, and after the restart re-renders
what changed meanwhile; a task page's journal grows by itself while the agent works.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser_support import (
    NOT_WAITING,
    WIDE,
    LiveServer,
    hasten,
    require_chromium,
    shot,
    wait_until,
)

pytestmark = pytest.mark.browser

LIVE_ENV = {"LIVE_POLL_INTERVAL": "0.5", "SANDBOX_PACE": "10"}
# Reconnects wait up to a few seconds (backoff with jitter), polls every 0.5 s.
SLOW = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("live-console"), extra_env=LIVE_ENV) as live:
        yield live


def setup_board(server: LiveServer, name: str, titles: list[str]) -> dict:
    """A space with tasks waiting for triage (they stay put), made as an integration would."""
    out = server.shell(
        "import json\n"
        "from django.utils import timezone\n"
        "from dashboard.aws import spaces\n"
        "from dashboard.sandbox import tasks as sandbox\n"
        "from dashboard.sandbox.models import AgentSpace\n"
        f"space = spaces.create_space(name={name!r})\n"
        "row = AgentSpace.objects.get(pk=space['agentSpaceId'])\n"
        "ids = []\n"
        f"for n, title in enumerate({titles!r}):\n"
        "    ids.append(sandbox.create_task(row, task_type='INVESTIGATION', title=title,\n"
        "        priority=['HIGH', 'MEDIUM', 'LOW'][n % 3], status='PENDING_TRIAGE',\n"
        "        at=timezone.now()).task_id)\n"
        "print(json.dumps({'space': space['agentSpaceId'], 'tasks': ids}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


def create_elsewhere(server: LiveServer, space_id: str, title: str, **extra: str) -> str:
    """A task made through the API by someone else (another console, an integration)."""
    params = {"task_type": "EVALUATION", "title": title, "priority": "CRITICAL", **extra}
    out = server.shell(
        "from dashboard.aws import tasks\n"
        f"print(tasks.create_task({space_id!r}, **{params!r})['taskId'])\n"
    )
    return out.strip().splitlines()[-1]


def wait_live(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#live-status[data-state='live']").wait_for(timeout=SLOW)
    assert page.locator("#live-status").inner_text().strip() == "Live"


def row_ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#task-rows > tr.task-row").evaluate_all("rows => rows.map(r => r.id)")


def test_two_tabs_see_each_others_changes_and_those_made_elsewhere(server, new_page):  # type: ignore[no-untyped-def]
    board = setup_board(server, "Live board", ["Disk alarm", "5xx spike", "Slow queries"])
    sid, (disk, spike, slow) = board["space"], board["tasks"]
    url = f"{server.url}/spaces/{sid}/tasks/"
    acting, watching, filtered = new_page(), new_page(), new_page()
    acting.goto(url)  # open work, the default
    watching.goto(url + "?status=ALL")
    # A third tab shows only what waits for triage.
    filtered.goto(url + "?status=PENDING_TRIAGE")
    for page in (acting, watching, filtered):
        wait_live(page)
        page.evaluate("window.__notReloaded = true")
    assert len(row_ids(filtered)) == 3
    expect(watching.locator("#chip-PENDING_TRIAGE b")).to_have_text("3")

    # A bulk change in one tab...
    acting.locator(f"#task-{disk} input[name=task]").check()
    acting.locator("#bulk-target").select_option("SKIPPED")
    acting.once("dialog", lambda dialog: dialog.accept())
    acting.get_by_role("button", name="Apply").click()
    acting.get_by_text("1 of 1 task set to Skipped").wait_for()

    # ...reaches the other at once: the row and the counts, no reload.
    expect(watching.locator(f"#task-{disk} .badge-status")).to_have_text("Skipped")
    expect(watching.locator("#chip-SKIPPED")).to_be_visible()
    expect(watching.locator("#chip-SKIPPED b")).to_have_text("1")
    expect(watching.locator("#chip-PENDING_TRIAGE b")).to_have_text("2")
    # The filtered tab drops the row that no longer matches its filter; so does open work.
    expect(filtered.locator(f"#task-{disk}")).to_have_count(0)
    assert len(row_ids(filtered)) == 2
    expect(acting.locator(f"#task-{disk}")).to_have_count(0)
    expect(acting.locator("#scope-open b")).to_have_text("2")

    # A status change on a task page in the acting tab.
    acting.goto(f"{server.url}/spaces/{sid}/tasks/{spike}/")
    wait_live(acting)
    acting.get_by_role("button", name="Start investigation").click()
    acting.get_by_text("is now pending start").wait_for()
    expect(watching.locator(f"#task-{spike} .badge-status")).not_to_have_text("Pending triage")
    expect(filtered.locator(f"#task-{spike}")).to_have_count(0)

    # A task created elsewhere (the API, not this console) is found by the watcher and goes
    # where each tab's sort puts it: newest first.
    made = create_elsewhere(server, sid, "Checkout latency regression")
    new_row = watching.locator(f"#task-{made}")
    new_row.wait_for(timeout=SLOW)
    assert row_ids(watching)[0] == f"task-{made}"
    expect(new_row).to_contain_text("Checkout latency regression")
    # ...but not into the tab that filters it out (it is not waiting for triage).
    assert filtered.locator(f"#task-{made}").count() == 0
    assert row_ids(filtered) == [f"task-{slow}"]
    # No row twice anywhere.
    for page in (watching, filtered):
        ids = row_ids(page)
        assert len(ids) == len(set(ids))

    for page in (watching, filtered):
        assert page.evaluate("window.__notReloaded") is True
        assert page.locator("#live-status").inner_text().strip() == "Live"
    watching.locator(f"#task-{disk}").scroll_into_view_if_needed()
    shot(watching, "board-live")
    shot(filtered, "board-live-filtered")
    shot(acting, "task-live-status-changed")


def test_a_tab_reconnects_and_catches_up_after_the_server_restarts(server, new_page):  # type: ignore[no-untyped-def]
    board = setup_board(server, "Reconnecting board", ["Queue backlog", "Cert expiry"])
    sid, (queue, cert) = board["space"], board["tasks"]
    page, filtered = new_page(), new_page()
    page.goto(f"{server.url}/spaces/{sid}/tasks/?status=ALL")
    filtered.goto(f"{server.url}/spaces/{sid}/tasks/?status=PENDING_TRIAGE")
    for tab in (page, filtered):
        wait_live(tab)
        tab.evaluate("window.__notReloaded = true")

    server.stop()
    page.locator("#live-status[data-state='reconnecting']").wait_for(timeout=SLOW)
    assert page.locator("#live-status").inner_text().strip() == "Reconnecting…"
    shot(page, "board-reconnecting")

    # Changes while the console is down (made elsewhere, straight in AWS).
    server.shell(
        f"from dashboard.aws import tasks\ntasks.update_status({sid!r}, {queue!r}, 'CANCELED')\n"
    )
    made = create_elsewhere(server, sid, "Made while the console was down")
    server.serve()

    # Back: live again, and the board re-rendered with what changed meanwhile.
    wait_live(page)
    expect(page.locator(f"#task-{queue} .badge-status")).to_have_text("Canceled", timeout=SLOW)
    page.locator(f"#task-{made}").wait_for(timeout=SLOW)
    expect(page.locator(f"#task-{cert} .badge-status")).to_have_text("Pending triage")
    assert page.evaluate("window.__notReloaded") is True
    ids = row_ids(page)
    assert len(ids) == len(set(ids)) == 3
    # A tab re-renders with its own filter.
    wait_live(filtered)
    expect(filtered.locator(f"#task-{queue}")).to_have_count(0, timeout=SLOW)
    assert row_ids(filtered) == [f"task-{cert}"]
    assert filtered.evaluate("window.__notReloaded") is True
    # And it keeps being live after the restart.
    server.shell(
        f"from dashboard.aws import tasks\ntasks.update_status({sid!r}, {cert!r}, 'SKIPPED')\n"
    )
    expect(page.locator(f"#task-{cert} .badge-status")).to_have_text("Skipped", timeout=SLOW)
    shot(page, "board-reconnected")


def test_the_journal_grows_by_itself_while_the_agent_works(server, new_page):  # type: ignore[no-untyped-def]
    board = setup_board(server, "Journal space", [])
    sid = board["space"]
    task_id = create_elsewhere(
        server, sid, "Elevated 5xx on checkout-api", task_type="INVESTIGATION"
    )
    page = new_page()
    page.goto(f"{server.url}/spaces/{sid}/tasks/{task_id}/")
    # Another tab shows observations only: records pushed to it keep to that.
    observing = new_page()
    observing.goto(f"{server.url}/spaces/{sid}/tasks/{task_id}/?type=OBSERVATION")
    for tab in (page, observing):
        wait_live(tab)
        tab.evaluate("window.__notReloaded = true")

    # The execution appears (it may have started already), then records arrive one by one.
    records = page.locator(f"#executions-{task_id} ol.journal > li.record")
    records.first.wait_for(timeout=SLOW)
    expect(page.locator(".task-empty")).to_be_hidden()
    first = records.count()
    shot(page, "task-journal-live-early")
    expect(records).not_to_have_count(first, timeout=SLOW)
    wait_until(
        page,
        f"document.querySelectorAll('#executions-{task_id} ol.journal > li.record').length"
        f" >= {first + 3}",
        timeout=SLOW / 1000,
    )
    ids = records.evaluate_all("items => items.map(i => i.id)")
    assert len(ids) == len(set(ids))
    # The summary moved on by itself as well.
    badge = page.locator(f"#task-summary-{task_id} .task-badges .tbadge").first
    expect(badge).not_to_have_text("Pending start")
    assert page.evaluate("window.__notReloaded") is True
    assert re.match(r"^(Live)$", page.locator("#live-status").inner_text().strip())
    shot(page, "task-journal-live")

    observed = observing.locator(f"#executions-{task_id} ol.journal > li.record")
    expect(observed).not_to_have_count(0, timeout=SLOW)
    types = observed.evaluate_all("items => items.map(i => i.dataset.type)")
    assert set(types) == {"OBSERVATION"}, types
    assert observing.evaluate("window.__notReloaded") is True


def sign_in_as(page, server: LiveServer, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/inbox/")


def test_pushed_controls_are_for_operators_and_work(server, browser, new_page):  # type: ignore[no-untyped-def]
    board = setup_board(server, "Approvals space", [])
    sid = board["space"]
    # A viewer, and an investigation whose (deterministic) script asks for an approval.
    out = server.shell(
        "from django.contrib.auth.models import Group, User\n"
        "from dashboard.aws import tasks\n"
        "from dashboard.sandbox import scripts\n"
        "user = User.objects.create_user('vera', password='vera-pw-2026')\n"
        "user.groups.add(Group.objects.get_or_create(name='viewer')[0])\n"
        "for _ in range(200):\n"
        f"    task = tasks.create_task({sid!r}, task_type='INVESTIGATION',\n"
        "        title='Checkout 5xx after deploy', priority='HIGH')\n"
        "    if scripts.script_for(task['taskId'], task['title'], 'INVESTIGATION').has_approval:\n"
        "        break\n"
        f"    tasks.update_status({sid!r}, task['taskId'], 'CANCELED')\n"
        "print(task['taskId'])\n"
    )
    task_id = out.strip().splitlines()[-1]
    url = f"{server.url}/spaces/{sid}/tasks/{task_id}/"
    operator, watching = new_page(), new_page()
    context = browser.new_context(viewport=WIDE)
    context.set_default_timeout(15_000)
    try:
        viewer = context.new_page()
        sign_in_as(viewer, server, "vera", "vera-pw-2026")
        viewer_board = context.new_page()
        viewer_board.goto(f"{server.url}/spaces/{sid}/tasks/")
        for page in (operator, watching, viewer):
            page.goto(url)
            wait_live(page)

        # The approval request arrives live in every tab (the agent's steps hastened)...
        hasten(
            server,
            "sandbox_backlogtask",
            lambda: watching.locator(".record-approval_request").count() > 0,
            where=NOT_WAITING,
        )
        for page in (operator, watching, viewer):
            page.locator(".record-approval_request").wait_for(timeout=SLOW)
        # ...with its form for operators (in the journal, the banner on top and the Actions
        # panel), and none for the viewer (nor any other control).
        journal_card = watching.locator(".record-approval_request")
        expect(journal_card.get_by_role("button", name="Approve")).to_be_visible()
        expect(
            watching.locator("#approval-banner").get_by_role("button", name="Approve")
        ).to_be_visible()
        expect(
            watching.locator("#actions-approval").get_by_role("button", name="Approve")
        ).to_be_visible()
        assert viewer.get_by_role("button", name="Approve").count() == 0
        assert viewer.locator("#task-live form[method=post]").count() == 0
        assert viewer.get_by_role("button", name="Cancel task…").count() == 0
        assert viewer_board.locator("#task-rows input[name=task]").count() == 0
        expect(viewer_board.locator(f"#task-{task_id} .badge-status")).to_have_text(
            "Pending customer approval"
        )
        shot(viewer, "task-live-viewer")
        shot(watching, "task-live-approval-pushed")

        # The pushed form works (the page's CSRF token, the task it is on).
        operator.locator(".record-approval_request").get_by_role("button", name="Approve").click()
        operator.wait_for_url(url)
        operator.get_by_text("Approved the request").wait_for()
        # The other operator tab sees it answered, and the agent carry on, without a reload.
        watching.evaluate("window.__notReloaded = true")
        card = watching.locator(".record-approval_request .approval-answered")
        expect(card).to_contain_text("Approved", timeout=SLOW)
        hasten(
            server,
            "sandbox_backlogtask",
            lambda: watching.locator(".record-root_cause").count() > 0,
            where=NOT_WAITING,
        )
        watching.locator(".record-root_cause").wait_for(timeout=SLOW)
        assert watching.get_by_role("button", name="Approve").count() == 0
        assert watching.evaluate("window.__notReloaded") is True
        viewer.locator(".record-root_cause").wait_for(timeout=SLOW)
        shot(watching, "task-live-approved")
    finally:
        context.close()
