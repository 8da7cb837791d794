"""Services the agent may use and their associations with agent spaces (AWS DevOps Agent).

Plain dicts as boto3 parses them, minus anything secret: webhook secrets and API keys that
AssociateService hands out are dropped here, before a view could render them.
"""

from __future__ import annotations

from typing import Any

from . import errors
from .clients import call, collect
from .model import service_model, strip_credentials
from .spaces import all_spaces

SERVICE = "devops-agent"
# AWS accounts are associated with this built-in service (no registration).
AWS_SERVICE_ID = "aws"


def _public(shape_name: str, value: dict[str, Any] | None) -> dict[str, Any] | None:
    """`value` without the members the model marks sensitive (secrets, keys)."""
    if value is None:
        return None
    shape = service_model(SERVICE).shape_for(shape_name)
    return {
        key: item
        for key, item in value.items()
        if not (key in shape.members and shape.members[key].metadata.get("sensitive"))
    }


# --- services --------------------------------------------------------------------------------


def list_services(
    *, service_type: str = "", next_token: str | None = None, max_results: int = 50
) -> dict[str, Any]:
    """One page: {"services": [...], "nextToken": str | None}."""
    params: dict[str, Any] = {"maxResults": max_results}
    if service_type:
        params["filterServiceType"] = service_type
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListServices", **params)
    return {
        "services": [_service(s) for s in page.get("services", [])],
        "nextToken": page.get("nextToken"),
    }


def _service(service: dict[str, Any]) -> dict[str, Any]:
    # AWS may answer credentials it keeps (a SigV4 MCP server's custom header values): they
    # go no further than here.
    return strip_credentials(service_model(SERVICE).shape_for("RegisteredService"), service)


def all_services() -> list[dict[str, Any]]:
    return [_service(s) for s in collect(SERVICE, "ListServices", "services", maxResults=100)]


def get_service(service_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The service and its tags (GetService answers both)."""
    answer = call(SERVICE, "GetService", serviceId=service_id)
    return _service(answer["service"]), answer.get("tags") or {}


def register_service(service_type: str, details: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """{"serviceId": ...} when done, or {"authorizationUrl": ...} when the user must consent
    at the provider first (OAuth 3LO, authorization discovery)."""
    params = {k: v for k, v in extra.items() if v}
    answer = call(
        SERVICE,
        "RegisterService",
        service=service_type,
        serviceDetails={service_type: details},
        **params,
    )
    step = (answer.get("additionalStep") or {}).get("oauth") or {}
    return {
        "serviceId": answer.get("serviceId"),
        "authorizationUrl": step.get("authorizationUrl"),
        "tags": answer.get("tags") or {},
    }


def deregister_service(service_id: str) -> None:
    call(SERVICE, "DeregisterService", serviceId=service_id)


def service_arn(service_id: str) -> str:
    from .tags import resource_arn

    return resource_arn("service", service_id)


# --- associations ----------------------------------------------------------------------------


def list_associations(
    space_id: str,
    *,
    service_types: list[str] | None = None,
    next_token: str | None = None,
    max_results: int = 50,
) -> dict[str, Any]:
    params: dict[str, Any] = {"agentSpaceId": space_id, "maxResults": max_results}
    if service_types:
        params["filterServiceTypes"] = ",".join(service_types)
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListAssociations", **params)
    return {"associations": page.get("associations", []), "nextToken": page.get("nextToken")}


def all_associations(space_id: str, service_types: list[str] | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"agentSpaceId": space_id, "maxResults": 100}
    if service_types:
        params["filterServiceTypes"] = ",".join(service_types)
    return collect(SERVICE, "ListAssociations", "associations", **params)


def get_association(space_id: str, association_id: str) -> dict[str, Any]:
    answer = call(SERVICE, "GetAssociation", agentSpaceId=space_id, associationId=association_id)
    return answer["association"]


def associate(
    space_id: str,
    service_id: str,
    configuration: dict[str, Any],
    capabilities: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """{"association": ..., "webhook": ... without its secret or API key, or None}."""
    params: dict[str, Any] = {
        "agentSpaceId": space_id,
        "serviceId": service_id,
        "configuration": configuration,
    }
    if capabilities:
        params["capabilities"] = capabilities
    answer = call(SERVICE, "AssociateService", **params)
    return {
        "association": answer["association"],
        "webhook": _public("GenericWebhook", answer.get("webhook")),
    }


def update_association(
    space_id: str,
    association_id: str,
    configuration: dict[str, Any],
    capabilities: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Replace the configuration; capabilities only when given (absent: left unchanged)."""
    params: dict[str, Any] = {
        "agentSpaceId": space_id,
        "associationId": association_id,
        "configuration": configuration,
    }
    if capabilities is not None:
        params["capabilities"] = capabilities
    answer = call(SERVICE, "UpdateAssociation", **params)
    return {
        "association": answer["association"],
        "webhook": _public("GenericWebhook", answer.get("webhook")),
    }


def disassociate(space_id: str, association_id: str) -> None:
    call(SERVICE, "DisassociateService", agentSpaceId=space_id, associationId=association_id)


def validate_aws(space_id: str) -> None:
    call(SERVICE, "ValidateAwsAssociations", agentSpaceId=space_id)


def list_webhooks(space_id: str, association_id: str) -> list[dict[str, Any]]:
    answer = call(SERVICE, "ListWebhooks", agentSpaceId=space_id, associationId=association_id)
    return [_public("Webhook", hook) or {} for hook in answer.get("webhooks", [])]


# --- what depends on a service ---------------------------------------------------------------


def dependents(service_id: str) -> dict[str, Any]:
    """Associations of `service_id` in every agent space, and spaces that could not be read.

    {"associations": [{"space": {...}, "association": {...}}], "unreadable": [{"space", "error"}]}
    """
    spaces = all_spaces()

    def scan(space: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
        try:
            found = all_associations(space["agentSpaceId"])
        except errors.NotFound:
            return space, [], ""  # deleted meanwhile: nothing depends on it there
        except errors.AwsError as exc:
            return space, [], exc.message
        return space, [a for a in found if a.get("serviceId") == service_id], ""

    used: list[dict[str, Any]] = []
    unreadable: list[dict[str, Any]] = []
    # One after another: the sandbox answers through the caller's database connection.
    for space, found, problem in map(scan, spaces):
        if problem:
            unreadable.append({"space": space, "error": problem})
        used.extend({"space": space, "association": a} for a in found)
    return {"associations": used, "unreadable": unreadable}
