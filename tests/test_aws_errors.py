"""How `dashboard.aws.clients` turns botocore's failures into the console's own errors, using
botocore's Stubber so the answers are exactly what a real service error parses to."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from botocore.stub import Stubber
from django.test import override_settings

from dashboard.aws import errors, executor
from dashboard.aws.clients import call, client, pages

SPACE = "0f7a2c3e-1111-4222-8333-444455556666"


@pytest.fixture
def stubbed():
    with Stubber(client("devops-agent")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _error(stubbed: Stubber, code: str, status: int, **fields) -> None:
    stubbed.add_client_error(
        "get_agent_space",
        service_error_code=code,
        service_message=f"{code} from the service",
        http_status_code=status,
        expected_params={"agentSpaceId": SPACE},
        **fields,
    )


def test_it_maps_throttling_to_throttled_and_says_to_retry(stubbed):
    _error(stubbed, "ThrottlingException", 429)

    with pytest.raises(errors.Throttled) as exc_info:
        call("devops-agent", "GetAgentSpace", agentSpaceId=SPACE)

    error = exc_info.value
    assert "retry in a moment" in error.message.lower()
    assert "ThrottlingException from the service" in error.message
    assert (error.code, error.operation, error.service) == (
        "ThrottlingException",
        "GetAgentSpace",
        "devops-agent",
    )
    assert error.status == 503


def test_it_maps_access_denied_to_a_message_naming_the_iam_action(stubbed):
    _error(stubbed, "AccessDeniedException", 403)

    with pytest.raises(errors.AccessDenied) as exc_info:
        call("devops-agent", "GetAgentSpace", agentSpaceId=SPACE)

    assert "aidevops:GetAgentSpace" in exc_info.value.message
    assert exc_info.value.status == 403


def test_it_maps_resource_not_found_to_not_found(stubbed):
    _error(stubbed, "ResourceNotFoundException", 404)

    with pytest.raises(errors.NotFound) as exc_info:
        call("devops-agent", "GetAgentSpace", agentSpaceId=SPACE)

    assert exc_info.value.message == "ResourceNotFoundException from the service"


def test_it_maps_conflict_to_conflict(stubbed):
    _error(stubbed, "ConflictException", 409)

    with pytest.raises(errors.Conflict) as exc_info:
        call("devops-agent", "GetAgentSpace", agentSpaceId=SPACE)

    assert exc_info.value.code == "ConflictException"


def test_it_maps_validation_with_a_field_list_to_per_field_messages(stubbed):
    _error(
        stubbed,
        "ValidationException",
        400,
        modeled_fields={
            "message": "2 validation errors",
            "fieldList": [
                {"path": "name", "message": "Too long"},
                {"path": "locale", "message": "Bad pattern"},
            ],
        },
    )

    with pytest.raises(errors.ValidationFailed) as exc_info:
        call("devops-agent", "GetAgentSpace", agentSpaceId=SPACE)

    assert exc_info.value.fields == {"name": "Too long", "locale": "Bad pattern"}


def test_it_maps_an_unknown_5xx_code_to_unavailable(stubbed):
    _error(stubbed, "SomethingNewException", 503)

    with pytest.raises(errors.Unavailable):
        call("devops-agent", "GetAgentSpace", agentSpaceId=SPACE)


def test_it_maps_a_parameter_the_model_rejects_before_sending_to_validation_failed():
    with pytest.raises(errors.ValidationFailed) as exc_info:
        call("devops-agent", "GetAgentSpace")

    assert exc_info.value.code == "ParamValidation"
    assert "agentSpaceId" in exc_info.value.message


def test_it_stops_paging_when_a_next_token_repeats(stubbed):
    stubbed.add_response("list_agent_spaces", {"agentSpaces": [], "nextToken": "A"}, {})
    stubbed.add_response(
        "list_agent_spaces", {"agentSpaces": [], "nextToken": "A"}, {"nextToken": "A"}
    )

    got = list(pages("devops-agent", "ListAgentSpaces"))

    assert len(got) == 2  # and not an endless loop


def test_it_follows_next_tokens_until_the_last_page(stubbed):
    item = {
        "agentSpaceId": SPACE,
        "name": "One",
        "createdAt": "2025-01-01T00:00:00Z",
        "updatedAt": "2025-01-01T00:00:00Z",
    }
    stubbed.add_response(
        "list_agent_spaces", {"agentSpaces": [item], "nextToken": "A"}, {"maxResults": 1}
    )
    stubbed.add_response(
        "list_agent_spaces", {"agentSpaces": [item]}, {"maxResults": 1, "nextToken": "A"}
    )

    got = list(pages("devops-agent", "ListAgentSpaces", maxResults=1))

    assert [len(p["agentSpaces"]) for p in got] == [1, 1]
    assert all("ResponseMetadata" not in p for p in got)


# --- not configured ----------------------------------------------------------------------------


@pytest.fixture
def no_aws_setup(monkeypatch, tmp_path):
    """An environment where boto3 finds neither credentials nor a region, and cannot send."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        empty = tmp_path / name.lower()
        empty.write_text("")
        monkeypatch.setenv(name, str(empty))
    # No instance-metadata lookups (a network call) while hunting for credentials.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    def no_network(*args, **kwargs):
        raise AssertionError("a request was sent; NotConfigured must happen before sending")

    monkeypatch.setattr("botocore.httpsession.URLLib3Session.send", no_network)


@override_settings(DASHBOARD_BACKEND="aws", AWS_REGION="us-east-1", AWS_PROFILE="")
def test_it_reports_missing_credentials_as_not_configured(no_aws_setup):
    with pytest.raises(errors.NotConfigured) as exc_info:
        call("devops-agent", "ListAgentSpaces")

    assert exc_info.value.code == "NoCredentials"
    assert "AWS_ACCESS_KEY_ID" in exc_info.value.message


@override_settings(DASHBOARD_BACKEND="aws", AWS_REGION="", AWS_PROFILE="")
def test_it_reports_a_missing_region_as_not_configured(no_aws_setup):
    with pytest.raises(errors.NotConfigured) as exc_info:
        call("devops-agent", "ListAgentSpaces")

    assert exc_info.value.code == "NoRegion"
    assert "AWS_REGION" in exc_info.value.message


@override_settings(DASHBOARD_BACKEND="aws", AWS_REGION="us-east-1", AWS_PROFILE="nobody")
def test_it_reports_an_unknown_profile_as_not_configured(no_aws_setup):
    with pytest.raises(errors.NotConfigured) as exc_info:
        call("devops-agent", "ListAgentSpaces")

    assert exc_info.value.code == "ProfileNotFound"
    assert "nobody" in exc_info.value.message


# --- the AWS thread pool -----------------------------------------------------------------------


async def test_it_runs_blocking_calls_in_the_aws_thread_pool():
    def blocking(a, *, b):
        return threading.current_thread().name, a + b

    name, total = await executor.run(blocking, 1, b=2)

    assert name.startswith("aws")
    assert name != threading.current_thread().name
    assert total == 3


async def test_it_keeps_the_event_loop_free_while_a_call_blocks():
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    await executor.run(time.sleep, 0.2)
    task.cancel()

    assert ticks >= 5


async def test_it_raises_the_blocking_functions_error_in_the_caller():
    def fails():
        raise errors.NotFound("gone", code="ResourceNotFoundException")

    with pytest.raises(errors.NotFound, match="gone"):
        await executor.run(fails)
