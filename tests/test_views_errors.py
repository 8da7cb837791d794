"""AWS failures become pages a person can act on: never a 500, never a trace."""

from __future__ import annotations

import pytest
from django.test import override_settings

from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces

HX = {"HX-Request": "true"}


@override_settings(SANDBOX_FAULTS="throttle=1")
@pytest.mark.parametrize("path", ["/spaces/", "/spaces/{sid}/", "/spaces/{sid}/edit/"])
def test_throttling_renders_a_friendly_503_page(admin_client, space, path):
    response = admin_client.get(path.format(sid=space["agentSpaceId"]))
    assert response.status_code == 503
    body = response.content.decode()
    assert "<html" in body
    assert "AWS is busy" in body
    assert "Retry in a moment" in body
    assert "Traceback" not in body


@override_settings(SANDBOX_FAULTS="throttle=1")
def test_throttling_on_a_write_renders_the_same_page(admin_client):
    response = admin_client.post("/spaces/new/", {"name": "x"})
    assert response.status_code == 503
    assert "Retry in a moment" in response.content.decode()


@override_settings(SANDBOX_FAULTS="throttle=1")
def test_throttling_for_htmx_is_an_alert_retargeted_to_alerts(admin_client, space):
    response = admin_client.get("/spaces/?fragment=rows", headers=HX)
    assert response.status_code == 503
    assert response["HX-Retarget"] == "#alerts"
    assert response["HX-Reswap"] == "innerHTML"
    body = response.content.decode()
    assert "<html" not in body
    assert 'role="alert"' in body
    assert "Retry in a moment" in body


@override_settings(SANDBOX_FAULTS="throttle=1")
def test_throttling_on_an_htmx_tag_keeps_the_typed_tag_in_the_card(admin_client, space):
    response = admin_client.post(
        f"/spaces/{space['agentSpaceId']}/tags/", {"key": "a", "value": "b"}, headers=HX
    )
    assert response.status_code == 503
    body = response.content.decode()
    assert "The tag was not saved; submit again." in body
    assert "The tags could not be read" in body
    assert 'value="a"' in body and 'value="b"' in body


@override_settings(SANDBOX_FAULTS="error=1")
def test_a_server_error_from_aws_is_a_503_not_a_500(viewer_client, db):
    response = viewer_client.get("/spaces/")
    assert response.status_code == 503
    assert "AWS is unavailable" in response.content.decode()


def test_not_configured_shows_the_setup_page(viewer_client, monkeypatch):
    def missing(**_):
        raise errors.NotConfigured("No AWS credentials were found.", code="NoCredentials")

    monkeypatch.setattr(aws_spaces, "list_spaces", missing)
    response = viewer_client.get("/spaces/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "Connect the console to AWS" in body
    assert "No AWS credentials were found." in body


def test_access_denied_names_the_permission(viewer_client, monkeypatch):
    def denied(**_):
        raise errors.AccessDenied(
            "AWS denied ListAgentSpaces: the console's credentials need the IAM permission "
            "aidevops:ListAgentSpaces.",
            code="AccessDeniedException",
        )

    monkeypatch.setattr(aws_spaces, "list_spaces", denied)
    response = viewer_client.get("/spaces/")
    assert response.status_code == 403
    assert "aidevops:ListAgentSpaces" in response.content.decode()


def test_an_unknown_page_is_a_404_page(viewer_client):
    response = viewer_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
