"""The sandbox's services and associations, through boto3 as any client sees them."""

from __future__ import annotations

import pytest

from dashboard.aws import errors
from dashboard.aws import integrations as aws
from dashboard.aws import tags as aws_tags
from dashboard.aws.clients import call

MCP = {
    "name": "tools",
    "endpoint": "https://mcp.example.com/mcp",
    "description": "Tools",
    "authorizationConfig": {
        "customHeaders": {"headers": {"X-Token": "header-secret-1", "X-Tenant": "t1"}}
    },
}


def test_get_service_shows_the_details_but_no_credential(db):
    service_id = aws.register_service("mcpserver", MCP)["serviceId"]
    service, _tags = aws.get_service(service_id)
    details = service["additionalServiceDetails"]["mcpserver"]
    assert details["authorizationMethod"] == "custom-headers"
    assert details["customHeaderNames"] == ["X-Tenant", "X-Token"]
    assert "header-secret-1" not in repr(service)
    assert service["accessibleResources"] == [
        {"type": "endpoint", "url": "https://mcp.example.com/mcp"}
    ]


def test_service_details_must_match_the_service_type(db):
    with pytest.raises(errors.ValidationFailed) as exc:
        call(
            "devops-agent",
            "RegisterService",
            service="gitlab",
            serviceDetails={"mcpserver": MCP},
        )
    assert "must match" in exc.value.message


def test_a_union_with_two_members_is_refused(db):
    """botocore refuses it before sending; the sandbox refuses it on the wire too."""
    import json

    from dashboard.sandbox import wire

    auth = {
        "bearerToken": {"tokenName": "a", "tokenValue": "b"},
        "apiKey": {"apiKeyName": "a", "apiKeyValue": "b", "apiKeyHeader": "X"},
    }
    with pytest.raises(errors.ValidationFailed):
        aws.register_service("mcpserver", {**MCP, "authorizationConfig": auth})
    body = {"serviceDetails": {"mcpserver": {**MCP, "authorizationConfig": auth}}}
    answer = wire.dispatch(
        "devops-agent",
        "POST",
        "https://aidevops.us-east-1.api.aws/v1/register/mcpserver",
        {"Content-Type": "application/json"},
        json.dumps(body).encode(),
    )
    assert answer.status == 400
    assert answer.headers["x-amzn-errortype"] == "ValidationException"
    assert b"exactly one member" in answer.body


def test_registering_the_same_server_twice_is_a_conflict(db):
    aws.register_service("mcpserver", MCP)
    with pytest.raises(errors.Conflict):
        aws.register_service("mcpserver", MCP)


def test_list_services_filters_by_type_and_pages(db):
    for index in range(5):
        aws.register_service("mcpserver", {**MCP, "name": f"tools{index}"})
    aws.register_service("eventChannel", {"type": "webhook"}, name="CI")
    first = aws.list_services(service_type="mcpserver", max_results=2)
    assert len(first["services"]) == 2 and first["nextToken"]
    seen = [s["serviceId"] for s in first["services"]]
    token = first["nextToken"]
    while token:
        page = aws.list_services(service_type="mcpserver", max_results=2, next_token=token)
        seen += [s["serviceId"] for s in page["services"]]
        token = page["nextToken"]
    assert len(seen) == len(set(seen)) == 5
    assert [
        s["serviceType"] for s in aws.list_services(service_type="eventChannel")["services"]
    ] == ["eventChannel"]


def test_a_service_in_use_cannot_be_deregistered(space):
    service_id = aws.register_service("mcpserver", MCP)["serviceId"]
    made = aws.associate(space["agentSpaceId"], service_id, {"mcpserver": {"tools": ["a"]}})
    with pytest.raises(errors.Conflict) as exc:
        aws.deregister_service(service_id)
    assert "disassociate it first" in exc.value.message
    used = aws.dependents(service_id)
    assert [u["association"]["associationId"] for u in used["associations"]] == [
        made["association"]["associationId"]
    ]
    aws.disassociate(space["agentSpaceId"], made["association"]["associationId"])
    aws.deregister_service(service_id)
    with pytest.raises(errors.NotFound):
        aws.get_service(service_id)


def test_services_are_taggable(db):
    service_id = aws.register_service("mcpserver", MCP, tags={"team": "sre"})["serviceId"]
    arn = aws.service_arn(service_id)
    assert aws_tags.list_tags(arn) == {"team": "sre"}
    aws_tags.tag(arn, {"env": "prod"})
    aws_tags.untag(arn, ["team"])
    assert aws.get_service(service_id)[1] == {"env": "prod"}
    with pytest.raises(errors.NotFound):
        aws_tags.list_tags(aws.service_arn("missing"))


def test_an_association_must_fit_its_service(space):
    service_id = aws.register_service("mcpserver", MCP)["serviceId"]
    with pytest.raises(errors.ValidationFailed):
        aws.associate(
            space["agentSpaceId"],
            service_id,
            {"github": {"repoName": "a", "repoId": "1", "owner": "o", "ownerType": "user"}},
        )
    with pytest.raises(errors.NotFound):
        aws.associate(space["agentSpaceId"], "missing", {"mcpserver": {"tools": ["a"]}})


def test_aws_accounts_are_one_association_per_account(space):
    role = "arn:aws:iam::{}:role/R"
    space_id = space["agentSpaceId"]
    for account in ("111111111111", "222222222222", "111111111111"):
        aws.associate(
            space_id,
            "aws",
            {
                "sourceAws": {
                    "accountId": account,
                    "accountType": "source",
                    "assumableRoleArn": role.format(account),
                }
            },
        )
    assert len(aws.all_associations(space_id)) == 2
    aws.associate(
        space_id,
        "aws",
        {
            "aws": {
                "accountId": "333333333333",
                "accountType": "monitor",
                "assumableRoleArn": role.format("333333333333"),
            }
        },
    )
    aws.associate(
        space_id,
        "aws",
        {
            "aws": {
                "accountId": "444444444444",
                "accountType": "monitor",
                "assumableRoleArn": role.format("444444444444"),
            }
        },
    )
    monitors = [a for a in aws.all_associations(space_id) if "aws" in a["configuration"]]
    assert len(monitors) == 1  # one monitor account per space: the second replaced the first
    aws.validate_aws(space_id)
    assert {a["status"] for a in aws.all_associations(space_id, ["aws"])} == {"valid"}


def test_webhooks_come_with_the_association_and_list_without_secrets(space):
    service_id = aws.register_service("eventChannel", {}, name="CI")["serviceId"]
    raw = call(
        "devops-agent",
        "AssociateService",
        agentSpaceId=space["agentSpaceId"],
        serviceId=service_id,
        configuration={"eventChannel": {}},
    )
    assert raw["webhook"]["webhookSecret"].startswith("whsec_")  # handed out once
    again = call(
        "devops-agent",
        "AssociateService",
        agentSpaceId=space["agentSpaceId"],
        serviceId=service_id,
        configuration={"eventChannel": {}},
    )
    assert "webhookSecret" not in again["webhook"]
    hooks = aws.list_webhooks(space["agentSpaceId"], raw["association"]["associationId"])
    assert hooks == [
        {
            "webhookUrl": raw["webhook"]["webhookUrl"],
            "webhookId": raw["webhook"]["webhookId"],
            "webhookType": "hmac",
        }
    ]
