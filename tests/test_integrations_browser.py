"""Registering an MCP server in a real browser (Debian's chromium through Playwright): the type
picker, the generated form with its authorization variants, a refused value, the secret field
left empty after the refusal, the registered service's page; then associating it with a space.
Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser_support import WIDE, LiveServer, launch_chromium, require_chromium, shot, sign_in

pytestmark = pytest.mark.browser

SECRET = "mcp-key-2f9c41d7e0"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("integrations-console")) as live:
        live.shell("from dashboard.aws import spaces; spaces.create_space(name='Payments')")
        yield live


@pytest.fixture
def page(server: LiveServer):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport=WIDE)
        context.set_default_timeout(15_000)
        tab = context.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(tab, server)
        yield tab
        context.close()
        browser.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_an_admin_registers_an_mcp_server_and_associates_it(page, server: LiveServer):
    page.goto(server.url + "/services/")
    expect(page.get_by_role("heading", name="No services registered yet")).to_be_visible()
    page.get_by_role("link", name="Register a service").first.click()
    expect(page.get_by_role("heading", name="Register a service")).to_be_visible()
    shot(page, "integrations-01-type-picker")
    page.get_by_role("link", name="MCP server Any Model Context Protocol server").click()
    expect(page.get_by_role("heading", name="Register MCP server")).to_be_visible()

    # Only the chosen authorization's fields show.
    page.get_by_label("Server name").fill("runbooks")
    page.get_by_label("Endpoint URL").fill("http://runbooks.internal/mcp")  # not https: refused
    page.get_by_label("Description").fill("Team runbooks")
    key_value = page.locator(
        '[name="serviceDetails.mcpserver.authorizationConfig.apiKey.apiKeyValue"]'
    )
    expect(key_value).to_be_hidden()
    page.get_by_label("API key", exact=True).check()
    expect(key_value).to_be_visible()
    expect(
        page.locator('[name="serviceDetails.mcpserver.authorizationConfig.bearerToken.tokenValue"]')
    ).to_be_hidden()
    page.locator('[name="serviceDetails.mcpserver.authorizationConfig.apiKey.apiKeyName"]').fill(
        "console"
    )
    key_value.fill(SECRET)
    page.locator('[name="serviceDetails.mcpserver.authorizationConfig.apiKey.apiKeyHeader"]').fill(
        "X-API-Key"
    )
    shot(page, "integrations-02-mcp-form")
    page.get_by_role("button", name="Register MCP server").click()

    # Refused: the error is next to the endpoint, everything but the secret is kept.
    expect(page.get_by_text("Enter an https:// URL")).to_be_visible()
    expect(page.get_by_label("Server name")).to_have_value("runbooks")
    expect(key_value).to_have_value("")
    expect(key_value).to_be_visible()  # the chosen variant is still the one shown
    assert SECRET not in page.content()
    shot(page, "integrations-03-refused")
    page.get_by_label("Endpoint URL").fill("https://runbooks.example.com/mcp")
    key_value.fill(SECRET)
    page.get_by_role("button", name="Register MCP server").click()

    expect(page.get_by_role("heading", name="runbooks")).to_be_visible()
    expect(page.get_by_text("Registered runbooks.")).to_be_visible()
    expect(page.get_by_text("Not associated with any agent space.")).to_be_visible()
    assert SECRET not in page.content()
    shot(page, "integrations-04-service")

    # Associate it with a space.
    page.goto(server.url + "/spaces/")
    page.get_by_role("link", name="Payments").first.click()
    page.get_by_role("link", name="Associations").click()
    page.get_by_role("link", name="Associate a service").first.click()
    page.get_by_role("link", name="runbooks").click()
    page.get_by_label("Tools").fill("search_runbooks\nget_owner")
    page.get_by_role("button", name="Associate").click()
    expect(page.get_by_text("Associated runbooks with Payments.")).to_be_visible()
    shot(page, "integrations-05-association")
    page.get_by_role("navigation", name="Agent space").get_by_role(
        "link", name="Associations"
    ).click()
    expect(page.get_by_role("cell", name="2 tools: search_runbooks, get_owner")).to_be_visible()
    shot(page, "integrations-06-associations")


def test_an_admin_links_two_agent_spaces_choosing_or_typing_the_target(page, server: LiveServer):
    server.shell("from dashboard.aws import spaces; spaces.create_space(name='Fraud')")
    page.goto(server.url + "/services/new/agentspace/")
    page.get_by_label("Display name").fill("Space links")
    page.get_by_label("Role ARN the agent assumes").fill(
        "arn:aws:iam::123456789012:role/LinkedSpaces"
    )
    page.get_by_role("button", name="Register Linked agent spaces").click()
    expect(page.get_by_role("heading", name="Space links")).to_be_visible()

    page.goto(server.url + "/spaces/")
    page.get_by_role("link", name="Payments").first.click()
    page.get_by_role("link", name="Associations").click()
    page.get_by_role("link", name="Associate a service").first.click()
    page.get_by_role("link", name="Space links").click()
    target = page.get_by_label("Agent space to link")
    typed = page.locator('input[name="configuration.agentspace.targetAgentSpaceArn"]')
    expect(typed).to_be_hidden()  # a choice among the account's spaces first
    target.select_option("_other")
    expect(typed).to_be_visible()
    expect(typed).to_be_focused()
    typed.fill("arn:aws:aidevops:us-east-1:123456789012:agentspace/gone")
    page.get_by_label("Relationship").select_option("member")
    page.get_by_role("button", name="Associate").click()
    expect(page.get_by_text("No agent space has this ARN")).to_be_visible()
    expect(typed).to_be_visible()  # what was typed stays, and in sight
    expect(typed).to_have_value("arn:aws:aidevops:us-east-1:123456789012:agentspace/gone")
    shot(page, "integrations-07-link-refused")

    target.select_option(label="Fraud")
    expect(typed).to_be_hidden()
    page.get_by_role("button", name="Associate").click()
    expect(page.get_by_text("Associated Space links with Payments.")).to_be_visible()
    expect(page.get_by_role("link", name="Fraud")).to_be_visible()
    shot(page, "integrations-08-linked")
