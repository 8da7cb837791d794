"""Demo services and associations for `seed_sandbox`: what an account typically connects.

GitHub and Slack are connected in the AWS console (they install an app), so they are written
straight into the sandbox's tables; the rest go through RegisterService and AssociateService
like any client's calls. Additive and idempotent: nothing is seeded while services exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from dashboard.aws import integrations as aws
from dashboard.aws import spaces as aws_spaces

from .models import RegisteredService


def app_service(service_type: str, name: str, details: dict[str, Any]) -> RegisteredService:
    """A service registered through the AWS console's own OAuth app (GitHub, Slack, ...)."""
    now = timezone.now()
    return RegisteredService.objects.create(
        service_id=f"{service_type}-{uuid.uuid4().hex[:12]}",
        service_type=service_type,
        name=name,
        details=details,
        accessible_resources=[],
        identity=f"{service_type}:{name}",
        created_at=now,
        updated_at=now,
    )


def seed(spaces: list[dict[str, Any]]) -> int:
    """Services for the account and associations for the first spaces; returns how many."""
    if RegisteredService.objects.exists() or not spaces:
        return 0
    github = app_service("github", "acme-corp", {"owner": "acme-corp", "ownerType": "organization"})
    slack = app_service("slack", "Acme", {"teamId": "T0ACME123", "teamName": "Acme"})
    # Demo credentials: made up, and the sandbox never returns them anyway.
    mcp = aws.register_service(
        "mcpserver",
        {
            "name": "runbooks",
            "endpoint": "https://runbooks.acme.example/mcp",
            "description": "Team runbooks and service ownership.",
            "authorizationConfig": {
                "apiKey": {
                    "apiKeyName": "console",
                    "apiKeyValue": "demo-" + uuid.uuid4().hex,
                    "apiKeyHeader": "X-API-Key",
                }
            },
        },
        name="Runbooks",
        tags={"team": "sre"},
    )["serviceId"]
    pagerduty = aws.register_service(
        "pagerduty",
        {
            "scopes": ["read", "write"],
            "authorizationConfig": {
                "oAuthClientCredentials": {
                    "clientId": "acme-devops-agent",
                    "clientSecret": "demo-" + uuid.uuid4().hex,
                }
            },
        },
        name="PagerDuty",
    )["serviceId"]
    aws.register_service(
        "eventChannel", {"type": "webhook"}, name="Deploy events", tags={"source": "ci"}
    )
    first = spaces[0]["agentSpaceId"]
    aws.associate(
        first,
        aws.AWS_SERVICE_ID,
        {
            "aws": {
                "accountId": "123456789012",
                "accountType": "monitor",
                "assumableRoleArn": "arn:aws:iam::123456789012:role/DevOpsAgentRole",
            }
        },
    )
    aws.associate(
        first,
        aws.AWS_SERVICE_ID,
        {
            "sourceAws": {
                "accountId": "210987654321",
                "accountType": "source",
                "assumableRoleArn": "arn:aws:iam::210987654321:role/DevOpsAgentSource",
            }
        },
    )
    aws.validate_aws(first)
    aws.associate(
        first,
        github.service_id,
        {
            "github": {
                "repoName": "payments-api",
                "repoId": "784512",
                "owner": "acme-corp",
                "ownerType": "organization",
            }
        },
    )
    aws.associate(
        first,
        slack.service_id,
        {
            "slack": {
                "workspaceId": "T0ACME123",
                "workspaceName": "Acme",
                "transmissionTarget": {
                    "opsOncallTarget": {
                        "channelId": "C0PAYONCALL",
                        "channelName": "payments-oncall",
                    }
                },
            }
        },
    )
    aws.associate(first, mcp, {"mcpserver": {"tools": ["search_runbooks", "get_owner"]}})
    aws.associate(
        first,
        pagerduty,
        {"pagerduty": {"services": ["PX1ABC2", "PX9XYZ8"], "customerEmail": "oncall@acme.example"}},
    )
    count = 6
    if len(spaces) > 1:
        second = spaces[1]["agentSpaceId"]
        aws.associate(second, mcp, {"mcpserver": {"tools": ["search_runbooks"]}})
        aws.associate(
            second,
            aws.AWS_SERVICE_ID,
            {
                "aws": {
                    "accountId": "123456789012",
                    "accountType": "monitor",
                    "assumableRoleArn": "arn:aws:iam::123456789012:role/DevOpsAgentRole",
                }
            },
        )
        # The first space leads the second (linked agent spaces, the `agentspace` type).
        links = aws.register_service(
            "agentspace",
            {"assumableRoleArn": "arn:aws:iam::123456789012:role/DevOpsAgentLinkedSpaces"},
            name="Linked agent spaces",
        )["serviceId"]
        aws.associate(
            first,
            links,
            {
                "agentspace": {
                    "targetAgentSpaceArn": aws_spaces.space_arn(second),
                    "relationshipType": "member",
                }
            },
        )
        count += 3
    return count
