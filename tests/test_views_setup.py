"""The setup help page and the health check."""

from __future__ import annotations

from django.test import override_settings

HX = {"HX-Request": "true"}


def test_it_explains_how_to_connect_to_aws(viewer_client):
    response = viewer_client.get("/setup/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Connect the console to AWS" in body
    assert "DASHBOARD_BACKEND=sandbox" in body
    assert "AWS_REGION" in body


def test_it_renders_for_htmx_too(viewer_client):
    response = viewer_client.get("/setup/", headers=HX)
    assert response.status_code == 200
    assert "Connect the console to AWS" in response.content.decode()


def test_the_home_page_is_the_inbox(viewer_client):
    response = viewer_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/inbox/"


def test_healthz_answers_without_sign_in(anon_client):
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "backend": "sandbox"}


@override_settings(SECURE_SSL_REDIRECT=True)
def test_healthz_is_not_redirected_to_https(anon_client):
    # The container healthcheck speaks plain HTTP from inside the container.
    assert anon_client.get("/healthz").status_code == 200
    assert anon_client.get("/accounts/login/").status_code == 301
