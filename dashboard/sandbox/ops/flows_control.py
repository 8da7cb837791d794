"""Amazon Bedrock Flows' control plane (`bedrock-agent`), the reads the console lists from:
flows and their aliases.

Flows and aliases come from the seed; each flow has its test alias `TSTALIASID` (routing to
the DRAFT version) besides its published ones, as Bedrock makes it. Flow summaries describe
the working draft (`version` is always DRAFT, as the API says). Pages hold at most 10 items,
the output lists' limit, whatever maxResults asks. Creating, preparing, versioning and
deleting flows is not emulated.
"""

from __future__ import annotations

from typing import Any

from ..models import Flow, FlowAlias
from ..wire import Context, SandboxError, operation
from .flows import _tail
from .paging import list_max, page

SERVICE = "bedrock-agent"


def flow_or_404(identifier: str) -> Flow:
    flow_id = _tail(identifier, "flow/")
    flow = Flow.objects.filter(pk=flow_id).first()
    if flow is None:
        raise SandboxError("ResourceNotFoundException", f"Flow {flow_id} was not found")
    return flow


def _flow(ctx: Context, flow: Flow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": flow.name,
        "id": flow.flow_id,
        "arn": ctx.arn(f"flow/{flow.flow_id}"),
        "status": flow.status,
        "createdAt": flow.created_at,
        "updatedAt": flow.updated_at,
        "version": "DRAFT",
    }
    if flow.description:
        out["description"] = flow.description
    return out


def _alias(ctx: Context, alias: FlowAlias) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": alias.name,
        "routingConfiguration": [{"flowVersion": alias.flow_version}],
        "concurrencyConfiguration": {"type": "Automatic"},
        "flowId": alias.flow_id,
        "id": alias.alias_id,
        "arn": ctx.arn(f"flow/{alias.flow_id}/alias/{alias.alias_id}"),
        "createdAt": alias.created_at,
        "updatedAt": alias.updated_at,
    }
    if alias.description:
        out["description"] = alias.description
    return out


@operation(SERVICE, "ListFlows")
def list_flows(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows, token = page(
        Flow.objects.order_by("created_at", "flow_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope="ListFlows",
        default=10,
        cap=list_max(SERVICE, "ListFlows", "flowSummaries"),
    )
    return {"flowSummaries": [_flow(ctx, f) for f in rows], "nextToken": token}


@operation(SERVICE, "GetFlow")
def get_flow(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    flow = flow_or_404(params["flowIdentifier"])
    return {
        **_flow(ctx, flow),
        "executionRoleArn": f"arn:aws:iam::{ctx.account_id}:role/service-role/"
        f"AmazonBedrockExecutionRoleForFlows_{flow.flow_id}",
    }


@operation(SERVICE, "ListFlowAliases")
def list_flow_aliases(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    flow = flow_or_404(params["flowIdentifier"])
    rows, token = page(
        flow.aliases.order_by("created_at", "alias_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListFlowAliases:{flow.pk}",
        default=10,
        cap=list_max(SERVICE, "ListFlowAliases", "flowAliasSummaries"),
    )
    return {"flowAliasSummaries": [_alias(ctx, a) for a in rows], "nextToken": token}


@operation(SERVICE, "GetFlowAlias")
def get_flow_alias(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    flow = flow_or_404(params["flowIdentifier"])
    alias_id = _tail(params["aliasIdentifier"], "alias/")
    alias = flow.aliases.filter(alias_id=alias_id).first()
    if alias is None:
        raise SandboxError(
            "ResourceNotFoundException", f"Alias {alias_id} of flow {flow.pk} was not found"
        )
    return _alias(ctx, alias)
