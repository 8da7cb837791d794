"""The sandbox's ListFlowExecutionEvents through boto3: the seeded traces (every event kind, the
condition, the agent step with its guardrail trace, the failure), eventType, pages of at most 10
events (the output list's limit in the model) whatever maxResults asks, identifiers as ids or
ARNs, unknown executions, and a running trace that grows with time."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from botocore.exceptions import ClientError

from dashboard.aws.clients import client
from dashboard.sandbox import demo_flows

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def runtime(clock):
    demo_flows.seed_flows(START)
    return client("bedrock-agent-runtime")


def _events(runtime, name: str, event_type: str, alias: str = demo_flows.PROD_ALIAS, **kw):
    return runtime.list_flow_execution_events(
        flowIdentifier=demo_flows.FLOW_ID,
        flowAliasIdentifier=alias,
        executionIdentifier=demo_flows.execution_id(name),
        eventType=event_type,
        **kw,
    )


def _all(runtime, name: str, event_type: str, alias: str = demo_flows.PROD_ALIAS) -> list[dict]:
    """Every event of the trace, through botocore's paginator."""
    pages = runtime.get_paginator("list_flow_execution_events").paginate(
        flowIdentifier=demo_flows.FLOW_ID,
        flowAliasIdentifier=alias,
        executionIdentifier=demo_flows.execution_id(name),
        eventType=event_type,
    )
    return [event for page in pages for event in page["flowExecutionEvents"]]


def _kinds(events: list[dict]) -> list[str]:
    return [next(iter(e)) for e in events]


def test_flow_events_are_the_flows_own_input_and_output(runtime):
    events = _events(runtime, "critical-checkout", "Flow")["flowExecutionEvents"]
    assert _kinds(events) == ["flowInputEvent", "flowOutputEvent"]
    assert events[0]["flowInputEvent"]["fields"][0]["content"]["document"]["service"] == (
        "checkout-api"
    )
    assert isinstance(events[0]["flowInputEvent"]["timestamp"], dt.datetime)


def test_node_events_hold_a_condition_actions_and_an_agent_trace_with_its_guardrail(runtime):
    events = _all(runtime, "critical-checkout", "Node")
    kinds = set(_kinds(events))
    assert {
        "nodeInputEvent",
        "nodeOutputEvent",
        "conditionResultEvent",
        "nodeActionEvent",
        "nodeDependencyEvent",
    } <= kinds
    condition = next(e["conditionResultEvent"] for e in events if "conditionResultEvent" in e)
    assert condition["satisfiedConditions"] == [{"conditionName": "IsCritical"}]
    dependency = next(e["nodeDependencyEvent"] for e in events if "nodeDependencyEvent" in e)
    guardrails = [
        part["trace"]["guardrailTrace"]
        for part in dependency["traceElements"]["agentTraces"]
        if "guardrailTrace" in part["trace"]
    ]
    assert "INTERVENED" in {g["action"] for g in guardrails}
    assert isinstance(dependency["traceElements"]["agentTraces"][0]["eventTime"], dt.datetime)
    output = next(e["nodeOutputEvent"] for e in events if "nodeOutputEvent" in e)
    assert output["fields"][0]["next"][0]["nodeName"] == "CheckSeverity"


def test_the_failing_execution_ends_with_node_and_flow_failures(runtime):
    node = _all(runtime, "warning-ledger-timeout", "Node")
    assert _kinds(node)[-1] == "nodeFailureEvent"
    assert node[-1]["nodeFailureEvent"]["errorCode"] == "DEPENDENCY_FAILED"
    flow = _events(runtime, "warning-ledger-timeout", "Flow")["flowExecutionEvents"]
    assert _kinds(flow) == ["flowInputEvent", "flowFailureEvent"]
    assert flow[-1]["flowFailureEvent"]["errorCode"] == "NODE_EXECUTION_FAILED"


def test_events_come_ten_a_page_whatever_max_results_asks(runtime):
    limit = runtime.meta.service_model.operation_model("ListFlowExecutionEvents").output_shape
    page_max = limit.members["flowExecutionEvents"].metadata["max"]
    first = _events(runtime, "nightly-batch", "Node", maxResults=1000)
    assert len(first["flowExecutionEvents"]) == page_max and first["nextToken"]
    smaller = _events(runtime, "nightly-batch", "Node", maxResults=3)
    assert len(smaller["flowExecutionEvents"]) == 3
    second = _events(
        runtime, "nightly-batch", "Node", maxResults=1000, nextToken=first["nextToken"]
    )
    assert second["flowExecutionEvents"][0] != first["flowExecutionEvents"][-1]
    everything = _all(runtime, "nightly-batch", "Node")
    assert len(everything) > 200
    assert everything[page_max] == second["flowExecutionEvents"][0]
    with pytest.raises(ClientError) as exc:
        _events(runtime, "nightly-batch", "Node", maxResults=1001)
    assert exc.value.response["Error"]["Code"] == "ValidationException"


def test_iterated_node_inputs_carry_their_execution_chain(runtime):
    events = _all(runtime, "nightly-batch", "Node")
    chained = [
        e["nodeInputEvent"]["fields"][0]
        for e in events
        if "nodeInputEvent" in e and e["nodeInputEvent"]["nodeName"] == "ClassifyAlert"
    ]
    assert chained[5]["executionChain"] == [
        {"nodeName": "EachAlert", "index": 5, "type": "Iterator"}
    ]


def test_identifiers_may_be_arns(runtime):
    execution = demo_flows.execution_id("critical-checkout")
    base = f"arn:aws:bedrock:us-east-1:123456789012:flow/{demo_flows.FLOW_ID}"
    answer = runtime.list_flow_execution_events(
        flowIdentifier=base,
        flowAliasIdentifier=f"{base}/alias/{demo_flows.PROD_ALIAS}",
        executionIdentifier=f"{base}/alias/{demo_flows.PROD_ALIAS}/execution/{execution}",
        eventType="Flow",
    )
    assert len(answer["flowExecutionEvents"]) == 2


def test_an_unknown_execution_or_the_wrong_alias_is_not_found(runtime):
    with pytest.raises(ClientError) as exc:
        runtime.list_flow_execution_events(
            flowIdentifier=demo_flows.FLOW_ID,
            flowAliasIdentifier=demo_flows.PROD_ALIAS,
            executionIdentifier="no-such-execution",
            eventType="Node",
        )
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        _events(runtime, "critical-checkout", "Node", alias=demo_flows.TEST_ALIAS)
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_running_execution_shows_only_what_has_happened(runtime, clock):
    now = len(_events(runtime, "running-payments", "Node", maxResults=1000)["flowExecutionEvents"])
    clock.shift(dt.timedelta(minutes=2))
    later = len(
        _events(runtime, "running-payments", "Node", maxResults=1000)["flowExecutionEvents"]
    )
    assert 0 < now < later
    clock.shift(dt.timedelta(hours=1))
    flow = _events(runtime, "running-payments", "Flow")["flowExecutionEvents"]
    assert _kinds(flow) == ["flowInputEvent", "flowOutputEvent"]


def test_the_seed_is_written_once(clock):
    assert demo_flows.seed_flows(START)["executions"] == 5
    assert demo_flows.seed_flows(START)["executions"] == 0
