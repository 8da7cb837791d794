"""The services pages: list (type filter, paging), detail (settings, resources, who uses it,
tags), deregistration with its dependents named first."""

from __future__ import annotations

import pytest

from dashboard.aws import errors
from dashboard.aws import integrations as aws
from dashboard.aws import tags as aws_tags
from dashboard.sandbox.models import RegisteredService


def _mcp(name: str = "tools", **extra) -> str:
    return aws.register_service(
        "mcpserver",
        {
            "name": name,
            "endpoint": f"https://{name}.example.com/mcp",
            "description": "Runbooks",
            "authorizationConfig": {
                "apiKey": {"apiKeyName": "k", "apiKeyValue": "v-1", "apiKeyHeader": "X-Key"}
            },
        },
        **extra,
    )["serviceId"]


def test_the_list_filters_by_type_and_explains_an_unknown_one(viewer_client, db):
    _mcp()
    aws.register_service("eventChannel", {"type": "webhook"}, name="Deploy events")
    page = viewer_client.get("/services/").content.decode()
    assert "tools" in page and "Deploy events" in page
    only = viewer_client.get("/services/?type=eventChannel").content.decode()
    assert "Deploy events" in only and ">tools<" not in only
    odd = viewer_client.get("/services/?type=<script>")
    assert odd.status_code == 200
    assert "is not a service type; showing every type." in odd.content.decode()
    assert "<script>" not in odd.content.decode()


def test_the_list_pages_with_load_more(viewer_client, db, monkeypatch):
    from dashboard.integrations import views_services

    monkeypatch.setattr(views_services, "PAGE_SIZE", 2)
    for index in range(5):
        _mcp(f"tools{index}")
    first = viewer_client.get("/services/").content.decode()
    assert first.count('<tr id="service-') == 2
    assert "Load more" in first
    token = first.split("next=")[1].split('"')[0].replace("&amp;", "&")
    from urllib.parse import unquote

    more = viewer_client.get(f"/services/?next={token}", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in more
    assert more.count('<tr id="service-') == 2
    assert "tools2" in more or "tools3" in more
    assert unquote(token)


def test_an_empty_account_says_what_to_do(admin_client, viewer_client, db):
    assert "No services registered yet" in admin_client.get("/services/").content.decode()
    assert "Ask an admin" in viewer_client.get("/services/").content.decode()


def test_the_detail_shows_settings_resources_and_who_uses_it(viewer_client, space):
    service_id = _mcp()
    aws.associate(space["agentSpaceId"], service_id, {"mcpserver": {"tools": ["a"]}})
    page = viewer_client.get(f"/services/{service_id}/").content.decode()
    assert "https://tools.example.com/mcp" in page
    assert "api-key" in page and "X-Key" in page
    assert "v-1" not in page
    used = viewer_client.get(f"/services/{service_id}/used-by/", HTTP_HX_REQUEST="true")
    assert "Payments" in used.content.decode()


def test_a_missing_service_is_a_404_page(viewer_client, db):
    response = viewer_client.get("/services/nope-123/")
    assert response.status_code == 404
    assert "not found" in response.content.decode().lower()


def test_deregister_names_what_depends_on_it_and_needs_the_name_typed(admin_client, space):
    service_id = _mcp()
    made = aws.associate(space["agentSpaceId"], service_id, {"mcpserver": {"tools": ["a"]}})
    url = f"/services/{service_id}/deregister/"
    page = admin_client.get(url).content.decode()
    assert "1 association uses this service." in page
    assert "Payments" in page
    association_id = made["association"]["associationId"]
    assert f"/associations/{association_id}/delete/" in page
    wrong = admin_client.post(url, {"confirm": "tool"})
    assert wrong.status_code == 400
    assert "Type tools exactly" in wrong.content.decode()
    refused = admin_client.post(url, {"confirm": "tools"})
    assert refused.status_code == 409
    assert "disassociate it first" in refused.content.decode()
    assert RegisteredService.objects.filter(pk=service_id).exists()
    aws.disassociate(space["agentSpaceId"], association_id)
    done = admin_client.post(url, {"confirm": "tools"})
    assert done.status_code == 302
    assert not RegisteredService.objects.filter(pk=service_id).exists()


def test_tags_on_a_service_use_the_shared_card(admin_client, db):
    service_id = _mcp(tags={"team": "sre"})
    page = admin_client.get(f"/services/{service_id}/").content.decode()
    assert 'id="tags"' in page and "sre" in page
    response = admin_client.post(
        f"/services/{service_id}/tags/", {"key": "env", "value": "prod"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "prod" in response.content.decode()
    admin_client.post(f"/services/{service_id}/tags/remove/", {"key": "team"})
    assert aws.get_service(service_id)[1] == {"env": "prod"}


@pytest.mark.parametrize("failure", [errors.Throttled, errors.Unavailable, errors.AccessDenied])
@pytest.mark.parametrize("htmx", [True, False])
def test_a_refused_tag_keeps_what_was_typed(admin_client, db, monkeypatch, failure, htmx):
    service_id = _mcp()

    def refuse(*args, **kwargs):
        raise failure("AWS said no to TagResource", code="X", operation="TagResource")

    monkeypatch.setattr(aws_tags, "tag", refuse)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = admin_client.post(
        f"/services/{service_id}/tags/", {"key": "typed-key", "value": "typed-value"}, **headers
    )
    page = response.content.decode()
    assert response.status_code == failure.status
    assert "AWS said no to TagResource" in page
    assert 'value="typed-key"' in page and 'value="typed-value"' in page
    assert aws.get_service(service_id)[1] == {}


@pytest.mark.parametrize("failure", [errors.Throttled, errors.Unavailable, errors.AccessDenied])
def test_a_refused_deregistration_keeps_the_confirmation(admin_client, db, monkeypatch, failure):
    service_id = _mcp()

    def refuse(*args, **kwargs):
        raise failure("AWS said no to DeregisterService", code="X")

    monkeypatch.setattr(aws, "deregister_service", refuse)
    response = admin_client.post(f"/services/{service_id}/deregister/", {"confirm": "tools"})
    page = response.content.decode()
    assert response.status_code == failure.status
    assert "AWS said no to DeregisterService" in page
    assert 'value="tools"' in page
    assert RegisteredService.objects.filter(pk=service_id).exists()
