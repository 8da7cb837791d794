"""AWS DevOps Agent (`devops-agent`): services, associations and their webhooks.

- RegisterService keeps what GetService shows (the type's additionalServiceDetails) and never
  returns a credential. OAuth 3LO and authorization discovery answer an
  `additionalStep.oauth.authorizationUrl` instead of a service id: the sandbox's own consent
  page (dashboard/sandbox/oauth.py), which creates the service when the user allows it.
- AssociateService overwrites the association of the same service in the space, as documented.
  AWS accounts are associated with the built-in service "aws": one monitor account per space,
  one association per source account or organizational unit.
- Types that receive events (event channel, Dynatrace, ServiceNow, PagerDuty, GitLab) get a
  webhook with a generated secret or API key, returned once by AssociateService.
- DeregisterService refuses (ConflictException) while an agent space uses the service.
- An `agentspace` service links agent spaces: its association names a target space of this
  account and region (ResourceNotFoundException for one that does not exist, as for an unknown
  service; ValidationException for the space itself). A space has one association per target
  space (like one per AWS source account), so a lead can link several members with one
  registered service; the target's name and description are filled in from the target space
  when the caller leaves them out.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from django.utils import timezone

from ..models import (
    AgentSpace,
    AssociationWebhook,
    PendingOAuth,
    RegisteredService,
    ServiceAssociation,
    Tag,
)
from ..wire import Context, SandboxError, operation, service_model
from .devops_agent import _set_tags, _tags
from .paging import page

SERVICE = "devops-agent"
AWS_SERVICE_ID = "aws"
MAX_SERVICES = 100
MAX_ASSOCIATIONS = 100
OAUTH_FLOW_SECONDS = 15 * 60
AUTHORIZE_PATH = "/sandbox/oauth/authorize/"

# The authorizationMethod GetService reports for each authorization variant.
_METHODS = {
    "oAuthClientCredentials": "oauth-client-credentials",
    "oAuth3LO": "oauth-3lo",
    "authorizationDiscovery": "oauth-3lo",
    "apiKey": "api-key",
    "bearerToken": "bearer-token",
    "customHeaders": "custom-headers",
}
_THREE_LEGGED = ("oAuth3LO", "authorizationDiscovery")
# Configurations a service of each type accepts (ServiceConfiguration members).
_CONFIGS = {
    AWS_SERVICE_ID: ("aws", "sourceAws", "sourceAwsOrg"),
    "azureidentity": ("azure",),
}
# Event sources get a webhook: its authentication type.
_WEBHOOKS = {
    "eventChannel": "hmac",
    "dynatrace": "apikey",
    "servicenow": "hmac",
    "pagerduty": "pagerduty",
    "gitlab": "gitlab",
}


def _now() -> dt.datetime:
    return timezone.now()


def _only_member(value: dict[str, Any], path: str) -> str:
    """The one member set in a union value (ValidationException otherwise)."""
    present = [k for k, v in (value or {}).items() if v is not None]
    if len(present) != 1:
        raise SandboxError(
            "ValidationException",
            f"{path} must set exactly one member (it sets {len(present)}: "
            f"{', '.join(present) or 'none'})",
            fieldList=[{"path": path, "message": "Exactly one member must be set"}],
        )
    return present[0]


# --- services --------------------------------------------------------------------------------


def service_shape(service: RegisteredService) -> dict[str, Any]:
    details = service.details
    return {
        "serviceId": service.service_id,
        "serviceType": service.service_type,
        "name": service.name or None,
        "accessibleResources": service.accessible_resources or None,
        "additionalServiceDetails": {service.service_type: details} if details else None,
        "kmsKeyArn": service.kms_key_arn or None,
        "privateConnectionName": service.private_connection_name or None,
        "createdAt": service.created_at,
        "updatedAt": service.updated_at,
    }


def _get_service(service_id: str) -> RegisteredService:
    try:
        return RegisteredService.objects.get(pk=service_id)
    except RegisteredService.DoesNotExist:
        raise SandboxError(
            "ResourceNotFoundException", f"Service {service_id} was not found"
        ) from None


def _auth_variant(details: dict[str, Any], service_type: str) -> tuple[str, dict[str, Any]]:
    auth = details.get("authorizationConfig")
    if not isinstance(auth, dict) or not auth:
        return "", {}
    if service_type in ("mcpserversigv4", "remoteagentsigv4"):
        return "sigv4", auth  # a plain structure, not a union
    variant = _only_member(auth, f"serviceDetails.{service_type}.authorizationConfig")
    return variant, auth[variant] or {}


def _registered_details(service_type: str, details: dict[str, Any]) -> dict[str, Any] | None:
    """The additionalServiceDetails GetService shows: no credential among them."""
    variant, auth = _auth_variant(details, service_type)
    method = _METHODS.get(variant)
    if service_type in ("mcpserver", "mcpserverdatadog", "mcpserversplunk"):
        out = {
            "name": details["name"],
            "endpoint": details["endpoint"],
            "authorizationMethod": method,
            "description": details.get("description") or None,
        }
        if variant == "apiKey":
            out["apiKeyHeader"] = auth.get("apiKeyHeader")
        if variant == "customHeaders":
            out["customHeaderNames"] = sorted((auth.get("headers") or {}).keys())
        return out
    if service_type == "mcpservergrafana":
        return {"endpoint": details["endpoint"], "authorizationMethod": method}
    if service_type == "servicenow":
        return {"instanceUrl": details["instanceUrl"]}
    if service_type == "gitlab":
        return {
            "targetUrl": details["targetUrl"],
            "tokenType": details["tokenType"],
            "groupId": details.get("groupId"),
        }
    if service_type == "mcpservernewrelic":
        return {"accountId": auth.get("accountId"), "region": auth.get("region")}
    if service_type == "azureidentity":
        return {
            k: details[k]
            for k in ("tenantId", "clientId", "webIdentityRoleArn", "webIdentityTokenAudiences")
        }
    if service_type == "pagerduty":
        return {"scopes": details.get("scopes") or []}
    if service_type == "mcpserversigv4":
        return {
            "name": details["name"],
            "endpoint": details["endpoint"],
            "description": details.get("description") or None,
            "region": auth.get("region"),
            "service": auth.get("service"),
            "roleArn": auth.get("mcpRoleArn") or auth.get("roleArn") or "",
            "mcpRoleArn": auth.get("mcpRoleArn"),
            "customHeaders": auth.get("customHeaders") or None,
        }
    if service_type == "remoteagent":
        out = {
            "name": details["name"],
            "endpoint": details["endpoint"],
            "description": details.get("description") or None,
            "authorizationMethod": method,
        }
        if variant == "apiKey":
            out["apiKeyHeader"] = auth.get("apiKeyHeader")
        return out
    if service_type == "agentspace":
        return {"assumableRoleArn": details["assumableRoleArn"]}
    if service_type == "remoteagentsigv4":
        return {
            "name": details["name"],
            "endpoint": details["endpoint"],
            "description": details.get("description") or None,
            "region": auth.get("region"),
            "service": auth.get("service"),
            "roleArn": auth.get("roleArn"),
        }
    return None  # dynatrace, eventChannel: nothing beyond the type


def _resources(service_type: str, details: dict[str, Any]) -> list[dict[str, Any]]:
    if service_type == "dynatrace":
        return [{"type": "account", "accountUrn": details["accountUrn"]}]
    if service_type == "servicenow":
        return [{"type": "instance", "url": details["instanceUrl"]}]
    if service_type == "gitlab":
        return [{"type": "instance", "url": details["targetUrl"]}]
    if "endpoint" in details:
        return [{"type": "endpoint", "url": details["endpoint"]}]
    return []


def _identity(service_type: str, details: dict[str, Any]) -> str:
    """Two registrations of the same thing collide (ConflictException)."""
    for member in ("name", "accountUrn", "instanceUrl", "tenantId", "assumableRoleArn"):
        if details.get(member):
            return f"{service_type}:{member}:{details[member]}"
    if service_type == "gitlab":
        return f"gitlab:{details.get('targetUrl')}:{details.get('groupId') or ''}"
    return ""


def _display_name(params: dict[str, Any], service_type: str, details: dict[str, Any]) -> str:
    return params.get("name") or details.get("name") or ""


def _check_register(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    service_type = params["service"]
    member = _only_member(params["serviceDetails"], "serviceDetails")
    if member != service_type:
        raise SandboxError(
            "ValidationException",
            f"serviceDetails sets {member}, but service is {service_type}: they must match",
            fieldList=[
                {"path": "serviceDetails", "message": f"Expected the {service_type} member"}
            ],
        )
    if params.get("privateConnectionName") and (
        params.get("targetUrlPrivateConnectionName")
        or params.get("exchangeUrlPrivateConnectionName")
    ):
        raise SandboxError(
            "ValidationException",
            "targetUrlPrivateConnectionName and exchangeUrlPrivateConnectionName cannot be "
            "specified when privateConnectionName is provided",
            fieldList=[
                {
                    "path": "privateConnectionName",
                    "message": "Give either one private connection or separate ones",
                }
            ],
        )
    details = params["serviceDetails"][member] or {}
    variant, _ = _auth_variant(details, service_type)
    if service_type in ("mcpserver", "mcpserverdatadog", "mcpserversplunk", "mcpservergrafana"):
        if not variant:
            raise SandboxError(
                "ValidationException",
                f"serviceDetails.{service_type}.authorizationConfig is required",
                fieldList=[
                    {
                        "path": f"serviceDetails.{service_type}.authorizationConfig",
                        "message": "Member is required",
                    }
                ],
            )
    return service_type, details


def _strip_credentials(params: dict[str, Any]) -> dict[str, Any]:
    """The request as a pending flow keeps it: no secret, token or key value."""
    shape = service_model(SERVICE).operation_model("RegisterService").input_shape

    def credential(member: Any, name: str) -> bool:
        return (
            bool(member.metadata.get("sensitive"))
            and member.type_name in ("string", "map")
            and name not in _NOT_CREDENTIALS
        )

    def strip(node: Any, value: Any) -> Any:
        if node.type_name == "structure" and isinstance(value, dict):
            return {
                k: strip(node.members[k], v)
                for k, v in value.items()
                if k in node.members and not credential(node.members[k], k)
            }
        if node.type_name == "list" and isinstance(value, list):
            return [strip(node.member, v) for v in value]
        if node.type_name == "map" and isinstance(value, dict):
            if node.value.metadata.get("sensitive"):
                return {}
            return {k: strip(node.value, v) for k, v in value.items()}
        return value

    return strip(shape, params)


_NOT_CREDENTIALS = frozenset({"clientId", "clientName", "description"})


def create_service(
    ctx: Context, params: dict[str, Any], *, service_type: str, details: dict[str, Any]
) -> RegisteredService:
    now = _now()
    service = RegisteredService.objects.create(
        service_id=f"{service_type.lower()}-{uuid.uuid4().hex[:12]}",
        service_type=service_type,
        name=_display_name(params, service_type, details),
        details=_registered_details(service_type, details),
        accessible_resources=_resources(service_type, details),
        kms_key_arn=params.get("kmsKeyArn", ""),
        private_connection_name=params.get("privateConnectionName", ""),
        target_url_private_connection_name=params.get("targetUrlPrivateConnectionName", ""),
        exchange_url_private_connection_name=params.get("exchangeUrlPrivateConnectionName", ""),
        identity=_identity(service_type, details),
        created_at=now,
        updated_at=now,
    )
    _set_tags(ctx.arn(f"service/{service.pk}"), params.get("tags") or {})
    return service


@operation(SERVICE, "RegisterService")
def register_service(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    service_type, details = _check_register(params)
    identity = _identity(service_type, details)
    if identity and RegisteredService.objects.filter(identity=identity).exists():
        raise SandboxError(
            "ConflictException",
            f"A {service_type} service with the same "
            f"{identity.split(':')[1]} is already registered",
        )
    if RegisteredService.objects.count() >= MAX_SERVICES:
        raise SandboxError(
            "ServiceQuotaExceededException",
            f"An account can register at most {MAX_SERVICES} services",
        )
    variant, auth = _auth_variant(details, service_type)
    if variant in _THREE_LEGGED:
        now = _now()
        flow = PendingOAuth.objects.create(
            flow_id=secrets.token_urlsafe(24),
            service_type=service_type,
            request=_strip_credentials(params),
            provider=auth.get("authorizationUrl") or details.get("endpoint", ""),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=OAUTH_FLOW_SECONDS),
        )
        return {"additionalStep": {"oauth": {"authorizationUrl": f"{AUTHORIZE_PATH}{flow.pk}/"}}}
    service = create_service(ctx, params, service_type=service_type, details=details)
    return {
        "serviceId": service.service_id,
        "kmsKeyArn": service.kms_key_arn or None,
        "tags": params.get("tags") or None,
    }


def complete_oauth(ctx: Context, flow_id: str) -> RegisteredService:
    """The user allowed access at the provider: register the service the flow was for."""
    flow = PendingOAuth.objects.select_for_update().filter(pk=flow_id).first()
    if flow is None or flow.expires_at <= _now():
        raise SandboxError("ResourceNotFoundException", "This authorization request has expired")
    request = flow.request
    details = request["serviceDetails"][flow.service_type]
    service = create_service(ctx, request, service_type=flow.service_type, details=details)
    flow.delete()
    return service


@operation(SERVICE, "ListServices")
def list_services(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = RegisteredService.objects.all()
    if params.get("filterServiceType"):
        rows = rows.filter(service_type=params["filterServiceType"])
    found, token = page(
        rows.order_by("created_at", "service_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListServices:{params.get('filterServiceType', '')}",
    )
    return {"services": [service_shape(s) for s in found], "nextToken": token}


@operation(SERVICE, "GetService")
def get_service(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    service = _get_service(params["serviceId"])
    return {
        "service": service_shape(service),
        "tags": _tags(ctx.arn(f"service/{service.pk}")) or None,
    }


@operation(SERVICE, "DeregisterService")
def deregister_service(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    service = _get_service(params["serviceId"])
    used = ServiceAssociation.objects.filter(service_id=service.pk)
    if used.exists():
        spaces = sorted(set(used.values_list("space_id", flat=True)))
        raise SandboxError(
            "ConflictException",
            f"Service {service.pk} is associated with {len(spaces)} agent space"
            f"{'s' if len(spaces) != 1 else ''} ({', '.join(spaces)}): disassociate it first",
        )
    Tag.objects.filter(resource_arn=ctx.arn(f"service/{service.pk}")).delete()
    service.delete()
    return {}


# --- associations ----------------------------------------------------------------------------


def association_shape(row: ServiceAssociation) -> dict[str, Any]:
    return {
        "agentSpaceId": row.space_id,
        "associationId": row.association_id,
        "serviceId": row.service_id,
        "status": row.status or None,
        "configuration": row.configuration,
        "capabilities": row.capabilities or None,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    }


def _space(space_id: str) -> AgentSpace:
    try:
        return AgentSpace.objects.get(pk=space_id)
    except AgentSpace.DoesNotExist:
        raise SandboxError(
            "ResourceNotFoundException", f"Agent space {space_id} was not found"
        ) from None


def _association(space_id: str, association_id: str) -> ServiceAssociation:
    _space(space_id)
    found = ServiceAssociation.objects.filter(space_id=space_id, pk=association_id).first()
    if found is None:
        raise SandboxError(
            "ResourceNotFoundException",
            f"Association {association_id} was not found in agent space {space_id}",
        )
    return found


def _service_type_of(service_id: str) -> str:
    if service_id == AWS_SERVICE_ID:
        return AWS_SERVICE_ID
    return _get_service(service_id).service_type


def _check_configuration(service_type: str, configuration: dict[str, Any]) -> str:
    kind = _only_member(configuration, "configuration")
    allowed = _CONFIGS.get(service_type, (service_type,))
    if kind not in allowed:
        raise SandboxError(
            "ValidationException",
            f"A {service_type} service takes the {' or '.join(allowed)} configuration, not {kind}",
            fieldList=[{"path": "configuration", "message": f"Use {' or '.join(allowed)}"}],
        )
    return kind


def _target_space(ctx: Context, space: AgentSpace, value: dict[str, Any]) -> AgentSpace:
    """The agent space an `agentspace` configuration links `space` to."""
    arn = value["targetAgentSpaceArn"]  # its pattern was checked with the input
    _, _, _, region, account, resource = arn.split(":", 5)
    target_id = resource.split("/", 1)[1]
    target = None
    if (region, account) == (ctx.region, ctx.account_id):
        target = AgentSpace.objects.filter(pk=target_id).first()
    if target is None:
        raise SandboxError("ResourceNotFoundException", f"Agent space {arn} was not found")
    if target.pk == space.pk:
        path = "configuration.agentspace.targetAgentSpaceArn"
        raise SandboxError(
            "ValidationException",
            "An agent space cannot be linked to itself",
            fieldList=[{"path": path, "message": "Choose another agent space"}],
        )
    return target


def _clean_configuration(
    ctx: Context, space: AgentSpace, kind: str, configuration: dict[str, Any]
) -> dict[str, Any]:
    """Drop what the service sets itself (validation states, deployment progress); fill in
    what it knows about a linked agent space."""
    value = dict(configuration[kind] or {})
    value.pop("agentElevatedRoleArnStatus", None)
    value.pop("deploymentState", None)
    if kind in ("aws", "sourceAws") and value.get("agentElevatedRoleArn"):
        value["agentElevatedRoleArnStatus"] = "pending-confirmation"
    if kind == "agentspace":
        target = _target_space(ctx, space, value)
        value.setdefault("targetAgentSpaceName", target.name)
        if target.description:
            value.setdefault("targetAgentSpaceDescription", target.description)
    return {kind: value}


def _slot(service_id: str, kind: str, value: dict[str, Any]) -> str:
    if kind == "agentspace":
        # One link per target space, whichever agentspace service carries it.
        return f"agentspace:{value['targetAgentSpaceArn'].rsplit('/', 1)[1]}"
    if service_id != AWS_SERVICE_ID:
        return service_id
    if kind == "aws":
        return "aws:monitor"
    if kind == "sourceAws":
        return f"aws:source:{value.get('accountId')}"
    return f"aws:org:{(value.get('organizationalUnit') or {}).get('organizationalUnitId')}"


def _webhook_answer(hook: AssociationWebhook, *, with_secret: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "webhookUrl": hook.webhook_url,
        "webhookId": hook.webhook_id,
        "webhookType": hook.webhook_type,
    }
    if with_secret:
        out["webhookSecret"] = hook.webhook_secret or None
        out["apiKey"] = hook.api_key or None
    return out


def _ensure_webhook(ctx: Context, row: ServiceAssociation) -> tuple[AssociationWebhook, bool]:
    existing = row.webhooks.first()
    if existing is not None:
        return existing, False
    kind = _WEBHOOKS[row.service_type]
    webhook_id = uuid.uuid4().hex
    hook = AssociationWebhook.objects.create(
        webhook_id=webhook_id,
        association=row,
        webhook_url=f"https://event-ai.{ctx.region}.api.aws/webhook/{kind}/{webhook_id}",
        webhook_type=kind,
        webhook_secret="" if kind == "apikey" else "whsec_" + secrets.token_urlsafe(32),
        api_key="dtk_" + secrets.token_urlsafe(32) if kind == "apikey" else "",
        created_at=_now(),
    )
    return hook, True


@operation(SERVICE, "AssociateService")
def associate_service(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _space(params["agentSpaceId"])
    service_id = params["serviceId"]
    service_type = _service_type_of(service_id)
    kind = _check_configuration(service_type, params["configuration"])
    configuration = _clean_configuration(ctx, space, kind, params["configuration"])
    slot = _slot(service_id, kind, configuration[kind])
    now = _now()
    row = ServiceAssociation.objects.filter(space=space, slot=slot).first()
    if row is None:
        if ServiceAssociation.objects.filter(space=space).count() >= MAX_ASSOCIATIONS:
            raise SandboxError(
                "ServiceQuotaExceededException",
                f"An agent space can have at most {MAX_ASSOCIATIONS} associations",
            )
        row = ServiceAssociation(
            association_id=str(uuid.uuid4()), space=space, slot=slot, created_at=now
        )
    row.service_id = service_id
    row.service_type = service_type
    row.configuration = configuration
    row.capabilities = params.get("capabilities") or None
    # AWS accounts wait for ValidateAwsAssociations; other services are checked at once.
    row.status = "pending-confirmation" if service_id == AWS_SERVICE_ID else "valid"
    row.updated_at = now
    row.save()
    out: dict[str, Any] = {"association": association_shape(row)}
    if service_type in _WEBHOOKS:
        hook, created = _ensure_webhook(ctx, row)
        out["webhook"] = _webhook_answer(hook, with_secret=created)
    return out


@operation(SERVICE, "ListAssociations")
def list_associations(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _space(params["agentSpaceId"])
    rows = ServiceAssociation.objects.filter(space=space)
    wanted = params.get("filterServiceTypes") or ""
    types = [t.strip() for t in wanted.split(",") if t.strip()]
    if types:
        rows = rows.filter(service_type__in=types)
    found, token = page(
        rows.order_by("created_at", "association_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListAssociations:{space.pk}:{','.join(types)}",
    )
    return {"associations": [association_shape(r) for r in found], "nextToken": token}


@operation(SERVICE, "GetAssociation")
def get_association(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    row = _association(params["agentSpaceId"], params["associationId"])
    return {"association": association_shape(row)}


@operation(SERVICE, "UpdateAssociation")
def update_association(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Present members are replaced whole; absent ones stay as they are."""
    row = _association(params["agentSpaceId"], params["associationId"])
    kind = _check_configuration(row.service_type, params["configuration"])
    current_kind = next(iter(row.configuration), "")
    if kind != current_kind:
        raise SandboxError(
            "ValidationException",
            f"This association holds a {current_kind} configuration; it cannot become {kind}",
            fieldList=[{"path": "configuration", "message": f"Use {current_kind}"}],
        )
    configuration = _clean_configuration(ctx, row.space, kind, params["configuration"])
    slot = _slot(row.service_id, kind, configuration[kind])
    if slot != row.slot and kind != "agentspace":
        raise SandboxError(
            "ValidationException",
            "The account or organizational unit of an AWS association cannot change: "
            "associate it anew instead",
        )
    if slot != row.slot:
        if ServiceAssociation.objects.filter(space_id=row.space_id, slot=slot).exists():
            raise SandboxError(
                "ConflictException",
                "This agent space is already linked to "
                f"{configuration[kind]['targetAgentSpaceArn']}: edit that association instead",
            )
        row.slot = slot
    row.configuration = configuration
    if "capabilities" in params:
        row.capabilities = params["capabilities"] or None
    if row.service_id == AWS_SERVICE_ID:
        row.status = "pending-confirmation"
    row.updated_at = _now()
    row.save()
    out: dict[str, Any] = {"association": association_shape(row)}
    hook = row.webhooks.first()
    if hook is not None:
        out["webhook"] = _webhook_answer(hook, with_secret=False)
    return out


