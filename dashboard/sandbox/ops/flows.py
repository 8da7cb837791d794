"""Amazon Bedrock Flows (`bedrock-agent-runtime`): a flow's executions (ListFlowExecutions,
GetFlowExecution) and the trace of one (ListFlowExecutionEvents).

Events come oldest first. `eventType` Flow selects the flow's own input, output and failure;
Node selects everything that happened at a node (inputs, outputs, condition results, actions,
dependency traces, failures). Events stamped in the future have not happened yet, so a running
execution's trace grows with wall-clock time, and its status follows: Running until its flow
output (Succeeded) or failure (Failed) has happened.

Every list answers at most 10 items per page, its output list's limit in the model, whatever
`maxResults` (up to 1,000) asks: a caller follows `nextToken`.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from botocore.model import Shape
from django.utils import timezone

from ..models import Flow, FlowAlias, FlowExecution, FlowExecutionEvent
from ..wire import Context, SandboxError, operation, service_model
from .paging import list_max, page

SERVICE = "bedrock-agent-runtime"

FLOW_KINDS = ("flowInputEvent", "flowOutputEvent", "flowFailureEvent")


def event_type_of(kind: str) -> str:
    return FlowExecutionEvent.FLOW if kind in FLOW_KINDS else FlowExecutionEvent.NODE


def _tail(identifier: str, marker: str) -> str:
    """The id after `marker` in an ARN (`flow/`, `alias/`, `execution/`), or the id itself."""
    if not identifier.startswith("arn:"):
        return identifier
    _, found, rest = identifier.partition(marker)
    return rest.split("/", 1)[0] if found else ""


@functools.cache
def _event_shape() -> Shape:
    output = service_model(SERVICE).operation_model("ListFlowExecutionEvents").output_shape
    return output.members["flowExecutionEvents"].member


def revive(shape: Shape, value: Any) -> Any:
    """Stored JSON back into what the output serializer expects (datetimes for timestamps)."""
    if value is None or shape.metadata.get("document"):
        return value
    kind = shape.type_name
    if kind == "timestamp" and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if kind == "structure" and isinstance(value, dict):
        return {
            k: revive(shape.members[k], v) if k in shape.members else v for k, v in value.items()
        }
    if kind == "list" and isinstance(value, list):
        return [revive(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: revive(shape.value, v) for k, v in value.items()}
    return value


def _execution(params: dict[str, Any]) -> FlowExecution:
    flow_id = _tail(params["flowIdentifier"], "flow/")
    alias_id = _tail(params["flowAliasIdentifier"], "alias/")
    execution_id = _tail(params["executionIdentifier"], "execution/")
    execution = FlowExecution.objects.filter(pk=execution_id).first()
    if execution is None or execution.flow_id != flow_id:
        raise SandboxError(
            "ResourceNotFoundException",
            f"Execution {execution_id} of flow {flow_id} was not found",
        )
    if execution.flow_alias_id != alias_id:
        raise SandboxError(
            "ResourceNotFoundException",
            f"Execution {execution_id} did not run through alias {alias_id}",
        )
    return execution


def _flow_version(execution: FlowExecution) -> str:
    alias = FlowAlias.objects.filter(
        flow_id=execution.flow_id, alias_id=execution.flow_alias_id
    ).first()
    if alias is not None:
        return alias.flow_version
    return "DRAFT" if execution.flow_alias_id == "TSTALIASID" else "1"


def _state(execution: FlowExecution, now: dt.datetime) -> dict[str, Any]:
    """Status, end and errors of an execution as far as its trace has happened by `now`."""
    ends = FlowExecutionEvent.objects.filter(
        execution=execution, kind__in=("flowOutputEvent", "flowFailureEvent"), timestamp__lte=now
    ).order_by("seq")
    end = ends.first()
    if end is None:
        return {"status": "Running"}
    state: dict[str, Any] = {"endedAt": end.timestamp}
    if end.kind == "flowOutputEvent":
        state["status"] = "Succeeded"
        return state
    state["status"] = "Failed"
    failed = (
        FlowExecutionEvent.objects.filter(
            execution=execution, kind="nodeFailureEvent", timestamp__lte=now
        )
        .order_by("seq")
        .first()
    )
    error: dict[str, Any] = {"message": str(end.body.get("errorMessage") or "The flow failed.")}
    if failed is not None and failed.body.get("nodeName"):
        error["nodeName"] = failed.body["nodeName"]
    state["errors"] = [error]
    return state


def _arn(ctx: Context, execution: FlowExecution) -> str:
    return ctx.arn(
        f"flow/{execution.flow_id}/alias/{execution.flow_alias_id}/execution/"
        f"{execution.execution_id}"
    )


@operation(SERVICE, "ListFlowExecutions")
def list_flow_executions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """A flow's executions, newest first; `flowAliasIdentifier` narrows them to one alias."""
    flow_id = _tail(params["flowIdentifier"], "flow/")
    now = timezone.now()
    if not FlowExecution.objects.filter(flow_id=flow_id).exists() and not _flow_exists(flow_id):
        raise SandboxError("ResourceNotFoundException", f"Flow {flow_id} was not found")
    rows = FlowExecution.objects.filter(flow_id=flow_id, started_at__lte=now)
    alias = params.get("flowAliasIdentifier")
    if alias:
        rows = rows.filter(flow_alias_id=_tail(alias, "alias/"))
    found, token = page(
        rows.order_by("-started_at", "execution_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListFlowExecutions:{flow_id}:{alias}",
        default=10,
        cap=list_max(SERVICE, "ListFlowExecutions", "flowExecutionSummaries"),
    )
    summaries = []
    for execution in found:
        state = _state(execution, now)
        summary = {
            "executionArn": _arn(ctx, execution),
            "flowAliasIdentifier": ctx.arn(
                f"flow/{execution.flow_id}/alias/{execution.flow_alias_id}"
            ),
            "flowIdentifier": ctx.arn(f"flow/{execution.flow_id}"),
            "flowVersion": _flow_version(execution),
            "status": state["status"],
            "createdAt": execution.started_at,
        }
        if "endedAt" in state:
            summary["endedAt"] = state["endedAt"]
        summaries.append(summary)
    return {"flowExecutionSummaries": summaries, "nextToken": token}


def _flow_exists(flow_id: str) -> bool:
    return Flow.objects.filter(pk=flow_id).exists()


@operation(SERVICE, "GetFlowExecution")
def get_flow_execution(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    execution = _execution(params)
    return {
        "executionArn": _arn(ctx, execution),
        "flowAliasIdentifier": ctx.arn(f"flow/{execution.flow_id}/alias/{execution.flow_alias_id}"),
        "flowIdentifier": ctx.arn(f"flow/{execution.flow_id}"),
        "flowVersion": _flow_version(execution),
        "startedAt": execution.started_at,
        **_state(execution, timezone.now()),
    }


@operation(SERVICE, "ListFlowExecutionEvents")
def list_flow_execution_events(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    execution = _execution(params)
    event_type = params["eventType"]
    rows = FlowExecutionEvent.objects.filter(
        execution=execution, event_type=event_type, timestamp__lte=timezone.now()
    ).order_by("seq")
    found, token = page(
        rows,
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListFlowExecutionEvents:{execution.pk}:{event_type}",
        default=10,
        cap=list_max(SERVICE, "ListFlowExecutionEvents", "flowExecutionEvents"),
    )
    shape = _event_shape()
    return {
        "flowExecutionEvents": [revive(shape, {e.kind: e.body}) for e in found],
        "nextToken": token,
    }
