"""The sandbox's private connections, Operator App, assets and account usage through the real
boto3 client: the model's shapes, asynchronous states over a frozen clock (no sleeps), the
documented errors, versions and paging, and usage that grows as investigations run."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
import time_machine
from botocore.exceptions import ClientError
from django.core.management import call_command

from dashboard.aws.clients import client
from dashboard.sandbox import certs
from dashboard.sandbox import tasks as backlog
from dashboard.sandbox.models import AgentSpace, PrivateConnection, Tag, UsageLimit
from dashboard.sandbox.ops import configuration as ops

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
ROLE = "arn:aws:iam::123456789012:role/DevOpsAgentOperator"
SERVICE_MANAGED = {
    "hostAddress": "grafana.internal.example.com",
    "vpcId": "vpc-0123abcd",
    "subnetIds": ["subnet-0123abcd"],
}


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def devops():
    return client("devops-agent")


def pem(days: float, now: dt.datetime = START) -> str:
    return certs.demo_pem(
        "target.internal", now - dt.timedelta(days=1), now + dt.timedelta(days=days)
    )


def code(exc_info: pytest.ExceptionInfo[ClientError]) -> str:
    return exc_info.value.response["Error"]["Code"]


# --- private connections ---------------------------------------------------------------------


def test_a_service_managed_connection_is_created_asynchronously(devops, clock):
    created = devops.create_private_connection(
        name="grafana", mode={"serviceManaged": {**SERVICE_MANAGED, "certificate": pem(90)}}
    )
    assert created["status"] == "CREATE_IN_PROGRESS"
    assert created["type"] == "SERVICE_MANAGED"
    assert created["resourceGatewayId"].startswith("arn:aws:vpc-lattice:us-east-1:")
    assert created["certificateExpiryTime"] == START + dt.timedelta(days=90)
    assert created["dnsResolution"] == "PUBLIC"

    clock.shift(ops.CREATE_SECONDS - 1)
    assert devops.describe_private_connection(name="grafana")["status"] == "CREATE_IN_PROGRESS"
    clock.shift(1)
    listed = devops.list_private_connections()["privateConnections"]
    assert [(c["name"], c["status"]) for c in listed] == [("grafana", "ACTIVE")]
    assert "failureMessage" not in listed[0]


def test_states_move_faster_at_a_faster_pace(devops, clock, settings):
    settings.SANDBOX_PACE = 10
    devops.create_private_connection(name="fast", mode={"serviceManaged": SERVICE_MANAGED})
    clock.shift(ops.CREATE_SECONDS / 10)
    assert devops.describe_private_connection(name="fast")["status"] == "ACTIVE"


def test_an_unresolvable_host_ends_in_create_failed_with_a_reason(devops, clock):
    mode = {"serviceManaged": {**SERVICE_MANAGED, "hostAddress": "mcp.tools.invalid"}}
    devops.create_private_connection(name="broken", mode=mode)
    clock.shift(ops.CREATE_SECONDS)
    described = devops.describe_private_connection(name="broken")
    assert described["status"] == "CREATE_FAILED"
    assert "mcp.tools.invalid" in described["failureMessage"]


def test_an_unknown_resource_configuration_fails_a_self_managed_connection(devops, clock):
    devops.create_private_connection(
        name="self",
        mode={"selfManaged": {"resourceConfigurationId": "rcfg-00000000000000000"}},
    )
    clock.shift(ops.CREATE_SECONDS)
    described = devops.describe_private_connection(name="self")
    assert (described["type"], described["status"]) == ("SELF_MANAGED", "CREATE_FAILED")
    assert described["resourceConfigurationId"] == "rcfg-00000000000000000"
    assert "hostAddress" not in described


def test_delete_goes_through_delete_in_progress_and_takes_the_tags(devops, clock):
    devops.create_private_connection(
        name="gone", mode={"serviceManaged": SERVICE_MANAGED}, tags={"team": "sre"}
    )
    with pytest.raises(ClientError) as still_creating:
        devops.delete_private_connection(name="gone")
    assert code(still_creating) == "ConflictException"

    clock.shift(ops.CREATE_SECONDS)
    assert devops.delete_private_connection(name="gone")["status"] == "DELETE_IN_PROGRESS"
    assert devops.delete_private_connection(name="gone")["status"] == "DELETE_IN_PROGRESS"
    clock.shift(ops.DELETE_SECONDS)
    assert devops.list_private_connections()["privateConnections"] == []
    with pytest.raises(ClientError) as missing:
        devops.describe_private_connection(name="gone")
    assert code(missing) == "ResourceNotFoundException"
    assert not Tag.objects.filter(resource_arn__endswith="private-connection/gone").exists()


def test_names_are_unique_and_the_account_has_a_quota(devops, clock, monkeypatch):
    devops.create_private_connection(name="one", mode={"serviceManaged": SERVICE_MANAGED})
    with pytest.raises(ClientError) as duplicate:
        devops.create_private_connection(name="one", mode={"serviceManaged": SERVICE_MANAGED})
    assert code(duplicate) == "ConflictException"
    monkeypatch.setattr(ops, "MAX_CONNECTIONS", 1)
    with pytest.raises(ClientError) as quota:
        devops.create_private_connection(name="two", mode={"serviceManaged": SERVICE_MANAGED})
    assert code(quota) == "ServiceQuotaExceededException"


@pytest.mark.parametrize(
    ("certificate", "message"),
    [
        ("not a certificate", "not a valid PEM"),
        (pem(-2), "expired"),
        (pem(30) + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "private key"),
    ],
)
def test_bad_certificates_are_validation_errors(devops, clock, certificate, message):
    with pytest.raises(ClientError) as exc_info:
        devops.create_private_connection(
            name="cert",
            mode={
                "selfManaged": {
                    "resourceConfigurationId": "rcfg-0123456789abcdef0",
                    "certificate": certificate,
                }
            },
        )
    assert code(exc_info) == "ValidationException"
    assert message in exc_info.value.response["Error"]["Message"]
    assert not PrivateConnection.objects.exists()


def test_the_certificate_is_updated_while_active_only(devops, clock):
    devops.create_private_connection(name="tls", mode={"serviceManaged": SERVICE_MANAGED})
    with pytest.raises(ClientError) as creating:
        devops.update_private_connection_certificate(name="tls", certificate=pem(200))
    assert code(creating) == "ConflictException"

    clock.shift(ops.CREATE_SECONDS)
    updated = devops.update_private_connection_certificate(name="tls", certificate=pem(200))
    assert updated["certificateExpiryTime"] == START + dt.timedelta(days=200)
    assert updated["status"] == "ACTIVE"


def test_a_real_x509_certificate_is_read_for_its_expiry():
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "grafana.internal")])
    expires = dt.datetime(2061, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(START)
        .not_valid_after(expires)
        .sign(key, hashes.SHA256())
    )
    text = certificate.public_bytes(serialization.Encoding.PEM).decode()
    assert certs.expiry(text) == expires
    # And the demo certificates read back with a real parser.
    demo = x509.load_pem_x509_certificate(pem(10).encode())
    assert demo.not_valid_after_utc == START + dt.timedelta(days=10)


def test_private_connections_are_taggable(devops, clock):
    devops.create_private_connection(name="tagged", mode={"serviceManaged": SERVICE_MANAGED})
    arn = "arn:aws:aidevops:us-east-1:123456789012:private-connection/tagged"
    devops.tag_resource(resourceArn=arn, tags={"env": "prod"})
    assert devops.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod"}
    assert devops.describe_private_connection(name="tagged")["tags"] == {"env": "prod"}
    devops.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert devops.list_tags_for_resource(resourceArn=arn)["tags"] == {}


# --- Operator App ----------------------------------------------------------------------------


@pytest.fixture
def space_id(devops, clock) -> str:
    return devops.create_agent_space(name="Ops")["agentSpace"]["agentSpaceId"]


def test_a_space_without_an_operator_app_has_no_url(devops, space_id):
    app = devops.get_operator_app(agentSpaceId=space_id)
    assert set(app) == {"ResponseMetadata"}


def test_each_flow_is_enabled_with_its_configuration(devops, space_id, clock):
    devops.enable_operator_app(agentSpaceId=space_id, authFlow="iam", operatorAppRoleArn=ROLE)
    idc = devops.enable_operator_app(
        agentSpaceId=space_id,
        authFlow="idc",
        operatorAppRoleArn=ROLE,
        idcInstanceArn="arn:aws:sso:::instance/ssoins-1234567890abcdef",
    )
    assert idc["idc"]["idcApplicationArn"].startswith("arn:aws:sso::123456789012:application/")
    clock.shift(60)
    devops.enable_operator_app(
        agentSpaceId=space_id,
        authFlow="idp",
        operatorAppRoleArn=ROLE,
        issuerUrl="https://acme.okta.com/oauth2/default",
        idpClientId="client-1",
        idpClientSecret="s3cret-value",
        provider="Okta",
    )
    app = devops.get_operator_app(agentSpaceId=space_id)
    assert app["operatorAppUrl"].startswith("https://")
    assert app["iam"]["operatorAppRoleArn"] == ROLE
    assert app["idp"] == {
        "issuerUrl": "https://acme.okta.com/oauth2/default",
        "clientId": "client-1",
        "operatorAppRoleArn": ROLE,
        "provider": "Okta",
        "createdAt": START + dt.timedelta(seconds=60),
    }


def test_the_idp_client_secret_never_comes_back(devops, space_id):
    secret = "never-echo-this-8c1f"
    raw: list[bytes] = []
    devops.meta.events.register(
        "after-call.devops-agent.*", lambda http_response, **_: raw.append(http_response.content)
    )
    devops.enable_operator_app(
        agentSpaceId=space_id,
        authFlow="idp",
        operatorAppRoleArn=ROLE,
        issuerUrl="https://id.example.com",
        idpClientId="client-1",
        idpClientSecret=secret,
        provider="Entra",
    )
    devops.update_operator_app_idp_config(agentSpaceId=space_id, idpClientSecret=secret + "-2")
    devops.get_operator_app(agentSpaceId=space_id)
    assert raw and not any(secret.encode() in body for body in raw)


def test_enabling_idp_needs_a_secret_the_first_time_only(devops, space_id):
    params = {
        "agentSpaceId": space_id,
        "authFlow": "idp",
        "operatorAppRoleArn": ROLE,
        "issuerUrl": "https://id.example.com",
        "idpClientId": "client-1",
        "provider": "Entra",
    }
    with pytest.raises(ClientError) as missing:
        devops.enable_operator_app(**params)
    assert code(missing) == "ValidationException"
    assert missing.value.response["fieldList"][0]["path"] == "idpClientSecret"
    devops.enable_operator_app(**params, idpClientSecret="first")
    changed = devops.enable_operator_app(**{**params, "idpClientId": "client-2"})
    assert changed["idp"]["clientId"] == "client-2"


def test_flow_specific_errors(devops, space_id):
    with pytest.raises(ClientError) as no_instance:
        devops.enable_operator_app(agentSpaceId=space_id, authFlow="idc", operatorAppRoleArn=ROLE)
    assert code(no_instance) == "ValidationException"
    with pytest.raises(ClientError) as unknown_instance:
        devops.enable_operator_app(
            agentSpaceId=space_id,
            authFlow="idc",
            operatorAppRoleArn=ROLE,
            idcInstanceArn="arn:aws:sso:::instance/ssoins-0000000000000000",
        )
    assert code(unknown_instance) == "IdentityCenterServiceException"
    with pytest.raises(ClientError) as wrong_flow:
        devops.enable_operator_app(
            agentSpaceId=space_id, authFlow="iam", operatorAppRoleArn=ROLE, provider="Okta"
        )
    assert code(wrong_flow) == "ValidationException"
    with pytest.raises(ClientError) as bad_role:
        devops.enable_operator_app(agentSpaceId=space_id, authFlow="iam", operatorAppRoleArn="x")
    assert code(bad_role) == "ValidationException"
    with pytest.raises(ClientError) as no_idp:
        devops.update_operator_app_idp_config(agentSpaceId=space_id, idpClientSecret="x")
    assert code(no_idp) == "ResourceNotFoundException"


def test_disabling_one_flow_keeps_the_others(devops, space_id):
    devops.enable_operator_app(agentSpaceId=space_id, authFlow="iam", operatorAppRoleArn=ROLE)
    devops.enable_operator_app(
        agentSpaceId=space_id,
        authFlow="idc",
        operatorAppRoleArn=ROLE,
        idcInstanceArn="arn:aws:sso:::instance/ssoins-1234567890abcdef",
    )
    devops.disable_operator_app(agentSpaceId=space_id, authFlow="iam")
    app = devops.get_operator_app(agentSpaceId=space_id)
    assert "iam" not in app and "idc" in app
    with pytest.raises(ClientError) as again:
        devops.disable_operator_app(agentSpaceId=space_id, authFlow="iam")
    assert code(again) == "ResourceNotFoundException"
    devops.disable_operator_app(agentSpaceId=space_id)
    assert "operatorAppUrl" not in devops.get_operator_app(agentSpaceId=space_id)


# --- assets ----------------------------------------------------------------------------------


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def test_asset_types_are_listed_with_descriptions(devops):
    types = devops.list_asset_types()["items"]
    assert {"skill", "agents_md", "attachment"} <= {t["assetType"] for t in types}
    assert all(t["description"] for t in types)
    first = devops.list_asset_types(maxResults=2)
    assert len(first["items"]) == 2 and first["nextToken"]


def test_every_change_makes_a_version_and_old_versions_stay_readable(devops, space_id, clock):
    asset = devops.create_asset(
        agentSpaceId=space_id,
        assetType="skill",
        metadata={"name": "rds-failover", "description": "v1", "owner": "pay"},
        content={"zip": {"zipFile": _zip({"SKILL.md": b"# v1", "refs/a.md": b"a"})}},
    )["asset"]
    asset_id = asset["assetId"]
    assert asset["version"] == 1
    clock.shift(60)
    updated = devops.update_asset(
        agentSpaceId=space_id,
        assetId=asset_id,
        metadata={"description": "v2", "owner": None},
        content={"file": {"path": "SKILL.md", "body": {"text": "# v2"}}},
    )["asset"]
    assert updated["version"] == 2
    assert updated["metadata"] == {"name": "rds-failover", "description": "v2"}
    devops.create_asset_file(
        agentSpaceId=space_id, assetId=asset_id, path="img/x.bin", content={"bytes": b"\x00\x01"}
    )
    devops.delete_asset_file(agentSpaceId=space_id, assetId=asset_id, path="refs/a.md")

    versions = devops.list_asset_versions(agentSpaceId=space_id, assetId=asset_id)["items"]
    assert [v["version"] for v in versions] == [4, 3, 2, 1]
    latest = devops.list_asset_files(agentSpaceId=space_id, assetId=asset_id)["items"]
    assert {(f["path"], f["version"]) for f in latest} == {("SKILL.md", 2), ("img/x.bin", 3)}
    first = devops.list_asset_files(agentSpaceId=space_id, assetId=asset_id, assetVersion=1)
    assert {f["path"] for f in first["items"]} == {"SKILL.md", "refs/a.md"}
    old = devops.get_asset_file(
        agentSpaceId=space_id, assetId=asset_id, path="SKILL.md", assetVersion=1
    )["file"]
    assert old["content"] == {"text": "# v1"}
    binary = devops.get_asset_file(agentSpaceId=space_id, assetId=asset_id, path="img/x.bin")
    assert binary["file"]["content"] == {"bytes": b"\x00\x01"}
    assert devops.get_asset(agentSpaceId=space_id, assetId=asset_id, assetVersion=1)["asset"][
        "metadata"
    ] == {"name": "rds-failover", "description": "v1", "owner": "pay"}

    bundle = devops.get_asset_content(agentSpaceId=space_id, assetId=asset_id, assetVersion=2)
    assert bundle["version"] == 2
    names = zipfile.ZipFile(io.BytesIO(bundle["content"]["zipFile"])).namelist()
    assert sorted(names) == ["SKILL.md", "refs/a.md"]


def test_asset_errors_are_the_documented_ones(devops, space_id):
    def fails(expected: str, **params) -> None:
        with pytest.raises(ClientError) as exc_info:
            devops.create_asset(agentSpaceId=space_id, **params)
        assert code(exc_info) == expected, exc_info.value.response

    file = {"file": {"path": "a.md", "body": {"text": "x"}}}
    fails("ValidationException", assetType="nonsense", content=file)
    fails("ValidationException", assetType="skill", metadata={"name": "x"}, content=file)
    fails("ValidationException", assetType="attachment", content={"zip": {"zipFile": b"nozip"}})
    fails(
        "ValidationException",
        assetType="attachment",
        content={"file": {"path": "../etc", "body": {"text": "x"}}},
    )
    asset = devops.create_asset(agentSpaceId=space_id, assetType="attachment", content=file)
    asset_id = asset["asset"]["assetId"]
    with pytest.raises(ClientError) as exists:
        devops.create_asset_file(
            agentSpaceId=space_id, assetId=asset_id, path="a.md", content={"text": "y"}
        )
    assert code(exists) == "ConflictException"
    with pytest.raises(ClientError) as missing:
        devops.get_asset_file(agentSpaceId=space_id, assetId=asset_id, path="b.md")
    assert code(missing) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as no_version:
        devops.get_asset(agentSpaceId=space_id, assetId=asset_id, assetVersion=9)
    assert code(no_version) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as nothing:
        devops.update_asset(agentSpaceId=space_id, assetId=asset_id)
    assert code(nothing) == "ValidationException"


def test_a_client_token_makes_creates_and_changes_idempotent(devops, space_id):
    file = {"file": {"path": "AGENTS.md", "body": {"text": "x"}}}
    first = devops.create_asset(
        agentSpaceId=space_id, assetType="agents_md", content=file, clientToken="t-1"
    )["asset"]
    again = devops.create_asset(
        agentSpaceId=space_id, assetType="agents_md", content=file, clientToken="t-1"
    )["asset"]
    assert again["assetId"] == first["assetId"]
    for _ in range(2):
        devops.update_asset(
            agentSpaceId=space_id, assetId=first["assetId"], metadata={"a": 1}, clientToken="u-1"
        )
    assert (
        devops.get_asset(agentSpaceId=space_id, assetId=first["assetId"])["asset"]["version"] == 2
    )


def test_assets_are_listed_by_type_and_paged(devops, space_id):
    file = {"file": {"path": "f.md", "body": {"text": "x"}}}
    for kind in ("attachment", "attachment", "attachment", "agents_md"):
        devops.create_asset(agentSpaceId=space_id, assetType=kind, content=file)
    page = devops.list_assets(agentSpaceId=space_id, assetType="attachment", maxResults=2)
    assert len(page["items"]) == 2 and page["nextToken"]
    rest = devops.list_assets(
        agentSpaceId=space_id, assetType="attachment", maxResults=2, nextToken=page["nextToken"]
    )
    assert len(rest["items"]) == 1 and "nextToken" not in rest
    assert {a["assetType"] for a in page["items"] + rest["items"]} == {"attachment"}


def test_deleting_an_asset_removes_it_and_its_files(devops, space_id):
    asset = devops.create_asset(
        agentSpaceId=space_id,
        assetType="attachment",
        content={"file": {"path": "f.md", "body": {"text": "x"}}},
    )["asset"]
    devops.delete_asset(agentSpaceId=space_id, assetId=asset["assetId"])
    with pytest.raises(ClientError) as gone:
        devops.get_asset(agentSpaceId=space_id, assetId=asset["assetId"])
    assert code(gone) == "ResourceNotFoundException"


# --- account usage ---------------------------------------------------------------------------


def test_usage_grows_as_investigations_run(devops, space_id, clock):
    space = AgentSpace.objects.get(pk=space_id)
    before = devops.get_account_usage()
    assert before["usagePeriodStartTime"] == dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    assert before["usagePeriodEndTime"] == dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert before["monthlyAccountInvestigationHours"]["usage"] == 0.0

    backlog.create_task(
        space, task_type="INVESTIGATION", title="5xx spike", priority="HIGH", at=START
    )
    clock.shift(60)
    during = devops.get_account_usage()["monthlyAccountInvestigationHours"]["usage"]
    clock.shift(3600)
    after = devops.get_account_usage()
    assert 0 < during < after["monthlyAccountInvestigationHours"]["usage"]
    assert after["monthlyAccountEvaluationHours"]["usage"] == 0.0
    assert after["monthlyAccountSystemLearningHours"]["usage"] > 0
    assert after["monthlyAccountInvestigationHours"]["limit"] == 40


def test_usage_limits_come_from_the_account_settings(devops):
    UsageLimit.objects.create(metric="monthlyAccountOnDemandHours", limit=2)
    usage = devops.get_account_usage()
    assert usage["monthlyAccountOnDemandHours"]["limit"] == 2
    assert usage["monthlyAccountGraderHours"]["limit"] == -1


# --- seed ------------------------------------------------------------------------------------


def test_the_seed_adds_configuration_once(devops):
    call_command("seed_sandbox", stdout=io.StringIO())
    names = {c["name"]: c for c in devops.list_private_connections()["privateConnections"]}
    assert {"grafana-internal", "mcp-tools"} <= set(names)
    assert names["mcp-tools"]["status"] == "CREATE_FAILED"
    first = AgentSpace.objects.order_by("created_at", "agent_space_id").first()
    assert devops.get_operator_app(agentSpaceId=first.pk)["operatorAppUrl"]
    assets = devops.list_assets(agentSpaceId=first.pk)["items"]
    assert {a["assetType"] for a in assets} == {"skill", "agents_md", "attachment"}

    out = io.StringIO()
    call_command("seed_sandbox", stdout=out)
    assert "Seeded" not in out.getvalue()
    assert len(devops.list_private_connections()["privateConnections"]) == len(names)
