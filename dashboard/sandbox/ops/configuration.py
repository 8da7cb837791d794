"""AWS DevOps Agent (`devops-agent`): private connections, the Operator App and account usage.

Private connections are asynchronous, as the service's are. Create answers
CREATE_IN_PROGRESS and the connection settles `CREATE_SECONDS` later (at SANDBOX_PACE 1.0);
delete answers DELETE_IN_PROGRESS and the connection is gone `DELETE_SECONDS` later. Nothing
runs in the background: every private-connection call first applies what fell due
(`advance_connections`), so a test that moves a frozen clock sees exactly what a patient user
would. Failure cases, decided at create time:

- service-managed, a `hostAddress` in the reserved `.invalid` domain: CREATE_FAILED (the name
  does not resolve from the VPC);
- self-managed, the resource configuration `rcfg-00000000000000000`: CREATE_FAILED (not found
  or not shared with the account).

The certificate is read for its expiry (`certs.py`); a private key pasted with it, an
unreadable or an expired certificate is a ValidationException.

The Operator App of a space is its enabled auth flows (iam, idc, idp): enabling a flow that is
enabled already replaces its configuration. The IdP client secret is required when the idp
flow is first enabled and kept (as a fingerprint only) until UpdateOperatorAppIdpConfig
replaces it; no operation ever returns it. An Identity Center instance ending in
`ssoins-0000000000000000` answers IdentityCenterServiceException.

Account usage is derived from the sandbox's own executions in the current calendar month
(UTC), so it grows as investigations run: each execution counts from its start until it
finished, started waiting for an approval, or now. The emulated agent works `AGENT_SPEEDUP`
times faster than a real one (an investigation takes minutes, not an hour), so its script time
is scaled back up to the hours the service would bill:

- investigation hours: executions of INVESTIGATION tasks;
- evaluation hours: executions of EVALUATION tasks;
- on-demand hours: executions of the other task types (release readiness and testing,
  code-change risk analysis), which people ask for on demand;
- system learning hours: for each agent space, `LEARNING_INITIAL_HOURS` while the agent first
  learns its topology (accrued over as many hours after the space is created, at the
  pace), then `LEARNING_HOURS_PER_DAY` for each day it exists;
- grader hours: `GRADER_SHARE` of the evaluation hours of finished evaluations.

Limits are per metric (`UsageLimit` rows, `DEFAULT_LIMITS` otherwise; -1 means no limit).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import regex
from django.db.models import Q
from django.utils import timezone

from .. import certs, lifecycle
from ..models import AgentSpace, Execution, OperatorAppFlow, PrivateConnection, Tag, UsageLimit
from ..wire import Context, SandboxError, operation

SERVICE = "devops-agent"

CREATE_SECONDS = 40.0
DELETE_SECONDS = 20.0
MAX_CONNECTIONS = 20
FAILING_RESOURCE_CONFIGURATION = "rcfg-" + "0" * 17
FAILING_IDC_INSTANCE = "ssoins-" + "0" * 16

_PORT_RANGE = regex.compile(r"(\d{1,5})(?:-(\d{1,5}))?")
_IDC_INSTANCE = regex.compile(
    r"arn:(aws|aws-cn|aws-us-gov):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}"
)
_HTTPS = regex.compile(r"https://[^\s/$.?#][^\s]*")


# --- private connections ---------------------------------------------------------------------


def advance_connections(now: dt.datetime) -> None:
    """Settle every private connection whose pending operation fell due by `now`."""
    for conn in PrivateConnection.objects.filter(next_due_at__lte=now):
        due = conn.next_due_at
        if conn.status == "DELETE_IN_PROGRESS":
            Tag.objects.filter(resource_arn__endswith=f":private-connection/{conn.name}").delete()
            conn.delete()
            continue
        if conn.status == "CREATE_IN_PROGRESS":
            conn.status = conn.outcome or "ACTIVE"
            conn.failure_message = conn.outcome_message if conn.status != "ACTIVE" else ""
        conn.outcome = ""
        conn.outcome_message = ""
        conn.next_due_at = None
        conn.updated_at = due or now
        conn.save()


def _connection(conn: PrivateConnection, *, tags: dict[str, str] | None = None) -> dict[str, Any]:
    managed = conn.connection_type == "SERVICE_MANAGED"
    return {
        "name": conn.name,
        "type": conn.connection_type,
        "resourceGatewayId": (conn.resource_gateway_id or None) if managed else None,
        "hostAddress": (conn.host_address or None) if managed else None,
        "vpcId": (conn.vpc_id or None) if managed else None,
        "resourceConfigurationId": None if managed else conn.resource_configuration_id,
        "status": conn.status,
        "certificateExpiryTime": conn.certificate_expires_at,
        "dnsResolution": conn.dns_resolution or None,
        "failureMessage": conn.failure_message or None,
        "tags": tags,
    }


def _get_connection(name: str) -> PrivateConnection:
    conn = PrivateConnection.objects.filter(pk=name).first()
    if conn is None:
        raise SandboxError("ResourceNotFoundException", f"Private connection {name} was not found")
    return conn


def _tags(arn: str) -> dict[str, str]:
    return dict(Tag.objects.filter(resource_arn=arn).values_list("key", "value"))


def certificate_expiry(text: str, now: dt.datetime) -> dt.datetime:
    """The certificate's expiry, or the ValidationException the service would answer."""
    if certs.has_private_key(text):
        raise SandboxError(
            "ValidationException",
            "The certificate must not contain a private key; provide the certificate only.",
            fieldList=[{"path": "certificate", "message": "Contains a private key"}],
        )
    try:
        expires = certs.expiry(text)
    except certs.CertificateError as exc:
        raise SandboxError(
            "ValidationException",
            f"The certificate is not a valid PEM-encoded X.509 certificate: {exc}",
            fieldList=[{"path": "certificate", "message": "Not a PEM X.509 certificate"}],
        ) from None
    if expires <= now:
        raise SandboxError(
            "ValidationException",
            f"The certificate expired on {expires:%Y-%m-%d %H:%M} UTC.",
            fieldList=[{"path": "certificate", "message": "The certificate has expired"}],
        )
    return expires


