"""Escalating an investigation to AWS Support in a real browser: Debian's chromium driven by
Playwright against daphne on the seeded sandbox (its simulated engineer at SANDBOX_PACE 10).

An operator opens an investigation, sees the support level, escalates, waits for the engineer
to greet them, asks about logs and reads the answer as the chat page refreshes itself, then
ends the chat. Screenshots (wide and narrow, light and dark) go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, require_chromium, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    env = {"SANDBOX_PACE": "10", "SANDBOX_CHROMIUM": ""}
    with LiveServer(tmp_path_factory.mktemp("support"), extra_env=env) as live:
        live.manage("seed_sandbox")
        yield live


@pytest.fixture(scope="module")
def investigation(server: LiveServer) -> dict[str, str]:
    out = server.shell(
        "import json\n"
        "from dashboard.sandbox.models import AgentSpace, BacklogTask\n"
        "space = AgentSpace.objects.get(name='Payments platform')\n"
        "task = BacklogTask.objects.filter(space=space, task_type='INVESTIGATION')"
        ".order_by('created_at').first()\n"
        "print(json.dumps({'space': space.pk, 'task': task.pk, 'title': task.title}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


def test_an_operator_escalates_chats_with_the_engineer_and_ends_the_chat(
    server, investigation, new_page
):
    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm asks first
    task_url = f"{server.url}/spaces/{investigation['space']}/tasks/{investigation['task']}/"
    page.goto(task_url)

    card = page.locator("#task-support")
    expect(card).to_contain_text("Business")  # DescribeSupportLevel, loaded after the page
    card.get_by_role("button", name="Escalate to AWS Support").click()

    page.wait_for_url(re.compile(r"/support/$"))
    expect(page.locator(".alert-success")).to_contain_text("Escalated to AWS Support")
    transcript = page.locator("#support-transcript")
    expect(transcript).to_contain_text("from AWS Support", timeout=20_000)  # greeted
    expect(transcript).to_contain_text(investigation["title"])

    page.get_by_label("Message to AWS Support").fill("Could you check the logs on your side?")
    page.get_by_role("button", name="Send").click()
    expect(transcript).to_contain_text("Could you check the logs on your side?")
    expect(transcript).to_contain_text("CloudWatch log group", timeout=20_000)  # answered
    expect(page.get_by_label("Message to AWS Support")).to_have_value("")
    shot(page, "support-chat-wide-light")

    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "support-chat-narrow-light")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="End the chat").click()
    expect(page.locator(".alert-success")).to_contain_text("The support chat has ended.")
    expect(page.get_by_text("No case chat is open")).to_be_visible()


def test_the_chat_in_dark_and_the_card_for_a_viewer_of_the_console(server, investigation, new_page):
    page = new_page("dark")
    page.on("dialog", lambda dialog: dialog.accept())
    base = f"{server.url}/spaces/{investigation['space']}/tasks/{investigation['task']}"
    page.goto(base + "/")
    page.locator("#task-support").get_by_role("button", name="Escalate to AWS Support").click()
    page.wait_for_url(re.compile(r"/support/$"))
    expect(page.locator("#support-transcript")).to_contain_text("from AWS Support", timeout=20_000)
    shot(page, "support-chat-wide-dark")
    page.goto(base + "/")
    expect(page.locator("#task-support")).to_contain_text("A case chat is open")
    shot(page, "support-card-task-page-dark")
    page.goto(base + "/support/")
    page.get_by_role("button", name="End the chat").click()
    expect(page.get_by_text("No case chat is open")).to_be_visible()
