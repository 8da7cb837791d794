"""The sandbox's wire layer, exercised the way the console uses it: through a real boto3 client
whose requests botocore serializes and signs, and whose answers botocore parses."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from dashboard.aws import errors
from dashboard.aws.clients import call, client, collect
from dashboard.sandbox import wire
from dashboard.sandbox.models import Tag

pytestmark = pytest.mark.django_db

ACCOUNT = "123456789012"


@pytest.fixture
def devops():
    return client("devops-agent")


def _arn(space_id: str) -> str:
    return f"arn:aws:aidevops:us-east-1:{ACCOUNT}:agentspace/{space_id}"


def _error(exc_info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, dict]:
    response = exc_info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response


# --- round trips -------------------------------------------------------------------------------


def test_it_creates_a_space_with_tags_and_answers_aware_datetimes(devops):
    answer = devops.create_agent_space(
        name="Payments", description="Card processing", locale="en-US", tags={"team": "pay"}
    )

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 201
    space = answer["agentSpace"]
    assert space["name"] == "Payments"
    assert space["description"] == "Card processing"
    assert space["locale"] == "en-US"
    assert answer["tags"] == {"team": "pay"}
    for key in ("createdAt", "updatedAt"):
        assert isinstance(space[key], dt.datetime)
        assert space[key].tzinfo is not None and space[key].utcoffset() is not None
    assert abs(space["createdAt"] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_it_gets_a_space_with_its_tags(devops):
    created = devops.create_agent_space(name="Web", tags={"env": "prod"})["agentSpace"]

    answer = devops.get_agent_space(agentSpaceId=created["agentSpaceId"])

    assert answer["agentSpace"]["agentSpaceId"] == created["agentSpaceId"]
    assert answer["agentSpace"]["name"] == "Web"
    assert answer["agentSpace"]["createdAt"] == created["createdAt"]
    assert answer["tags"] == {"env": "prod"}


def test_it_leaves_out_the_details_when_only_metadata_is_asked_for(devops):
    space_id = devops.create_agent_space(name="Web", description="Storefront")["agentSpace"][
        "agentSpaceId"
    ]

    full = devops.get_agent_space(agentSpaceId=space_id)["agentSpace"]
    meta = devops.get_agent_space(agentSpaceId=space_id, includedData="METADATA_ONLY")["agentSpace"]

    assert full["description"] == "Storefront"
    assert "description" not in meta
    assert set(meta) == {"agentSpaceId", "name", "createdAt", "updatedAt"}


def test_it_lists_spaces_in_creation_order(devops):
    names = ["One", "Two", "Three"]
    for name in names:
        devops.create_agent_space(name=name)

    listed = devops.list_agent_spaces()

    assert [s["name"] for s in listed["agentSpaces"]] == names
    assert "nextToken" not in listed


def test_it_updates_only_the_members_given(devops):
    created = devops.create_agent_space(name="Old", description="Keep me", locale="en-US")[
        "agentSpace"
    ]

    updated = devops.update_agent_space(
        agentSpaceId=created["agentSpaceId"], name="New", locale="de-DE"
    )["agentSpace"]

    assert updated["name"] == "New"
    assert updated["locale"] == "de-DE"
    assert updated["description"] == "Keep me"
    assert updated["updatedAt"] >= created["updatedAt"]
    assert updated["createdAt"] == created["createdAt"]
    again = devops.get_agent_space(agentSpaceId=created["agentSpaceId"])["agentSpace"]
    assert again["name"] == "New"


def test_it_deletes_a_space_idempotently(devops):
    space_id = devops.create_agent_space(name="Gone", tags={"a": "b"})["agentSpace"]["agentSpaceId"]

    first = devops.delete_agent_space(agentSpaceId=space_id)
    second = devops.delete_agent_space(agentSpaceId=space_id)

    # The model's responseCode for DeleteAgentSpace is 204, both times.
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not Tag.objects.filter(resource_arn=_arn(space_id)).exists()
    with pytest.raises(ClientError) as exc_info:
        devops.get_agent_space(agentSpaceId=space_id)
    assert _error(exc_info)[:2] == ("ResourceNotFoundException", 404)
    assert devops.list_agent_spaces()["agentSpaces"] == []


def test_it_tags_untags_and_lists_tags(devops):
    space_id = devops.create_agent_space(name="Tagged", tags={"team": "pay"})["agentSpace"][
        "agentSpaceId"
    ]
    arn = _arn(space_id)

    tagged = devops.tag_resource(resourceArn=arn, tags={"env": "prod", "team": "payments"})
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert devops.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "env": "prod",
        "team": "payments",
    }

    devops.untag_resource(resourceArn=arn, tagKeys=["team", "not-there"])
    assert devops.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod"}
    assert devops.get_agent_space(agentSpaceId=space_id)["tags"] == {"env": "prod"}


def test_it_refuses_to_tag_a_space_that_does_not_exist(devops):
    with pytest.raises(ClientError) as exc_info:
        devops.tag_resource(resourceArn=_arn("missing"), tags={"a": "b"})

    assert _error(exc_info)[:2] == ("ResourceNotFoundException", 404)


def test_it_answers_the_same_space_for_a_repeated_client_token(devops):
    first = devops.create_agent_space(name="Once", clientToken="token-1", tags={"a": "b"})
    second = devops.create_agent_space(name="Once", clientToken="token-1", tags={"a": "b"})

    assert first["agentSpace"]["agentSpaceId"] == second["agentSpace"]["agentSpaceId"]
    assert second["tags"] == {"a": "b"}
    assert len(devops.list_agent_spaces()["agentSpaces"]) == 1
    # botocore fills the idempotency token itself when the caller leaves it out.
    devops.create_agent_space(name="Once")
    devops.create_agent_space(name="Once")
    assert len(devops.list_agent_spaces()["agentSpaces"]) == 3


# --- pagination --------------------------------------------------------------------------------


def test_it_pages_through_spaces_with_next_tokens(devops):
    names = [f"Space {i}" for i in range(7)]
    for name in names:
        devops.create_agent_space(name=name)

    sizes, seen, token = [], [], None
    while True:
        params = {"maxResults": 3, **({"nextToken": token} if token else {})}
        page = devops.list_agent_spaces(**params)
        sizes.append(len(page["agentSpaces"]))
        seen.extend(s["name"] for s in page["agentSpaces"])
        token = page.get("nextToken")
        if not token:
            break

    assert sizes == [3, 3, 1]
    assert seen == names


def test_it_collects_every_page_through_the_console_helper(devops):
    for i in range(7):
        devops.create_agent_space(name=f"Space {i}")

    items = collect("devops-agent", "ListAgentSpaces", "agentSpaces", maxResults=3)

    assert [s["name"] for s in items] == [f"Space {i}" for i in range(7)]
    assert len({s["agentSpaceId"] for s in items}) == 7


def test_it_rejects_a_tampered_next_token(devops):
    for i in range(4):
        devops.create_agent_space(name=f"Space {i}")
    token = devops.list_agent_spaces(maxResults=2)["nextToken"]
    signature = token.rsplit(".", 1)[1]
    # Skip ahead without the server's key: the signature no longer matches the payload.
    forged_payload = json.dumps({"o": 3, "s": "ListAgentSpaces"}, separators=(",", ":"))
    forged = base64.urlsafe_b64encode(forged_payload.encode()).decode() + "." + signature

    for bad in (forged, token[:-1] + ("0" if token[-1] != "0" else "1"), "not-a-token"):
        with pytest.raises(ClientError) as exc_info:
            devops.list_agent_spaces(maxResults=2, nextToken=bad)
        code, status, response = _error(exc_info)
        assert (code, status) == ("ValidationException", 400)
        assert "nextToken" in response["Error"]["Message"]


# --- errors ------------------------------------------------------------------------------------


def test_it_answers_not_found_with_http_404(devops):
    with pytest.raises(ClientError) as exc_info:
        devops.get_agent_space(agentSpaceId="no-such-space")

    code, status, response = _error(exc_info)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert "no-such-space" in response["Error"]["Message"]
    assert isinstance(exc_info.value, devops.exceptions.ResourceNotFoundException)


def test_it_rejects_a_too_long_name_with_a_field_list(devops):
    with pytest.raises(ClientError) as exc_info:
        devops.create_agent_space(name="x" * 256)

    code, status, response = _error(exc_info)
    assert (code, status) == ("ValidationException", 400)
    assert response["fieldList"] == [{"path": "name", "message": "Length must be at most 255"}]
    assert devops.list_agent_spaces()["agentSpaces"] == []


def test_it_rejects_a_locale_that_breaks_the_models_pattern(devops):
    with pytest.raises(ClientError) as exc_info:
        devops.create_agent_space(name="Fine", locale="en_US!")

    code, status, response = _error(exc_info)
    assert (code, status) == ("ValidationException", 400)
    assert [f["path"] for f in response["fieldList"]] == ["locale"]
    assert "pattern" in response["fieldList"][0]["message"]


def test_it_maps_a_validation_error_to_the_console_error_with_fields():
    with pytest.raises(errors.ValidationFailed) as exc_info:
        call("devops-agent", "CreateAgentSpace", name="x" * 256, locale="en_US!")

    assert set(exc_info.value.fields) == {"name", "locale"}
    assert exc_info.value.code == "ValidationException"


def test_it_names_an_operation_it_does_not_implement(devops, monkeypatch):
    # An operation without a handler (GetAsset has one now: take it away for this test).
    import dashboard.sandbox.ops  # noqa: F401 - registers the handlers first

    monkeypatch.delitem(wire._handlers, ("devops-agent", "GetAsset"))
    with pytest.raises(ClientError) as exc_info:
        devops.get_asset(agentSpaceId="space-1", assetId="asset-1")

    code, status, response = _error(exc_info)
    assert (code, status) == ("NotImplemented", 501)
    assert "GetAsset" in response["Error"]["Message"]


def test_it_answers_an_unknown_path_with_an_aws_error():
    response = wire.dispatch("devops-agent", "GET", "https://example.test/no/such/path", {}, b"")

    assert response.status == 404
    assert response.headers["x-amzn-errortype"] == "UnknownOperationException"
    assert "/no/such/path" in json.loads(response.body)["message"]


def test_it_answers_a_wrong_method_on_a_known_path_with_an_aws_error():
    response = wire.dispatch(
        "devops-agent", "PATCH", "https://example.test/v1/agentspaces", {}, b""
    )

    assert response.status == 400
    assert response.headers["x-amzn-errortype"] == "ValidationException"


def test_it_answers_a_body_that_is_not_json_with_a_serialization_error():
    response = wire.dispatch(
        "devops-agent", "POST", "https://example.test/v1/agentspaces", {}, b"{not json"
    )

    assert response.status == 400
    assert response.headers["x-amzn-errortype"] == "SerializationException"
    assert json.loads(response.body)["message"]


def test_it_answers_a_handler_crash_with_internal_server_exception(devops, monkeypatch):
    def broken(ctx, params):
        raise RuntimeError("bug in the emulator")

    monkeypatch.setitem(wire._handlers, ("devops-agent", "GetAgentSpace"), broken)

    with pytest.raises(ClientError) as exc_info:
        devops.get_agent_space(agentSpaceId="any")

    code, status, response = _error(exc_info)
    assert (code, status) == ("InternalServerException", 500)
    assert "bug in the emulator" not in response["Error"]["Message"]  # no internals leak
    with pytest.raises(errors.Unavailable):
        call("devops-agent", "GetAgentSpace", agentSpaceId="any")


def test_it_rolls_back_a_handler_that_fails_half_way(devops):
    # 51 tags: the space row is written, then the tag limit fails the call; nothing may stay.
    with pytest.raises(ClientError) as exc_info:
        devops.create_agent_space(name="Too many", tags={f"k{i}": "v" for i in range(51)})

    assert _error(exc_info)[:2] == ("ValidationException", 400)
    assert devops.list_agent_spaces()["agentSpaces"] == []


def test_it_answers_a_204_with_an_empty_body(devops):
    space_id = devops.create_agent_space(name="Quiet")["agentSpace"]["agentSpaceId"]
    arn = _arn(space_id).replace(":", "%3A").replace("/", "%2F")

    response = wire.dispatch(
        "devops-agent", "POST", f"https://example.test/tags/{arn}", {}, b'{"tags": {"a": "1"}}'
    )

    assert (response.status, response.body) == (204, b"")
