"""The code interpreter and the runtime playground in a real browser: Debian's chromium driven by
Playwright against daphne, the sandbox pacing output lines and tokens so they visibly stream.

Code typed into a session's page runs with Ctrl+Enter and its output grows line by line
(screenshots mid-run and at the end, in test-artifacts/), a teammate's tab sees the same
output, switching tools keeps the typed code, the no-JavaScript form still runs code and shows
the output, and a runtime's answer grows token by token. Pages are photographed light and dark.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, require_chromium, shot

pytestmark = pytest.mark.browser

ENV = {"SANDBOX_CODE_STEP_SECONDS": "0.2", "SANDBOX_RUNTIME_TOKEN_SECONDS": "0.03"}
CODE = (
    "import time\n"
    "shards = ['eu-1', 'eu-2', 'us-1', 'us-2']\n"
    "for shard in shards:\n"
    "    print('checking', shard, '... ok')\n"
    "    time.sleep(0.5)\n"
    "errors = 3 * 7\n"
    "print(f'{errors} errors in the last hour')\n"
    "import pandas\n"
)
ASSISTANT = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/sre_assistant-Sbx7Qm2LpA"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("code-console"), extra_env=ENV) as live:
        yield live


def start_session(server: LiveServer, name: str) -> str:
    out = server.shell(
        "from dashboard.aws import agentcore_code as c\n"
        f"print(c.start_session('aws.codeinterpreter.v1', name={name!r})['sessionId'])\n"
    )
    return out.strip().splitlines()[-1]


def session_url(server: LiveServer, session_id: str) -> str:
    return f"{server.url}/agentcore/code-interpreters/aws.codeinterpreter.v1/sessions/{session_id}/"


def test_code_runs_and_its_output_streams_to_every_viewer(new_page, server):
    session_id = start_session(server, "incident 4711 triage")
    page = new_page()
    page.goto(session_url(server, session_id))
    teammate = new_page()
    teammate.goto(session_url(server, session_id))
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(teammate.locator("#live-status")).to_have_attribute("data-state", "live")
    page.locator("#id_code").fill(CODE)
    page.locator("#id_code").press("Control+Enter")
    terminal = page.locator("#ci-runs .ci-term").first
    expect(terminal).to_contain_text("checking eu-1", timeout=15_000)
    grown = []
    for _ in range(4):  # the output grows while we watch
        grown.append(len(terminal.inner_text()))
        page.wait_for_timeout(400)
    shot(page, "code-interpreter-mid-run")
    assert grown == sorted(grown) and grown[-1] > grown[0], grown
    expect(page.locator("#ci-runs .ci-state").first).to_have_text("Done", timeout=15_000)
    expect(terminal).to_contain_text("21 errors in the last hour")
    expect(page.locator("#ci-runs .ci-stderr").first).to_contain_text("import pandas")
    expect(page.locator("#ci-runs .ci-note").first).to_contain_text("no code was executed")
    expect(page.locator("#ci-runs .ci-facts").first).to_contain_text("Exit code")
    shot(page, "code-interpreter-done")
    # The teammate saw the same output, live.
    expect(teammate.locator("#ci-runs .ci-state").first).to_have_text("Done")
    assert teammate.locator("#ci-runs .ci-term").first.inner_text() == terminal.inner_text()

    # Switching tools keeps the typed code; a command's output streams the same way.
    page.locator(".ci-tool", has_text="Run a command").click()
    expect(page.locator("#id_code")).to_be_hidden()
    page.locator("#id_command").fill("echo 'shard eu-2 lagging' > notes.txt && cat notes.txt")
    page.locator("#ci-run").click()
    expect(page.locator("#ci-runs .ci-term").first).to_contain_text("shard eu-2 lagging")
    page.locator(".ci-tool", has_text="List files").click()
    page.locator("#ci-run").click()
    expect(page.locator("#ci-runs .ci-link").first).to_contain_text("notes.txt")
    page.locator(".ci-tool", has_text="Run code").click()
    expect(page.locator("#id_code")).to_have_value(CODE)
    assert "tool=executeCode" in page.url

    # Variables stay in the session: the next run uses `errors`.
    page.locator("#id_code").fill("errors * 2")
    page.locator("#id_code").press("Control+Enter")
    expect(page.locator("#ci-runs .ci-term").first).to_have_text("42\n")
    page.reload()
    expect(page.locator("#ci-runs .ci-run")).to_have_count(4)


def test_the_session_pages_in_light_and_dark(new_page, server):
    session_id = start_session(server, "dark mode check")
    for scheme in ("light", "dark"):
        page = new_page(color_scheme=scheme)
        page.goto(f"{server.url}/agentcore/code-interpreters/")
        expect(page.locator("#code-results")).to_contain_text("dark mode check")
        shot(page, f"code-interpreter-list-{scheme}")
        page.goto(session_url(server, session_id))
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        page.locator("#id_code").fill("print('hello from', 'the ' + 'sandbox')\nprint(1/0)")
        page.locator("#id_code").press("Control+Enter")
        expect(page.locator("#ci-runs .ci-state").first).to_have_text(
            "Finished with an error", timeout=15_000
        )
        shot(page, f"code-interpreter-session-{scheme}")


def test_without_javascript_the_form_runs_and_shows_the_output(new_page, server):
    session_id = start_session(server, "no js")
    page = new_page(javascript=False)
    page.goto(session_url(server, session_id))
    page.get_by_label("Code", exact=True).fill("print(2 ** 10)")
    page.get_by_role("button", name="Run").click()
    page.wait_for_load_state()
    expect(page.locator("#ci-runs .ci-term").first).to_have_text("1024\n")
    expect(page.get_by_label("Code", exact=True)).to_have_value("print(2 ** 10)")
    # A tool chosen by its link, without JavaScript.
    page.get_by_role("link", name="Write a file").click()
    page.get_by_label("Path", exact=True).fill("report.txt")
    page.get_by_label("Content").fill("all shards healthy")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#ci-runs .ci-run").first).to_contain_text("Successfully wrote 1 of 1")


def test_a_runtime_answer_grows_token_by_token(new_page, server):
    page = new_page()
    page.goto(f"{server.url}/agentcore/runtime/")
    page.get_by_role("link", name="sre_assistant").click()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.locator("#id_payload").fill('{"prompt": "checkout-api p99 latency doubled since 14:05"}')
    page.locator("#id_payload").press("Control+Enter")
    answer = page.locator("#rt-runs .rt-text").first
    expect(answer).to_contain_text("You asked", timeout=15_000)
    grown = []
    for _ in range(4):
        grown.append(len(answer.inner_text()))
        page.wait_for_timeout(300)
    shot(page, "runtime-mid-answer")
    assert grown == sorted(grown) and grown[-1] > grown[0], grown
    expect(page.locator("#rt-runs .ci-state").first).to_have_text("Done", timeout=20_000)
    expect(page.locator("#rt-runs .rt-answer strong").first).to_contain_text(
        "latency on checkout-api"
    )
    shot(page, "runtime-answer-done")
    # A teammate opening the same address sees the same session's answer.
    other = new_page(color_scheme="dark")
    other.goto(page.url)
    expect(other.locator("#rt-runs .rt-answer")).to_contain_text("latency on checkout-api")
    shot(other, "runtime-answer-dark")
    # Invalid JSON is refused next to the payload, which stays as typed.
    page.locator("#id_payload").fill('{"prompt": "oops"')
    page.locator("#id_payload").press("Control+Enter")
    expect(page.locator("#rt-err-payload")).to_contain_text("not valid JSON")
    expect(page.locator("#id_payload")).to_have_value('{"prompt": "oops"')
    expect(page.locator("#rt-run")).to_be_enabled()


def test_removing_files_asks_first(new_page, server):
    # Deleting files from the session could not be taken back, yet ran at once.
    session_id = start_session(server, "remove files")
    page = new_page()
    page.goto(session_url(server, session_id))
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.locator(".ci-tool", has_text="Remove files").click()
    page.locator("#id_paths").fill("notes.txt\nreport.txt")
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.locator("#ci-run").click()
    page.wait_for_timeout(800)
    assert asked and "2 paths" in asked[0]
    expect(page.locator("#ci-runs .ci-run")).to_have_count(0)
    expect(page.locator("#id_paths")).to_have_value("notes.txt\nreport.txt")
    page.once("dialog", lambda d: answer(d, True))
    page.locator("#ci-run").click()
    expect(page.locator("#ci-runs .ci-run")).to_have_count(1, timeout=15_000)
    assert len(asked) == 2
