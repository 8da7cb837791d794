"""OAuth 3LO registration: RegisterService answers an authorization URL, the console sends the
admin there (https only), shows the registration as pending, and notices when it finished."""

from __future__ import annotations

import datetime as dt
import re

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


# --- the return address: nothing in its query string is trusted -----------------------------

RETURN = "/services/oauth/return/"
NO_MATCH = "does not match a registration waiting in your session"


def _flow_id(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def _messages(response) -> list[str]:
    return [m.message for m in response.context["messages"]]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?flow=garbage",
        "?flow=garbage&service=nope",
        "?service=a/b",
        "?service=../../x",
        "?service=%00",
        "?flow=a/b&service=a/b",
        "?error=access_denied",
        "?code=abc&state=zzz",
        "?flow=%ff%fe&service=%ff%fe",
    ],
)
def test_a_return_that_matches_no_waiting_flow_says_so_and_changes_nothing(admin_client, query):
    url = _start(admin_client)
    response = admin_client.get(RETURN + query, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/services/"
    shown = " ".join(_messages(response))
    assert NO_MATCH in shown
    assert "is registered" not in shown
    assert not RegisteredService.objects.exists()
    # the admin's own waiting flow is untouched
    assert "Waiting for authorization" in response.content.decode()
    assert PendingOAuth.objects.filter(pk=_flow_id(url)).exists()


def test_a_replayed_return_does_not_announce_the_service_twice(admin_client):
    url = _start(admin_client)
    back = admin_client.post(url, {"decision": "allow"})["Location"]
    first = admin_client.get(back, follow=True)
    assert "Access allowed: jira-tools is registered." in _messages(first)
    again = admin_client.get(back, follow=True)
    assert again.status_code == 200
    assert NO_MATCH in " ".join(_messages(again))
    assert "is registered" not in " ".join(_messages(again))
    assert RegisteredService.objects.count() == 1


def test_a_return_for_another_admins_flow_changes_nothing(admin_client, db):
    from django.contrib.auth.models import Group, User
    from django.test import Client

    other = User.objects.create_user("bob-admin", password="x")
    other.groups.add(Group.objects.get_or_create(name="admin")[0])
    bob = Client()
    bob.force_login(other)
    url = _start(bob, name="bobs-tools")
    response = admin_client.get(f"{RETURN}?flow={_flow_id(url)}&error=access_denied", follow=True)
    assert NO_MATCH in " ".join(_messages(response))
    assert "Waiting for authorization" in bob.get("/services/").content.decode()


def test_a_forged_service_id_is_not_announced_and_the_flow_keeps_waiting(admin_client):
    url = _start(admin_client)
    other = post_data(catalog.register_layout("mcpserver"), variants={AUTH: "apiKey"})
    other["serviceDetails.mcpserver.name"] = "someone-else"
    created = admin_client.post("/services/new/mcpserver/", other)["Location"]
    other_id = created.rstrip("/").rsplit("/", 1)[1]
    for service in (other_id, "does-not-exist"):
        response = admin_client.get(f"{RETURN}?flow={_flow_id(url)}&service={service}", follow=True)
        assert response.status_code == 200
        shown = " ".join(_messages(response))
        assert "did not name a registered service" in shown
        assert "is registered" not in shown
        assert "Waiting for authorization" in response.content.decode()


def test_a_refusal_brings_back_the_form_with_what_was_typed_but_no_secret(admin_client):
    secrets: list[str] = []
    layout = catalog.register_layout("mcpserver")
    connections = (
        "privateConnectionName",
        "targetUrlPrivateConnectionName",
        "exchangeUrlPrivateConnectionName",
    )
    data = post_data(
        layout, variants={AUTH: "oAuth3LO"}, secrets=secrets, full=True, skip=connections
    )
    data["name"] = data["serviceDetails.mcpserver.name"] = "typed-name"
    data[f"{AUTH}.oAuth3LO.clientId"] = "typed-client-id"
    # every credential of the variant was typed: the client secret and exchange parameters
    assert f"{AUTH}.oAuth3LO.clientSecret" in data
    assert any(".exchangeParameters." in k and k.endswith(".value") for k in data)
    assert len(secrets) >= 2
    url = admin_client.post("/services/new/mcpserver/", data)["Location"]
    back = admin_client.post(url, {"decision": "deny"})["Location"]
    response = admin_client.get(back, follow=True)
    assert response.redirect_chain[-1][0].startswith("/services/new/mcpserver/")
    page = response.content.decode()
    assert "Access was not allowed at the provider: typed-name is not registered." in page
    assert 'value="typed-name"' in page
    assert 'value="https://mcp.example.com/mcp"' in page
    assert 'value="typed-client-id"' in page  # the chosen variant comes back with its fields
    assert re.search(r'<input[^>]*value="oAuth3LO"[^>]*checked', page)
    for secret in secrets:
        assert secret not in page
        assert secret not in str(dict(admin_client.session))


def test_an_unknown_provider_error_is_named_without_echoing_odd_text(admin_client):
    url = _start(admin_client)
    response = admin_client.get(f"{RETURN}?flow={_flow_id(url)}&error=%3Cscript%3Ex", follow=True)
    page = response.content.decode()
    assert "The provider answered with an error (unknown): jira-tools is not registered." in page
    assert "<script>x" not in page


def test_a_stale_return_says_the_flow_expired_and_brings_back_the_form(admin_client):
    url = _start(admin_client, name="slow-tools")
    later = dt.datetime.now(dt.UTC) + pending.MAX_AGE + dt.timedelta(minutes=1)
    with time_machine.travel(later):
        response = admin_client.get(f"{RETURN}?flow={_flow_id(url)}&service=x", follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "The authorization for slow-tools took too long and expired" in page
    assert 'value="slow-tools"' in page
    assert not RegisteredService.objects.exists()
