"""Services and associations as the pages show them: a label, a type name, a one-line summary."""

from __future__ import annotations

from typing import Any

from . import catalog


def _details(service: dict[str, Any]) -> dict[str, Any]:
    found = service.get("additionalServiceDetails") or {}
    return next(iter(found.values()), {}) or {}


def service_row(service: dict[str, Any]) -> dict[str, Any]:
    details = _details(service)
    resources = service.get("accessibleResources") or []
    where = (
        details.get("endpoint")
        or details.get("instanceUrl")
        or details.get("targetUrl")
        or (details.get("owner") and f"{details.get('ownerType', '')} {details['owner']}".strip())
        or details.get("teamName")
        or details.get("organizationName")
        or (
            details.get("accountId") and f"Account {details['accountId']} ({details.get('region')})"
        )
        or details.get("tenantId")
        or details.get("assumableRoleArn")
        or next((r.get("url") or r.get("accountUrn") for r in resources if isinstance(r, dict)), "")
        or ""
    )
    method = details.get("authorizationMethod") or ""
    return {
        **service,
        "id": service["serviceId"],
        "type": service["serviceType"],
        "type_name": catalog.type_name(service["serviceType"]),
        "label": service.get("name") or details.get("name") or service["serviceId"],
        "where": where,
        "method": method.replace("-", " "),
    }


def _config(association: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    configuration = association.get("configuration") or {}
    kind = next(iter(configuration), "")
    return kind, configuration.get(kind) or {}


_KIND_LABELS = {
    "aws": "Monitor account",
    "sourceAws": "Source account",
    "sourceAwsOrg": "Organization unit",
    "agentspace": "Linked agent space",
    "releaseManagement": "Release management environment",
}


def summary(kind: str, value: dict[str, Any]) -> str:
    """One line about an association's configuration."""
    if kind in ("aws", "sourceAws"):
        return f"Account {value.get('accountId', '?')}"
    if kind == "sourceAwsOrg":
        unit = value.get("organizationalUnit") or {}
        count = len(unit.get("accountIds") or [])
        return f"{unit.get('organizationalUnitId', '?')}" + (
            f" ({count} accounts)" if count else ""
        )
    if kind == "github":
        return f"{value.get('owner', '?')}/{value.get('repoName', '?')}"
    if kind == "gitlab":
        return value.get("projectPath", "")
    if kind in ("slack", "msteams"):
        target = (value.get("transmissionTarget") or {}).get("opsOncallTarget") or {}
        channel = target.get("channelName") or target.get("channelId") or "?"
        team = value.get("workspaceName") or value.get("teamName") or ""
        return f"{team} #{channel}".strip()
    if kind in ("mcpserver", "mcpserversigv4"):
        tools = value.get("tools") or []
        return f"{len(tools)} tool{'s' if len(tools) != 1 else ''}: {', '.join(tools[:4])}" + (
            "…" if len(tools) > 4 else ""
        )
    if kind == "pagerduty":
        services = value.get("services") or []
        return f"{len(services)} PagerDuty service{'s' if len(services) != 1 else ''}"
    if kind == "dynatrace":
        return f"Environment {value.get('envId', '?')}"
    if kind in ("mcpservernewrelic",):
        return f"Account {value.get('accountId', '?')}"
    if kind == "mcpservergrafana":
        return value.get("endpoint", "")
    if kind == "azure":
        return f"Subscription {value.get('subscriptionId', '?')}"
    if kind == "azuredevops":
        return f"{value.get('organizationName', '?')}/{value.get('projectName', '?')}"
    if kind == "servicenow":
        return value.get("instanceId", "") or "Instance"
    if kind == "agentspace":
        arn = str(value.get("targetAgentSpaceArn") or "")
        name = value.get("targetAgentSpaceName") or arn.rsplit("/", 1)[-1] or "?"
        relationship = value.get("relationshipType")
        return f"{name} ({relationship})" if relationship else name
    return ""


def association_row(
    association: dict[str, Any], services: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    kind, value = _config(association)
    service = services.get(association["serviceId"])
    if association["serviceId"] == catalog.AWS_SERVICE_ID:
        service_label, service_type = "AWS", catalog.AWS_SERVICE_ID
    elif service is not None:
        service_label, service_type = service["label"], service["type"]
    else:
        service_label, service_type = association["serviceId"], ""
    return {
        **association,
        "id": association["associationId"],
        "kind": kind,
        "kind_name": _KIND_LABELS.get(kind) or catalog.type_name(kind),
        "service_label": service_label,
        "service_type": service_type,
        "service_type_name": "AWS"
        if service_type == catalog.AWS_SERVICE_ID
        else (catalog.type_name(service_type) if service_type else ""),
        "service_known": service is not None,
        "summary": summary(kind, value),
    }
