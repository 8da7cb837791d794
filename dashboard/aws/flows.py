"""Amazon Bedrock Flows execution traces (`bedrock-agent-runtime` ListFlowExecutionEvents).

The API lists either the flow's own events (eventType Flow: input, output, failure) or the
nodes' (Node). `timeline()` also offers both together: one page of node events with the flow
events that fall within its time span, so a page reads as one story from input to output.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.conf import settings

from .clients import call
from .model import Constraint, input_constraint

SERVICE = "bedrock-agent-runtime"
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
        "maxResults": max_results,
    }
    if next_token:
        params["nextToken"] = next_token
    answer = call(SERVICE, "ListFlowExecutionEvents", **params)
    return {
        "events": [_event(e) for e in answer.get("flowExecutionEvents", [])],
        "nextToken": answer.get("nextToken"),
    }


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


# --- sandbox suggestions -----------------------------------------------------------------


def sandbox_executions() -> list[dict[str, Any]]:
    """The emulator's flow executions (newest first); [] against real AWS."""
    if settings.DASHBOARD_BACKEND != "sandbox":
        return []
    from dashboard.sandbox.models import FlowExecution

    return [
        {
            "flowId": e.flow_id,
            "aliasId": e.flow_alias_id,
            "executionId": e.execution_id,
            "flowName": e.flow_name,
            "summary": e.summary,
            "startedAt": e.started_at,
        }
        for e in FlowExecution.objects.order_by("-started_at")[:20]
    ]
