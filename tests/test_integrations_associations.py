"""Associations of an agent space: associate through the generated forms, overwrite, partial
update, disassociate, validate AWS accounts, webhooks listed with their secrets never shown."""

from __future__ import annotations

import pytest

from dashboard.aws import errors as aws_errors
from dashboard.aws import integrations as aws
from dashboard.integrations import catalog
from dashboard.sandbox.demo_integrations import app_service
from dashboard.sandbox.models import AssociationWebhook, ServiceAssociation
from tests.integrations_support import post_data

ROLE = "arn:aws:iam::123456789012:role/DevOpsAgent"


def _mcp() -> str:
    return aws.register_service(
        "mcpserver",
        {
            "name": "tools",
            "endpoint": "https://mcp.example.com/mcp",
            "authorizationConfig": {"bearerToken": {"tokenName": "main", "tokenValue": "tok-123"}},
        },
    )["serviceId"]


def _associations_url(space) -> str:
    return f"/spaces/{space['agentSpaceId']}/associations/"


# Believable registered details for the types only the AWS console registers (its own apps).
APP_DETAILS = {
    "github": {"owner": "acme", "ownerType": "organization"},
    "slack": {"teamId": "T0ACME", "teamName": "Acme"},
    "azuredevops": {"organizationName": "acme"},
}
# Types ListServices may answer that RegisterService does not take, and that associate.
APP_TYPES = [
    t
    for t in catalog.all_types()
    if t not in catalog.registrable_types() and catalog.config_kinds(t)
]


def test_the_app_types_come_from_the_model():
    assert APP_TYPES, "no type is registered in the AWS console only: the model did not load"


@pytest.mark.parametrize("service_type", APP_TYPES)
def test_it_associates_app_services_through_their_generated_form(admin_client, space, service_type):
    service = app_service(service_type, f"{service_type} one", APP_DETAILS.get(service_type, {}))
    layout = catalog.association_layout(service_type)
    data = post_data(layout)
    url = f"{_associations_url(space)}new/{service.service_id}/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = ServiceAssociation.objects.get()
    assert next(iter(row.configuration)) == service_type
    assert admin_client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("variant", catalog.config_kinds(catalog.AWS_SERVICE_ID))
