"""A second opinion: moto (>=5.2.5) also emulates DevOps Agent's agent spaces. The same calls
against moto and against the sandbox must give answers of the same shape (keys and types).

The sandbox's client is never used inside `mock_aws`: moto hooks `before-send` for every client,
so a sandbox call made there would also be replayed into moto's state. Each side gets its own
phase; moto's side uses a plain boto3 client made inside the mock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dashboard.aws.clients import client

pytestmark = pytest.mark.django_db

ACCOUNT_MOTO = "123456789012"  # moto's default account; the sandbox's SANDBOX_ACCOUNT_ID too


def shape_of(value: Any) -> Any:
    """The shape of an answer: dict keys (recursively) and leaf types, values dropped."""
    if isinstance(value, dict):
        return {key: shape_of(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape_of(item) for item in value]
    if isinstance(value, dt.datetime):
        return "datetime(aware)" if value.utcoffset() is not None else "datetime(naive)"
    return type(value).__name__


def scenario(devops: Any, account: str) -> dict[str, Any]:
    """The console's agent-space calls, answers kept without ResponseMetadata."""

    statuses: list[int] = []

    def strip(answer: dict[str, Any]) -> dict[str, Any]:
        answer = dict(answer)
        statuses.append(answer.pop("ResponseMetadata")["HTTPStatusCode"])
        return answer

    created = strip(
        devops.create_agent_space(
            name="Payments", description="Card processing", locale="en-US", tags={"team": "pay"}
        )
    )
    bare = strip(devops.create_agent_space(name="Bare"))
    space_id = created["agentSpace"]["agentSpaceId"]
    arn = f"arn:aws:aidevops:us-east-1:{account}:agentspace/{space_id}"
    got = strip(devops.get_agent_space(agentSpaceId=space_id))
    listed = strip(devops.list_agent_spaces())
    updated = strip(
        devops.update_agent_space(agentSpaceId=space_id, name="Payments EU", locale="de-DE")
    )
    strip(devops.tag_resource(resourceArn=arn, tags={"env": "prod"}))
    tags_after_tag = strip(devops.list_tags_for_resource(resourceArn=arn))
    strip(devops.untag_resource(resourceArn=arn, tagKeys=["team"]))
    tags_after_untag = strip(devops.list_tags_for_resource(resourceArn=arn))
    return {
        "statuses": statuses,
        "create": created,
        "create_bare": bare,
        "get": got,
        "list": listed,
        "update": updated,
        "tags_after_tag": tags_after_tag,
        "tags_after_untag": tags_after_untag,
    }


@pytest.fixture
def sandbox_answers() -> dict[str, Any]:
    return scenario(client("devops-agent"), "123456789012")


@pytest.fixture
def moto_answers(monkeypatch) -> dict[str, Any]:
    with mock_aws():
        devops = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).client("devops-agent")
        return scenario(devops, ACCOUNT_MOTO)


def test_it_answers_every_call_with_the_same_top_level_keys_as_moto(sandbox_answers, moto_answers):
    for call_name in sandbox_answers:
        if call_name != "statuses":
            assert set(sandbox_answers[call_name]) == set(moto_answers[call_name]), call_name


def test_it_answers_the_same_http_status_codes_as_moto(sandbox_answers, moto_answers):
    # Both take them from the model's responseCode: 201 create, 204 tag/untag, 200 the rest.
    assert sandbox_answers["statuses"] == moto_answers["statuses"]
    assert sandbox_answers["statuses"] == [201, 201, 200, 200, 200, 204, 200, 204, 200]


def test_it_answers_agent_spaces_of_the_same_shape_as_moto(sandbox_answers, moto_answers):
    for call_name in ("create", "create_bare", "get", "update"):
        ours = shape_of(sandbox_answers[call_name]["agentSpace"])
        theirs = shape_of(moto_answers[call_name]["agentSpace"])
        assert ours == theirs, call_name
    ours_list = [shape_of(s) for s in sandbox_answers["list"]["agentSpaces"]]
    theirs_list = [shape_of(s) for s in moto_answers["list"]["agentSpaces"]]
    assert ours_list == theirs_list
    # Both give aware datetimes, and leave out members that were never set.
    assert ours_list[1] == {
        "agentSpaceId": "str",
        "name": "str",
        "createdAt": "datetime(aware)",
        "updatedAt": "datetime(aware)",
    }


def test_it_answers_the_same_values_as_moto_where_the_values_are_deterministic(
    sandbox_answers, moto_answers
):
    def comparable(space: dict[str, Any]) -> dict[str, Any]:
        # Ids differ by design (moto: "as-" + 12 hex; the sandbox: a UUID; both fit the
        # model's pattern [a-zA-Z0-9-]{1,64}) and timestamps by the clock.
        return {
            k: v for k, v in space.items() if k not in ("agentSpaceId", "createdAt", "updatedAt")
        }

    for call_name in ("create", "get", "update"):
        assert comparable(sandbox_answers[call_name]["agentSpace"]) == comparable(
            moto_answers[call_name]["agentSpace"]
        ), call_name
    for key in ("create", "get"):
        assert sandbox_answers[key]["tags"] == moto_answers[key]["tags"] == {"team": "pay"}
    assert sandbox_answers["tags_after_tag"] == moto_answers["tags_after_tag"]
    assert sandbox_answers["tags_after_untag"] == moto_answers["tags_after_untag"]
    assert sandbox_answers["tags_after_untag"] == {"tags": {"env": "prod"}}
    assert [s["name"] for s in sandbox_answers["list"]["agentSpaces"]] == [
        s["name"] for s in moto_answers["list"]["agentSpaces"]
    ]


def test_it_differs_from_moto_only_where_moto_is_the_odd_one_out():
    """Known, deliberate differences (each is moto's simplification, not the service's rule).

    - DeleteAgentSpace on a missing space: moto raises ResourceNotFoundException; the service
      documents the delete as idempotent, as the sandbox does (tests/test_sandbox_wire.py).
    - ListAgentSpaces: moto ignores maxResults and never sends a nextToken; the sandbox pages.
    - Input constraints (lengths, patterns): moto does not check them; the sandbox answers a
      ValidationException with a fieldList, as the service does.
    """
    with mock_aws():
        devops = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).client("devops-agent")
        for i in range(3):
            devops.create_agent_space(name=f"Space {i}")
        page = devops.list_agent_spaces(maxResults=1)
        with pytest.raises(devops.exceptions.ResourceNotFoundException):
            devops.delete_agent_space(agentSpaceId="missing")

    # If moto ever starts paging, this note (and the parity tests) can compare paging too.
    assert len(page["agentSpaces"]) == 3 and "nextToken" not in page
