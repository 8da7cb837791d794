"""What the AgentCore pages offer to pick from comes from the control plane
(`bedrock-agentcore-control`), as it would on AWS: agent runtimes and their endpoints on the
runtime playground, browsers on the browser sessions list, code interpreters on the code
interpreter list; each list follows the API's pages, a typed id still works, and a list AWS
refuses is explained while the page keeps working. (Memories and flows: in their own view
tests.)"""

from __future__ import annotations

import html as html_lib
from urllib.parse import urlsplit

import pytest

from dashboard.aws import agentcore_code as code_api
from dashboard.aws import agentcore_runtime as runtime_api
from dashboard.aws import browser as browser_api
from dashboard.aws import errors
from dashboard.sandbox import runtime_agent, wire

from .agentcore_code_support import ASSISTANT, ECHO

pytestmark = pytest.mark.django_db
PLAYGROUND = "/agentcore/runtime/"
CONTROL = "bedrock-agentcore-control"


@pytest.fixture
def control_calls(monkeypatch):
    """The control-plane operations each request made, by name, in order."""
    made: list[str] = []
    original = wire.dispatch

    def spy(service, method, url, headers, body):
        if service == CONTROL:
            op, _ = wire.route(service, method, urlsplit(url).path, {})
            made.append(op.name)
        return original(service, method, url, headers, body)

    monkeypatch.setattr(wire, "dispatch", spy)
    return made


def _html(client, url: str, status: int = 200, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == status, response.content.decode()[:1500]
    return response.content.decode()


def _denied(action: str):
    def refuse(*_, **__):
        raise errors.AccessDenied(f"Not authorized: {action}", code="AccessDeniedException")

    return refuse


# --- runtime playground ---------------------------------------------------------------------


def test_the_playground_lists_the_accounts_runtimes_as_links_and_choices(viewer_client):
    html = _html(viewer_client, PLAYGROUND)
    listed = html.split('aria-label="Agent runtimes"')[1].split("</ul>")[0]
    datalist = html.split('id="rt-runtime-arns"')[1].split("</datalist>")[0]
    for runtime in runtime_agent.RUNTIMES.values():
        assert runtime.name in listed
        assert f'value="{runtime_agent.arn_of(runtime, "us-east-1", "123456789012")}"' in datalist
    assert 'list="rt-runtime-arns"' in html


def test_the_playground_pages_the_runtimes(viewer_client, monkeypatch):
    from dashboard.agentcore import views_runtime

    monkeypatch.setattr(views_runtime, "RUNTIME_PAGE", 1)
    first = _html(viewer_client, PLAYGROUND)
    listed = first.split('aria-label="Agent runtimes"')[1].split("</ul>")[0]
    assert listed.count("<li>") == 1
    more = html_lib.unescape(first.split('">More runtimes</a>')[0].rsplit('href="', 1)[1])
    second = _html(viewer_client, more)
    listed_too = second.split('aria-label="Agent runtimes"')[1].split("</ul>")[0]
    names = {r.name for r in runtime_agent.RUNTIMES.values() if r.name in listed + listed_too}
    assert names == {r.name for r in runtime_agent.RUNTIMES.values()}
    assert "First runtimes" in second and "More runtimes" not in second


def test_a_chosen_runtime_offers_its_endpoints_as_qualifiers(viewer_client):
    session = "console-0123456789abcdef0123456789abcdef"
    html = _html(viewer_client, PLAYGROUND, arn=ASSISTANT, session=session)
    datalist = html.split('id="rt-endpoint-names"')[1].split("</datalist>")[0]
    assert 'value="DEFAULT"' in datalist and 'value="prod"' in datalist
    assert "version 2" in datalist
    # Any qualifier may still be typed: the field is free text with the list as a hint.
    assert 'list="rt-endpoint-names"' in html and 'name="qualifier"' in html
    echo = _html(viewer_client, PLAYGROUND, arn=ECHO, session=session)
    assert 'value="prod"' not in echo.split('id="rt-endpoint-names"')[1].split("</datalist>")[0]


def test_runtime_endpoints_are_read_across_pages(monkeypatch):
    # Asked for one endpoint a page, the sandbox answers so; every page is read.
    original = runtime_api.collect

    def one_a_page(*args, **kwargs):
        return original(*args, **kwargs, maxResults=1)

    monkeypatch.setattr(runtime_api, "collect", one_a_page)
    names = [e["name"] for e in runtime_api.list_endpoints(ASSISTANT)]
    assert names == ["DEFAULT", "prod"]


def test_the_playground_says_why_runtimes_are_not_listed_and_a_typed_arn_still_works(
    viewer_client, monkeypatch
):
    monkeypatch.setattr(
        runtime_api, "list_runtimes", _denied("bedrock-agentcore:ListAgentRuntimes")
    )
    html = _html(viewer_client, PLAYGROUND)
    assert "bedrock-agentcore:ListAgentRuntimes" in html
    response = viewer_client.get(PLAYGROUND, {"arn": ASSISTANT})
    assert response.status_code == 302  # opened with a new session, as before


# --- browsers and code interpreters ---------------------------------------------------------


def test_the_browser_sessions_list_offers_the_accounts_browsers(viewer_client, control_calls):
    html = _html(viewer_client, "/agentcore/browsers/")
    datalist = html.split('id="browser-ids"')[1].split("</datalist>")[0]
    assert 'value="aws.browser.v1"' in datalist and 'list="browser-ids"' in html
    assert "?browser=aws.browser.v1" in html
    assert control_calls == ["ListBrowsers"]


def test_the_browser_list_says_why_browsers_are_not_listed(viewer_client, monkeypatch):
    monkeypatch.setattr(browser_api, "list_browsers", _denied("bedrock-agentcore:ListBrowsers"))
    html = _html(viewer_client, "/agentcore/browsers/")
    assert "bedrock-agentcore:ListBrowsers" in html and 'name="browser"' in html


def test_the_code_interpreter_list_offers_the_accounts_interpreters(viewer_client, control_calls):
    html = _html(viewer_client, "/agentcore/code-interpreters/")
    datalist = html.split('id="ci-interpreters"')[1].split("</datalist>")[0]
    assert 'value="aws.codeinterpreter.v1"' in datalist and 'list="ci-interpreters"' in html
    assert control_calls == ["ListCodeInterpreters"]


def test_the_code_interpreter_list_says_why_interpreters_are_not_listed(viewer_client, monkeypatch):
    monkeypatch.setattr(
        code_api, "list_interpreters", _denied("bedrock-agentcore:ListCodeInterpreters")
    )
    html = _html(viewer_client, "/agentcore/code-interpreters/")
    assert "bedrock-agentcore:ListCodeInterpreters" in html


def test_tool_lists_follow_every_page(monkeypatch):
    # collect() follows nextToken: with pages of one, every item still arrives.
    from dashboard.aws import clients

    pages: list[dict] = []
    original = clients.call

    def counting(service, operation, /, **params):
        answer = original(service, operation, **params)
        pages.append(answer)
        return answer

    monkeypatch.setattr(clients, "call", counting)
    everything = clients.collect(CONTROL, "ListAgentRuntimes", "agentRuntimes", maxResults=1)
    assert len(pages) == len(runtime_agent.RUNTIMES) and len(everything) == len(pages)
    capped = clients.collect(CONTROL, "ListAgentRuntimes", "agentRuntimes", limit=1, maxResults=1)
    assert len(capped) == 1
