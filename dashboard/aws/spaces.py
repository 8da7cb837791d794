"""Agent spaces and their tags (AWS DevOps Agent, `devops-agent`)."""

from __future__ import annotations

from typing import Any

from .clients import call, collect

SERVICE = "devops-agent"


def list_spaces(*, next_token: str | None = None, max_results: int = 50) -> dict[str, Any]:
    """One page: {"agentSpaces": [...], "nextToken": str | None}."""
    params: dict[str, Any] = {"maxResults": max_results}
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListAgentSpaces", **params)
    return {"agentSpaces": page.get("agentSpaces", []), "nextToken": page.get("nextToken")}


def all_spaces() -> list[dict[str, Any]]:
    """Every agent space of the account, across pages."""
    return collect(SERVICE, "ListAgentSpaces", "agentSpaces", maxResults=100)


def get_space(space_id: str) -> dict[str, Any]:
    return call(SERVICE, "GetAgentSpace", agentSpaceId=space_id)["agentSpace"]


def describe_space(space_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The space and its tags, in one call (GetAgentSpace answers both)."""
    answer = call(SERVICE, "GetAgentSpace", agentSpaceId=space_id)
    return answer["agentSpace"], answer.get("tags") or {}


def create_space(
    *, name: str, description: str = "", locale: str = "", tags: dict[str, str] | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name}
    if description:
        params["description"] = description
    if locale:
        params["locale"] = locale
    if tags:
        params["tags"] = tags
    return call(SERVICE, "CreateAgentSpace", **params)["agentSpace"]


def update_space(space_id: str, **changes: Any) -> dict[str, Any]:
    """Change name/description/locale; members left out stay as they are."""
    return call(SERVICE, "UpdateAgentSpace", agentSpaceId=space_id, **changes)["agentSpace"]


def delete_space(space_id: str) -> None:
    call(SERVICE, "DeleteAgentSpace", agentSpaceId=space_id)


def space_arn(space_id: str) -> str:
    """The ARN tags are addressed by (region and account of the caller's credentials)."""
    from .tags import resource_arn

    return resource_arn("agentspace", space_id)
