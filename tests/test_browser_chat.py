"""Chat in a real browser: Debian's chromium driven by Playwright against daphne, the sandbox's
agent streaming a token every 30 ms.

Typed text gets a reply that visibly grows token by token (screenshots mid-reply and at the
end, in test-artifacts/), a second tab sees the same reply live, a prompt's choice is sent back,
and the page without JavaScript still sends and shows the reply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, require_chromium, shot

pytestmark = pytest.mark.browser

CHAT_ENV = {"SANDBOX_CHAT_TOKEN_SECONDS": "0.03"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("chat-console"), extra_env=CHAT_ENV) as live:
        yield live


def setup_chat(server: LiveServer) -> dict:
    """A space with open high-priority tasks and a chat in it."""
    out = server.shell(
        "import json\n"
        "from dashboard.aws import chat, spaces, tasks\n"
        "space = spaces.create_space(name='Checkout')\n"
        "sid = space['agentSpaceId']\n"
        "for title, prio in (('Elevated 5xx on checkout-api', 'CRITICAL'),"
        " ('p99 latency regression on ledger-service', 'HIGH')):\n"
        "    tasks.create_task(sid, task_type='INVESTIGATION', title=title, priority=prio)\n"
        "print(json.dumps({'space': sid, 'chat': chat.create_chat(sid)['executionId']}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


def test_typed_text_gets_a_reply_that_grows_token_by_token(new_page, server):
    ids = setup_chat(server)
    url = f"{server.url}/spaces/{ids['space']}/chat/{ids['chat']}/"
    page = new_page()
    page.goto(url)
    other = new_page()  # a teammate with the same chat open
    other.goto(url)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    box = page.get_by_label("Message")
    box.fill("What is open?")
    box.press("Enter")
    reply = page.locator("#chat-live .exchange .block-text").first
    expect(reply).to_contain_text("high-priority", timeout=15_000)
    raw = page.locator("#chat-live .exchange [id$='-raw']").last
    grown = []
    for _ in range(4):  # the text grows while we watch (until the block ends as Markdown)
        if raw.count() == 0:
            break
        grown.append(len(raw.inner_text()))
        page.wait_for_timeout(150)
    shot(page, "chat-mid-reply")
    assert len(grown) >= 2 and grown == sorted(grown) and grown[-1] > grown[0], grown
    expect(page.locator("#chat-live .xstatus")).to_have_text("Done", timeout=20_000)
    expect(page.locator("#chat-live .md li strong").first).to_have_text("CRITICAL")
    expect(page.locator("#chat-live .xsummary")).to_contain_text("Listed 2 open")
    expect(page.locator("#chat-live .usage")).to_contain_text("Tokens:")
    expect(box).to_have_value("")
    shot(page, "chat-reply-done")
    # The teammate saw the same reply, live.
    expect(other.locator("#chat-live .xstatus")).to_have_text("Done")
    assert (
        other.locator("#chat-live .block-text .md").inner_text()
        == page.locator("#chat-live .block-text .md").inner_text()
    )
    # The tool call is a collapsed section with its result nested under it.
    tool = page.locator("#chat-live details.tool").first
    expect(tool).to_contain_text("Tool call: ListBacklogTasks")
    expect(page.locator("#chat-live .kids details.tool").first).to_contain_text("Result")

    # The agent's prompt: choosing sends the answer back.
    box.fill("Can you restart checkout-api for the 5xx?")
    box.press("Enter")
    choice = page.locator("#chat-live .choices button", has_text="Start the mitigation")
    expect(choice).to_be_visible(timeout=20_000)
    shot(page, "chat-prompt")
    choice.click()
    expect(page.locator("#chat-live .exchange").last).to_contain_text(
        "You chose Start the mitigation", timeout=20_000
    )

    # Reopening the chat shows the whole conversation again.
    page.reload()
    expect(page.locator(".exchange")).to_have_count(3)
    expect(page.locator(".xstatus").last).to_have_text("Done")


def test_without_javascript_the_form_waits_for_the_reply(new_page, server):
    ids = setup_chat(server)
    page = new_page(javascript=False)
    page.goto(f"{server.url}/spaces/{ids['space']}/chat/{ids['chat']}/")
    page.get_by_label("Message").fill("What is open?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    expect(page.locator(".exchange .xstatus").last).to_have_text("Done")
    expect(page.locator(".exchange .md li strong").first).to_have_text("CRITICAL")
    shot(page, "chat-no-javascript")


def test_without_javascript_the_agents_prompt_can_be_answered(new_page, server):
    ids = setup_chat(server)
    page = new_page(javascript=False)
    page.goto(f"{server.url}/spaces/{ids['space']}/chat/{ids['chat']}/")
    page.get_by_label("Message").fill("Can you restart checkout-api for the 5xx?")
    page.get_by_role("button", name="Send").click()
    choice = page.locator(".choices button", has_text="Start the mitigation")
    expect(choice).to_be_visible()
    choice.click()
    page.wait_for_load_state()
    expect(page.locator(".exchange").last).to_contain_text("You chose Start the mitigation")
    expect(page.locator(".exchange .xstatus").last).to_have_text("Done")


def test_without_javascript_a_message_sent_mid_reply_is_kept_with_the_reason(new_page, server):
    ids = setup_chat(server)
    url = f"{server.url}/spaces/{ids['space']}/chat/{ids['chat']}/"
    teammate = new_page()
    teammate.goto(url)
    expect(teammate.locator("#live-status")).to_have_attribute("data-state", "live")
    teammate.get_by_label("Message").fill("What is open?")
    teammate.get_by_label("Message").press("Enter")
    expect(teammate.locator("#chat-live .xstatus")).to_have_text("Replying…", timeout=15_000)
    page = new_page(javascript=False)
    page.goto(url)
    page.get_by_label("Message").fill("And the ledger?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    expect(page.locator("#composer .alert-error")).to_contain_text("still replying")
    expect(page.get_by_label("Message")).to_have_value("And the ledger?")
    shot(page, "chat-no-javascript-busy")
    expect(teammate.locator("#chat-live .xstatus")).to_have_text("Done", timeout=20_000)


# A socket that never opens, as behind a proxy that does not pass websockets.
NO_WEBSOCKET = """
window.WebSocket = class extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    setTimeout(() => {
      this.readyState = 3;
      const close = new CloseEvent("close", { code: 1006, wasClean: false });
      if (this.onclose) this.onclose(close);
      this.dispatchEvent(close);
    }, 50);
  }
  send() { throw new DOMException("Still in CONNECTING state.", "InvalidStateError"); }
  close() {}
};
Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
Object.assign(window.WebSocket.prototype, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
"""


def test_without_a_websocket_the_form_falls_back_to_a_plain_post(new_page, server):
    ids = setup_chat(server)
    page = new_page()
    page.add_init_script(NO_WEBSOCKET)
    page.goto(f"{server.url}/spaces/{ids['space']}/chat/{ids['chat']}/")
    box = page.get_by_label("Message")
    box.fill("What is open?")
    box.press("Enter")
    expect(page.locator(".exchange .xstatus").last).to_have_text("Done", timeout=20_000)
    expect(page.locator(".exchange .md li strong").first).to_have_text("CRITICAL")
    expect(page.get_by_label("Message")).to_have_value("")
