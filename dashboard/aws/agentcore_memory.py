"""AgentCore Memory (`bedrock-agentcore` data plane): actors, sessions, events, memory records
and retrieval, for the memory explorer.

The data plane has no ListMemories: a memory is opened by its id. In sandbox mode
`sandbox_memories()` offers the emulator's seeded memories as suggestions.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.conf import settings

from .clients import call
from .model import Constraint, input_constraint, operation_model, shape_constraint

SERVICE = "bedrock-agentcore"
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


# --- sandbox suggestions -----------------------------------------------------------------


def sandbox_memories() -> list[dict[str, Any]]:
    """The emulator's memories (id, name, description); [] against real AWS."""
    if settings.DASHBOARD_BACKEND != "sandbox":
        return []
    from dashboard.sandbox.models import Memory

    return [
        {"memoryId": m.memory_id, "name": m.name, "description": m.description}
        for m in Memory.objects.order_by("created_at", "memory_id")[:20]
    ]


def sandbox_namespaces(memory_id: str) -> list[str]:
    """Namespaces that hold records in the emulator's memory; [] against real AWS."""
    if settings.DASHBOARD_BACKEND != "sandbox":
        return []
    from dashboard.sandbox.models import MemoryRecord

    rows = (
        MemoryRecord.objects.filter(memory_id=memory_id)
        .exclude(namespace="")
        .order_by("namespace")
        .values_list("namespace", flat=True)
        .distinct()
    )
    return list(rows[:50])
