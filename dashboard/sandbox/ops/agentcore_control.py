"""Amazon Bedrock AgentCore's control plane (`bedrock-agentcore-control`), the reads the console
lists from: memories (with their strategies), agent runtimes and their endpoints, browsers and
code interpreters.

What exists, as the sandbox answers it:
- memories are the `Memory` rows (the seed's two, or a test's); GetMemory returns each strategy
  with its one namespace template (`namespaces` and `namespaceTemplates` alike);
- agent runtimes are the simulated ones of `runtime_agent.RUNTIMES`, each READY with its
  endpoints (`DEFAULT` and any other qualifier) READY on a version;
- browsers and code interpreters: the system ones, `aws.browser.v1` and
  `aws.codeinterpreter.v1` (type SYSTEM); there are no custom ones (type CUSTOM lists nothing).
Creating, updating and deleting any of these is not emulated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import runtime_agent
from ..models import Memory
from ..wire import Context, SandboxError, operation
from .agentcore_browser import SYSTEM_BROWSER
from .agentcore_code import SYSTEM_CODE_INTERPRETER
from .agentcore_memory import memory_key
from .paging import page

SERVICE = "bedrock-agentcore-control"
# When AWS made the system tools available (their createdAt).
SYSTEM_TOOLS_SINCE = dt.datetime(2025, 7, 16, tzinfo=dt.UTC)


def _not_found(kind: str, ident: str) -> SandboxError:
    return SandboxError("ResourceNotFoundException", f"{kind} {ident} was not found")


# --- memories --------------------------------------------------------------------------------


def _memory_arn(ctx: Context, memory: Memory) -> str:
    return ctx.arn(f"memory/{memory.memory_id}")


def _strategy(memory: Memory, strategy: dict[str, Any]) -> dict[str, Any]:
    strategy_id = str(strategy.get("strategyId", ""))
    namespaces = list(strategy.get("namespaces") or [])[:1]
    out: dict[str, Any] = {
        "strategyId": strategy_id,
        "name": strategy.get("name") or strategy_id.rsplit("-", 1)[0],
        "type": strategy.get("type", "CUSTOM"),
        "namespaces": namespaces,
        "namespaceTemplates": namespaces,
        "createdAt": memory.created_at,
        "updatedAt": memory.updated_at or memory.created_at,
        "status": "ACTIVE",
    }
    if strategy.get("description"):
        out["description"] = strategy["description"]
    return out


@operation(SERVICE, "ListMemories")
def list_memories(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows, token = page(
        Memory.objects.order_by("created_at", "memory_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope="ListMemories",
    )
    return {
        "memories": [
            {
                "arn": _memory_arn(ctx, m),
                "id": m.memory_id,
                "status": m.status,
                "createdAt": m.created_at,
                "updatedAt": m.updated_at or m.created_at,
            }
            for m in rows
        ],
        "nextToken": token,
    }


@operation(SERVICE, "GetMemory")
def get_memory(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    memory = Memory.objects.filter(pk=memory_key(params["memoryId"])).first()
    if memory is None:
        raise _not_found("Memory", params["memoryId"])
    out: dict[str, Any] = {
        "arn": _memory_arn(ctx, memory),
        "id": memory.memory_id,
        "name": memory.name,
        "eventExpiryDuration": memory.event_expiry_days,
        "status": memory.status,
        "createdAt": memory.created_at,
        "updatedAt": memory.updated_at or memory.created_at,
        "strategies": [_strategy(memory, s) for s in memory.strategies or []],
    }
    if memory.description:
        out["description"] = memory.description
    return {"memory": out}


# --- agent runtimes ----------------------------------------------------------------------------


def _runtime(runtime_id: str) -> runtime_agent.Runtime:
    runtime = runtime_agent.RUNTIMES.get(runtime_id)
    if runtime is None:
        raise _not_found("Agent runtime", runtime_id)
    return runtime


def _runtime_arn(ctx: Context, runtime: runtime_agent.Runtime) -> str:
    return runtime_agent.arn_of(runtime, ctx.region, ctx.account_id)


@operation(SERVICE, "ListAgentRuntimes")
def list_agent_runtimes(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows, token = page(
        list(runtime_agent.RUNTIMES.values()),
        params.get("nextToken"),
        params.get("maxResults"),
        scope="ListAgentRuntimes",
    )
    return {
        "agentRuntimes": [
            {
                "agentRuntimeArn": _runtime_arn(ctx, r),
                "agentRuntimeId": r.runtime_id,
                "agentRuntimeVersion": r.version,
                "agentRuntimeName": r.name,
                "description": r.description,
                "lastUpdatedAt": r.updated,
                "status": "READY",
            }
            for r in rows
        ],
        "nextToken": token,
    }


@operation(SERVICE, "GetAgentRuntime")
def get_agent_runtime(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    runtime = _runtime(params["agentRuntimeId"])
    version = params.get("agentRuntimeVersion") or runtime.version
    if int(version) > int(runtime.version):
        raise _not_found(f"Version {version} of agent runtime", runtime.runtime_id)
    return {
        "agentRuntimeArn": _runtime_arn(ctx, runtime),
        "agentRuntimeName": runtime.name,
        "agentRuntimeId": runtime.runtime_id,
        "agentRuntimeVersion": version,
        "description": runtime.description,
        "createdAt": runtime.created,
        "lastUpdatedAt": runtime.updated,
        "roleArn": f"arn:aws:iam::{ctx.account_id}:role/AgentCoreRuntime-{runtime.name}",
        "networkConfiguration": {"networkMode": "PUBLIC"},
        "protocolConfiguration": {"serverProtocol": "HTTP"},
        "lifecycleConfiguration": {"idleRuntimeSessionTimeout": 900, "maxLifetime": 28800},
        "status": "READY",
    }


def _endpoint(ctx: Context, runtime: runtime_agent.Runtime, name: str, version: str) -> dict:
    arn = _runtime_arn(ctx, runtime)
    return {
        "name": name,
        "liveVersion": version,
        "agentRuntimeEndpointArn": f"{arn}/runtime-endpoint/{name}",
        "agentRuntimeArn": arn,
        "status": "READY",
        "id": f"{name}-{runtime.runtime_id.rsplit('-', 1)[1]}",
        "createdAt": runtime.created,
        "lastUpdatedAt": runtime.updated,
    }


@operation(SERVICE, "ListAgentRuntimeEndpoints")
def list_agent_runtime_endpoints(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    runtime = _runtime(params["agentRuntimeId"])
    rows, token = page(
        list(runtime.endpoints),
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListAgentRuntimeEndpoints:{runtime.runtime_id}",
    )
    return {
        "runtimeEndpoints": [_endpoint(ctx, runtime, name, version) for name, version in rows],
        "nextToken": token,
    }


@operation(SERVICE, "GetAgentRuntimeEndpoint")
def get_agent_runtime_endpoint(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    runtime = _runtime(params["agentRuntimeId"])
    version = dict(runtime.endpoints).get(params["endpointName"])
    if version is None:
        raise _not_found(f"Endpoint {params['endpointName']} of agent runtime", runtime.name)
    return _endpoint(ctx, runtime, params["endpointName"], version)


# --- browsers and code interpreters -------------------------------------------------------------

_TOOLS = {
    "browser": (SYSTEM_BROWSER, "aws_browser_v1", "The AgentCore system browser."),
    "code-interpreter": (
        SYSTEM_CODE_INTERPRETER,
        "aws_codeinterpreter_v1",
        "The AgentCore system code interpreter.",
    ),
}


def _tool_arn(ctx: Context, kind: str) -> str:
    # System tools belong to AWS: their ARNs carry "aws" where an account id would be.
    return f"arn:aws:bedrock-agentcore:{ctx.region}:aws:{kind}/{_TOOLS[kind][0]}"


def _tool_summaries(ctx: Context, kind: str, params: dict[str, Any], id_key: str) -> dict:
    rows = [] if params.get("type") == "CUSTOM" else [_TOOLS[kind]]
    found, token = page(
        rows,
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"List:{kind}:{params.get('type')}",
    )
    return {
        "items": [
            {
                id_key: ident,
                f"{id_key[:-2]}Arn": _tool_arn(ctx, kind),
                "name": name,
                "description": description,
                "status": "READY",
                "createdAt": SYSTEM_TOOLS_SINCE,
                "lastUpdatedAt": SYSTEM_TOOLS_SINCE,
            }
            for ident, name, description in found
        ],
        "nextToken": token,
    }


def _tool(ctx: Context, kind: str, ident: str, id_key: str, network: str) -> dict[str, Any]:
    system, name, description = _TOOLS[kind]
    if ident != system:
        raise _not_found(kind.replace("-", " ").capitalize(), ident)
    return {
        id_key: system,
        f"{id_key[:-2]}Arn": _tool_arn(ctx, kind),
        "name": name,
        "description": description,
        "networkConfiguration": {"networkMode": network},
        "status": "READY",
        "createdAt": SYSTEM_TOOLS_SINCE,
        "lastUpdatedAt": SYSTEM_TOOLS_SINCE,
    }


@operation(SERVICE, "ListBrowsers")
def list_browsers(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    found = _tool_summaries(ctx, "browser", params, "browserId")
    return {"browserSummaries": found["items"], "nextToken": found["nextToken"]}


@operation(SERVICE, "GetBrowser")
def get_browser(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _tool(ctx, "browser", params["browserId"], "browserId", "PUBLIC")


@operation(SERVICE, "ListCodeInterpreters")
def list_code_interpreters(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    found = _tool_summaries(ctx, "code-interpreter", params, "codeInterpreterId")
    return {"codeInterpreterSummaries": found["items"], "nextToken": found["nextToken"]}


@operation(SERVICE, "GetCodeInterpreter")
def get_code_interpreter(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ident = params["codeInterpreterId"]
    return _tool(ctx, "code-interpreter", ident, "codeInterpreterId", "SANDBOX")
