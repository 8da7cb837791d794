"""The sandbox over real HTTP: boto3 (and the console's `aws` backend) against `SandboxServer`.

The server answers from its own threads, outside any test transaction, so these tests use
transactional databases.
"""

from __future__ import annotations

import http.client
import json
import threading

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.test import override_settings
from django.utils import timezone

from dashboard.aws import chat, errors, identity, spaces
from dashboard.aws import tags as aws_tags
from dashboard.sandbox import wire
from dashboard.sandbox.server import SandboxServer

from .test_sandbox_eventstream import _script, check_members, install_stream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server():
    server = SandboxServer("127.0.0.1", 0)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="sandbox-server", daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _session() -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id="AKIDSANDBOX", aws_secret_access_key="secret", region_name="us-east-1"
    )


@pytest.fixture
def devops(server):
    return _session().client(
        "devops-agent",
        endpoint_url=server.url,
        config=Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
    )


def _raw(server: SandboxServer, method: str, path: str, body: bytes = b"", **headers: str):
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


SIGNED = (
    "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/{name}/aws4_request, "
    "SignedHeaders=host, Signature=00"
)


def test_it_serves_create_get_and_list_to_boto3(devops):
    created = devops.create_agent_space(name="Over HTTP", locale="en-GB", tags={"via": "http"})
    space_id = created["agentSpace"]["agentSpaceId"]

    got = devops.get_agent_space(agentSpaceId=space_id)
    listed = devops.list_agent_spaces()

    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["ResponseMetadata"]["HTTPHeaders"]["content-length"]
    assert got["agentSpace"]["name"] == "Over HTTP"
    assert got["agentSpace"]["createdAt"].utcoffset() is not None
    assert got["tags"] == {"via": "http"}
    assert [s["agentSpaceId"] for s in listed["agentSpaces"]] == [space_id]


def test_it_serves_tags_addressed_by_an_arn_in_the_path(devops):
    space_id = devops.create_agent_space(name="Tagged")["agentSpace"]["agentSpaceId"]
    arn = f"arn:aws:aidevops:us-east-1:123456789012:agentspace/{space_id}"

    devops.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
    devops.untag_resource(resourceArn=arn, tagKeys=["a"])

    assert devops.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}


def test_it_serves_aws_errors_botocore_understands(devops, monkeypatch):
    # An operation without a handler (GetAsset has one now: take it away for this test).
    import dashboard.sandbox.ops  # noqa: F401 - registers the handlers first

    monkeypatch.delitem(wire._handlers, ("devops-agent", "GetAsset"))
    with pytest.raises(ClientError) as not_found:
        devops.get_agent_space(agentSpaceId="missing")
    with pytest.raises(ClientError) as not_implemented:
        devops.get_asset(agentSpaceId="space-1", assetId="asset-1")
    with pytest.raises(ClientError) as invalid:
        devops.create_agent_space(name="n" * 300)

    assert not_found.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert not_found.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert not_implemented.value.response["Error"]["Code"] == "NotImplemented"
    assert "GetAsset" in not_implemented.value.response["Error"]["Message"]
    assert invalid.value.response["fieldList"][0]["path"] == "name"


def test_it_streams_events_over_http_as_they_are_produced(devops, monkeypatch):
    lockstep = install_stream(monkeypatch, _script())

    response = devops.send_message(
        agentSpaceId="space-1", executionId="e" * 32, content="Why is checkout slow?"
    )
    received = lockstep.read(response["events"])

    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["transfer-encoding"] == "chunked"
    assert "content-length" not in headers
    assert headers["content-type"] == "application/vnd.amazon.eventstream"
    lockstep.check(received, len(_script()))
    check_members(received)


def test_it_answers_sts_get_caller_identity_with_the_sandbox_account(server):
    sts = _session().client("sts", endpoint_url=server.url)

    with override_settings(SANDBOX_ACCOUNT_ID="210987654321"):
        answer = sts.get_caller_identity()

    assert answer["Account"] == "210987654321"
    assert answer["Arn"].startswith("arn:aws:iam::210987654321:")


