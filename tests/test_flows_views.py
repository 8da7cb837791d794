"""The flow trace pages on the seeded sandbox: choosing an execution (ids, ARNs, suggestions,
recent), the timeline rendering of each event kind, the Node/Flow filter, paging up to 1,000
with flow events merged once into the right page, ids checked before AWS is asked, escaping."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
import time_machine
from django.urls import reverse

from dashboard.aws import flows as flows_api
from dashboard.flows.templatetags.flow_trace import flow_event
from dashboard.sandbox import demo_flows, wire
from dashboard.sandbox.models import FlowExecution, FlowExecutionEvent

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
FLOW, PROD, TEST = demo_flows.FLOW_ID, demo_flows.PROD_ALIAS, demo_flows.TEST_ALIAS


@pytest.fixture(autouse=True)
def seeded():
    with time_machine.travel(START, tick=False):
        demo_flows.seed_flows(START)
        yield


@pytest.fixture
def calls(monkeypatch):
    made: list[str] = []
    original = wire.dispatch

    def spy(service, method, url, headers, body):
        made.append(url)
        return original(service, method, url, headers, body)

    monkeypatch.setattr(wire, "dispatch", spy)
    return made


def _url(name: str, alias: str = PROD, **query: str) -> str:
    url = reverse("flows:trace", args=[FLOW, alias, demo_flows.execution_id(name)])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def _page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def _entries(html: str) -> list[str]:
    """The kinds of the timeline's entries, in order."""
    return [chunk.split('"')[0] for chunk in html.split(" kind-")[1:]]


# --- choosing --------------------------------------------------------------------------------


def test_the_chooser_lists_the_accounts_flows_from_the_control_plane(viewer_client, calls):
    html = _page(viewer_client, reverse("flows:choose"))
    listed = html.split('aria-label="Flows"')[1].split("</ul>")[0]
    assert demo_flows.FLOW_NAME in listed and reverse("flows:flow", args=[FLOW]) in listed
    assert [c.split("?")[0].rsplit("/", 2)[-2] for c in calls] == ["flows"]  # ListFlows


def test_the_chooser_pages_the_flows(viewer_client):
    from dashboard.sandbox.models import Flow

    for index in range(11):  # 12 flows: more than one API page of 10
        Flow.objects.create(
            flow_id=f"EXTRAFL{index:03d}", name=f"Extra{index}", created_at=START, updated_at=START
        )
    html = _page(viewer_client, reverse("flows:choose"))
    first = html.split('aria-label="Flows"')[1].split("</ul>")[0]
    assert first.count(reverse("flows:choose")[:-1] + "/") >= 10
    more = html_lib.unescape(first.split('hx-get="')[1].split('"')[0])
    fragment = viewer_client.get(more, HTTP_HX_REQUEST="true").content.decode()
    shown = {f"EXTRAFL{i:03d}" for i in range(11) if f"EXTRAFL{i:03d}" in first + fragment}
    assert len(shown) == 11 and FLOW in first + fragment
    assert "<html" not in fragment


def test_the_flow_page_lists_its_executions_newest_first_with_their_status(viewer_client):
    html = _page(viewer_client, reverse("flows:flow", args=[FLOW]))
    rows = html.split('id="flow-executions"')[1].split("</tbody>")[0]
    running = _url("running-payments")
    blocked = _url("blocked-prompt-attack", TEST)
    assert running in rows and blocked in rows
    assert rows.index(running) < rows.index(_url("critical-checkout")) < rows.index(blocked)
    assert "Running" in rows and "Succeeded" in rows and "Failed" in rows
    assert "DRAFT" in rows  # the test alias runs the draft


def test_the_flow_page_filters_by_alias_from_the_alias_list(viewer_client):
    html = _page(viewer_client, reverse("flows:flow", args=[FLOW]))
    nav = html.split('aria-label="Alias"')[1].split("</nav>")[0]
    links = [html_lib.unescape(a.split('"')[0]) for a in nav.split('href="')[1:]]
    test_link = next(link for link in links if link.endswith(f"?alias={TEST}"))
    only = _page(viewer_client, test_link)
    rows = only.split('id="flow-executions"')[1].split("</tbody>")[0]
    assert _url("blocked-prompt-attack", TEST) in rows
    assert _url("critical-checkout") not in rows


