"""Editing an agent space: the form, inline errors and the lost-update guard."""

from __future__ import annotations

import html
import re

from dashboard.aws import spaces as aws_spaces

HX = {"HX-Request": "true"}


def _url(space: dict) -> str:
    return f"/spaces/{space['agentSpaceId']}/edit/"


def _form_data(body: str) -> dict[str, str]:
    """The values the edit form would submit as drawn (inputs and the textarea)."""
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", body):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrfmiddlewaretoken":
            data[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', body, re.S):
        data[name] = html.unescape(text).lstrip("\n")
    return data


def test_it_shows_the_form_filled_in(admin_client, space):
    response = admin_client.get(_url(space))
    assert response.status_code == 200
    data = _form_data(response.content.decode())
    assert data["name"] == "Payments"
    assert data["description"] == "Card processing"
    assert data["locale"] == "en-US"
    assert data["seen_updated_at"]


def test_it_shows_the_form_for_htmx_too(admin_client, space):
    response = admin_client.get(_url(space), headers=HX)
    assert response.status_code == 200
    assert 'name="seen_updated_at"' in response.content.decode()


def test_it_saves_changes(admin_client, space):
    data = _form_data(admin_client.get(_url(space)).content.decode())
    response = admin_client.post(_url(space), {**data, "name": "Payments EU"})
    assert response.status_code == 302
    assert response["Location"] == f"/spaces/{space['agentSpaceId']}/"
    saved = aws_spaces.get_space(space["agentSpaceId"])
    assert saved["name"] == "Payments EU"
    assert saved["description"] == "Card processing"


def test_saving_without_changes_calls_nothing(admin_client, space):
    data = _form_data(admin_client.get(_url(space)).content.decode())
    response = admin_client.post(_url(space), data)
    assert response.status_code == 302
    assert aws_spaces.get_space(space["agentSpaceId"])["updatedAt"] == space["updatedAt"]
    page = admin_client.get(response["Location"]).content.decode()
    assert "Nothing changed." in page


def test_clearing_the_description_is_an_inline_error(admin_client, space):
    data = _form_data(admin_client.get(_url(space)).content.decode())
    response = admin_client.post(_url(space), {**data, "description": ""})
    assert response.status_code == 200
    assert "cannot clear a description" in response.content.decode()
    assert aws_spaces.get_space(space["agentSpaceId"])["description"] == "Card processing"


def test_clearing_the_locale_is_an_inline_error(admin_client, space):
    data = _form_data(admin_client.get(_url(space)).content.decode())
    response = admin_client.post(_url(space), {**data, "locale": ""})
    assert response.status_code == 200
    assert "cannot clear the language" in response.content.decode()


def test_bad_input_is_inline_and_saves_nothing(admin_client, space):
    data = _form_data(admin_client.get(_url(space)).content.decode())
    for bad in ({"name": ""}, {"name": "n" * 256}, {"locale": "not a locale!"}):
        response = admin_client.post(_url(space), {**data, **bad})
        assert response.status_code == 200, bad
        assert 'class="errorlist"' in response.content.decode()
    assert aws_spaces.get_space(space["agentSpaceId"])["name"] == "Payments"


def test_a_change_behind_the_users_back_is_a_409_showing_both(admin_client, space):
    data = _form_data(admin_client.get(_url(space)).content.decode())
    aws_spaces.update_space(space["agentSpaceId"], name="Renamed by Bob", description="Bob's")

    response = admin_client.post(_url(space), {**data, "name": "Alice's name"})
    assert response.status_code == 409
    body = html.unescape(response.content.decode())
    assert "changed while you were editing" in body
    assert "Renamed by Bob" in body and "Bob's" in body  # theirs
    assert "Alice's name" in body  # mine
    assert "Apply my values" in body
    saved = aws_spaces.get_space(space["agentSpaceId"])
    assert saved["name"] == "Renamed by Bob"
    assert saved["description"] == "Bob's"

    # "Apply my values" posts the conflict form as drawn, with overwrite=1: saved.
    again = _form_data(response.content.decode())
    assert again["name"] == "Alice's name"
    response = admin_client.post(_url(space), {**again, "overwrite": "1"})
    assert response.status_code == 302
    saved = aws_spaces.get_space(space["agentSpaceId"])
    assert saved["name"] == "Alice's name"
    assert saved["description"] == "Card processing"  # the form still held the old one


def test_overwrite_does_not_skip_a_change_made_after_the_conflict_page(admin_client, space):
    data = _form_data(admin_client.get(_url(space)).content.decode())
    aws_spaces.update_space(space["agentSpaceId"], name="Bob")
    conflict = admin_client.post(_url(space), {**data, "name": "Alice"})
    assert conflict.status_code == 409
    aws_spaces.update_space(space["agentSpaceId"], name="Carol")

    again = _form_data(conflict.content.decode())
    response = admin_client.post(_url(space), {**again, "overwrite": "1"})
    assert response.status_code == 409
    assert "Carol" in response.content.decode()
    assert aws_spaces.get_space(space["agentSpaceId"])["name"] == "Carol"


def test_a_form_without_the_version_it_was_drawn_from_is_a_conflict(admin_client, space):
    response = admin_client.post(
        _url(space), {"name": "Blind", "description": "Card processing", "locale": "en-US"}
    )
    assert response.status_code == 409
    assert aws_spaces.get_space(space["agentSpaceId"])["name"] == "Payments"


def test_editing_a_missing_space_is_a_404(admin_client, db):
    response = admin_client.get("/spaces/00000000-0000-0000-0000-000000000000/edit/")
    assert response.status_code == 404