def test_it_answers_other_sts_actions_with_a_query_protocol_error(server):
    sts = _session().client("sts", endpoint_url=server.url)

    with pytest.raises(ClientError) as exc_info:
        sts.get_session_token()

    assert exc_info.value.response["Error"]["Code"] == "NotImplemented"
    assert "GetSessionToken" in exc_info.value.response["Error"]["Message"]


def test_it_works_as_the_consoles_aws_backend_including_the_sts_account(server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSANDBOX")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setattr(identity, "_accounts", {})

    with override_settings(
        DASHBOARD_BACKEND="aws",
        AWS_ENDPOINT_URL=server.url,
        AWS_REGION="us-east-1",
        AWS_PROFILE="",
        SANDBOX_ACCOUNT_ID="210987654321",
    ):
        created = spaces.create_space(name="Through the backend", tags={"team": "ops"})
        space_id = created["agentSpaceId"]
        arn = spaces.space_arn(space_id)
        aws_tags.tag(arn, {"env": "dev"})
        space, tags = spaces.describe_space(space_id)
        listed = spaces.list_spaces()
        with pytest.raises(errors.NotFound):
            spaces.get_space("missing")
        spaces.delete_space(space_id)
        remaining = spaces.list_spaces()["agentSpaces"]

    assert arn == f"arn:aws:aidevops:us-east-1:210987654321:agentspace/{space_id}"
    assert space["name"] == "Through the backend"
    assert tags == {"team": "ops", "env": "dev"}
    assert [s["agentSpaceId"] for s in listed["agentSpaces"]] == [space_id]
    assert remaining == []


def test_a_chat_reply_streams_through_the_consoles_aws_backend(server, monkeypatch):
    # The console's check for answers that are not AWS's must not read an event stream's
    # body: it would wait for the whole reply and leave botocore's parser nothing.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSANDBOX")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setattr(identity, "_accounts", {})
    with override_settings(
        DASHBOARD_BACKEND="aws", AWS_ENDPOINT_URL=server.url, AWS_REGION="us-east-1", AWS_PROFILE=""
    ):
        space_id = spaces.create_space(name="Streams over HTTP")["agentSpaceId"]
        chat_id = chat.create_chat(space_id)["executionId"]
        reply = chat.open_reply(
            {"agentSpaceId": space_id, "executionId": chat_id, "content": "What is open?"}
        )
        events = [event_type for event_type, _ in reply]
    assert events.count("contentBlockDelta") > 3, events
    assert events[-1] == "responseCompleted", events


def test_it_answers_an_unsigned_request_with_an_aws_error(server):
    status, headers, body = _raw(server, "GET", "/v1/agentspaces/abc")

    assert status == 403
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert "Authorization" in json.loads(body)["message"]


def test_it_answers_a_request_signed_for_another_service_with_an_aws_error(server):
    status, headers, body = _raw(server, "GET", "/", Authorization=SIGNED.format(name="s3"))

    assert status == 400
    assert headers["x-amzn-errortype"] == "UnknownServiceException"
    assert "'s3'" in json.loads(body)["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/no/such/thing", b"", 404, "UnknownOperationException"),
        ("POST", "/v1/agentspaces", b"{broken", 400, "SerializationException"),
        ("POST", "/v1/agentspaces", b"[1, 2]", 400, "SerializationException"),
        ("POST", "/v1/agentspaces", b'{"name": 5}', 400, "SerializationException"),
        ("POST", "/v1/agentspaces", b'{"name": "x", "tags": ["a"]}', 400, "SerializationException"),
        ("POST", "/v1/agentspaces", b"{}", 400, "ValidationException"),
        ("GET", "/v1/agentspaces/%ZZ", b"", 400, "ValidationException"),
        ("GET", "/v1/agentspaces/abc?includedData=NOPE", b"", 400, "ValidationException"),
        ("POST", "/v1/agentspaces/list?maxResults=many", b"", 400, "ValidationException"),
    ],
)
def test_it_answers_bad_input_with_aws_errors_and_keeps_serving(
    server, devops, method, path, body, status, code
):
    got_status, headers, raw = _raw(
        server, method, path, body, Authorization=SIGNED.format(name="aidevops")
    )

    assert (got_status, headers.get("x-amzn-errortype")) == (status, code)
    assert json.loads(raw)["message"]
    assert devops.list_agent_spaces()["agentSpaces"] == []  # still serving


