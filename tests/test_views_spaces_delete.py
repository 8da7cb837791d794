"""Deleting an agent space: the confirmation page and its typed-name check."""

from __future__ import annotations

import pytest

from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces

HX = {"HX-Request": "true"}


def _url(space: dict) -> str:
    return f"/spaces/{space['agentSpaceId']}/delete/"


def test_it_asks_for_the_name(admin_client, space):
    response = admin_client.get(_url(space))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Delete agent space" in body
    assert 'name="confirm_name"' in body
    assert "Payments" in body


def test_it_asks_for_the_name_over_htmx_too(admin_client, space):
    response = admin_client.get(_url(space), headers=HX)
    assert response.status_code == 200
    assert 'name="confirm_name"' in response.content.decode()


def test_it_deletes_when_the_name_matches(admin_client, space):
    response = admin_client.post(_url(space), {"confirm_name": "Payments"})
    assert response.status_code == 302
    assert response["Location"] == "/spaces/"
    with pytest.raises(errors.NotFound):
        aws_spaces.get_space(space["agentSpaceId"])
    assert "Deleted agent space" in admin_client.get("/spaces/").content.decode()


@pytest.mark.parametrize("typed", ["", "payments", "Payment", "Something else"])
def test_a_wrong_name_is_a_400_and_the_space_stays(admin_client, space, typed):
    response = admin_client.post(_url(space), {"confirm_name": typed})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Type the space&#x27;s name exactly to confirm." in body
    assert aws_spaces.get_space(space["agentSpaceId"])["name"] == "Payments"


def test_deleting_a_missing_space_is_a_404(admin_client, db):
    response = admin_client.post(
        "/spaces/00000000-0000-0000-0000-000000000000/delete/", {"confirm_name": "x"}
    )
    assert response.status_code == 404
