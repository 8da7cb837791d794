"""Adding and removing tags: the #tags partial for htmx, the page without it."""

from __future__ import annotations

import html

import pytest

from dashboard.aws import spaces as aws_spaces

HX = {"HX-Request": "true"}


def _tags(space: dict) -> dict[str, str]:
    return aws_spaces.describe_space(space["agentSpaceId"])[1]


def _add(space: dict) -> str:
    return f"/spaces/{space['agentSpaceId']}/tags/"


def _remove(space: dict) -> str:
    return f"/spaces/{space['agentSpaceId']}/tags/remove/"


def test_htmx_add_returns_only_the_tags_partial(admin_client, space):
    response = admin_client.post(_add(space), {"key": "env", "value": "prod"}, headers=HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "<h2>Tags</h2>" in body
    assert "env" in body and "prod" in body
    assert _tags(space) == {"team": "pay", "env": "prod"}


def test_htmx_add_leaves_no_stale_message_for_the_next_page(admin_client, space):
    admin_client.post(_add(space), {"key": "env", "value": "prod"}, headers=HX)
    page = admin_client.get(f"/spaces/{space['agentSpaceId']}/").content.decode()
    assert "Tag env saved." not in page


def test_plain_add_redirects_to_the_tags_on_the_page(admin_client, space):
    response = admin_client.post(_add(space), {"key": "env", "value": ""})
    assert response.status_code == 302
    assert response["Location"] == f"/spaces/{space['agentSpaceId']}/#tags"
    assert _tags(space)["env"] == ""
    assert "Tag env saved." in admin_client.get(response["Location"]).content.decode()


def test_htmx_remove_returns_the_partial_without_the_tag(admin_client, space):
    response = admin_client.post(_remove(space), {"key": "team"}, headers=HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "No tags." in body
    assert _tags(space) == {}


def test_plain_remove_redirects(admin_client, space):
    response = admin_client.post(_remove(space), {"key": "team"})
    assert response.status_code == 302
    assert _tags(space) == {}


def test_removing_with_no_key_changes_nothing(admin_client, space):
    response = admin_client.post(_remove(space), {}, headers=HX)
    assert response.status_code == 200
    assert _tags(space) == {"team": "pay"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"key": "aws:owner", "value": "x"}, "reserved by AWS"),
        ({"key": "AWS:owner", "value": "x"}, "reserved by AWS"),
        ({"key": "k" * 129, "value": "x"}, "at most 128 characters"),
        ({"key": "", "value": "x"}, "This field is required."),
        ({"key": "bad<key>", "value": "x"}, "format AWS requires"),
        ({"key": "ok", "value": "v" * 257}, "at most 256 characters"),
        ({"key": "ok", "value": "tab\there"}, "control characters"),
    ],
    ids=[
        "aws-prefix",
        "aws-prefix-upper",
        "key-too-long",
        "no-key",
        "bad-key",
        "value-long",
        "ctl",
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_tags_are_inline_errors_with_200(admin_client, space, data, message, htmx):
    response = admin_client.post(_add(space), data, headers=HX if htmx else {})
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert message in body
    assert ("<html" in body) is not htmx
    assert _tags(space) == {"team": "pay"}


def test_tagging_a_missing_space_is_a_404(admin_client, db):
    response = admin_client.post(
        "/spaces/00000000-0000-0000-0000-000000000000/tags/", {"key": "a", "value": "b"}
    )
    assert response.status_code == 404


def test_tags_only_take_post(admin_client, space):
    assert admin_client.get(_add(space)).status_code == 405
    assert admin_client.get(_remove(space)).status_code == 405
