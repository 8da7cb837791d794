"""From a recommendation to a task and back: the pre-filled create-task form, the line that
carries the link in the description, the recommendation page listing the tasks started about
it, and the task page's card of recommendations (made by it, and the one it is about)."""

from __future__ import annotations

import re

import pytest

from dashboard.aws import prevention as aws
from dashboard.aws import tasks as aws_tasks
from dashboard.prevention import links

from .test_prevention_support import HX, make_goal, make_rec, rec_page, set_spec
from .test_views_task_support import form_with_button, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def sid(space) -> str:
    return space["agentSpaceId"]


def _field(body: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', body)
    if found:
        return found.group(1)
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', body, re.S)
    return found.group(1).lstrip("\n") if found else ""


def _create_form(client, url: str) -> dict:
    """The create form as drawn, with its selected priority (a <select> the helper skips)."""
    body = text(client.get(url))
    form = form_with_button(body, "Create task")
    form["data"]["priority"] = re.search(r'<option value="([A-Z]+)" selected>', body).group(1)
    return form


def test_the_marker_line_round_trips():
    text_ = links.with_marker("Look at this.", "rec-123")
    assert text_ == "Look at this.\n\nRecommendation: rec-123"
    assert links.recommendation_id_in(text_) == "rec-123"
    assert links.with_marker(text_, "rec-123") == text_  # not twice
    assert links.recommendation_id_in("Recommendation: bad id!") == ""
    assert links.recommendation_id_in(None) == ""
    long = links.with_marker("x" * 20_000, "rec-9")
    assert len(long) <= links.DESCRIPTION_MAX and long.endswith("Recommendation: rec-9")


def test_the_recommendation_page_offers_both_kinds_of_task(operator_client, sid):
    rec = make_rec(sid)
    body = text(operator_client.get(rec_page(sid, rec["recommendationId"])))
    base = f"/spaces/{sid}/tasks/new/?recommendation={rec['recommendationId']}"
    assert f"{base}&type=INVESTIGATION" in body and f"{base}&type=EVALUATION" in body


@pytest.mark.parametrize(
    ("kind", "verb"), [("INVESTIGATION", "Investigate"), ("EVALUATION", "Evaluate")]
)
def test_the_create_form_comes_prefilled(operator_client, sid, kind, verb):
    goal = make_goal(sid)
    rec = make_rec(sid, goal=goal)
    url = f"/spaces/{sid}/tasks/new/?recommendation={rec['recommendationId']}&type={kind}"
    body = text(operator_client.get(url))
    assert "About the recommendation" in body and rec["title"] in body
    assert _field(body, "title") == f"{verb}: {rec['title']}"
    assert re.search(rf'value="{kind}"[^>]*checked|checked[^>]*value="{kind}"', body)
    assert _field(body, "recommendation") == rec["recommendationId"]
    description = _field(body, "description")
    assert rec["content"]["summary"] in description
    assert description.rstrip().endswith(f"Recommendation: {rec['recommendationId']}")
    assert re.search(rf'<option value="{rec["priority"]}" selected>', body)


def test_one_step_creates_a_task_linked_both_ways(operator_client, sid):
    rec = make_rec(sid)
    url = f"/spaces/{sid}/tasks/new/?recommendation={rec['recommendationId']}&type=EVALUATION"
    form = _create_form(operator_client, url)
    # The person shortens the description and drops the line: the link is kept anyway.
    form["data"]["description"] = "Is this worth doing before the freeze?"
    response = operator_client.post(form["action"], form["data"])
    assert response.status_code == 302
    task_id = response["Location"].rstrip("/").rsplit("/", 1)[1]
    task = aws_tasks.get_task(sid, task_id)
    assert task["taskType"] == "EVALUATION"
    assert task["description"] == (
        f"Is this worth doing before the freeze?\n\nRecommendation: {rec['recommendationId']}"
    )

    # The recommendation's page lists the task...
    body = text(operator_client.get(rec_page(sid, rec["recommendationId"])))
    about = re.search(r"Started about it</p>(.*?)</section>", body, re.S).group(1)
    assert f"/spaces/{sid}/tasks/{task_id}/" in about and task["title"] in about
    # ...and the task's page loads the recommendation it is about.
    task_page = text(operator_client.get(response["Location"]))
    fragment_url = re.search(r'hx-get="([^"]+/recommendations/for-task/[^"]+)"', task_page).group(1)
    card = text(operator_client.get(fragment_url, headers=HX))
    assert "Started about" in card and rec["title"] in card
    assert rec_page(sid, rec["recommendationId"]) in card


def test_the_task_card_lists_the_recommendations_a_task_made(viewer_client, sid):
    rec = make_rec(sid)
    card = text(
        viewer_client.get(f"/spaces/{sid}/recommendations/for-task/{rec['taskId']}/", headers=HX)
    )
    assert "Made by this task" in card and rec["title"] in card
    assert "Started about" not in card
    # Without htmx the same address leads to the list filtered by the task.
    response = viewer_client.get(f"/spaces/{sid}/recommendations/for-task/{rec['taskId']}/")
    assert response.status_code == 302 and response["Location"].endswith(f"?task={rec['taskId']}")


def test_the_task_card_says_when_it_cannot_load(viewer_client, sid):
    card = text(
        viewer_client.get(f"/spaces/{sid}/recommendations/for-task/no-such-task/", headers=HX)
    )
    assert "could not be loaded" in card


def test_a_task_about_a_recommendation_that_is_gone_says_so(viewer_client, sid):
    task = aws_tasks.create_task(
        sid,
        task_type="INVESTIGATION",
        title="Follow up",
        priority="LOW",
        description="Recommendation: gone-rec-1",
    )
    card = text(
        viewer_client.get(f"/spaces/{sid}/recommendations/for-task/{task['taskId']}/", headers=HX)
    )
    assert "gone-rec-1" in card and "no longer exists" in card


def test_a_malformed_or_unknown_recommendation_leaves_a_plain_form(operator_client, sid):
    for rec_id, note in (
        ("bad id!", "not a recommendation id"),
        ("no-such-rec", "No such recommendation"),
    ):
        body = text(operator_client.get(f"/spaces/{sid}/tasks/new/", {"recommendation": rec_id}))
        assert note in body and _field(body, "title") == ""


def test_a_long_spec_is_cut_to_fit_the_description(operator_client, sid):
    rec = make_rec(sid)
    set_spec(sid, rec["recommendationId"], "## Steps\n" + "step\n" * 5000)
    url = f"/spaces/{sid}/tasks/new/?recommendation={rec['recommendationId']}"
    form = _create_form(operator_client, url)
    assert len(form["data"]["description"]) <= 10_000
    assert "the spec goes on" in form["data"]["description"]
    assert operator_client.post(form["action"], form["data"]).status_code == 302


def test_a_long_prefilled_description_posted_back_by_a_browser_still_fits(operator_client, sid):
    """Browsers send a textarea's line breaks as CRLF: the prefilled description, cut to fit
    10,000 characters with LF, came back longer than that and the untouched form was refused."""
    rec = make_rec(sid)
    set_spec(sid, rec["recommendationId"], "## Steps\n" + "step\n" * 5000)
    url = f"/spaces/{sid}/tasks/new/?recommendation={rec['recommendationId']}"
    form = _create_form(operator_client, url)
    sent = form["data"]["description"].replace("\n", "\r\n")
    assert len(sent) > 10_000
    response = operator_client.post(form["action"], {**form["data"], "description": sent})
    assert response.status_code == 302
    task_id = response["Location"].rstrip("/").rsplit("/", 1)[1]
    stored = aws_tasks.get_task(sid, task_id)["description"]
    assert stored == form["data"]["description"] and "\r" not in stored


def test_a_viewer_cannot_start_a_task(viewer_client, sid):
    rec = make_rec(sid)
    response = viewer_client.get(
        f"/spaces/{sid}/tasks/new/?recommendation={rec['recommendationId']}"
    )
    assert response.status_code == 403
    assert aws.list_recommendations(sid)["recommendations"]  # unchanged, still there
