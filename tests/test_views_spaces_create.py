"""Creating an agent space: the form, its inline errors, and the result."""

from __future__ import annotations

import html

import pytest

from dashboard.aws import spaces as aws_spaces

HX = {"HX-Request": "true"}


def _all_spaces() -> list[dict]:
    return aws_spaces.list_spaces(max_results=100)["agentSpaces"]


def test_it_shows_the_form_to_an_admin(admin_client):
    response = admin_client.get("/spaces/new/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "New agent space" in body
    assert 'name="name"' in body and 'name="description"' in body and 'name="locale"' in body
    assert 'name="seen_updated_at"' not in body


def test_it_shows_the_form_for_htmx_too(admin_client):
    response = admin_client.get("/spaces/new/", headers=HX)
    assert response.status_code == 200
    assert 'name="name"' in response.content.decode()


def test_it_creates_the_space_and_redirects_to_it(admin_client):
    response = admin_client.post(
        "/spaces/new/", {"name": "Checkout", "description": "Cart and pay", "locale": "de-DE"}
    )
    assert response.status_code == 302
    (made,) = _all_spaces()
    assert response["Location"] == f"/spaces/{made['agentSpaceId']}/"
    assert made["name"] == "Checkout"
    space = aws_spaces.get_space(made["agentSpaceId"])
    assert space["description"] == "Cart and pay"
    assert space["locale"] == "de-DE"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Created agent space" in page


def test_it_creates_a_space_with_only_a_name(admin_client):
    response = admin_client.post("/spaces/new/", {"name": "Bare", "description": "", "locale": ""})
    assert response.status_code == 302
    (made,) = _all_spaces()
    space = aws_spaces.get_space(made["agentSpaceId"])
    assert space.get("description") in (None, "")
    assert space.get("locale") in (None, "")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "x" * 256}, "name", "at most 255 characters"),
        ({"name": "ok", "locale": "not a locale!"}, "locale", "format AWS requires"),
        ({"name": "ok", "description": "d" * 1001}, "description", "at most 1000 characters"),
        ({"name": "bell\x07name"}, "name", "control characters"),
        ({"name": "ok", "description": "esc\x1b[31m"}, "description", "control characters"),
        ({"name": "ok", "description": "two\r\nlines"}, "description", "Remove line breaks"),
        ({"name": "nul\x00"}, "name", "Null characters are not allowed."),
    ],
    ids=[
        "empty-name",
        "blank-name",
        "256-char-name",
        "bad-locale",
        "1001-char-description",
        "control-char-in-name",
        "escape-in-description",
        "line-break-in-description",
        "nul-in-name",
    ],
)
def test_bad_input_gives_inline_errors_and_creates_nothing(admin_client, data, field, message):
    response = admin_client.post("/spaces/new/", {"description": "", "locale": "", **data})
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert any(message in error for error in form.errors[field])
    body = response.content.decode()
    assert 'class="errorlist"' in body
    assert html.escape(form.errors[field][0]) in body
    assert _all_spaces() == []


def test_bad_input_over_htmx_is_still_inline_and_200(admin_client):
    response = admin_client.post("/spaces/new/", {"name": ""}, headers=HX)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert _all_spaces() == []


def test_the_typed_values_survive_an_error(admin_client):
    response = admin_client.post(
        "/spaces/new/", {"name": "Keep me", "description": "and me", "locale": "bad locale"}
    )
    body = response.content.decode()
    assert 'value="Keep me"' in body
    assert "and me" in body
