"""The console in a real browser: Debian's chromium driven by Playwright against daphne.

One server (own SQLite file, own var dir) serves the whole module; each test gets a fresh
browser context. Screenshots go to test-artifacts/ for people to look at.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, require_chromium, shot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("console")) as live:
        yield live


def delete_all_spaces(server: LiveServer) -> None:
    """Empty the sandbox (straight in its SQLite file: a `manage.py shell` costs a second)."""
    with closing(sqlite3.connect(server.database, timeout=20)) as db, db:
        db.execute("DELETE FROM sandbox_tag")
        db.execute("DELETE FROM sandbox_agentspace")


def create_spaces(server: LiveServer, names: list[str]) -> None:
    server.shell(
        "from dashboard.aws import spaces\n"
        f"for name in {names!r}:\n"
        "    spaces.create_space(name=name, description='Made by the browser tests')\n"
    )


def create_through_form(page, server: LiveServer, name: str, description: str = "") -> str:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/spaces/")
    page.get_by_role("link", name="New agent space").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Description").fill(description)
    page.get_by_label("Language of the agent's answers").fill("en-US")
    page.get_by_role("button", name="Create agent space").click()
    page.wait_for_url(re.compile(r".*/spaces/[0-9a-f-]{36}/$"))
    assert page.get_by_role("heading", level=1).inner_text() == name
    return page.url


def test_create_edit_and_delete_a_space(server, new_page):  # type: ignore[no-untyped-def]
    delete_all_spaces(server)
    page = new_page()
    page.goto(server.url + "/spaces/")
    assert page.get_by_text("No agent spaces yet").is_visible()

    # Create: a validation error first, then two spaces.
    page.get_by_role("link", name="New agent space").click()
    page.get_by_role("button", name="Create agent space").click()
    assert page.locator("#id_name_error").inner_text() == "This field is required."
    assert page.get_by_label("Name").get_attribute("aria-invalid") == "true"
    shot(page, "space-form-errors")

    detail_url = create_through_form(page, server, "Payments", "Card processing and refunds")
    assert page.locator("#alerts").get_by_text("Created agent space “Payments”.").is_visible()
    shot(page, "space-detail")
    create_through_form(page, server, "Search", "Product search and ranking")

    page.goto(server.url + "/spaces/")
    rows = page.locator("#space-rows > tr")
    assert rows.count() == 2
    assert page.get_by_role("link", name="Payments", exact=True).is_visible()
    assert not page.get_by_text("No agent spaces yet").is_visible()
    shot(page, "spaces-list")

    # Edit the name.
    page.goto(detail_url)
    page.get_by_role("link", name="Edit").click()
    shot(page, "space-form-edit")
    page.get_by_label("Name").fill("Payments EU")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(detail_url)
    assert page.get_by_role("heading", level=1).inner_text() == "Payments EU"
    page.goto(server.url + "/spaces/")
    assert page.get_by_role("link", name="Payments EU", exact=True).is_visible()

    # Delete: a wrong name is refused, the exact one deletes.
    page.get_by_role("link", name="Payments EU", exact=True).click()
    page.get_by_role("link", name="Delete…").click()
    page.get_by_label("Type Payments EU to confirm").fill("Payments")
    page.get_by_role("button", name="Delete agent space").click()
    assert page.get_by_text("Type the space's name exactly to confirm.").is_visible()
    shot(page, "space-delete-confirm")
    page.get_by_label("Type Payments EU to confirm").fill("Payments EU")
    page.get_by_role("button", name="Delete agent space").click()
    page.wait_for_url(server.url + "/spaces/")
    assert page.locator("#alerts").get_by_text("Deleted agent space “Payments EU”.").is_visible()
    assert page.get_by_role("link", name="Payments EU", exact=True).count() == 0
    assert page.locator("#space-rows > tr").count() == 1


def test_a_space_created_elsewhere_appears_live(server, new_page):  # type: ignore[no-untyped-def]
    delete_all_spaces(server)
    watcher = new_page()
    creator = new_page()
    for page in (watcher, creator):
        page.goto(server.url + "/spaces/")
        page.locator("#live-status[data-state='live']").wait_for()
    assert watcher.locator("#live-status").inner_text().strip() == "Live"
    assert watcher.get_by_text("No agent spaces yet").is_visible()
    watcher.evaluate("window.__notReloaded = true")

    create_through_form(creator, server, "Checkout", "Appears without a reload")

    row = watcher.locator("#space-rows > tr", has_text="Checkout")
    row.wait_for()
    assert row.get_by_role("link", name="Checkout").is_visible()
    assert not watcher.get_by_text("No agent spaces yet").is_visible()
    assert watcher.evaluate("window.__notReloaded") is True
    shot(watcher, "spaces-list-live")


def test_load_more_pages_in_without_a_reload(server, new_page):  # type: ignore[no-untyped-def]
    delete_all_spaces(server)
    create_spaces(server, [f"Space {n:02d}" for n in range(1, 31)])
    page = new_page()
    page.goto(server.url + "/spaces/")
    page.locator("#live-status[data-state='live']").wait_for()
    rows = page.locator("#space-rows > tr[id^='space-']")
    assert rows.count() == 25
    page.evaluate("window.__notReloaded = true")

    # A space created meanwhile belongs to a page not loaded yet: pushed, but not shown...
    create_through_form(new_page(), server, "Space 31")
    late = page.locator("#space-rows > tr", has_text="Space 31")
    late.wait_for(state="attached")
    assert late.is_hidden()

    # ...until "Load more" brings its page, once.
    page.get_by_role("link", name="Load more").click()
    page.get_by_role("link", name="Space 30", exact=True).wait_for()
    expect(rows).to_have_count(31)
    ids = rows.evaluate_all("rows => rows.map(row => row.id)")
    assert len(set(ids)) == 31
    assert late.is_visible()
    assert page.get_by_role("link", name="Load more").count() == 0
    assert page.evaluate("window.__notReloaded") is True
    assert page.url == server.url + "/spaces/"


def test_tags_are_added_and_removed_in_place(server, new_page):  # type: ignore[no-untyped-def]
    delete_all_spaces(server)
    page = new_page()
    create_through_form(page, server, "Tagged")
    page.evaluate("window.__notReloaded = true")
    tags = page.locator("#tags")

    # Hold the request to see the loading bar (inherited hx-indicator) while it waits.
    held = []
    page.route("**/tags/", lambda route: held.append(route))
    page.get_by_label("Key").fill("team")
    page.get_by_label("Value").fill("payments")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator("#loading")).to_have_class(re.compile(r"\bhtmx-request\b"))
    held[0].continue_()
    page.unroute("**/tags/")
    tags.get_by_role("cell", name="team", exact=True).wait_for()
    expect(page.locator("#loading")).not_to_have_class(re.compile(r"\bhtmx-request\b"))
    assert page.get_by_label("Key").input_value() == ""

    # Invalid key: the error shows next to the field, still without a reload.
    page.get_by_label("Key").fill("aws:reserved")
    page.get_by_role("button", name="Add tag").click()
    page.get_by_text("Keys starting with aws: are reserved by AWS.").wait_for()
    shot(page, "space-detail-tags")

    dialogs: list[str] = []

    def accept(dialog):  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Remove tag team").click()
    tags.get_by_text("No tags.").wait_for()
    assert dialogs == ["Remove tag team?"]
    assert page.evaluate("window.__notReloaded") is True


def test_an_aws_error_in_an_htmx_request_shows_an_alert(server, new_page):  # type: ignore[no-untyped-def]
    delete_all_spaces(server)
    page = new_page()
    create_through_form(page, server, "Doomed")
    page.evaluate("window.__notReloaded = true")
    delete_all_spaces(server)  # gone behind the page's back

    page.get_by_label("Key").fill("team")
    page.get_by_role("button", name="Add tag").click()
    alert = page.locator("#alerts .alert-error")
    alert.wait_for()
    assert "Not found." in alert.inner_text()
    assert "was not found" in alert.inner_text()
    assert page.evaluate("window.__notReloaded") is True
    assert page.get_by_label("Key").input_value() == "team"  # nothing typed is lost
    shot(page, "htmx-aws-error")
    alert.get_by_role("button", name="Dismiss").click()
    assert page.locator("#alerts .alert").count() == 0


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_in_both_color_schemes(server, new_page, scheme):  # type: ignore[no-untyped-def]
    delete_all_spaces(server)
    page = new_page(color_scheme=scheme, signed_in=False)
    page.goto(server.url + "/accounts/login/")
    shot(page, f"{scheme}-login")
    sign_in(page, server)
    shot(page, f"{scheme}-inbox-empty")
    page.goto(server.url + "/spaces/")
    assert page.get_by_text("No agent spaces yet").is_visible()
    shot(page, f"{scheme}-spaces-empty")

    page.get_by_role("link", name="Create the first agent space").click()
    page.get_by_role("button", name="Create agent space").click()
    shot(page, f"{scheme}-space-form-errors")
    detail_url = create_through_form(page, server, "Payments", "Card processing and refunds")
    create_through_form(page, server, "Search")
    page.goto(server.url + "/spaces/")
    page.locator("#live-status[data-state='live']").wait_for()
    shot(page, f"{scheme}-spaces-list")

    page.goto(detail_url)
    page.get_by_label("Key").fill("team")
    page.get_by_role("button", name="Add tag").click()
    page.locator("#tags").get_by_role("cell", name="team", exact=True).wait_for()
    # The overview is live.
    page.locator("#live-status[data-state='live']").wait_for()
    shot(page, f"{scheme}-space-detail")

    page.get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name="Delete agent space").click()
    shot(page, f"{scheme}-space-delete")

    response = page.goto(server.url + "/spaces/no-such-space/nothing-here/")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    shot(page, f"{scheme}-404")
