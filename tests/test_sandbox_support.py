"""The sandbox's support-case operations (its model extras on botocore's data path) and Amazon
Connect's participant API through boto3: one chat per task, connections, the simulated
engineer, transcripts in both directions with paging, ending and what it refuses after."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from botocore.exceptions import ClientError

from dashboard.aws import tasks as aws_tasks
from dashboard.aws.clients import client
from dashboard.sandbox import extras, support_agent

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def case(space, clock) -> dict:
    task = aws_tasks.create_task(
        space["agentSpaceId"], task_type="INVESTIGATION", title="Ledger lag", priority="HIGH"
    )
    return {"agentSpaceId": space["agentSpaceId"], "taskId": task["taskId"]}


def _connect(case: dict) -> str:
    opened = client("devops-agent").initiate_chat_for_case(**case)["chatParticipantConnection"]
    made = client("connectparticipant").create_participant_connection(
        ParticipantToken=opened["participantToken"], Type=["CONNECTION_CREDENTIALS"]
    )
    return made["ConnectionCredentials"]["ConnectionToken"]


def _code(call) -> str:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"]


def test_the_operations_come_from_the_model_extras_on_botocores_data_path():
    names = client("devops-agent").meta.service_model.operation_names
    shipped = extras.DATA_PATH / "devops-agent" / "2026-01-01" / "service-2.sdk-extras.json"
    assert shipped.is_file()
    for name in (
        "InitiateChatForCase",
        "EndChatForCase",
        "DescribeSupportLevel",
        "AllowVendedLogDeliveryForResource",
    ):
        assert name in names


def test_one_chat_per_task_and_initiating_again_answers_the_same(case):
    devops = client("devops-agent")
    first = devops.initiate_chat_for_case(**case)["chatParticipantConnection"]
    again = devops.initiate_chat_for_case(**case)["chatParticipantConnection"]
    assert first == again


def test_the_engineer_joins_greets_and_answers_by_the_clock(case, clock):
    connect = client("connectparticipant")
    token = _connect(case)
    before = connect.get_transcript(ConnectionToken=token)["Transcript"]
    clock.shift(support_agent.JOIN_SECONDS + support_agent.GREETING_SECONDS)
    connect.send_message(ConnectionToken=token, ContentType="text/plain", Content="Any quota?")
    clock.shift(support_agent.REPLY_SECONDS)
    after = connect.get_transcript(ConnectionToken=token, ScanDirection="FORWARD")["Transcript"]

    assert [i["ParticipantRole"] for i in before] == ["CUSTOMER"]  # the customer joined
    kinds = [(i["Type"], i["ParticipantRole"]) for i in after]
    assert kinds == [
        ("EVENT", "CUSTOMER"),
        ("EVENT", "AGENT"),
        ("MESSAGE", "AGENT"),
        ("MESSAGE", "CUSTOMER"),
        ("MESSAGE", "AGENT"),
    ]
    assert "Ledger lag" in after[2]["Content"] and "Service Quotas" in after[4]["Content"]


def test_transcripts_page_forward_and_backward(case, clock):
    connect = client("connectparticipant")
    token = _connect(case)
    for index in range(5):
        clock.shift(1)
        connect.send_message(ConnectionToken=token, ContentType="text/plain", Content=f"m{index}")
    forward = connect.get_transcript(ConnectionToken=token, ScanDirection="FORWARD", MaxResults=2)
    rest = connect.get_transcript(
        ConnectionToken=token, ScanDirection="FORWARD", MaxResults=2, NextToken=forward["NextToken"]
    )
    recent = connect.get_transcript(ConnectionToken=token, MaxResults=2, SortOrder="DESCENDING")

    assert [i.get("Content") for i in forward["Transcript"]] == [None, "m0"]
    assert [i.get("Content") for i in rest["Transcript"]] == ["m1", "m2"]
    assert [i.get("Content") for i in recent["Transcript"]] == ["m4", "m3"]


def test_ending_is_idempotent_and_the_connection_is_refused_after(case):
    devops, connect = client("devops-agent"), client("connectparticipant")
    assert devops.end_chat_for_case(**case)["isDisconnected"] is False  # none open yet
    token = _connect(case)
    ended = devops.end_chat_for_case(**case, reason="Resolved", requester="oscar")
    again = devops.end_chat_for_case(**case)
    assert ended["isDisconnected"] is True and again["isDisconnected"] is True
    assert _code(lambda: connect.get_transcript(ConnectionToken=token)) == "AccessDeniedException"
    assert (
        _code(
            lambda: connect.send_message(
                ConnectionToken=token, ContentType="text/plain", Content="x"
            )
        )
        == "AccessDeniedException"
    )


def test_a_support_level_and_vended_log_delivery(case):
    devops = client("devops-agent")
    level = devops.describe_support_level(**case)
    allowed = devops.allow_vended_log_delivery_for_resource(
        resourceArnBeingAuthorized="arn:aws:aidevops:us-east-1:123456789012:agentspace/x",
        deliverySourceArn="arn:aws:logs:us-east-1:123456789012:delivery-source:s",
    )
    assert level["supportLevel"]["name"] == "Business" and level["activeSubscription"] is True
    assert "allowed" in allowed["message"]
    missing = {**case, "taskId": "no-such-task"}
    assert _code(lambda: devops.describe_support_level(**missing)) == "ResourceNotFoundException"
