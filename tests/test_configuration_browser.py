"""The configuration pages in a real browser: Debian's chromium driven by Playwright against
daphne (polling every 0.5 s, the sandbox four times faster than life, so a private connection
settles in about ten seconds).

An admin creates a private connection and watches it become active without reloading, then
deletes it and watches it leave the list; the Operator App keeps a typed secret out of the
page; every page of the area is photographed in light and dark (test-artifacts/).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, elapse, require_chromium, shot

pytestmark = pytest.mark.browser

# At pace 4 a connection takes 10 s to create and 5 s to delete: long enough to be caught in
# progress on a busy machine, short enough for a test.
LIVE_ENV = {"LIVE_POLL_INTERVAL": "0.5", "SANDBOX_PACE": "4"}
SLOW = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("configuration"), extra_env=LIVE_ENV) as live:
        live.manage("seed_sandbox")
        yield live


def demo_ids(server: LiveServer) -> dict[str, str]:
    out = server.shell(
        "import json\n"
        "from dashboard.sandbox.models import AgentSpace, Asset\n"
        "space = AgentSpace.objects.order_by('created_at', 'agent_space_id').first()\n"
        "assets = {a.asset_type: a.pk for a in Asset.objects.filter(space=space)}\n"
        "print(json.dumps({'space': space.pk, **assets}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


def wait_live(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#live-status[data-state='live']").wait_for(timeout=SLOW)


def test_a_new_private_connection_settles_live_and_leaves_when_deleted(server, new_page):
    page = new_page()
    page.goto(server.url + "/private-connections/new/")
    # Only the chosen type's fields show (CSS :has(), no script needed).
    expect(page.locator(".self-fields")).to_be_hidden()
    page.get_by_label("Self-managed").check()
    expect(page.locator(".service-fields")).to_be_hidden()
    expect(page.get_by_role("textbox", name="Resource configuration")).to_be_visible()
    page.get_by_label("Service-managed").check()

    page.get_by_label("Name").fill("grafana-staging")
    page.get_by_label("Host address").fill("grafana.staging.internal")
    page.get_by_role("textbox", name="VPC").fill("vpc-0123abcd")
    page.get_by_label("Subnets").fill("subnet-0123abcd subnet-0123abce")
    page.get_by_role("button", name="Create private connection").click()

    page.wait_for_url(server.url + "/private-connections/grafana-staging/")
    wait_live(page)
    page.evaluate("window.__notReloaded = true")
    status = page.locator("#pc-status")
    assert status.get_attribute("data-status") == "CREATE_IN_PROGRESS"
    expect(status.locator(".cbadge")).to_have_text("Creating…")
    shot(page, "configuration-pc-creating")
    elapse(server, "sandbox_privateconnection")  # AWS takes minutes to settle it
    expect(status).to_have_attribute("data-status", "ACTIVE", timeout=SLOW)
    expect(status.locator(".cbadge")).to_have_text("Active")
    assert page.evaluate("window.__notReloaded") is True
    shot(page, "configuration-pc-active")

    listing = new_page()
    listing.goto(server.url + "/private-connections/")
    wait_live(listing)
    listing.evaluate("window.__notReloaded = true")
    row = listing.locator("#pc-grafana-staging")
    expect(row).to_have_attribute("data-status", "ACTIVE")

    page.get_by_role("link", name="Delete…").click()
    page.get_by_label("Type grafana-staging to confirm").fill("grafana-staging")
    page.get_by_role("button", name="Delete private connection").click()
    page.wait_for_url(server.url + "/private-connections/")
    expect(listing.locator("#pc-grafana-staging")).to_have_attribute(
        "data-status", "DELETE_IN_PROGRESS", timeout=SLOW
    )
    shot(listing, "configuration-pc-deleting")
    elapse(server, "sandbox_privateconnection")
    expect(listing.locator("#pc-grafana-staging")).to_have_count(0, timeout=SLOW)
    assert listing.evaluate("window.__notReloaded") is True


def test_a_typed_idp_secret_is_not_sent_back_after_an_error(server, new_page):
    ids = demo_ids(server)
    page = new_page()
    page.goto(server.url + f"/spaces/{ids['space']}/operator-app/idp/enable/")
    page.get_by_label("Issuer URL").fill("http://not-https.example.com")
    page.get_by_label("Client secret").fill("typed-in-the-browser-5521")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".errorlist")).to_contain_text("https:// issuer URL")
    expect(page.get_by_label("Client secret")).to_have_value("")
    assert "typed-in-the-browser-5521" not in page.content()
    assert page.locator("[hx-history='false']").count() == 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_of_the_area_looks_right(server, new_page, scheme):
    ids = demo_ids(server)
    space = f"/spaces/{ids['space']}"
    pages = {
        "pc-list": "/private-connections/",
        "pc-detail": "/private-connections/grafana-internal/",
        "pc-failed": "/private-connections/mcp-tools/",
        "pc-new": "/private-connections/new/",
        "pc-certificate": "/private-connections/grafana-internal/certificate/",
        "pc-delete": "/private-connections/gitlab-selfhosted/delete/",
        "usage": "/usage/",
        "operator-app": f"{space}/operator-app/",
        "operator-app-idp": f"{space}/operator-app/idp/enable/",
        "operator-app-secret": f"{space}/operator-app/idp-secret/",
        "assets": f"{space}/assets/",
        "asset-new": f"{space}/assets/new/",
        "asset-skill": f"{space}/assets/{ids['skill']}/",
        "asset-edit": f"{space}/assets/{ids['skill']}/edit/",
        "asset-file-text": f"{space}/assets/{ids['skill']}/file/?path=SKILL.md",
        "asset-file-long": f"{space}/assets/{ids['attachment']}/file/?path=ledger-writer.log",
        "asset-file-binary": f"{space}/assets/{ids['attachment']}/file/?path=diagram.png",
    }
    page = new_page(scheme)
    for name, url in pages.items():
        response = page.goto(server.url + url)
        assert response is not None and response.status == 200, url
        expect(page.locator("h1")).to_be_visible()
        shot(page, f"configuration-{name}-{scheme}")
    page.goto(server.url + "/usage/")
    assert page.locator(".usage-bar").count() >= 4
    expect(page.locator(".alert-warning").first).to_contain_text("of the monthly limit used")


def test_the_signed_in_page_shows_the_new_navigation(server, new_page):
    page = new_page()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Private connections")).to_be_visible()
    expect(nav.get_by_role("link", name="Usage")).to_be_visible()
