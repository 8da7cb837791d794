"""AgentCore Memory for the memory explorer: the account's memories and their strategies from
the control plane (`bedrock-agentcore-control` ListMemories, GetMemory), and actors, sessions,
events, memory records and retrieval from the data plane (`bedrock-agentcore`).

A memory's long-term records live in namespaces its strategies name by template
(`/facts/{actorId}`): `strategy_scopes()` turns each into the namespace path a search or a
listing can use (the template up to its first variable the console cannot fill).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from .clients import call
from .model import Constraint, input_constraint, operation_model, shape_constraint

SERVICE = "bedrock-agentcore"
CONTROL = "bedrock-agentcore-control"
ROLES = ("USER", "ASSISTANT", "TOOL", "OTHER")

# What each id is checked against before AWS sees it: (operation, member) of the model.
ID_MEMBERS = {
    "memory": ("ListActors", "memoryId"),
    "actor": ("ListSessions", "actorId"),
    "session": ("ListEvents", "sessionId"),
    "event": ("GetEvent", "eventId"),
    "record": ("GetMemoryRecord", "memoryRecordId"),
    "namespace": ("ListMemoryRecords", "namespace"),
    "strategy": ("ListMemoryRecords", "memoryStrategyId"),
    "branch": ("CreateEvent", "branch"),
}


def id_problems(kind: str, value: str) -> list[str]:
    """Why `value` is not a valid `kind` id by the model's rules (empty when it is)."""
    if not value:
        return ["This field is required."]
    return constraint(kind).errors(value)


@functools.cache
def constraint(kind: str) -> Constraint:
    operation, member = ID_MEMBERS[kind]
    if kind == "branch":
        shape = operation_model(SERVICE, operation).input_shape.members[member].members["name"]
        return shape_constraint("name", shape, required=True)
    return input_constraint(SERVICE, operation, member)


def memory_id_from(text: str) -> str:
    """The memory id out of an id or a memory ARN (the URL always carries the plain id)."""
    text = text.strip()
    if text.startswith("arn:") and ":memory/" in text:
        return text.rsplit(":memory/", 1)[1]
    return text


def _page(key: str, answer: dict[str, Any]) -> dict[str, Any]:
    return {"items": answer.get(key, []), "nextToken": answer.get("nextToken")}


def list_actors(
    memory_id: str, *, next_token: str | None = None, max_results: int = 50
) -> dict[str, Any]:
    params: dict[str, Any] = {"memoryId": memory_id, "maxResults": max_results}
    if next_token:
        params["nextToken"] = next_token
    return _page("actorSummaries", call(SERVICE, "ListActors", **params))


def list_sessions(
    memory_id: str, actor_id: str, *, next_token: str | None = None, max_results: int = 50
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "memoryId": memory_id,
        "actorId": actor_id,
        "maxResults": max_results,
    }
    if next_token:
        params["nextToken"] = next_token
    return _page("sessionSummaries", call(SERVICE, "ListSessions", **params))


def list_events(
    memory_id: str,
    actor_id: str,
    session_id: str,
    *,
    branch: str = "",
    include_parents: bool = False,
    next_token: str | None = None,
    max_results: int = 50,
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "memoryId": memory_id,
        "actorId": actor_id,
        "sessionId": session_id,
        "includePayloads": True,
        "maxResults": max_results,
    }
    if branch:
        params["filter"] = {"branch": {"name": branch, "includeParentBranches": include_parents}}
    if next_token:
        params["nextToken"] = next_token
    return _page("events", call(SERVICE, "ListEvents", **params))


def get_event(memory_id: str, actor_id: str, session_id: str, event_id: str) -> dict[str, Any]:
    return call(
        SERVICE,
        "GetEvent",
        memoryId=memory_id,
        actorId=actor_id,
        sessionId=session_id,
        eventId=event_id,
    )["event"]


def create_event_params(
    memory_id: str,
    actor_id: str,
    session_id: str,
    *,
    payload: list[dict[str, Any]],
    timestamp: dt.datetime,
    branch: str = "",
    root_event_id: str = "",
    client_token: str = "",
) -> dict[str, Any]:
    """CreateEvent's parameters (also what the audit log records, redacted by the model)."""
    params: dict[str, Any] = {
        "memoryId": memory_id,
        "actorId": actor_id,
        "sessionId": session_id,
        "eventTimestamp": timestamp,
        "payload": payload,
    }
    if branch:
        params["branch"] = {"name": branch}
        if root_event_id:
            params["branch"]["rootEventId"] = root_event_id
    if client_token:
        params["clientToken"] = client_token
    return params


