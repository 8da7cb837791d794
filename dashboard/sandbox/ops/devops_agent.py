"""AWS DevOps Agent (`devops-agent`): agent spaces and tags."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from ..models import AgentSpace, PrivateConnection, RegisteredService, Tag
from ..wire import Context, SandboxError, operation
from .paging import page

SERVICE = "devops-agent"


def _space(space: AgentSpace, *, metadata_only: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "agentSpaceId": space.agent_space_id,
        "name": space.name,
        "createdAt": space.created_at,
        "updatedAt": space.updated_at,
    }
    if not metadata_only:
        out.update(
            description=space.description or None,
            locale=space.locale or None,
            kmsKeyArn=space.kms_key_arn or None,
            preferences=space.preferences or None,
        )
    return out


def _get(space_id: str) -> AgentSpace:
    try:
        return AgentSpace.objects.get(pk=space_id)
    except AgentSpace.DoesNotExist:
        raise SandboxError(
            "ResourceNotFoundException", f"Agent space {space_id} was not found"
        ) from None


def _tags(arn: str) -> dict[str, str]:
    return dict(Tag.objects.filter(resource_arn=arn).values_list("key", "value"))


def _set_tags(arn: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        Tag.objects.update_or_create(resource_arn=arn, key=key, defaults={"value": value})
    if Tag.objects.filter(resource_arn=arn).count() > 50:
        raise SandboxError(
            "ValidationException", "A resource can have at most 50 tags"
        )  # rolls the whole call back (the handler runs in one transaction)


@operation(SERVICE, "CreateAgentSpace")
def create_agent_space(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    token = params.get("clientToken") or ""
    if token:
        existing = AgentSpace.objects.filter(client_token=token).first()
        if existing is not None:
            return {
                "agentSpace": _space(existing),
                "tags": _tags(ctx.arn(f"agentspace/{existing.pk}")) or None,
            }
    now = timezone.now()
    space = AgentSpace.objects.create(
        agent_space_id=str(uuid.uuid4()),
        name=params["name"],
        description=params.get("description", ""),
        locale=params.get("locale", ""),
        kms_key_arn=params.get("kmsKeyArn", ""),
        preferences=params.get("preferences") or {},
        client_token=token,
        created_at=now,
        updated_at=now,
    )
    tags = params.get("tags") or {}
    _set_tags(ctx.arn(f"agentspace/{space.pk}"), tags)
    return {"agentSpace": _space(space), "tags": tags or None}


@operation(SERVICE, "GetAgentSpace")
def get_agent_space(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _get(params["agentSpaceId"])
    metadata_only = params.get("includedData") == "METADATA_ONLY"
    return {
        "agentSpace": _space(space, metadata_only=metadata_only),
        "tags": _tags(ctx.arn(f"agentspace/{space.pk}")) or None,
    }


@operation(SERVICE, "ListAgentSpaces")
def list_agent_spaces(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    metadata_only = params.get("includedData") == "METADATA_ONLY"
    rows, token = page(
        AgentSpace.objects.order_by("created_at", "agent_space_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope="ListAgentSpaces",
    )
    return {
        "agentSpaces": [_space(s, metadata_only=metadata_only) for s in rows],
        "nextToken": token,
    }


@operation(SERVICE, "UpdateAgentSpace")
def update_agent_space(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _get(params["agentSpaceId"])
    for member, column in (
        ("name", "name"),
        ("description", "description"),
        ("locale", "locale"),
        ("preferences", "preferences"),
    ):
        if member in params:
            setattr(space, column, params[member])
    space.updated_at = timezone.now()
    space.save()
    return {"agentSpace": _space(space)}


@operation(SERVICE, "DeleteAgentSpace")
def delete_agent_space(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    # Idempotent, as documented: deleting a space that is gone succeeds.
    space_id = params["agentSpaceId"]
    AgentSpace.objects.filter(pk=space_id).delete()
    Tag.objects.filter(resource_arn=ctx.arn(f"agentspace/{space_id}")).delete()
    return {}


_TAGGABLE = {
    "agentspace": AgentSpace,
    "service": RegisteredService,
    "private-connection": PrivateConnection,
}


def _check_resource(ctx: Context, arn: str) -> None:
    prefix = ctx.arn("")
    if not arn.startswith(prefix):
        raise SandboxError(
            "ResourceNotFoundException", f"{arn} is not in this account and region ({prefix})"
        )
    kind, _, ident = arn[len(prefix) :].partition("/")
    model = _TAGGABLE.get(kind)
    if model is None:
        # Every kind TagResource accepts is here; a new one would need its model.
        raise SandboxError(
            "NotImplemented", f"The sandbox does not keep tags for {kind} resources yet"
        )
    if not model.objects.filter(pk=ident).exists():
        raise SandboxError("ResourceNotFoundException", f"Resource {arn} was not found")


@operation(SERVICE, "TagResource")
def tag_resource(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    _check_resource(ctx, params["resourceArn"])
    _set_tags(params["resourceArn"], params["tags"])
    return {}


@operation(SERVICE, "UntagResource")
def untag_resource(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    _check_resource(ctx, params["resourceArn"])
    Tag.objects.filter(resource_arn=params["resourceArn"], key__in=params["tagKeys"]).delete()
    return {}


@operation(SERVICE, "ListTagsForResource")
def list_tags_for_resource(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    _check_resource(ctx, params["resourceArn"])
    return {"tags": _tags(params["resourceArn"])}