def test_it_answers_a_malformed_content_length_with_an_aws_error(server):
    status, headers, body = _raw(
        server,
        "POST",
        "/v1/agentspaces",
        b"",
        Authorization=SIGNED.format(name="aidevops"),
        **{"Content-Length": "lots"},
    )

    assert status == 400
    assert headers["x-amzn-errortype"] == "SerializationException"
    assert "Content-Length" in json.loads(body)["message"]


def test_it_reads_a_chunked_request_body(server):
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=5)
    connection.request(
        "POST",
        "/v1/agentspaces",
        body=iter([b'{"name": ', b'"Chunked"}']),
        headers={"Authorization": SIGNED.format(name="aidevops")},
        encode_chunked=True,
    )
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()

    assert response.status == 201
    assert answer["agentSpace"]["name"] == "Chunked"


def test_it_sends_no_body_with_a_204_so_keep_alive_connections_stay_in_step(server, devops):
    space_id = devops.create_agent_space(name="Keep-alive")["agentSpace"]["agentSpaceId"]
    arn = f"arn:aws:aidevops:us-east-1:123456789012:agentspace/{space_id}".replace(":", "%3A")
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=5)
    auth = {"Authorization": SIGNED.format(name="aidevops"), "Content-Type": "application/json"}
    try:
        connection.request(
            "POST", f"/tags/{arn.replace('/', '%2F')}", b'{"tags": {"a": "1"}}', auth
        )
        first = connection.getresponse()
        first_body = first.read()
        connection.request("GET", f"/tags/{arn.replace('/', '%2F')}", headers=auth)
        second = connection.getresponse()
        second_body = json.loads(second.read())
    finally:
        connection.close()

    assert (first.status, first_body, first.getheader("Content-Length")) == (204, b"", None)
    assert second.status == 200
    assert second_body == {"tags": {"a": "1"}}


def _client(server, service: str):
    return _session().client(
        service,
        endpoint_url=server.url,
        config=Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
    )


def test_apis_that_share_a_signing_name_are_told_apart_by_their_paths(server):
    # bedrock-agentcore and its control plane both sign as "bedrock-agentcore"; bedrock-agent
    # and bedrock-agent-runtime as "bedrock". One server answers all four.
    from dashboard.sandbox import demo_flows, demo_memory

    now = timezone.now()
    demo_memory.seed_memories(now)
    demo_flows.seed_flows(now)
    control = _client(server, "bedrock-agentcore-control")
    data = _client(server, "bedrock-agentcore")
    agent = _client(server, "bedrock-agent")
    runtime = _client(server, "bedrock-agent-runtime")

    memories = control.list_memories()["memories"]
    actors = data.list_actors(memoryId=demo_memory.TRIAGE_MEMORY)["actorSummaries"]
    flows = agent.list_flows()["flowSummaries"]
    executions = runtime.list_flow_executions(flowIdentifier=demo_flows.FLOW_ID)

    assert demo_memory.TRIAGE_MEMORY in {m["id"] for m in memories}
    assert actors and flows[0]["id"] == demo_flows.FLOW_ID
    assert executions["flowExecutionSummaries"]


def test_the_connect_participant_api_is_answered_without_a_signature(server):
    # Amazon Connect's participant API authenticates with a bearer token, not SigV4.
    status, headers, body = _raw(
        server,
        "POST",
        "/participant/transcript",
        b"{}",
        **{"X-Amz-Bearer": "no-such-connection", "Content-Type": "application/json"},
    )
    assert status == 403
    assert headers["x-amzn-errortype"] == "AccessDeniedException"
    assert "Message" in json.loads(body)  # Connect's error shape spells it so
