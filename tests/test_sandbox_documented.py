"""Rules the API documents state (docs in /work/shared/seeds) that the sandbox keeps, through
boto3: idempotent deletes, and limits where the document is stricter than the model."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dashboard.aws.clients import client
from dashboard.lib import documented

pytestmark = pytest.mark.django_db
BROWSER = "aws.browser.v1"
INTERPRETER = "aws.codeinterpreter.v1"


@pytest.fixture(autouse=True)
def _no_chromium(settings):
    settings.SANDBOX_CHROMIUM = ""  # a generated picture: no browser process for these tests


def _code(call) -> str:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"]


def test_disassociate_service_is_idempotent(space):
    devops = client("devops-agent")
    association = devops.associate_service(
        agentSpaceId=space["agentSpaceId"],
        serviceId="aws",
        configuration={
            "aws": {
                "assumableRoleArn": "arn:aws:iam::123456789012:role/Ops",
                "accountId": "123456789012",
                "accountType": "monitor",
            }
        },
    )["association"]["associationId"]

    first = devops.disassociate_service(
        agentSpaceId=space["agentSpaceId"], associationId=association
    )
    again = devops.disassociate_service(
        agentSpaceId=space["agentSpaceId"], associationId=association
    )

    assert first["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert devops.list_associations(agentSpaceId=space["agentSpaceId"])["associations"] == []


def test_delete_agent_space_is_idempotent(space):
    devops = client("devops-agent")
    for _ in range(2):
        answer = devops.delete_agent_space(agentSpaceId=space["agentSpaceId"])
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204


@pytest.mark.parametrize(
    ("operation", "identifier", "extra"),
    [
        ("start_browser_session", {"browserIdentifier": BROWSER}, {}),
        ("start_code_interpreter_session", {"codeInterpreterIdentifier": INTERPRETER}, {}),
    ],
)
def test_session_timeouts_hold_to_the_documents_60_to_28800(operation, identifier, extra):
    agentcore = client("bedrock-agentcore")
    start = getattr(agentcore, operation)
    model = agentcore.meta.service_model.operation_model(
        "StartBrowserSession" if "browser" in operation else "StartCodeInterpreterSession"
    )
    low, high = documented.limits("bedrock-agentcore", model.name, "sessionTimeoutSeconds")
    # The model alone would allow these: the document is stricter.
    assert model.input_shape.members["sessionTimeoutSeconds"].metadata["min"] < low

    assert _code(lambda: start(**identifier, sessionTimeoutSeconds=low - 1)) == (
        "ValidationException"
    )
    assert start(**identifier, sessionTimeoutSeconds=low)["sessionId"]
    assert start(**identifier, sessionTimeoutSeconds=high)["sessionId"]


def test_the_browser_viewport_holds_to_the_documents_range():
    agentcore = client("bedrock-agentcore")
    for width, height in ((799, 720), (1921, 720), (1280, 599), (1280, 1081)):
        assert (
            _code(
                lambda w=width, h=height: agentcore.start_browser_session(
                    browserIdentifier=BROWSER, viewPort={"width": w, "height": h}
                )
            )
            == "ValidationException"
        )
    started = agentcore.start_browser_session(
        browserIdentifier=BROWSER, viewPort={"width": 800, "height": 1080}
    )
    assert started["sessionId"]


def test_a_browser_session_lasts_an_hour_by_default():
    agentcore = client("bedrock-agentcore")
    started = agentcore.start_browser_session(browserIdentifier=BROWSER)
    got = agentcore.get_browser_session(browserIdentifier=BROWSER, sessionId=started["sessionId"])
    assert got["sessionTimeoutSeconds"] == 3600


def test_a_repeated_client_token_starts_one_browser_session():
    agentcore = client("bedrock-agentcore")
    first = agentcore.start_browser_session(
        browserIdentifier=BROWSER, clientToken="same-token-0123456789abcdef0123456789"
    )
    again = agentcore.start_browser_session(
        browserIdentifier=BROWSER, clientToken="same-token-0123456789abcdef0123456789"
    )
    assert first["sessionId"] == again["sessionId"]
