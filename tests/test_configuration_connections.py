"""Private connection pages: list, detail, create (both modes), certificate, delete, tags;
the certificate-expiry warning; validation errors that keep what was typed; the audit log."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.utils import timezone

from dashboard.aws import configuration as aws_config
from dashboard.aws import errors
from dashboard.configuration import display
from dashboard.core.models import AuditEntry
from dashboard.sandbox import certs
from dashboard.sandbox.ops import configuration as sandbox_ops

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
MANAGED = {
    "name": "grafana-prod",
    "mode": "SERVICE_MANAGED",
    "host_address": "grafana.internal.example.com",
    "vpc_id": "vpc-0123abcd",
    "subnet_ids": "subnet-0123abcd, subnet-0123abce",
    "port_ranges": "443 8080-8090",
}


def pem(days: float) -> str:
    now = timezone.now()
    return certs.demo_pem("t.internal", now - dt.timedelta(days=1), now + dt.timedelta(days=days))


def make(name: str = "grafana-prod", *, days: float | None = 90, settle: bool = True) -> dict:
    mode: dict = {
        "hostAddress": "grafana.internal.example.com",
        "vpcId": "vpc-0123abcd",
        "subnetIds": ["subnet-0123abcd"],
    }
    if days is not None:
        mode["certificate"] = pem(days)
    conn = aws_config.create_private_connection(name, {"serviceManaged": mode})
    if settle:
        with time_machine.travel(
            timezone.now() + dt.timedelta(seconds=sandbox_ops.CREATE_SECONDS), tick=False
        ):
            conn = aws_config.describe_private_connection(name)
    return conn


def text(response) -> str:
    return html.unescape(response.content.decode())


# --- reading ---------------------------------------------------------------------------------


# A whole second: certificates keep whole seconds, so "90 days from now" is exactly 90 days.
FROZEN = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def test_the_list_shows_each_connection_with_status_target_and_certificate(viewer_client):
    with time_machine.travel(FROZEN, tick=False):
        make("grafana-prod", days=90)
        make("splunk", days=None, settle=False)
        body = text(viewer_client.get("/private-connections/"))
    assert "grafana-prod" in body and "splunk" in body
    assert "Active" in body and "Creating…" in body
    assert "grafana.internal.example.com" in body
    assert "Valid for 90 more days" in body
    assert "No certificate" in body
    assert 'ws-connect="/ws/private-connections/"' in body


def test_the_list_says_when_there_are_none(viewer_client):
    body = text(viewer_client.get("/private-connections/"))
    assert "No private connections" in body
    assert "Ask an admin" in body


def test_a_certificate_under_30_days_is_flagged_on_the_list_and_the_page(viewer_client):
    with time_machine.travel(FROZEN, tick=False):
        make("soon", days=12)
        make("later", days=45)
        listing = text(viewer_client.get("/private-connections/"))
        page = text(viewer_client.get("/private-connections/soon/"))
        later = text(viewer_client.get("/private-connections/later/"))
    assert "1 certificate needs renewing" in listing
    assert "Expires in 12 days" in listing
    assert "Update it before then" in page
    assert "Update it before then" not in later


@pytest.mark.parametrize(
    ("days", "state", "words"),
    [
        (45, "ok", "Valid for 45 more days"),
        (29.5, "soon", "Expires in 29 days"),
        (0.5, "soon", "Expires in less than a day"),
        (-3, "expired", "Expired 3 days ago"),
    ],
)
def test_certificate_states(days, state, words):
    now = dt.datetime(2026, 5, 4, 9, tzinfo=dt.UTC)
    found = display.certificate(now + dt.timedelta(days=days), now)
    assert (found["state"], found["text"]) == (state, words)
    assert display.certificate(None, now)["state"] == "none"


def test_an_expired_certificate_is_an_error_on_the_page(viewer_client):
    make("old", days=1 / 24)  # an hour left
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2), tick=False):
        body = text(viewer_client.get("/private-connections/old/"))
    assert "The certificate has expired" in body


def test_the_detail_shows_the_failure_message(viewer_client):
    aws_config.create_private_connection(
        "broken",
        {
            "serviceManaged": {
                "hostAddress": "nowhere.invalid",
                "vpcId": "vpc-0123abcd",
                "subnetIds": ["subnet-0123abcd"],
            }
        },
    )
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=60), tick=False):
        body = text(viewer_client.get("/private-connections/broken/"))
    assert "Creation failed" in body
    assert "could not resolve nowhere.invalid" in body


def test_the_detail_of_a_missing_or_malformed_name_is_404(viewer_client):
    assert viewer_client.get("/private-connections/nothere/").status_code == 404
    assert viewer_client.get("/private-connections/Bad_Name/").status_code == 404


def test_the_status_fragment_serves_the_resync(viewer_client):
    make("frag")
    response = viewer_client.get("/private-connections/frag/?fragment=status", headers=HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="pc-status"' in body
    rows = viewer_client.get("/private-connections/?fragment=rows", headers=HX).content.decode()
    assert "<html" not in rows and 'id="pc-frag"' in rows


def test_viewers_see_no_admin_actions(viewer_client, admin_client):
    make("readonly")
    assert (
        "Update certificate"
        not in viewer_client.get("/private-connections/readonly/").content.decode()
    )
    assert (
        "New private connection" not in viewer_client.get("/private-connections/").content.decode()
    )
    assert (
        "Update certificate" in admin_client.get("/private-connections/readonly/").content.decode()
    )


# --- creating --------------------------------------------------------------------------------


def test_an_admin_creates_a_service_managed_connection(admin_client):
    response = admin_client.post("/private-connections/new/", {**MANAGED, "certificate": pem(60)})
    assert response.status_code == 302
    assert response["Location"] == "/private-connections/grafana-prod/"
    conn = aws_config.describe_private_connection("grafana-prod")
    assert conn["status"] == "CREATE_IN_PROGRESS"
    assert conn["hostAddress"] == "grafana.internal.example.com"
    entry = AuditEntry.objects.get(operation="CreatePrivateConnection")
    assert entry.outcome == AuditEntry.OK
    assert entry.detail["mode"]["serviceManaged"]["subnetIds"] == [
        "subnet-0123abcd",
        "subnet-0123abce",
    ]
    assert entry.detail["mode"]["serviceManaged"]["certificate"].startswith("[certificate, ")
    page = text(admin_client.get(response["Location"]))
    assert "Creating private connection grafana-prod" in page


def test_an_admin_creates_a_self_managed_connection(admin_client):
    response = admin_client.post(
        "/private-connections/new/",
        {
            "name": "splunk",
            "mode": "SELF_MANAGED",
            "resource_configuration_id": "rcfg-0123456789abcdef0",
        },
    )
    assert response.status_code == 302
    conn = aws_config.describe_private_connection("splunk")
    assert conn["type"] == "SELF_MANAGED"
    assert conn["resourceConfigurationId"] == "rcfg-0123456789abcdef0"


def test_model_constraints_are_checked_before_aws_and_the_input_is_kept(admin_client):
    response = admin_client.post(
        "/private-connections/new/",
        {
            **MANAGED,
            "name": "Bad_Name",
            "vpc_id": "vpc-nope",
            "subnet_ids": "subnet-0123abcd subnet-xyz",
            "port_ranges": "443 70000",
        },
    )
    assert response.status_code == 400
    body = text(response)
    assert 'value="Bad_Name"' in body
    assert 'value="vpc-nope"' in body
    assert "subnet-0123abcd subnet-xyz" in body
    assert "subnet-xyz: Does not match the format AWS requires" in body
    assert "70000: ports run from 1 to 65535" in body
    assert not aws_config.list_private_connections()
    assert not AuditEntry.objects.exists()


def test_the_chosen_mode_decides_what_is_required(admin_client):
    response = admin_client.post(
        "/private-connections/new/", {"name": "x-self", "mode": "SELF_MANAGED"}
    )
    assert response.status_code == 400
    assert "Required for this type of connection." in text(response)
    response = admin_client.post(
        "/private-connections/new/", {"name": "x-svc", "mode": "SERVICE_MANAGED"}
    )
    assert text(response).count("Required for this type of connection.") == 3


def test_a_pasted_private_key_is_refused_and_not_sent_back(admin_client):
    key = (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw-key-material\n"
        "-----END PRIVATE KEY-----"
    )
    response = admin_client.post(
        "/private-connections/new/", {**MANAGED, "certificate": pem(30) + key}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "contains a private key" in html.unescape(body)
    assert "key-material" not in body
    assert 'value="grafana.internal.example.com"' in body
    assert 'hx-history="false"' in body


def test_aws_errors_land_next_to_the_field(admin_client):
    make("taken", settle=False)
    response = admin_client.post("/private-connections/new/", {**MANAGED, "name": "taken"})
    assert response.status_code == 409
    assert "exists already" in text(response)
    response = admin_client.post("/private-connections/new/", {**MANAGED, "certificate": pem(-1)})
    assert response.status_code == 400
    assert "The certificate expired" in text(response) or "has expired" in text(response)
    assert AuditEntry.objects.filter(outcome=AuditEntry.FAILED).count() == 2


def test_a_throttled_create_keeps_the_form(admin_client, monkeypatch):
    def busy(*args, **kwargs):
        raise errors.Throttled("AWS is throttling CreatePrivateConnection requests.")

    monkeypatch.setattr(aws_config, "create_private_connection", busy)
    response = admin_client.post("/private-connections/new/", MANAGED)
    assert response.status_code == 503
    body = text(response)
    assert "The connection was not created" in body
    assert 'value="grafana.internal.example.com"' in body


# --- certificate, delete, tags ---------------------------------------------------------------


def test_an_admin_updates_the_certificate(admin_client):
    make("tls", days=10)
    response = admin_client.post("/private-connections/tls/certificate/", {"certificate": pem(300)})
    assert response.status_code == 302
    expiry = aws_config.describe_private_connection("tls")["certificateExpiryTime"]
    assert expiry > timezone.now() + dt.timedelta(days=299)
    assert AuditEntry.objects.filter(operation="UpdatePrivateConnectionCertificate").exists()


def test_the_certificate_cannot_change_while_creating(admin_client):
    make("busy", settle=False)
    response = admin_client.post(
        "/private-connections/busy/certificate/", {"certificate": pem(300)}
    )
    assert response.status_code == 409
    assert "while it is ACTIVE" in text(response)


def test_delete_needs_the_typed_name(admin_client):
    make("doomed")
    wrong = admin_client.post("/private-connections/doomed/delete/", {"confirm_name": "doom"})
    assert wrong.status_code == 400
    assert 'value="doom"' in wrong.content.decode()
    assert aws_config.describe_private_connection("doomed")["status"] == "ACTIVE"

    response = admin_client.post("/private-connections/doomed/delete/", {"confirm_name": "doomed"})
    assert response.status_code == 302 and response["Location"] == "/private-connections/"
    assert aws_config.describe_private_connection("doomed")["status"] == "DELETE_IN_PROGRESS"
    assert "Deleting private connection doomed" in text(admin_client.get("/private-connections/"))


def test_delete_while_creating_says_why(admin_client):
    make("new-one", settle=False)
    response = admin_client.post(
        "/private-connections/new-one/delete/", {"confirm_name": "new-one"}
    )
    assert response.status_code == 409
    assert "still being created" in text(response)


def test_tags_use_the_shared_card(admin_client, viewer_client):
    make("tagme")
    response = admin_client.post(
        "/private-connections/tagme/tags/", {"key": "team", "value": "sre"}, headers=HX
    )
    assert response.status_code == 200 and "<h2>Tags</h2>" in response.content.decode()
    assert aws_config.describe_private_connection("tagme")["tags"] == {"team": "sre"}
    entry = AuditEntry.objects.get(operation="TagResource")
    assert entry.target.endswith(":private-connection/tagme")
    assert "team" in viewer_client.get("/private-connections/tagme/").content.decode()
    assert viewer_client.post("/private-connections/tagme/tags/", {"key": "a"}).status_code == 403
    admin_client.post("/private-connections/tagme/tags/remove/", {"key": "team"})
    assert aws_config.describe_private_connection("tagme")["tags"] == {}
