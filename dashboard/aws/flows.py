"""Amazon Bedrock Flows: flows and their aliases from the control plane (`bedrock-agent`
ListFlows, ListFlowAliases), a flow's executions (`bedrock-agent-runtime` ListFlowExecutions,
GetFlowExecution) and an execution's trace (ListFlowExecutionEvents).

The trace API lists either the flow's own events (eventType Flow: input, output, failure) or
the nodes' (Node). `timeline()` also offers both together: one page of node events with the flow
events that fall within its time span, so a page reads as one story from input to output.

Every list answers at most 10 items per API page (its output list's limit), whatever
maxResults asks: `list_events` reads API pages until it has the page the console shows.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from .clients import call, collect
from .model import Constraint, input_constraint

SERVICE = "bedrock-agent-runtime"
CONTROL = "bedrock-agent"
MAX_PAGE = 1000  # the API's maxResults limit
FLOW_KINDS = ("flowInputEvent", "flowOutputEvent", "flowFailureEvent")
# Flow events read before the nodes' at the same instant (input) or after them (output).
_RANK = {"flowInputEvent": 0, "flowOutputEvent": 2, "flowFailureEvent": 2}
_FLOW_PAGES = 10  # flow-level events are few; never read more than this many pages of them

ID_MEMBERS = {
    "flow": "flowIdentifier",
    "alias": "flowAliasIdentifier",
    "execution": "executionIdentifier",
}


@functools.cache
def constraint(kind: str) -> Constraint:
    return input_constraint(SERVICE, "ListFlowExecutionEvents", ID_MEMBERS[kind])


def id_problems(kind: str, value: str) -> list[str]:
    if not value:
        return ["This field is required."]
    return constraint(kind).errors(value)


def ids_from_arn(text: str) -> dict[str, str]:
    """The flow, alias and execution ids an ARN names (`flow/F[/alias/A[/execution/E]]`)."""
    text = text.strip()
    if not text.startswith("arn:") or ":flow/" not in text:
        return {}
    parts = text.split(":flow/", 1)[1].split("/")
    found = {"flow": parts[0]}
    for index in range(1, len(parts) - 1, 2):
        key = {"alias": "alias", "execution": "execution"}.get(parts[index])
        if key:
            found[key] = parts[index + 1]
    return found


def _event(raw: dict[str, Any]) -> dict[str, Any]:
    """{kind, body, timestamp, type} from one member of the FlowExecutionEvent union."""
    kind, body = next(iter(raw.items())) if raw else ("unknown", {})
    body = body if isinstance(body, dict) else {"value": body}
    stamp = body.get("timestamp")
    return {
        "kind": kind,
        "body": body,
        "timestamp": stamp if isinstance(stamp, dt.datetime) else None,
        "type": "Flow" if kind in FLOW_KINDS else "Node",
    }


def list_events(
    flow_id: str,
    alias_id: str,
    execution_id: str,
    event_type: str,
    *,
    max_results: int = 100,
    next_token: str | None = None,
) -> dict[str, Any]:
    """One page of one event type: {"events": [{kind, body, timestamp, type}], "nextToken"}."""
    params: dict[str, Any] = {
        "flowIdentifier": flow_id,
        "flowAliasIdentifier": alias_id,
        "executionIdentifier": execution_id,
        "eventType": event_type,
    }
    events: list[dict[str, Any]] = []
    token = next_token
    seen: set[str] = set()
    # The API answers at most 10 events a call: ask for what is still missing until the page
    # is full, so the token returned continues right after the last event kept.
    while True:
        params["maxResults"] = max_results - len(events)
        if token:
            params["nextToken"] = token
        answer = call(SERVICE, "ListFlowExecutionEvents", **params)
        events.extend(
            _event(e) for e in answer.get("flowExecutionEvents", [])[: params["maxResults"]]
        )
        token = answer.get("nextToken")
        if not token or token in seen or len(events) >= max_results:
            break
        seen.add(token)
    return {"events": events, "nextToken": token}


def _all_flow_events(flow_id: str, alias_id: str, execution_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token: str | None = None
    seen: set[str] = set()
    for _ in range(_FLOW_PAGES):
        page = list_events(
            flow_id, alias_id, execution_id, "Flow", max_results=MAX_PAGE, next_token=token
        )
        events.extend(page["events"])
        token = page["nextToken"]
        if not token or token in seen:
            break
        seen.add(token)
    return events


def _sort_key(event: dict[str, Any]) -> tuple[float, int]:
    stamp = event["timestamp"]
    return (stamp.timestamp() if stamp else 0.0, _RANK.get(event["kind"], 1))


def timeline(
    flow_id: str,
    alias_id: str,
    execution_id: str,
    *,
    max_results: int = 100,
    next_token: str | None = None,
    since: dt.datetime | None = None,
) -> dict[str, Any]:
    """One page of node events merged with the flow events of its time span.

    `since` is the last node event's time on the previous page (None on the first): flow
    events after it and up to this page's last node event belong here; the last page takes
    every flow event left. Returns {"events", "nextToken", "since"}.
    """
    nodes = list_events(
        flow_id, alias_id, execution_id, "Node", max_results=max_results, next_token=next_token
    )
    flows = _all_flow_events(flow_id, alias_id, execution_id)
    stamps = [e["timestamp"] for e in nodes["events"] if e["timestamp"]]
    until = max(stamps) if stamps and nodes["nextToken"] else None

    def here(event: dict[str, Any]) -> bool:
        stamp = event["timestamp"]
        if stamp is None:
            return since is None  # an odd event without a time: show it once, first
        if since is not None and stamp <= since:
            return False
        return until is None or stamp <= until

    events = sorted(nodes["events"] + [e for e in flows if here(e)], key=_sort_key)
    return {"events": events, "nextToken": nodes["nextToken"], "since": until}


# --- flows, aliases and executions -------------------------------------------------------------


def _items(key: str, answer: dict[str, Any]) -> dict[str, Any]:
    return {"items": answer.get(key, []), "nextToken": answer.get("nextToken")}


def list_flows(*, next_token: str | None = None) -> dict[str, Any]:
    """One page of the account's flows (ListFlows, at most 10)."""
    params: dict[str, Any] = {"maxResults": 10}
    if next_token:
        params["nextToken"] = next_token
    return _items("flowSummaries", call(CONTROL, "ListFlows", **params))


