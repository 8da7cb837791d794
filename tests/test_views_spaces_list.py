"""The agent-space list: whole page, htmx fragments and "load more" paging."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import pytest

from dashboard.aws import spaces as aws_spaces
from dashboard.spaces import views

HX = {"HX-Request": "true"}


def _next_token(body: str) -> str:
    """The token the "Load more" button asks for, as the browser would send it."""
    found = re.search(r'hx-get="/spaces/\?next=([^"]+)"', body)
    assert found, "no Load more button"
    return unquote(html.unescape(found.group(1)))


def _make(count: int) -> list[dict]:
    return [aws_spaces.create_space(name=f"Space {i:02d}") for i in range(count)]


def test_it_renders_the_whole_page_with_the_rows(viewer_client, space):
    response = viewer_client.get("/spaces/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert f'id="space-{space["agentSpaceId"]}"' in body
    assert "Card processing" in body
    assert 'ws-connect="/ws/spaces/"' in body


def test_it_shows_the_empty_state_when_there_are_no_spaces(viewer_client):
    response = viewer_client.get("/spaces/")
    assert response.status_code == 200
    assert "No agent spaces yet" in response.content.decode()
    assert "Ask an admin to create one." in response.content.decode()


def test_it_renders_the_whole_page_for_a_plain_htmx_request(viewer_client, space):
    # No ?next= and no ?fragment=rows: htmx navigation still gets the page.
    response = viewer_client.get("/spaces/", headers=HX)
    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_it_renders_only_the_rows_for_an_htmx_resync(viewer_client, space):
    response = viewer_client.get("/spaces/?fragment=rows", headers=HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert f'id="space-{space["agentSpaceId"]}"' in body


def test_it_answers_a_history_restore_with_the_whole_page(viewer_client, space):
    response = viewer_client.get(
        "/spaces/?fragment=rows", headers={**HX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_it_varies_on_the_htmx_header(viewer_client):
    response = viewer_client.get("/spaces/")
    assert "HX-Request" in response["Vary"]


def test_it_pages_with_load_more(viewer_client, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = _make(5)
    first = viewer_client.get("/spaces/")
    body = first.content.decode()
    assert made[0]["name"] in body and made[1]["name"] in body
    assert made[2]["name"] not in body
    assert 'id="load-more"' in body
    token = _next_token(body)

    # htmx "Load more": only the next rows and the next button, no page around them.
    second = viewer_client.get("/spaces/", {"next": token}, headers=HX)
    assert second.status_code == 200
    body = second.content.decode()
    assert "<html" not in body
    assert made[2]["name"] in body and made[3]["name"] in body
    assert made[0]["name"] not in body
    assert 'id="load-more"' in body

    third = viewer_client.get("/spaces/", {"next": _next_token(body)}, headers=HX)
    body = third.content.decode()
    assert made[4]["name"] in body
    assert 'id="load-more"' not in body


def test_load_more_without_htmx_renders_a_whole_page(viewer_client, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = _make(3)
    token = _next_token(viewer_client.get("/spaces/").content.decode())
    response = viewer_client.get("/spaces/", {"next": token})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert made[2]["name"] in body


def test_a_tampered_next_token_is_a_400_not_a_500(viewer_client, space):
    response = viewer_client.get("/spaces/", {"next": "bogus.token"})
    assert response.status_code == 400
    assert "nextToken" in response.content.decode()


def test_it_refuses_post(admin_client):
    assert admin_client.post("/spaces/").status_code == 405


@pytest.mark.parametrize("client_name", ["viewer_client", "operator_client"])
def test_it_shows_no_create_button_below_admin(request, client_name, space):
    body = request.getfixturevalue(client_name).get("/spaces/").content.decode()
    assert "New agent space" not in body
    assert "/spaces/new/" not in body
    assert "Audit log" not in body


def test_it_shows_the_create_button_to_an_admin(admin_client, space):
    body = admin_client.get("/spaces/").content.decode()
    assert "New agent space" in body
    assert 'href="/spaces/new/"' in body
    assert "Audit log" in body
