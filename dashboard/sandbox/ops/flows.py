"""Amazon Bedrock Flows (`bedrock-agent-runtime`): the trace of a flow execution,
ListFlowExecutionEvents.

Events come oldest first. `eventType` Flow selects the flow's own input, output and failure;
Node selects everything that happened at a node (inputs, outputs, condition results, actions,
dependency traces, failures). Events stamped in the future have not happened yet, so a running
execution's trace grows with wall-clock time.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from botocore.model import Shape
from django.utils import timezone

from ..models import FlowExecution, FlowExecutionEvent
from ..wire import Context, SandboxError, operation, service_model
from .paging import page

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


@operation(SERVICE, "ListFlowExecutionEvents")
def list_flow_execution_events(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
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
    event_type = params["eventType"]
    rows = FlowExecutionEvent.objects.filter(
        execution=execution, event_type=event_type, timestamp__lte=timezone.now()
    ).order_by("seq")
    found, token = page(
        rows,
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListFlowExecutionEvents:{execution.pk}:{event_type}",
        default=100,
    )
    shape = _event_shape()
    return {
        "flowExecutionEvents": [revive(shape, {e.kind: e.body}) for e in found],
        "nextToken": token,
    }