def test_the_flow_page_pages_executions_ten_at_a_time(viewer_client):
    execution = FlowExecution.objects.get(pk=demo_flows.execution_id("critical-checkout"))
    for index in range(8):  # 13 executions: two pages
        FlowExecution.objects.create(
            execution_id=f"extra-{index:02d}",
            flow_id=FLOW,
            flow_alias_id=PROD,
            started_at=execution.started_at - dt.timedelta(days=10, minutes=index),
        )
    html = _page(viewer_client, reverse("flows:flow", args=[FLOW]))
    rows = html.split('id="flow-executions"')[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 10
    more = html_lib.unescape(rows.split('hx-get="')[1].split('"')[0])
    fragment = viewer_client.get(more, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.count("<tr>") == 3 and "extra-07" in fragment and "<html" not in fragment
    assert "Back to the newest" in _page(viewer_client, more)


def test_an_unknown_flow_comes_back_to_the_chooser(viewer_client):
    html = _page(viewer_client, reverse("flows:flow", args=["NOSUCHFLOW"]), 404)
    assert "NOSUCHFLOW" in html and "Open an execution" in html


def test_the_trace_names_the_executions_status_from_get_flow_execution(viewer_client):
    html = _page(viewer_client, _url("warning-ledger-timeout"))
    head = html.split('class="page-head"')[1].split("</div>")[0]
    assert "Failed" in head and "TriageAgent" in head and "version 3" in head


def test_the_chooser_opens_ids_and_reads_ids_out_of_an_execution_arn(viewer_client):
    execution = demo_flows.execution_id("critical-checkout")
    response = viewer_client.get(
        reverse("flows:choose"), {"flow": FLOW, "alias": PROD, "execution": execution}
    )
    assert response["Location"] == _url("critical-checkout")
    arn = f"arn:aws:bedrock:us-east-1:123456789012:flow/{FLOW}/alias/{PROD}/execution/{execution}"
    response = viewer_client.get(reverse("flows:choose"), {"flow": arn, "execution": arn})
    assert response["Location"] == _url("critical-checkout")
    response = viewer_client.get(reverse("flows:choose"), {"flow": "", "execution": arn})
    assert response["Location"] == _url("critical-checkout")


def test_the_chooser_explains_bad_ids_and_keeps_them(viewer_client, calls):
    response = viewer_client.get(
        reverse("flows:choose"), {"flow": "short", "alias": "", "execution": "x" * 40}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("errorlist") == 3
    assert 'value="short"' in html
    assert [c for c in calls if "bedrock-agent-runtime" in c] == []


def test_an_unknown_execution_comes_back_to_the_chooser(viewer_client):
    url = reverse("flows:trace", args=[FLOW, PROD, "no-such-execution"])
    html = _page(viewer_client, url, 404)
    assert "no-such-execution" in html and "Open an execution" in html


def test_malformed_ids_in_the_url_are_refused_before_aws(viewer_client, calls):
    html = _page(viewer_client, reverse("flows:trace", args=["bad", PROD, "x"]), 404)
    assert "is not a valid flow id" in html
    assert calls == []


def test_opened_executions_are_remembered(viewer_client):
    _page(viewer_client, _url("warning-ledger-timeout"))
    html = _page(viewer_client, reverse("flows:choose"))
    assert "Opened lately" in html
    assert demo_flows.execution_id("warning-ledger-timeout") in html.split("Opened lately")[1]


# --- the timeline ----------------------------------------------------------------------------


def test_a_full_trace_reads_from_flow_input_to_flow_output(viewer_client):
    html = _page(viewer_client, _url("critical-checkout"))
    kinds = _entries(html)
    assert kinds[0] == "flowInputEvent" and kinds[-1] == "flowOutputEvent"
    assert {"nodeInputEvent", "nodeOutputEvent", "conditionResultEvent", "nodeActionEvent"} <= set(
        kinds
    )
    assert "Output produced" in html
    nodes = re.sub(r"<[^>]+>", "", html.split("<dt>Nodes</dt>")[1].split("</dd>")[0])
    assert nodes.startswith("ClassifyAlert → CheckSeverity → PageOnCall → TriageAgent")


def test_node_input_shows_its_source_and_node_output_its_next_nodes(viewer_client):
    html = _page(viewer_client, _url("critical-checkout"))
    assert 'from <span class="mono">FlowInputNode.document</span> <code>$.data</code>' in html
    assert '→ <span class="mono">CheckSeverity.severity</span>' in html


def test_a_condition_shows_the_satisfied_conditions(viewer_client):
    html = _page(viewer_client, _url("critical-checkout"))
    assert 'Satisfied: <span class="fe-pill pill-condition mono">IsCritical</span>' in html


def test_an_action_shows_service_operation_request_and_response(viewer_client):
    html = _page(viewer_client, _url("critical-checkout"))
    assert '<span class="mono strong">lambda</span> <span class="mono">Invoke</span>' in html
    assert "function:page-oncall" in html and "payments-sre" in html
    assert '<span class="mono strong">bedrock-runtime</span>' in html


def test_an_agent_trace_highlights_the_guardrail_intervention(viewer_client):
    html = _page(viewer_client, _url("critical-checkout"))
    entry = html.split("kind-nodeDependencyEvent")[1].split('<li class="fe ')[0]
    assert "tone-intervened" in html.split("kind-nodeDependencyEvent")[0][-60:]
    assert "Guardrail intervened" in entry
    assert "Sensitive information" in entry and "ANONYMIZED" in entry
    assert "Rationale" in entry and "cloudwatch-tools get_deployments" in entry
    assert "Final response" in entry
    assert "1 guardrail intervention" in html


def test_a_blocked_prompt_shows_every_blocking_policy(viewer_client):
    html = _page(viewer_client, _url("blocked-prompt-attack", TEST))
    assert "PROMPT_ATTACK" in html and "high confidence" in html
    assert "Denied topic" in html and "Credentials disclosure" in html
    assert 'pill-failed">BLOCKED' in html


def test_a_failed_execution_shows_the_failure_trace_and_both_failures(viewer_client):
    html = _page(viewer_client, _url("warning-ledger-timeout"))
    kinds = _entries(html)
    assert kinds[-2:] == ["nodeFailureEvent", "flowFailureEvent"]
    assert "DEPENDENCY_FAILED" in html and "NODE_EXECUTION_FAILED" in html
    assert "timed out after 30 seconds" in html
    assert (
        '<span class="fe-pill pill-failed">Failed</span> <span class="mono">NODE_EXECUTION_FAILED'
        in html
    )
    assert "knowledgeBaseId" in html and "RUNBOOKKB1" in html  # the KB action


def test_iterator_inputs_show_their_execution_chain(viewer_client):
    html = _page(viewer_client, _url("nightly-batch", max="1000"))
    assert 'Iterator <span class="mono">EachAlert</span> [7]' in html


def test_the_filter_shows_node_or_flow_events_only(viewer_client):
    node = _entries(_page(viewer_client, _url("critical-checkout", type="Node")))
    assert node and not {"flowInputEvent", "flowOutputEvent"} & set(node)
    flow = _entries(_page(viewer_client, _url("critical-checkout", type="Flow")))
    assert flow == ["flowInputEvent", "flowOutputEvent"]


def test_pages_hold_max_results_events_and_load_more(viewer_client):
    html = _page(viewer_client, _url("nightly-batch", type="Node", max="50"))
    assert len(_entries(html)) == 50
    more = html_lib.unescape(
        html.split('class="load-more"><a class="button" href="')[1].split('"')[0]
    )
    assert "max=50" in more and "next=" in more
    fragment = viewer_client.get(more, HTTP_HX_REQUEST="true").content.decode()
    assert len(_entries(fragment)) == 50 and "<html" not in fragment


def test_a_thousand_events_fit_one_page(viewer_client):
    total = FlowExecutionEvent.objects.filter(
        execution_id=demo_flows.execution_id("nightly-batch")
    ).count()
    html = _page(viewer_client, _url("nightly-batch", max="1000"))
    assert len(_entries(html)) == total
    assert "Load 1000 more" not in html


def test_an_odd_page_size_falls_back_within_the_api_limits(viewer_client):
    html = _page(viewer_client, _url("critical-checkout", max="5000"))
    assert '<option value="1000" selected>' in html
    html = _page(viewer_client, _url("critical-checkout", max="lots"))
    assert '<option value="100" selected>' in html


def test_flow_events_are_merged_once_into_the_page_of_their_time(viewer_client):
    seen: list[str] = []
    url = _url("nightly-batch", max="100")
    pages = 0
    while url and pages < 10:
        html = _page(viewer_client, url)
        seen += _entries(html)
        found = html.split('class="load-more"><a class="button" href="')
        url = html_lib.unescape(found[1].split('"')[0]) if len(found) > 1 else ""
        pages += 1
    assert seen.count("flowInputEvent") == 1 and seen[0] == "flowInputEvent"
    assert seen.count("flowOutputEvent") == 1 and seen[-1] == "flowOutputEvent"
    total = FlowExecutionEvent.objects.filter(
        execution_id=demo_flows.execution_id("nightly-batch")
    ).count()
    assert len(seen) == total


def test_documents_are_escaped(viewer_client):
    execution = FlowExecution.objects.get(pk=demo_flows.execution_id("critical-checkout"))
    event = FlowExecutionEvent.objects.get(execution=execution, kind="flowInputEvent")
    hostile = "<script>alert(1)</script>"
    event.body["fields"][0]["content"]["document"] = {hostile: hostile, "nested": f'"{hostile}"'}
    event.save()
    html = _page(viewer_client, _url("critical-checkout"))
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_event_kind_unknown_to_the_console_is_shown_as_json():
    view = flow_event({"kind": "nodeTeleportEvent", "body": {"nodeName": "N1", "x": 1}})
    assert not view["known"] and view["label"] == "nodeTeleportEvent" and view["node"] == "N1"


def test_the_timeline_merges_by_time_within_each_page():
    execution = demo_flows.execution_id("critical-checkout")
    first = flows_api.timeline(FLOW, PROD, execution, max_results=5)
    kinds = [e["kind"] for e in first["events"]]
    assert kinds[0] == "flowInputEvent" and "flowOutputEvent" not in kinds
    rest = flows_api.timeline(
        FLOW, PROD, execution, max_results=1000, next_token=first["nextToken"], since=first["since"]
    )
    assert [e["kind"] for e in rest["events"]][-1] == "flowOutputEvent"
    assert "flowInputEvent" not in [e["kind"] for e in rest["events"]]


def test_an_unavailable_aws_is_said_with_a_retry(viewer_client, settings):
    settings.SANDBOX_FAULTS = "error=1"
    html = _page(viewer_client, _url("critical-checkout"), 503)
    assert "AWS is unavailable" in html and "Retry" in html