def get_flow(flow_id: str) -> dict[str, Any]:
    return call(CONTROL, "GetFlow", flowIdentifier=flow_id)


def list_aliases(flow_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """The flow's aliases (every page, up to `limit`): few per flow, offered as a choice."""
    return collect(
        CONTROL, "ListFlowAliases", "flowAliasSummaries", limit=limit, flowIdentifier=flow_id
    )


def list_executions(
    flow_id: str, *, alias_id: str = "", next_token: str | None = None
) -> dict[str, Any]:
    """One page of the flow's executions, newest first (ListFlowExecutions, at most 10), each
    with its plain ids (`flowId`, `aliasId`, `executionId`) beside the ARNs AWS returns."""
    params: dict[str, Any] = {"flowIdentifier": flow_id, "maxResults": 10}
    if alias_id:
        params["flowAliasIdentifier"] = alias_id
    if next_token:
        params["nextToken"] = next_token
    page = _items("flowExecutionSummaries", call(SERVICE, "ListFlowExecutions", **params))
    page["items"] = [{**e, **_plain_ids(e)} for e in page["items"]]
    return page


def get_execution(flow_id: str, alias_id: str, execution_id: str) -> dict[str, Any]:
    """The execution's status, version, start and end, and errors (GetFlowExecution)."""
    return call(
        SERVICE,
        "GetFlowExecution",
        flowIdentifier=flow_id,
        flowAliasIdentifier=alias_id,
        executionIdentifier=execution_id,
    )


def _plain_ids(summary: dict[str, Any]) -> dict[str, str]:
    """flowId, aliasId, executionId of a summary (AWS may answer ids or ARNs)."""
    ids = ids_from_arn(str(summary.get("executionArn") or ""))
    flow = str(summary.get("flowIdentifier") or "")
    alias = str(summary.get("flowAliasIdentifier") or "")
    execution = str(summary.get("executionArn") or "")
    return {
        "flowId": ids.get("flow") or ids_from_arn(flow).get("flow") or flow,
        "aliasId": ids.get("alias") or ids_from_arn(alias).get("alias") or alias,
        "executionId": ids.get("execution") or execution,
    }