def test_it_associates_aws_accounts_of_every_kind(admin_client, space, variant):
    layout = catalog.association_layout("aws")
    data = post_data(layout, variants={"configuration": variant})
    response = admin_client.post(f"{_associations_url(space)}new/aws/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = ServiceAssociation.objects.get()
    assert row.service_id == "aws"
    assert next(iter(row.configuration)) == variant
    assert row.status == "pending-confirmation"


def test_an_invalid_configuration_is_refused_with_the_input_kept(admin_client, space):
    data = {
        "configuration._variant": "aws",
        "configuration.aws.accountId": "12345",
        "configuration.aws.assumableRoleArn": "role/x",
    }
    response = admin_client.post(f"{_associations_url(space)}new/aws/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a 12-digit AWS account ID." in page
    assert "Enter an IAM role ARN" in page
    assert 'value="12345"' in page
    assert not ServiceAssociation.objects.exists()


def test_every_registrable_type_has_an_association_form(admin_client, space):
    types = catalog.registrable_types()
    assert types, "the model offers no registrable type"
    for service_type in types:
        layout = catalog.association_layout(service_type)
        assert layout.children, service_type


def test_associating_the_same_service_again_overwrites_its_association(admin_client, space):
    service_id = _mcp()
    url = f"{_associations_url(space)}new/{service_id}/"
    admin_client.post(url, {"configuration.mcpserver.tools": "a\nb"})
    admin_client.post(url, {"configuration.mcpserver.tools": "c"})
    row = ServiceAssociation.objects.get()
    assert row.configuration == {"mcpserver": {"tools": ["c"]}}


def test_edit_is_a_partial_update_capabilities_stay_unless_changed(admin_client, space):
    github = app_service("github", "acme", {"owner": "acme", "ownerType": "organization"})
    config = {
        "github": {"repoName": "api", "repoId": "1", "owner": "acme", "ownerType": "organization"}
    }
    capabilities = {
        "RELEASE_READINESS_REVIEW": {
            "enabled": True,
            "triggerFilterGroups": [{"targetBranches": {"patterns": ["main", "release/.*"]}}],
        }
    }
    made = aws.associate(space["agentSpaceId"], github.service_id, config, capabilities)
    association_id = made["association"]["associationId"]
    url = f"{_associations_url(space)}{association_id}/edit/"
    form = admin_client.get(url)
    assert form.status_code == 200
    page = form.content.decode()
    assert 'value="api"' in page  # the current configuration is filled in
    assert "release/.*" in page
    data = {
        "configuration.github.repoName": "api-v2",
        "configuration.github.repoId": "1",
        "configuration.github.owner": "acme",
        "configuration.github.ownerType": "organization",
        "capabilities.0.key": "RELEASE_READINESS_REVIEW",
        "capabilities.0.value.enabled": "on",
        "capabilities.0.value.triggerFilterGroups.0.targetBranches.patterns": "main\nrelease/.*",
        "capabilities._rows": "2",
        "capabilities.0.value.triggerFilterGroups._rows": "1",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = ServiceAssociation.objects.get()
    assert row.configuration["github"]["repoName"] == "api-v2"
    assert row.capabilities == capabilities
    from dashboard.core.audit import AuditEntry

    sent = AuditEntry.objects.filter(operation="UpdateAssociation").get().detail
    assert "capabilities" not in sent  # unchanged: not sent, AWS leaves them as they are
    # Now change them: they are sent and replaced.
    data["capabilities.0.value.triggerFilterGroups.0.targetBranches.patterns"] = "main"
    admin_client.post(url, data)
    row.refresh_from_db()
    assert row.capabilities["RELEASE_READINESS_REVIEW"]["triggerFilterGroups"] == [
        {"targetBranches": {"patterns": ["main"]}}
    ]


def test_update_association_without_capabilities_leaves_them_unchanged(space):
    """The API rule itself, as the sandbox keeps it: absent members stay as they are."""
    github = app_service("github", "acme", {"owner": "acme", "ownerType": "organization"})
    config = {"github": {"repoName": "a", "repoId": "1", "owner": "acme", "ownerType": "user"}}
    capabilities = {"CODE_CHANGE_RISK_ANALYSIS": {"enabled": True}}
    made = aws.associate(space["agentSpaceId"], github.service_id, config, capabilities)
    association_id = made["association"]["associationId"]
    config["github"]["repoName"] = "b"
    updated = aws.update_association(space["agentSpaceId"], association_id, config)
    assert updated["association"]["configuration"]["github"]["repoName"] == "b"
    assert updated["association"]["capabilities"] == capabilities


def test_disassociate_asks_first_then_removes(admin_client, space):
    service_id = _mcp()
    made = aws.associate(space["agentSpaceId"], service_id, {"mcpserver": {"tools": ["x"]}})
    url = f"{_associations_url(space)}{made['association']['associationId']}/delete/"
    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert "stops using" in confirm.content.decode()
    assert ServiceAssociation.objects.exists()
    response = admin_client.post(url)
    assert response.status_code == 302
    assert not ServiceAssociation.objects.exists()


def test_validate_aws_associations_shows_each_result(admin_client, space):
    space_id = space["agentSpaceId"]
    aws.associate(
        space_id,
        "aws",
        {"aws": {"accountId": "123456789012", "accountType": "monitor", "assumableRoleArn": ROLE}},
    )
    aws.associate(
        space_id,
        "aws",
        {
            "sourceAws": {
                "accountId": "210987654321",
                "accountType": "source",
                "assumableRoleArn": ROLE,  # a role in another account: invalid
            }
        },
    )
    response = admin_client.post(f"/spaces/{space_id}/associations/validate/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 AWS associations checked" in page
    assert "1 valid" in page and "1 invalid" in page
    # htmx gets the result panel in place.
    fragment = admin_client.post(
        f"/spaces/{space_id}/associations/validate/", HTTP_HX_REQUEST="true"
    )
    assert fragment.content.decode().lstrip().startswith('<section id="validation"')


def test_the_list_filters_by_service_type(admin_client, space):
    space_id = space["agentSpaceId"]
    service_id = _mcp()
    aws.associate(space_id, service_id, {"mcpserver": {"tools": ["search"]}})
    aws.associate(
        space_id,
        "aws",
        {"aws": {"accountId": "123456789012", "accountType": "monitor", "assumableRoleArn": ROLE}},
    )
    everything = admin_client.get(_associations_url(space)).content.decode()
    assert "1 tool: search" in everything and "Account 123456789012" in everything
    only_aws = admin_client.get(_associations_url(space) + "?type=aws").content.decode()
    assert "Account 123456789012" in only_aws and "1 tool: search" not in only_aws
    odd = admin_client.get(_associations_url(space) + "?type=nonsense")
    assert odd.status_code == 200
    assert "Unknown service type nonsense" in odd.content.decode()


def test_webhooks_are_listed_with_their_type_and_secrets_never_shown(admin_client, space):
    service_id = aws.register_service("eventChannel", {"type": "webhook"}, name="CI")["serviceId"]
    response = admin_client.post(f"{_associations_url(space)}new/{service_id}/", {}, follow=True)
    assert response.status_code == 200
    hook = AssociationWebhook.objects.get()
    assert hook.webhook_secret.startswith("whsec_")
    page = response.content.decode()
    assert hook.webhook_url in page
    assert "hmac" in page
    assert hook.webhook_secret not in page
    detail = admin_client.get(f"{_associations_url(space)}{hook.association_id}/").content.decode()
    assert hook.webhook_secret not in detail
    assert "write-only" in detail


def test_the_aws_layer_drops_the_webhook_secret_associate_returns(space):
    service_id = aws.register_service(
        "dynatrace", {"accountUrn": "urn:dtaccount:6f1e8a52-3c1d-4b8e-9a55-0d7c2f1b9e43"}
    )["serviceId"]
    answer = aws.associate(space["agentSpaceId"], service_id, {"dynatrace": {"envId": "abc"}})
    assert answer["webhook"]["webhookType"] == "apikey"
    assert "apiKey" not in answer["webhook"] and "webhookSecret" not in answer["webhook"]
    assert AssociationWebhook.objects.get().api_key


def test_a_missing_association_is_a_404_page(admin_client, space):
    response = admin_client.get(f"{_associations_url(space)}nope/")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "failure", [aws_errors.Throttled, aws_errors.Conflict, aws_errors.AccessDenied]
)
def test_a_refused_disassociate_says_why_on_the_confirmation_page(
    admin_client, space, monkeypatch, failure
):
    service_id = _mcp()
    made = aws.associate(space["agentSpaceId"], service_id, {"mcpserver": {"tools": ["x"]}})
    url = f"{_associations_url(space)}{made['association']['associationId']}/delete/"

    def refuse(*args, **kwargs):
        raise failure("AWS said no to DisassociateService", code="X")

    monkeypatch.setattr(aws, "disassociate", refuse)
    response = admin_client.post(url)
    page = response.content.decode()
    assert response.status_code == failure.status
    assert "AWS said no to DisassociateService" in page
    assert "Nothing was changed" in page
    assert f'action="{url}"' in page  # the confirmation, to try again
    assert ServiceAssociation.objects.exists()


def test_a_busy_space_read_does_not_cost_the_typed_association(admin_client, space, monkeypatch):
    """The space is read for its name only: when that read is throttled, the association the
    admin typed is still made (and edited), rather than lost to an error page."""
    from dashboard.aws import spaces as aws_spaces

    service = app_service("github", "acme", {"owner": "acme", "ownerType": "organization"})
    data = post_data(catalog.association_layout("github"))
    data["configuration.github.repoName"] = "typed-repo"

    def busy(space_id):
        raise aws_errors.Throttled("AWS is throttling GetAgentSpace requests.", code="X")

    monkeypatch.setattr(aws_spaces, "get_space", busy)
    url = f"{_associations_url(space)}new/{service.service_id}/"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    row = ServiceAssociation.objects.get()
    assert row.configuration["github"]["repoName"] == "typed-repo"
    data["configuration.github.repoName"] = "typed-again"
    response = admin_client.post(f"{_associations_url(space)}{row.pk}/edit/", data)
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.configuration["github"]["repoName"] == "typed-again"
    response = admin_client.post(f"{_associations_url(space)}{row.pk}/delete/")
    assert response.status_code == 302
    assert not ServiceAssociation.objects.exists()
