"""The memory explorer and the flow traces in a real browser (Debian's chromium through
Playwright, against daphne on the seeded sandbox): every page in light and dark, screenshots to
test-artifacts/; htmx paging, the JavaScript confirmation of a delete, the page-size select and
expand/collapse of a trace; no JavaScript errors anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, require_chromium, shot

pytestmark = pytest.mark.browser

MEMORY = "DevOpsTriageMemory-K7m2Q9x4Lp"
PRIYA = "oncall~priya-raman"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("agentcore-console")) as live:
        live.manage("seed_sandbox")
        yield live


def _executions(server: LiveServer) -> dict[str, str]:
    out = server.shell(
        "import json\n"
        "from dashboard.sandbox.models import FlowExecution\n"
        "print(json.dumps({e.summary.split(':')[0]: f'{e.flow_id}/aliases/{e.flow_alias_id}/"
        "executions/{e.execution_id}' for e in FlowExecution.objects.all()}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


def _pages(server: LiveServer) -> dict[str, str]:
    runs = _executions(server)
    memory = f"/agentcore/memory/{MEMORY}"
    return {
        "index": "/agentcore/",
        "memory-choose": "/agentcore/memory/",
        "memory": f"{memory}/",
        "actor": f"{memory}/actors/{PRIYA}/",
        "session": f"{memory}/actors/{PRIYA}/sessions/inc-4830-rds-connections/",
        "records": f"{memory}/records/?namespace=%2F&scope=path",
        "search": f"{memory}/search/?q=database+connection+limits&namespace=%2F&scope=path",
        "event-new": f"{memory}/events/new/?actor=oncall/priya-raman&session=inc-4821-checkout-5xx",
        "flows-choose": "/agentcore/flows/",
        "trace-critical": f"/agentcore/flows/{runs['Critical alert on checkout-api']}/",
        "trace-failed": f"/agentcore/flows/{runs['Warning on ledger-api']}/",
        "trace-blocked": f"/agentcore/flows/{runs['Test alias']}/",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_renders_in_light_and_dark(server, new_page, scheme):  # type: ignore[no-untyped-def]
    page = new_page(scheme)
    for name, path in _pages(server).items():
        response = page.goto(server.url + path)
        assert response is not None and response.status == 200, (name, response and response.status)
        # Breadcrumbs, title, tabs, as on every page; a form (like a space's forms) has no tabs.
        tabs = page.locator("nav.space-tabs")
        if name.endswith("-new"):
            expect(tabs).to_be_hidden()
        else:
            expect(tabs).to_be_visible()
            order = page.evaluate(
                "['.crumbs', '.page-head', 'nav.space-tabs'].map(s => document.querySelector(s))"
                ".filter(Boolean).map(e => e.getBoundingClientRect().top)"
            )
            assert order == sorted(order), (name, order)
        shot(page, f"agentcore-{name}-{scheme}")
    # An event page and a record page, reached by clicking as a person would.
    page.goto(server.url + _pages(server)["session"])
    page.get_by_role("link", name="Details").first.click()
    expect(page.get_by_role("heading", name="Event")).to_be_visible()
    shot(page, f"agentcore-event-{scheme}")
    page.goto(server.url + _pages(server)["records"])
    page.locator(".mem-record-head a").first.click()
    expect(page.get_by_role("heading", name="Memory record")).to_be_visible()
    shot(page, f"agentcore-record-{scheme}")


def test_the_conversation_follows_a_branch(server, new_page):  # type: ignore[no-untyped-def]
    page = new_page()
    page.goto(server.url + _pages(server)["session"])
    expect(page.locator(".mem-event.on-branch")).to_have_count(3)
    page.locator(".fork-marker a").click()
    expect(page.locator(".branch-bar .chip.active")).to_have_text("↳ retry-1")
    # The branch with the conversation before its fork, not the main line after it.
    expect(page.get_by_text("The nightly settlement-batch holds")).to_have_count(0)
    expect(page.get_by_text("payments-ledger-db: FATAL remaining connection")).to_be_visible()
    shot(page, "agentcore-session-branch-light")


def test_an_admin_deletes_an_event_after_the_browser_asks(server, new_page):  # type: ignore[no-untyped-def]
    page = new_page()
    page.goto(server.url + _pages(server)["event-new"])
    page.get_by_label("Message").fill("Browser test: please ignore.")
    page.get_by_role("button", name="Create event").click()
    expect(page.get_by_text("Created event")).to_be_visible()
    target = page.locator(".mem-event:target")
    expect(target).to_contain_text("Browser test: please ignore.")
    target.get_by_role("link", name="Details").click()
    asked: list[str] = []

    def answer(dialog):  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_text("Deleted event")).to_be_visible()
    assert asked and "cannot be undone" in asked[0]
    expect(page.get_by_text("Browser test: please ignore.")).to_have_count(0)


def test_a_long_trace_pages_and_its_trees_open_and_close(server, new_page):  # type: ignore[no-untyped-def]
    page = new_page()
    batch = _executions(server)["Nightly batch"]
    page.goto(f"{server.url}/agentcore/flows/{batch}/?type=Node&max=50")
    entries = page.locator("#fe-timeline > li.fe")
    expect(entries).to_have_count(50)
    page.get_by_role("link", name="Load 50 more").click()
    expect(entries).to_have_count(100)
    # The page-size select applies itself.
    page.locator("#fe-max").select_option("1000")
    page.wait_for_url("**max=1000**")
    assert entries.count() > 200
    page.get_by_role("button", name="Collapse all").click()
    assert page.locator("#fe-timeline details[open]").count() == 0
    page.get_by_role("button", name="Expand all").click()
    assert page.locator("#fe-timeline details:not([open])").count() == 0
