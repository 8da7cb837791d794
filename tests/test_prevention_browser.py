"""Prevention pages in a real browser: Debian's chromium driven by Playwright against daphne on
the seeded demo world (polling every 0.5 s).

An operator accepts a recommendation: the page updates in place, and a second tab showing the
list sees the row change without a reload. The copy button copies the raw spec. Screenshots of
the list and detail pages (light and dark), goals and triggers go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, require_chromium, shot

pytestmark = pytest.mark.browser

LIVE_ENV = {"LIVE_POLL_INTERVAL": "0.5"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("prevention"), extra_env=LIVE_ENV) as live:
        live.manage("seed_sandbox")
        yield live


@pytest.fixture(scope="module")
def world(server: LiveServer) -> dict[str, str]:
    """Ids in the demo: the payments space, a proposed recommendation with a goal, a goal."""
    out = server.shell(
        "import json\n"
        "from dashboard.sandbox.models import AgentSpace, Goal, Recommendation, Trigger\n"
        "space = AgentSpace.objects.get(name='Payments platform')\n"
        "recs = Recommendation.objects.filter(space=space, status='PROPOSED')\n"
        "rec = recs.exclude(goal_id='').order_by('-priority_rank', 'created_at').first()\n"
        "other = recs.exclude(pk=rec.pk).order_by('created_at').first()\n"
        "goal = Goal.objects.get(pk=rec.goal_id)\n"
        "print(json.dumps({'space': space.pk, 'rec': rec.pk, 'title': rec.title,\n"
        "    'spec': rec.spec, 'other': other.pk, 'goal': goal.pk}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


def _status(server: LiveServer, rec_id: str) -> str:
    out = server.shell(
        "from dashboard.sandbox.models import Recommendation\n"
        f"print(Recommendation.objects.get(pk={rec_id!r}).status)\n"
    )
    return out.strip().splitlines()[-1]


def test_an_operator_accepts_a_recommendation(server, world, new_page):
    space, rec_id = world["space"], world["rec"]
    listing = new_page()
    listing.goto(f"{server.url}/spaces/{space}/recommendations/?status=PROPOSED")
    row = listing.locator(f"#rec-{rec_id}")
    expect(row.locator(".tbadge").nth(1)).to_have_text("Proposed")
    expect(listing.locator("#live-status")).to_have_attribute("data-state", "live")

    page = new_page()
    page.goto(f"{server.url}/spaces/{space}/recommendations/{rec_id}/")
    expect(page.get_by_role("heading", name=world["title"])).to_be_visible()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.get_by_role("button", name="Accept", exact=True).click()

    summary = page.locator(f"#rec-summary-{rec_id}")
    expect(summary.locator(".tbadge").first).to_have_text("Accepted")
    expect(page.locator("#alerts")).to_contain_text("is now accepted")
    expect(page.get_by_role("button", name="Mark complete")).to_be_visible()
    assert _status(server, rec_id) == "ACCEPTED"
    # The other tab's list is filtered on PROPOSED: the accepted row leaves it, no reload.
    expect(listing.locator(f"#rec-{rec_id}")).to_have_count(0)
    expect(listing.locator(f"#rec-{world['other']}")).to_have_count(1)
    shot(page, "prevention-accepted")


def test_a_resync_read_before_an_action_does_not_put_the_old_state_back(server, world, new_page):
    # A re-render the page asked for (after a reconnect, or a poll that came after the page was
    # drawn) reads the recommendation before the person's Accept, and its answer arrives after
    # the Accept's: the page keeps the accepted state and asks again.
    space = world["space"]
    out = server.shell(
        "from dashboard.sandbox.models import Recommendation\n"
        f"recs = Recommendation.objects.filter(space_id={space!r}, status='PROPOSED')\n"
        f"print(recs.exclude(pk__in=[{world['rec']!r}, {world['other']!r}]).first().pk)\n"
    )
    rec_id = out.strip().splitlines()[-1]
    url = f"{server.url}/spaces/{space}/recommendations/{rec_id}/"
    page = new_page()
    page.goto(url)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

    held: list = []  # (route, the answer the server gave before the Accept)
    resyncs: list[str] = []

    def hold(route) -> None:  # type: ignore[no-untyped-def]
        resyncs.append(route.request.url)
        if len(resyncs) == 1:
            held.append((route, route.fetch()))
        else:
            route.continue_()

    def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
        for _ in range(100):
            if condition():
                return
            page.wait_for_timeout(100)
        raise AssertionError(what)

    page.route(url, hold)
    page.evaluate("document.body.dispatchEvent(new CustomEvent('console:resync'))")
    wait_for(lambda: held, "the resync did not ask the server")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.get_by_role("button", name="Mark complete")).to_be_visible()

    route, stale = held[0]
    assert "Mark complete" not in stale.text()  # it was read before the Accept
    # Whether the old state shows at any moment (a later live push could hide it again).
    page.evaluate(
        """id => {
          window.__sawProposed = false;
          new MutationObserver(() => {
            const summary = document.getElementById('rec-summary-' + id);
            if (summary && summary.dataset.status === 'PROPOSED') window.__sawProposed = true;
          }).observe(document.body, {subtree: true, childList: true, attributes: true});
        }""",
        rec_id,
    )
    route.fulfill(response=stale)
    wait_for(lambda: len(resyncs) >= 2, "the stale answer was not asked for again")
    expect(page.locator(f"#rec-summary-{rec_id} .tbadge").first).to_have_text("Accepted")
    expect(page.get_by_role("button", name="Mark complete")).to_be_visible()
    assert page.evaluate("window.__sawProposed") is False
    page.unroute(url)


def test_the_copy_button_copies_the_raw_spec(server, world, new_page, browser):
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page.goto(f"{server.url}/spaces/{world['space']}/recommendations/{world['rec']}/")
    button = page.locator(".copy-button")
    expect(button).to_have_text("Copy spec")
    button.click()
    expect(button).to_have_text("Copied")
    expect(page.locator(".copy-status")).to_contain_text("Copied the spec")
    assert page.evaluate("navigator.clipboard.readText()") == world["spec"]
    # The rendered spec keeps its code blocks.
    assert page.locator(".spec-body pre code").count() >= 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_prevention_pages(server, world, new_page, scheme):
    page = new_page(color_scheme=scheme)
    space = world["space"]
    pages = {
        "recommendations": f"/spaces/{space}/recommendations/",
        "recommendation": f"/spaces/{space}/recommendations/{world['other']}/",
        "goals": f"/spaces/{space}/goals/",
        "goal": f"/spaces/{space}/goals/{world['goal']}/",
        "triggers": f"/spaces/{space}/triggers/",
        "trigger-new": f"/spaces/{space}/triggers/new/",
    }
    for name, path in pages.items():
        page.goto(server.url + path)
        expect(page.locator("h1").first).to_be_visible()
        if name == "trigger-new":
            page.locator("#id_expression").fill("cron(0 9 ? * MON-FRI *)")
            expect(page.locator("#expression-check")).to_contain_text("Monday through Friday")
        shot(page, f"prevention-{name}-{scheme}")
    # The list's rows carry their goal; the tabs show the space's pages.
    page.goto(server.url + pages["recommendations"])
    tabs = page.locator(".space-tabs a")
    labels = [t.strip() for t in tabs.all_inner_texts()]
    start = labels.index("Recommendations")
    assert labels[start : start + 3] == ["Recommendations", "Goals", "Triggers"]
    # (Tests before this one accepted recommendations, which sort first and have no rank.)
    proposed = page.locator("#rec-rows tr", has_text="Proposed").first
    assert re.search(r"#\d+", proposed.inner_text())
