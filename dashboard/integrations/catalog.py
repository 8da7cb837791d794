"""What the console knows about each kind of service beyond the model: names people use,
a line on what it is for, and presentation hints for the forms generated from the model.

The list of types itself comes from the model (RegisterService's `service` enum and the
ServiceDetails union; ServiceConfiguration for associations), so a type AWS adds appears
with a name made from its member name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings

from dashboard.aws.model import operation_model, service_model
from dashboard.core.shapeforms import Hint, Node, describe, find, humanize, only

SERVICE = "devops-agent"
AWS_SERVICE_ID = "aws"


@dataclass(frozen=True)
class Kind:
    key: str
    name: str
    category: str
    blurb: str


_KINDS: dict[str, tuple[str, str, str]] = {
    "mcpserver": ("MCP server", "MCP servers", "Any Model Context Protocol server over HTTPS."),
    "mcpserversigv4": (
        "MCP server on AWS (SigV4)",
        "MCP servers",
        "An MCP server that authenticates AWS Signature Version 4 requests.",
    ),
    "mcpserverdatadog": ("Datadog", "Observability", "Datadog's MCP server."),
    "mcpservergrafana": ("Grafana", "Observability", "Grafana's MCP server (experimental)."),
    "mcpserversplunk": ("Splunk", "Observability", "Splunk's MCP server."),
    "mcpservernewrelic": ("New Relic", "Observability", "New Relic's MCP server."),
    "dynatrace": ("Dynatrace", "Observability", "A Dynatrace account (OAuth client)."),
    "servicenow": ("ServiceNow", "Incidents", "A ServiceNow instance (OAuth client)."),
    "pagerduty": ("PagerDuty", "Incidents", "A PagerDuty account (OAuth client)."),
    "eventChannel": (
        "Event channel",
        "Incidents",
        "A webhook that sends events from any tool to the agent.",
    ),
    "gitlab": ("GitLab", "Code", "GitLab.com or a self-managed GitLab (access token)."),
    "github": ("GitHub", "Code", "Registered in the AWS console (GitHub app)."),
    "slack": ("Slack", "Chat", "Registered in the AWS console (Slack app)."),
    "msteams": ("Microsoft Teams", "Chat", "Registered in the AWS console."),
    "azure": ("Azure", "Cloud", "Registered in the AWS console."),
    "azuredevops": ("Azure DevOps", "Code", "Registered in the AWS console."),
    "azureidentity": (
        "Azure identity",
        "Cloud",
        "An Azure service principal the agent reaches through AWS outbound identity federation.",
    ),
    "remoteagent": ("Remote agent (A2A)", "Agents", "Another agent over the A2A protocol."),
    "remoteagentsigv4": (
        "Remote agent on AWS (SigV4)",
        "Agents",
        "An A2A agent that authenticates AWS Signature Version 4 requests.",
    ),
    "agentspace": (
        "Linked agent spaces",
        "Agents",
        "Lets an agent space's agent call the agents of other agent spaces (as their lead, "
        "member, dependency or consumer), assuming the role you give.",
    ),
    AWS_SERVICE_ID: ("AWS account", "Cloud", "An AWS account the agent investigates."),
}
CATEGORIES = ("MCP servers", "Observability", "Incidents", "Code", "Chat", "Cloud", "Agents")


def kind(key: str) -> Kind:
    name, category, blurb = _KINDS.get(key, (humanize(key), "Other", ""))
    return Kind(key, name, category, blurb)


def type_name(key: str) -> str:
    return kind(key).name


@functools.cache
def all_types() -> tuple[str, ...]:
    """Every service type ListServices may answer (the model's Service enum)."""
    shape = operation_model(SERVICE, "ListServices").input_shape.members["filterServiceType"]
    return tuple(shape.metadata.get("enum", ()))


@functools.cache
def registrable_types() -> tuple[str, ...]:
    """Types RegisterService takes: its `service` enum that the ServiceDetails union has."""
    shape = operation_model(SERVICE, "RegisterService").input_shape
    details = shape.members["serviceDetails"].members
    return tuple(t for t in shape.members["service"].metadata.get("enum", ()) if t in details)


def grouped(types: tuple[str, ...]) -> list[tuple[str, list[Kind]]]:
    found = [kind(t) for t in types]
    order = {c: i for i, c in enumerate(CATEGORIES)}
    groups: dict[str, list[Kind]] = {}
    for item in sorted(found, key=lambda k: (order.get(k.category, 99), k.name)):
        groups.setdefault(item.category, []).append(item)
    return list(groups.items())


# --- registration forms ------------------------------------------------------------------------

_AUTH_LABELS = {
    "*.authorizationConfig": Hint(label="Authorization", order=45),
    "*.authorizationConfig.oAuthClientCredentials": Hint(label="OAuth client credentials"),
    "*.authorizationConfig.oAuth3LO": Hint(label="OAuth, signing in as a user (3LO)"),
    "*.authorizationConfig.apiKey": Hint(label="API key"),
    "*.authorizationConfig.bearerToken": Hint(label="Bearer token"),
    "*.authorizationConfig.customHeaders": Hint(label="Custom headers"),
    "*.authorizationConfig.authorizationDiscovery": Hint(label="Authorization discovery"),
    "*.clientId": Hint(label="Client ID"),
    "*.clientSecret": Hint(label="Client secret"),
    "*.clientName": Hint(label="Client name"),
    "*.exchangeUrl": Hint(label="Token URL"),
    "*.authorizationUrl": Hint(label="Authorization URL"),
    "*.exchangeParameters": Hint(label="Extra token request parameters"),
    "*.supportCodeChallenge": Hint(label="The provider supports PKCE"),
    "*.apiKeyName": Hint(label="Key name"),
    "*.apiKeyValue": Hint(label="API key"),
    "*.apiKeyHeader": Hint(label="Header", placeholder="X-API-Key"),
    "*.tokenName": Hint(label="Token name"),
    "*.tokenValue": Hint(label="Token"),
    "*.authorizationHeader": Hint(label="Header", placeholder="Authorization"),
    "*.headers": Hint(label="Headers"),
    "*.customHeaders.*.key": Hint(label="Header"),
    "*.scopes": Hint(label="Scopes"),
    "*.name": Hint(label="Server name"),
    "*.endpoint": Hint(label="Endpoint URL"),
}

_PER_TYPE: dict[str, dict[str, Hint]] = {
    "mcpserversigv4": {
        # Deprecated in the model in favour of mcpRoleArn.
        "*.authorizationConfig.roleArn": Hint(omit=True),
        "*.authorizationConfig": Hint(label="AWS signing", order=45),
        "*.authorizationConfig.mcpRoleArn": Hint(label="Role ARN"),
        "*.authorizationConfig.customHeaders": Hint(label="Extra headers"),
    },
    "remoteagentsigv4": {"*.authorizationConfig": Hint(label="AWS signing", order=45)},
    "remoteagent": {"*.name": Hint(label="Agent name")},
    "mcpservernewrelic": {"*.authorizationConfig.apiKey.apiKey": Hint(label="User API key")},
    "gitlab": {"*.tokenValue": Hint(label="Access token")},
    "dynatrace": {"*.accountUrn": Hint(placeholder="urn:dtaccount:…")},
    "servicenow": {"*.instanceUrl": Hint(placeholder="https://example.service-now.com")},
    "pagerduty": {"*.scopes": Hint(placeholder="read")},
    "azureidentity": {"*.webIdentityTokenAudiences": Hint(label="Token audiences")},
    "agentspace": {"*.assumableRoleArn": Hint(label="Role ARN the agent assumes")},
}


def _return_to() -> str:
    region = settings.AWS_REGION or "us-east-1"
    return f"https://{region}.console.aws.amazon.com/aidevops/home"


def register_hints(service_type: str) -> dict[str, Hint]:
    return {
        "service": Hint(omit=True),
        "name": Hint(
            label="Display name",
            order=1,
            help="How this service is listed here and in AWS. Optional.",
        ),
        "serviceDetails": Hint(order=5),
        "kmsKeyArn": Hint(
            label="KMS key ARN",
            order=20,
            placeholder="arn:aws:kms:…:key/…",
        ),
        "privateConnectionName": Hint(
            label="Private connection",
            order=21,
            help="Reach the service through this private connection (VPC) for every call.",
        ),
        "targetUrlPrivateConnectionName": Hint(
            label="Private connection for API calls only",
            order=22,
            help="Only for calls to the service itself; not together with Private connection.",
        ),
        "exchangeUrlPrivateConnectionName": Hint(
            label="Private connection for token exchange only",
            order=23,
            help="Only for OAuth token requests; not together with Private connection.",
        ),
        "tags": Hint(order=30, help="Tags on the service in AWS (key and value)."),
        "tags.*.key": Hint(label="Key"),
        "*.returnToEndpoint": Hint(
            label="Return address",
            initial=_return_to(),
            help="Where the provider sends you back after you allow access. AWS accepts only "
            "an AWS console address; the console notices the finished registration either way.",
        ),
        # "*.x" is "x at any depth under this type's details".
        **{f"serviceDetails.{service_type}*.{k[2:]}": v for k, v in _AUTH_LABELS.items()},
        **{
            f"serviceDetails.{service_type}*.{k[2:]}": v
            for k, v in _PER_TYPE.get(service_type, {}).items()
        },
    }


@functools.cache
def register_layout(service_type: str) -> Node:
    """The whole RegisterService form for one type (its serviceDetails member only)."""
    shape = operation_model(SERVICE, "RegisterService").input_shape
    layout = describe(shape, hints=register_hints(service_type))
    layout = only(layout, "serviceDetails", [service_type])
    details = find(layout, f"serviceDetails.{service_type}")
    if details is not None:
        details.label = f"{type_name(service_type)} details"
    return layout


# --- association forms -------------------------------------------------------------------------

# ServiceConfiguration members a service of each type takes (default: the member of its name).
CONFIGS: dict[str, tuple[str, ...]] = {
    AWS_SERVICE_ID: ("aws", "sourceAws", "sourceAwsOrg"),
    "azureidentity": ("azure",),
}
_CONFIG_HINTS: dict[str, Hint] = {
    "agentSpaceId": Hint(omit=True),
    "serviceId": Hint(omit=True),
    "configuration": Hint(label="Configuration", order=5),
    "capabilities": Hint(label="Capabilities", order=30, rows=2),
    "capabilities.*.key": Hint(label="Capability"),
    "capabilities.*.value": Hint(label="Settings"),
    "configuration.aws": Hint(label="Monitor account (the account the agent runs in)"),
    "configuration.sourceAws": Hint(label="Source account (another account to investigate)"),
    "configuration.sourceAwsOrg": Hint(label="Accounts of an AWS Organizations unit"),
    # Set by the service, not by the caller.
    "configuration.*.agentElevatedRoleArnStatus": Hint(omit=True),
    "configuration.*.deploymentState": Hint(omit=True),
    "configuration.*.assumableRoleArn": Hint(label="Role ARN the agent assumes"),
    "configuration.*.agentElevatedRoleArn": Hint(label="Role ARN for elevated actions"),
    "configuration.*.serviceManagementRoleArn": Hint(label="Service management role ARN"),
    "configuration.*.externalId": Hint(label="External ID"),
    "configuration.slack.transmissionTarget": Hint(label="Channels"),
    "configuration.*.transmissionTarget.opsOncallTarget": Hint(label="On-call agent channel"),
    "configuration.*.transmissionTarget.opsSRETarget": Hint(label="SRE agent channel"),
    "configuration.slack.bidirectional": Hint(label="Chat with the agent from Slack"),
    "configuration.msteams.bidirectional": Hint(label="Chat with the agent from Teams"),
    "configuration.*.tools": Hint(label="Tools", placeholder="tool_name"),
    "configuration.*.toolDetails": Hint(label="Tool access levels"),
    "configuration.*.enabledElevatedTools": Hint(label="Elevated tools enabled"),
    "configuration.pagerduty.services": Hint(label="PagerDuty service IDs"),
    "configuration.dynatrace.envId": Hint(label="Environment ID"),
    "configuration.dynatrace.resources": Hint(label="Resources"),
    "configuration.agentspace": Hint(label="Linked agent space"),
    "configuration.agentspace.targetAgentSpaceArn": Hint(
        label="Agent space to link",
        order=1,
        placeholder="arn:aws:aidevops:us-east-1:123456789012:agentspace/…",
        help="One of this account's agent spaces, or the ARN of another.",
    ),
    "configuration.agentspace.relationshipType": Hint(
        label="Relationship",
        order=2,
        help="How the two agent spaces relate: lead, member, dependency or consumer.",
    ),
    "configuration.agentspace.targetAgentSpaceName": Hint(
        label="Name shown for it",
        order=3,
        help="Leave blank to use the linked agent space's own name.",
    ),
    "configuration.agentspace.targetAgentSpaceDescription": Hint(
        label="Description shown for it",
        order=4,
        help="Leave blank to use the linked agent space's own description.",
    ),
}
# The association form's member that names another agent space (offered as a choice).
TARGET_SPACE = "configuration.agentspace.targetAgentSpaceArn"
# Capabilities are for code repositories.
_WITH_CAPABILITIES = frozenset({"github", "gitlab", "azuredevops"})


def config_kinds(service_type: str) -> tuple[str, ...]:
    shape = operation_model(SERVICE, "AssociateService").input_shape
    members = shape.members["configuration"].members
    return tuple(k for k in CONFIGS.get(service_type, (service_type,)) if k in members)


@functools.cache
def association_layout(service_type: str, kinds: tuple[str, ...] = ()) -> Node:
    """The AssociateService / UpdateAssociation form for a service of `service_type`."""
    hints = dict(_CONFIG_HINTS)
    if service_type not in _WITH_CAPABILITIES:
        hints["capabilities"] = Hint(omit=True)
    shape = operation_model(SERVICE, "AssociateService").input_shape
    layout = describe(shape, hints=hints)
    kinds = kinds or config_kinds(service_type)
    if not kinds:
        raise LookupError(f"No association configuration fits a {service_type} service")
    return only(layout, "configuration", list(kinds))


def output_shape(name: str):  # type: ignore[no-untyped-def]
    return service_model(SERVICE).shape_for(name)