def create_event(params: dict[str, Any]) -> dict[str, Any]:
    return call(SERVICE, "CreateEvent", **params)["event"]


def delete_event(memory_id: str, actor_id: str, session_id: str, event_id: str) -> None:
    call(
        SERVICE,
        "DeleteEvent",
        memoryId=memory_id,
        actorId=actor_id,
        sessionId=session_id,
        eventId=event_id,
    )


def _scope(namespace: str, path: bool) -> dict[str, str]:
    return {"namespacePath" if path else "namespace": namespace}


def list_records(
    memory_id: str,
    namespace: str,
    *,
    path: bool = False,
    strategy_id: str = "",
    next_token: str | None = None,
    max_results: int = 25,
) -> dict[str, Any]:
    """One page of records in `namespace` (with `path`, also those below it)."""
    params: dict[str, Any] = {
        "memoryId": memory_id,
        "maxResults": max_results,
        **_scope(namespace, path),
    }
    if strategy_id:
        params["memoryStrategyId"] = strategy_id
    if next_token:
        params["nextToken"] = next_token
    return _page("memoryRecordSummaries", call(SERVICE, "ListMemoryRecords", **params))


def get_record(memory_id: str, record_id: str, namespace: str = "") -> dict[str, Any]:
    params: dict[str, Any] = {"memoryId": memory_id, "memoryRecordId": record_id}
    if namespace:
        params["namespace"] = namespace
    return call(SERVICE, "GetMemoryRecord", **params)["memoryRecord"]


def delete_record(memory_id: str, record_id: str, namespace: str = "") -> None:
    params: dict[str, Any] = {"memoryId": memory_id, "memoryRecordId": record_id}
    if namespace:
        params["namespace"] = namespace
    call(SERVICE, "DeleteMemoryRecord", **params)


def retrieve(
    memory_id: str,
    query: str,
    namespace: str,
    *,
    path: bool = False,
    strategy_id: str = "",
    top_k: int = 10,
    next_token: str | None = None,
    max_results: int = 20,
) -> dict[str, Any]:
    """Records relevant to `query`, most relevant first (each with its `score`)."""
    criteria: dict[str, Any] = {"searchQuery": query, "topK": top_k}
    if strategy_id:
        criteria["memoryStrategyId"] = strategy_id
    params: dict[str, Any] = {
        "memoryId": memory_id,
        "searchCriteria": criteria,
        "maxResults": max_results,
        **_scope(namespace, path),
    }
    if next_token:
        params["nextToken"] = next_token
    return _page("memoryRecordSummaries", call(SERVICE, "RetrieveMemoryRecords", **params))


# --- the control plane: memories and their strategies -----------------------------------------


def list_memories(*, next_token: str | None = None, max_results: int = 20) -> dict[str, Any]:
    """One page of the account's memories: {"items": [{id, arn, status, ...}], "nextToken"}."""
    params: dict[str, Any] = {"maxResults": max_results}
    if next_token:
        params["nextToken"] = next_token
    return _page("memories", call(CONTROL, "ListMemories", **params))


def get_memory(memory_id: str) -> dict[str, Any]:
    """The memory (name, description, status, strategies, ...)."""
    return call(CONTROL, "GetMemory", memoryId=memory_id)["memory"]


def strategy_scopes(memory: dict[str, Any]) -> list[dict[str, str]]:
    """Each strategy with the namespace path its records live under.

    A template such as `/strategies/{memoryStrategyId}/actors/{actorId}` gives
    `/strategies/<its id>/actors/`: the strategy id is filled in, and the path stops at the
    first variable left (an actor, a session), so it covers every actor's records. A template
    that gives nothing usable covers everything ("/")."""
    scopes = []
    for strategy in memory.get("strategies") or []:
        strategy_id = str(strategy.get("strategyId") or "")
        templates = strategy.get("namespaceTemplates") or strategy.get("namespaces") or [""]
        template = str(templates[0] or "")
        path = template.replace("{memoryStrategyId}", strategy_id).split("{", 1)[0] or "/"
        if constraint("namespace").errors(path):
            path = "/"
        scopes.append(
            {
                "strategyId": strategy_id,
                "name": str(strategy.get("name") or strategy_id),
                "type": str(strategy.get("type") or ""),
                "template": template,
                "path": path,
            }
        )
    return scopes
