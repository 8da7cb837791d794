"""The agent-space detail page and its tags partial."""

from __future__ import annotations

import pytest

HX = {"HX-Request": "true"}


def test_it_shows_the_space_and_its_tags(viewer_client, space):
    response = viewer_client.get(f"/spaces/{space['agentSpaceId']}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert "Payments" in body
    assert "Card processing" in body
    assert "en-US" in body
    assert "team" in body and "pay" in body


def test_it_renders_the_whole_page_for_htmx_too(viewer_client, space):
    response = viewer_client.get(f"/spaces/{space['agentSpaceId']}/", headers=HX)
    assert response.status_code == 200
    assert "<html" in response.content.decode()


@pytest.mark.parametrize("client_name", ["viewer_client", "operator_client"])
def test_it_shows_no_mutating_controls_below_admin(request, client_name, space):
    body = request.getfixturevalue(client_name).get(f"/spaces/{space['agentSpaceId']}/")
    body = body.content.decode()
    sid = space["agentSpaceId"]
    assert f"/spaces/{sid}/edit/" not in body
    assert f"/spaces/{sid}/delete/" not in body
    assert f"/spaces/{sid}/tags/" not in body
    assert ">Edit<" not in body
    assert "Delete" not in body
    assert "Add tag" not in body


def test_it_shows_edit_delete_and_tag_controls_to_an_admin(admin_client, space):
    body = admin_client.get(f"/spaces/{space['agentSpaceId']}/").content.decode()
    sid = space["agentSpaceId"]
    assert f'href="/spaces/{sid}/edit/"' in body
    assert f'href="/spaces/{sid}/delete/"' in body
    assert f"/spaces/{sid}/tags/" in body
    assert "Add tag" in body


def test_a_missing_space_is_a_404_page(viewer_client, db):
    response = viewer_client.get("/spaces/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<html" in body
    assert "Not found" in body


def test_a_missing_space_for_htmx_is_an_alert_in_alerts(viewer_client, db):
    response = viewer_client.get("/spaces/00000000-0000-0000-0000-000000000000/", headers=HX)
    assert response.status_code == 404
    assert response["HX-Retarget"] == "#alerts"
    assert "<html" not in response.content.decode()


def test_an_id_aws_would_reject_is_not_a_500(viewer_client, db):
    response = viewer_client.get("/spaces/not_a%20valid%20id!/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Invalid request" in page
    assert "agentSpaceId: Value must match pattern" in page  # AWS's own words, no traceback
    assert "Traceback" not in page


def test_it_refuses_post(admin_client, space):
    assert admin_client.post(f"/spaces/{space['agentSpaceId']}/").status_code == 405
