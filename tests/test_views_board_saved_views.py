"""Saved views of the board: named filters and sort kept per user in the database, picked from
the board, shared by link."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from dashboard.aws import tasks as aws_tasks
from dashboard.tasks.models import SavedView


def _board(space, query=""):
    return f"/spaces/{space['agentSpaceId']}/tasks/{query}"


@pytest.fixture
def tasks(space):
    sid = space["agentSpaceId"]
    return [
        aws_tasks.create_task(
            sid, task_type="INVESTIGATION", title="Checkout down", priority="CRITICAL"
        ),
        aws_tasks.create_task(sid, task_type="EVALUATION", title="Weekly review", priority="LOW"),
    ]


def _save(client, space, name, query):
    return client.post(_board(space, "views/"), {"name": name, "query": query})


def _rows(body):
    return re.findall(r'class="task-link" title="([^"]+)"', body)


def test_a_saved_view_keeps_the_filters_and_is_listed_to_its_owner(
    operator_client, operator_user, viewer_client, space, tasks
):
    response = _save(operator_client, space, "  Critical   only ", "priority=CRITICAL&junk=1")
    view = SavedView.objects.get(owner=operator_user)
    assert view.name == "Critical only"  # spaces tidied
    assert view.query == "priority=CRITICAL"  # read as the board reads it; junk dropped
    assert response.status_code == 302
    assert response["Location"] == _board(space, f"?view={view.token}")

    body = operator_client.get(response["Location"]).content.decode()
    assert _rows(body) == ["Checkout down"]
    assert "View: <span" in body and "Critical only" in body
    # Picked from the board: listed in the views menu on any board.
    assert (
        f'href="{_board(space)}?view={view.token}"'
        in operator_client.get(_board(space)).content.decode()
    )

    # Another user does not see it.
    theirs = viewer_client.get(_board(space)).content.decode()
    assert "Critical only" not in theirs and view.token not in theirs


def test_a_shared_link_opens_the_view_for_someone_else(
    operator_client, viewer_client, viewer_user, space, tasks
):
    _save(operator_client, space, "Evaluations", "type=EVALUATION&status=ALL")
    view = SavedView.objects.get(name="Evaluations")
    page = operator_client.get(_board(space, f"?view={view.token}")).content.decode()
    link = html.unescape(re.search(r'id="view-link"[^>]*value="([^"]+)"', page).group(1))
    assert link.endswith(_board(space, f"?view={view.token}"))

    shared = viewer_client.get(link.split("testserver", 1)[1]).content.decode()
    assert _rows(shared) == ["Weekly review"]
    assert "operator\N{RIGHT SINGLE QUOTATION MARK}s view, shared with you" in shared
    # They may keep it as their own, under the same name, without touching the owner's.
    _save(viewer_client, space, "Evaluations", "type=EVALUATION&status=ALL")
    assert SavedView.objects.filter(name="Evaluations").count() == 2
    assert SavedView.objects.get(owner=viewer_user).token != view.token


def test_only_the_owner_deletes_a_view_and_a_deleted_link_says_so(
    operator_client, viewer_client, space, tasks
):
    _save(operator_client, space, "Mine", "priority=CRITICAL")
    view = SavedView.objects.get(name="Mine")
    viewer_client.post(_board(space, f"views/{view.token}/delete/"))
    assert SavedView.objects.filter(pk=view.pk).exists()
    response = operator_client.post(_board(space, f"views/{view.token}/delete/"))
    assert not SavedView.objects.filter(pk=view.pk).exists()
    assert response["Location"] == _board(space, "?priority=CRITICAL")  # filters stay
    gone = viewer_client.get(_board(space, f"?view={view.token}")).content.decode()
    assert "That saved view no longer exists" in gone
    assert sorted(_rows(gone)) == ["Checkout down", "Weekly review"]  # the default board


def test_saving_under_the_same_name_replaces_and_a_name_is_needed(
    operator_client, operator_user, space, tasks
):
    _save(operator_client, space, "Triage", "priority=HIGH")
    _save(operator_client, space, "Triage", "priority=LOW")
    assert list(SavedView.objects.filter(owner=operator_user).values_list("query", flat=True)) == [
        "priority=LOW"
    ]
    response = _save(operator_client, space, "   ", "priority=HIGH")
    assert SavedView.objects.filter(owner=operator_user).count() == 1
    follow = operator_client.get(response["Location"]).content.decode()
    assert "Give the view a name to save it." in follow


def test_the_board_marks_the_view_its_filters_match(operator_client, space, tasks):
    _save(operator_client, space, "Lows", "priority=LOW")
    body = operator_client.get(_board(space, "?priority=LOW")).content.decode()
    assert "View: <span" in body and "Lows" in body


def test_views_need_a_signed_in_user(space):
    response = Client().post(_board(space, "views/"), {"name": "x", "query": ""})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not SavedView.objects.exists()
