"""OAuth 3LO registration: RegisterService answers an authorization URL, the console sends the
admin there (https only), shows the registration as pending, and notices when it finished."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import override_settings

from dashboard.integrations import catalog, pending
from dashboard.sandbox.models import PendingOAuth, RegisteredService
from tests.integrations_support import post_data

AUTH = "serviceDetails.mcpserver.authorizationConfig"


def _start(client, name: str = "jira-tools", variant: str = "oAuth3LO") -> str:
    data = post_data(catalog.register_layout("mcpserver"), variants={AUTH: variant})
    data["serviceDetails.mcpserver.name"] = name
    response = client.post("/services/new/mcpserver/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def test_it_sends_the_admin_to_the_authorization_url_and_shows_the_pending_state(admin_client):
    url = _start(admin_client)
    assert url.startswith("/sandbox/oauth/authorize/")
    assert not RegisteredService.objects.exists()
    page = admin_client.get("/services/").content.decode()
    assert "Waiting for authorization" in page
    assert "jira-tools" in page
    assert f'href="{url}"' in page  # continue where it stopped


def test_allowing_access_registers_the_service_and_returns_to_it(admin_client):
    url = _start(admin_client)
    consent = admin_client.get(url)
    assert consent.status_code == 200
    assert "Allow AWS DevOps Agent?" in consent.content.decode()
    back = admin_client.post(url, {"decision": "allow"})
    assert back.status_code == 302
    assert back["Location"].startswith("/services/oauth/return/")
    landing = admin_client.get(back["Location"])
    service = RegisteredService.objects.get()
    assert landing["Location"] == f"/services/{service.pk}/"
    assert service.details["authorizationMethod"] == "oauth-3lo"
    assert service.details["name"] == "jira-tools"
    page = admin_client.get("/services/").content.decode()
    assert "Waiting for authorization" not in page
    assert not PendingOAuth.objects.exists()


def test_authorization_discovery_takes_the_same_path(admin_client):
    data = post_data(catalog.register_layout("mcpserverdatadog"))
    response = admin_client.post("/services/new/mcpserverdatadog/", data)
    assert response["Location"].startswith("/sandbox/oauth/authorize/")
    admin_client.post(response["Location"], {"decision": "allow"})
    assert RegisteredService.objects.get().service_type == "mcpserverdatadog"


def test_denying_access_registers_nothing_and_says_so(admin_client):
    url = _start(admin_client)
    back = admin_client.post(url, {"decision": "deny"})
    page = admin_client.get(back["Location"], follow=True).content.decode()
    assert "Access was not allowed at the provider" in page
    assert "Waiting for authorization" not in page
    assert not RegisteredService.objects.exists()
    assert not PendingOAuth.objects.exists()


def test_an_expired_consent_page_says_so(admin_client):
    url = _start(admin_client)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)):
        response = admin_client.post(url, {"decision": "allow"})
    assert response.status_code == 410
    assert "no longer valid" in response.content.decode()
    assert not RegisteredService.objects.exists()


def test_a_registration_finished_elsewhere_settles_the_pending_state(admin_client):
    """With real AWS the provider returns to the AWS console: the list notices the service."""
    url = _start(admin_client, name="finished-elsewhere")
    flow_id = url.rstrip("/").rsplit("/", 1)[1]
    from dashboard.sandbox.oauth import complete_oauth
    from dashboard.sandbox.wire import Context

    complete_oauth(Context("devops-agent", "RegisterService", "us-east-1", "123456789012"), flow_id)
    page = admin_client.get("/services/").content.decode()
    assert "finished-elsewhere is registered." in page
    assert "Waiting for authorization" not in page


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "http://idp.example.com/authorize",
        "//evil.example.com/x",
        "https://user:pw@evil.example.com/",
        "data:text/html,hi",
        "https://idp.example.com/a\nb",
        "",
        None,
    ],
)
def test_it_never_follows_an_authorization_url_that_is_not_https(admin_client, monkeypatch, url):
    from dashboard.aws import integrations as aws_integrations

    monkeypatch.setattr(
        aws_integrations,
        "register_service",
        lambda *a, **k: {"serviceId": None, "authorizationUrl": url, "tags": {}},
    )
    data = post_data(catalog.register_layout("mcpserver"), variants={AUTH: "oAuth3LO"})
    response = admin_client.post("/services/new/mcpserver/", data)
    assert response.status_code == 400
    assert "only https:// addresses are followed" in response.content.decode()
    assert not pending.flows(response.wsgi_request)


def test_an_https_authorization_url_is_followed(admin_client, monkeypatch):
    from dashboard.aws import integrations as aws_integrations

    target = "https://auth.example.com/authorize?state=abc"
    monkeypatch.setattr(
        aws_integrations,
        "register_service",
        lambda *a, **k: {"serviceId": None, "authorizationUrl": target, "tags": {}},
    )
    data = post_data(catalog.register_layout("mcpserver"), variants={AUTH: "oAuth3LO"})
    response = admin_client.post("/services/new/mcpserver/", data)
    assert response.status_code == 302
    assert response["Location"] == target


@override_settings(DASHBOARD_BACKEND="aws")
def test_the_sandbox_consent_path_is_only_followed_on_the_sandbox():
    assert pending.safe_authorization_url("/sandbox/oauth/authorize/x/") is None
    assert pending.safe_authorization_url("https://a.example.com/") == "https://a.example.com/"


def test_stop_waiting_forgets_the_flow(admin_client):
    _start(admin_client)
    flow = pending.flows(admin_client.get("/services/").wsgi_request)[0]
    admin_client.post(f"/services/pending/{flow['key']}/dismiss/")
    assert "Waiting for authorization" not in admin_client.get("/services/").content.decode()