def _check_ports(ranges: list[str]) -> None:
    for text in ranges:
        match = _PORT_RANGE.fullmatch(text)
        low = int(match.group(1)) if match else 0
        high = int(match.group(2) or low) if match else 0
        if not (1 <= low <= high <= 65535):
            raise SandboxError(
                "ValidationException",
                f"Port range {text!r} is not a port (1-65535) or a range low-high.",
                fieldList=[{"path": "mode.serviceManaged.portRanges", "message": "Bad range"}],
            )


def _gateway_arn(ctx: Context, name: str) -> str:
    suffix = hashlib.sha256(f"{ctx.account_id}:{name}".encode()).hexdigest()[:17]
    return f"arn:aws:vpc-lattice:{ctx.region}:{ctx.account_id}:resourcegateway/rgw-{suffix}"


@operation(SERVICE, "CreatePrivateConnection")
def create_private_connection(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    advance_connections(now)
    name = params["name"]
    mode = params["mode"]
    if len([k for k, v in mode.items() if v is not None]) != 1:
        raise SandboxError(
            "ValidationException", "mode must set exactly one of serviceManaged or selfManaged"
        )
    if PrivateConnection.objects.filter(pk=name).exists():
        raise SandboxError("ConflictException", f"A private connection named {name} exists already")
    if PrivateConnection.objects.count() >= MAX_CONNECTIONS:
        raise SandboxError(
            "ServiceQuotaExceededException",
            f"The account has the maximum of {MAX_CONNECTIONS} private connections",
        )
    conn = PrivateConnection(name=name, status="CREATE_IN_PROGRESS", created_at=now, updated_at=now)
    settings_ = mode.get("serviceManaged") or mode.get("selfManaged") or {}
    certificate = settings_.get("certificate") or ""
    if certificate:
        conn.certificate = certificate
        conn.certificate_expires_at = certificate_expiry(certificate, now)
    if "serviceManaged" in mode:
        managed = mode["serviceManaged"]
        _check_ports(managed.get("portRanges") or [])
        conn.connection_type = "SERVICE_MANAGED"
        conn.host_address = managed["hostAddress"]
        conn.vpc_id = managed["vpcId"]
        conn.subnet_ids = managed["subnetIds"]
        conn.security_group_ids = managed.get("securityGroupIds") or []
        conn.ip_address_type = managed.get("ipAddressType") or "IPV4"
        conn.ipv4_addresses_per_eni = managed.get("ipv4AddressesPerEni")
        conn.port_ranges = managed.get("portRanges") or []
        conn.dns_resolution = managed.get("dnsResolution") or "PUBLIC"
        conn.resource_gateway_id = _gateway_arn(ctx, name)
        if conn.host_address.lower().rstrip(".").endswith(".invalid"):
            conn.outcome = "CREATE_FAILED"
            conn.outcome_message = (
                f"The resource gateway in {conn.vpc_id} could not resolve {conn.host_address} "
                "(NXDOMAIN). Check the host name and the VPC's DNS settings."
            )
    else:
        configuration = mode["selfManaged"]["resourceConfigurationId"]
        conn.connection_type = "SELF_MANAGED"
        conn.resource_configuration_id = configuration
        if configuration.endswith(FAILING_RESOURCE_CONFIGURATION):
            conn.outcome = "CREATE_FAILED"
            conn.outcome_message = (
                f"Resource configuration {configuration} was not found, or it is not shared "
                "with this account through AWS RAM."
            )
    conn.outcome = conn.outcome or "ACTIVE"
    conn.next_due_at = lifecycle.later(now, CREATE_SECONDS)
    conn.save(force_insert=True)
    tags = params.get("tags") or {}
    arn = ctx.arn(f"private-connection/{name}")
    for key, value in tags.items():
        Tag.objects.update_or_create(resource_arn=arn, key=key, defaults={"value": value})
    return _connection(conn, tags=tags or None)


@operation(SERVICE, "ListPrivateConnections")
def list_private_connections(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    advance_connections(timezone.now())
    rows = PrivateConnection.objects.order_by("name")
    return {"privateConnections": [_connection(c) for c in rows]}


@operation(SERVICE, "DescribePrivateConnection")
def describe_private_connection(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    advance_connections(timezone.now())
    conn = _get_connection(params["name"])
    return _connection(conn, tags=_tags(ctx.arn(f"private-connection/{conn.name}")))


@operation(SERVICE, "UpdatePrivateConnectionCertificate")
def update_private_connection_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    advance_connections(now)
    conn = _get_connection(params["name"])
    if conn.status != "ACTIVE":
        raise SandboxError(
            "ConflictException",
            f"Private connection {conn.name} is {conn.status}; its certificate can be updated "
            "while it is ACTIVE.",
        )
    conn.certificate_expires_at = certificate_expiry(params["certificate"], now)
    conn.certificate = params["certificate"]
    conn.updated_at = now
    conn.save()
    return _connection(conn)


@operation(SERVICE, "DeletePrivateConnection")
def delete_private_connection(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    advance_connections(now)
    conn = _get_connection(params["name"])
    if conn.status == "CREATE_IN_PROGRESS":
        raise SandboxError(
            "ConflictException",
            f"Private connection {conn.name} is still being created; delete it once it settles.",
        )
    if conn.status != "DELETE_IN_PROGRESS":
        conn.status = "DELETE_IN_PROGRESS"
        conn.failure_message = ""
        conn.next_due_at = lifecycle.later(now, DELETE_SECONDS)
        conn.updated_at = now
        conn.save()
    return {"name": conn.name, "status": conn.status}


# --- Operator App ----------------------------------------------------------------------------


def _space(space_id: str) -> AgentSpace:
    space = AgentSpace.objects.filter(pk=space_id).first()
    if space is None:
        raise SandboxError("ResourceNotFoundException", f"Agent space {space_id} was not found")
    return space


def _flow(row: OperatorAppFlow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operatorAppRoleArn": row.role_arn,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    }
    if row.auth_flow == "idc":
        out.update(
            idcInstanceArn=row.idc_instance_arn, idcApplicationArn=row.idc_application_arn or None
        )
    elif row.auth_flow == "idp":
        out.update(issuerUrl=row.issuer_url, clientId=row.client_id, provider=row.provider)
    return out


def operator_app_url(ctx: Context, space_id: str) -> str:
    return f"https://{space_id.lower()}.operator.aidevops.{ctx.region}.on.aws/"


def _operator_app(ctx: Context, space: AgentSpace) -> dict[str, Any]:
    rows = list(OperatorAppFlow.objects.filter(space=space))
    out: dict[str, Any] = {row.auth_flow: _flow(row) for row in rows}
    if rows:
        out["operatorAppUrl"] = operator_app_url(ctx, space.pk)
    return out


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _invalid(path: str, message: str) -> SandboxError:
    return SandboxError(
        "ValidationException", message, fieldList=[{"path": path, "message": message}]
    )


@operation(SERVICE, "GetOperatorApp")
def get_operator_app(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _operator_app(ctx, _space(params["agentSpaceId"]))


@operation(SERVICE, "EnableOperatorApp")
def enable_operator_app(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    space = _space(params["agentSpaceId"])
    flow = params["authFlow"]
    row = OperatorAppFlow.objects.filter(space=space, auth_flow=flow).first()
    others = {
        "iam": ("idcInstanceArn", "issuerUrl", "idpClientId", "idpClientSecret", "provider"),
        "idc": ("issuerUrl", "idpClientId", "idpClientSecret", "provider"),
        "idp": ("idcInstanceArn",),
    }[flow]
    for member in others:
        if params.get(member):
            raise _invalid(member, f"{member} does not apply to the {flow} auth flow")
    if row is None:
        row = OperatorAppFlow(space=space, auth_flow=flow, created_at=now)
    else:
        row.updated_at = now
    row.role_arn = params["operatorAppRoleArn"]
    if flow == "idc":
        instance = params.get("idcInstanceArn") or ""
        if not instance:
            raise _invalid("idcInstanceArn", "idcInstanceArn is required for the idc auth flow")
        if not _IDC_INSTANCE.fullmatch(instance):
            raise _invalid(
                "idcInstanceArn", f"{instance} is not an IAM Identity Center instance ARN"
            )
        if instance.endswith(FAILING_IDC_INSTANCE):
            raise SandboxError(
                "IdentityCenterServiceException",
                f"IAM Identity Center instance {instance} was not found in this account.",
                underlyingErrorCode="ResourceNotFoundException",
            )
        if instance != row.idc_instance_arn:
            row.idc_instance_arn = instance
            suffix = uuid.uuid5(uuid.NAMESPACE_URL, f"{space.pk}:{instance}").hex[:16]
            row.idc_application_arn = (
                f"arn:aws:sso::{ctx.account_id}:application/{instance.rsplit('/', 1)[-1]}"
                f"/apl-{suffix}"
            )
    elif flow == "idp":
        for member in ("issuerUrl", "idpClientId", "provider"):
            if not params.get(member):
                raise _invalid(member, f"{member} is required for the idp auth flow")
        if not _HTTPS.fullmatch(params["issuerUrl"]):
            raise _invalid("issuerUrl", "issuerUrl must be an https:// URL")
        secret = params.get("idpClientSecret") or ""
        if not secret and not row.client_secret_sha256:
            raise _invalid("idpClientSecret", "idpClientSecret is required for the idp auth flow")
        row.issuer_url = params["issuerUrl"]
        row.client_id = params["idpClientId"]
        row.provider = params["provider"]
        if secret:
            row.client_secret_sha256 = _fingerprint(secret)
    row.save()
    return {"agentSpaceId": space.pk, **_operator_app(ctx, space)}


@operation(SERVICE, "DisableOperatorApp")
def disable_operator_app(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _space(params["agentSpaceId"])
    rows = OperatorAppFlow.objects.filter(space=space)
    flow = params.get("authFlow")
    if flow:
        rows = rows.filter(auth_flow=flow)
        if not rows.exists():
            raise SandboxError(
                "ResourceNotFoundException",
                f"The {flow} auth flow is not enabled for agent space {space.pk}",
            )
    rows.delete()
    return {}


@operation(SERVICE, "UpdateOperatorAppIdpConfig")
def update_operator_app_idp_config(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _space(params["agentSpaceId"])
    row = OperatorAppFlow.objects.filter(space=space, auth_flow="idp").first()
    if row is None:
        raise SandboxError(
            "ResourceNotFoundException",
            f"The idp auth flow is not enabled for agent space {space.pk}",
        )
    secret = params.get("idpClientSecret") or ""
    if secret:
        row.client_secret_sha256 = _fingerprint(secret)
    row.updated_at = timezone.now()
    row.save()
    return {"agentSpaceId": space.pk, "idp": _flow(row)}


# --- account usage ---------------------------------------------------------------------------

AGENT_SPEEDUP = 20.0
LEARNING_INITIAL_HOURS = 3.0
LEARNING_HOURS_PER_DAY = 0.5
GRADER_SHARE = 0.25
DEFAULT_LIMITS = {
    "monthlyAccountInvestigationHours": 40,
    "monthlyAccountEvaluationHours": 20,
    "monthlyAccountSystemLearningHours": 50,
    "monthlyAccountOnDemandHours": 15,
    "monthlyAccountGraderHours": -1,
}
_KIND = {"ROOT_CAUSE_ANALYSIS": "investigation", "EVALUATION": "evaluation"}
_RUNNING = ("RUNNING",)


def month_of(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The calendar month (UTC) holding `now`: its first instant and the next month's."""
    now = now.astimezone(dt.UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def limits() -> dict[str, int]:
    found = dict(UsageLimit.objects.values_list("metric", "limit"))
    return {metric: found.get(metric, default) for metric, default in DEFAULT_LIMITS.items()}


def usage_hours(now: dt.datetime) -> dict[str, float]:
    """Hours used this month per metric (see the module docstring)."""
    start, _ = month_of(now)
    for space_id in AgentSpace.objects.values_list("pk", flat=True):
        lifecycle.advance(space_id, now)
    totals = {"investigation": 0.0, "evaluation": 0.0, "on_demand": 0.0, "graded": 0.0}
    executions = Execution.objects.filter(Q(updated_at__gte=start) | Q(status__in=_RUNNING))
    for sub_task, status, began, changed in executions.values_list(
        "agent_sub_task", "status", "created_at", "updated_at"
    ):
        end = now if status in _RUNNING else changed
        seconds = (min(end, now) - max(began, start)).total_seconds()
        if seconds <= 0:
            continue
        kind = _KIND.get(sub_task, "on_demand")
        hours = seconds * lifecycle.pace() * AGENT_SPEEDUP / 3600
        totals[kind] += hours
        if kind == "evaluation" and status == "STOPPED":
            totals["graded"] += hours
    learning = 0.0
    for created in AgentSpace.objects.values_list("created_at", flat=True):
        days = max(0.0, (now - max(created, start)).total_seconds() / 86400)
        learning += days * LEARNING_HOURS_PER_DAY
        if created >= start:
            first_hours = (now - created).total_seconds() / 3600 * lifecycle.pace()
            learning += min(max(first_hours, 0.0), LEARNING_INITIAL_HOURS)
    return {
        "monthlyAccountInvestigationHours": totals["investigation"],
        "monthlyAccountEvaluationHours": totals["evaluation"],
        "monthlyAccountSystemLearningHours": learning,
        "monthlyAccountOnDemandHours": totals["on_demand"],
        "monthlyAccountGraderHours": totals["graded"] * GRADER_SHARE,
    }


@operation(SERVICE, "GetAccountUsage")
def get_account_usage(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    start, end = month_of(now)
    used = usage_hours(now)
    out: dict[str, Any] = {"usagePeriodStartTime": start, "usagePeriodEndTime": end}
    for metric, limit in limits().items():
        out[metric] = {"limit": limit, "usage": round(used[metric], 2)}
    return out
