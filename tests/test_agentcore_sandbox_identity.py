"""The sandbox's workload-identity operations through boto3: tokens for a workload (alone, for a
user id, for a user's JWT), the API key and OAuth2 tokens they unlock, and their refusals."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import time_machine
from botocore.exceptions import ClientError

from dashboard.aws.clients import client
from dashboard.sandbox import demo_memory
from dashboard.sandbox.models import CredentialProvider

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def agentcore(clock):
    demo_memory.seed_identities(START)
    return client("bedrock-agentcore")


def _code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def _jwt(subject: str) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'sub': subject})}.c2lnbmF0dXJl"


def _token(agentcore, **kwargs) -> str:
    return agentcore.get_workload_access_token(workloadName="devops-triage-agent", **kwargs)[
        "workloadAccessToken"
    ]


def test_a_workload_token_unlocks_its_api_key(agentcore):
    token = _token(agentcore)
    answer = agentcore.get_resource_api_key(
        workloadIdentityToken=token, resourceCredentialProviderName="pagerduty-api"
    )
    assert answer["apiKey"] == CredentialProvider.objects.get(pk="pagerduty-api").api_key


def test_tokens_for_a_user_id_and_for_a_jwt_are_issued(agentcore):
    for_user = agentcore.get_workload_access_token_for_user_id(
        workloadName="devops-triage-agent", userId="priya"
    )["workloadAccessToken"]
    for_jwt = agentcore.get_workload_access_token_for_jwt(
        workloadName="devops-triage-agent", userToken=_jwt("priya")
    )["workloadAccessToken"]
    assert for_user.startswith("wat.") and for_jwt.startswith("wat.")


def test_an_unknown_workload_or_provider_is_not_found(agentcore):
    with pytest.raises(ClientError) as exc:
        agentcore.get_workload_access_token(workloadName="nobody-here")
    assert _code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        agentcore.get_resource_api_key(
            workloadIdentityToken=_token(agentcore), resourceCredentialProviderName="nope"
        )
    assert _code(exc) == "ResourceNotFoundException"


def test_a_forged_or_expired_token_is_refused(agentcore, clock):
    token = _token(agentcore)
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    with pytest.raises(ClientError) as exc:
        agentcore.get_resource_api_key(
            workloadIdentityToken=forged, resourceCredentialProviderName="pagerduty-api"
        )
    assert _code(exc) == "AccessDeniedException"
    clock.shift(dt.timedelta(hours=1, seconds=1))
    with pytest.raises(ClientError) as exc:
        agentcore.get_resource_api_key(
            workloadIdentityToken=token, resourceCredentialProviderName="pagerduty-api"
        )
    assert _code(exc) == "AccessDeniedException"


def test_an_oauth2_provider_gives_no_api_key(agentcore):
    with pytest.raises(ClientError) as exc:
        agentcore.get_resource_api_key(
            workloadIdentityToken=_token(agentcore), resourceCredentialProviderName="github-oauth"
        )
    assert _code(exc) == "ValidationException"


def test_m2m_oauth2_answers_a_token_at_once(agentcore):
    answer = agentcore.get_resource_oauth2_token(
        workloadIdentityToken=_token(agentcore),
        resourceCredentialProviderName="github-oauth",
        scopes=["repo"],
        oauth2Flow="M2M",
    )
    assert answer["accessToken"] and "authorizationUrl" not in answer


def test_user_federation_asks_for_consent_then_answers_a_token(agentcore):
    token = agentcore.get_workload_access_token_for_user_id(
        workloadName="devops-triage-agent", userId="priya"
    )["workloadAccessToken"]
    params = {
        "workloadIdentityToken": token,
        "resourceCredentialProviderName": "github-oauth",
        "scopes": ["repo"],
        "oauth2Flow": "USER_FEDERATION",
    }
    first = agentcore.get_resource_oauth2_token(**params)
    assert first["authorizationUrl"].startswith("https://")
    assert first["sessionStatus"] == "IN_PROGRESS" and "accessToken" not in first
    with pytest.raises(ClientError) as exc:
        agentcore.complete_resource_token_auth(
            userIdentifier={"userId": "mallory"}, sessionUri=first["sessionUri"]
        )
    assert _code(exc) == "AccessDeniedException"
    agentcore.complete_resource_token_auth(
        userIdentifier={"userId": "priya"}, sessionUri=first["sessionUri"]
    )
    second = agentcore.get_resource_oauth2_token(**params)
    assert second["accessToken"] and "authorizationUrl" not in second


def test_a_return_url_must_be_allowed_for_the_workload(agentcore):
    token = agentcore.get_workload_access_token_for_user_id(
        workloadName="devops-triage-agent", userId="priya"
    )["workloadAccessToken"]
    with pytest.raises(ClientError) as exc:
        agentcore.get_resource_oauth2_token(
            workloadIdentityToken=token,
            resourceCredentialProviderName="github-oauth",
            scopes=["repo"],
            oauth2Flow="USER_FEDERATION",
            resourceOauth2ReturnUrl="https://evil.example/cb",
        )
    assert _code(exc) == "ValidationException"