@operation(SERVICE, "DisassociateService")
def disassociate_service(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    # Idempotent, as documented ("returns a 204 No Content response on success"): an
    # association already gone is disassociated. The space must exist.
    _space(params["agentSpaceId"])
    ServiceAssociation.objects.filter(
        space_id=params["agentSpaceId"], pk=params["associationId"]
    ).delete()
    return {}


def _validate_aws(row: ServiceAssociation, now: dt.datetime) -> None:
    kind = next(iter(row.configuration))
    value = dict(row.configuration[kind])
    if kind == "sourceAwsOrg":
        unit = value.get("organizationalUnit") or {}
        accounts = unit.get("accountIds") or []
        value["deploymentState"] = {
            "deployedAccountCount": len(accounts) or 3,
            "issues": [],
            "lastEvaluatedAt": now.isoformat(),
        }
        row.status = "valid"
    else:
        role = value.get("assumableRoleArn", "")
        same_account = role.split(":")[4:5] == [value.get("accountId")]
        row.status = "valid" if same_account else "invalid"
        elevated = value.get("agentElevatedRoleArn")
        if elevated:
            ok = elevated.split(":")[4:5] == [value.get("accountId")]
            value["agentElevatedRoleArnStatus"] = "valid" if ok else "invalid"
    row.configuration = {kind: value}
    row.updated_at = now
    row.save()


@operation(SERVICE, "ValidateAwsAssociations")
def validate_aws_associations(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Checks each AWS account association: its role must belong to the account it names."""
    space = _space(params["agentSpaceId"])
    now = _now()
    for row in ServiceAssociation.objects.filter(space=space, service_id=AWS_SERVICE_ID):
        _validate_aws(row, now)
    return {}


@operation(SERVICE, "ListWebhooks")
def list_webhooks(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    row = _association(params["agentSpaceId"], params["associationId"])
    return {"webhooks": [_webhook_answer(h, with_secret=False) for h in row.webhooks.all()]}
