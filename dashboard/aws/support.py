"""Escalating an investigation to AWS Support: the support-case operations of AWS DevOps Agent
(`describe_support_level`, `initiate_chat_for_case`, `end_chat_for_case`) and the case chat,
carried by Amazon Connect's participant API (`connectparticipant`: CreateParticipantConnection,
SendMessage, GetTranscript, DisconnectParticipant).

The API document lists the case operations, but botocore's model may not have them yet. The
console offers escalation only when the model it loaded has them (`missing()` is empty): a
newer botocore, or model extras on botocore's data path (the sandbox ships them). Otherwise the
task page says escalation is not in this AWS API version.

The connection token is a credential: callers keep it server-side and never show or log it.
"""

from __future__ import annotations

import uuid
from typing import Any

import botocore

from . import errors
from .clients import call, client

SERVICE = "devops-agent"
CONNECT = "connectparticipant"
CASE_OPERATIONS = ("DescribeSupportLevel", "InitiateChatForCase", "EndChatForCase")
TRANSCRIPT_PAGES = 20  # at most 2,000 items read for one page view


def missing() -> list[str]:
    """The case operations the loaded botocore model lacks (empty: escalation is possible)."""
    try:
        names = set(client(SERVICE).meta.service_model.operation_names)
    except errors.AwsError:
        return list(CASE_OPERATIONS)
    return [name for name in CASE_OPERATIONS if name not in names]


def botocore_version() -> str:
    return botocore.__version__


def support_level(space_id: str, task_id: str) -> dict[str, Any]:
    """{supportLevel: {code, name}, mosaicSupportLevel: {...}, activeSubscription}."""
    return call(SERVICE, "DescribeSupportLevel", agentSpaceId=space_id, taskId=task_id)


def initiate(space_id: str, task_id: str, client_token: str) -> dict[str, str]:
    """Open the case chat: {initialContactId, participantId, participantToken}."""
    answer = call(
        SERVICE,
        "InitiateChatForCase",
        agentSpaceId=space_id,
        taskId=task_id,
        clientToken=client_token,
    )
    return answer["chatParticipantConnection"]


def connect(participant_token: str) -> dict[str, str]:
    """A connection for the chat: {ConnectionToken, Expiry}."""
    answer = call(
        CONNECT,
        "CreateParticipantConnection",
        ParticipantToken=participant_token,
        Type=["CONNECTION_CREDENTIALS"],
        ConnectParticipant=True,
    )
    return answer["ConnectionCredentials"]


def send(connection_token: str, text: str, client_token: str) -> dict[str, Any]:
    return call(
        CONNECT,
        "SendMessage",
        ConnectionToken=connection_token,
        ContentType="text/plain",
        Content=text,
        ClientToken=client_token,
    )


def transcript(connection_token: str, contact_id: str) -> list[dict[str, Any]]:
    """The whole chat so far, oldest first."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {
        "ConnectionToken": connection_token,
        "ContactId": contact_id,
        "ScanDirection": "FORWARD",
        "SortOrder": "ASCENDING",
        "MaxResults": 100,
    }
    seen: set[str] = set()
    for _ in range(TRANSCRIPT_PAGES):
        page = call(CONNECT, "GetTranscript", **params)
        items.extend(page.get("Transcript", []))
        token = page.get("NextToken")
        if not token or token in seen:
            break
        seen.add(token)
        params["NextToken"] = token
    return items


def end(space_id: str, task_id: str, *, requester: str, client_token: str) -> dict[str, Any]:
    """End the case chat: {isDisconnected, executionId, errorMessage}."""
    return call(
        SERVICE,
        "EndChatForCase",
        agentSpaceId=space_id,
        taskId=task_id,
        reason="Ended from the Agent Console",
        requester=requester,
        clientToken=client_token,
    )


def disconnect(connection_token: str) -> None:
    call(
        CONNECT,
        "DisconnectParticipant",
        ConnectionToken=connection_token,
        ClientToken=str(uuid.uuid4()),
    )
