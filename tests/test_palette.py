"""The command palette's search (dashboard/core/palette.py): agent spaces, tasks by title,
chats, recommendations, pages and actions, by a forgiving match; a search page without
JavaScript and the results list for the dialog."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from dashboard.aws import chat as aws_chat
from dashboard.aws import clients as aws_clients
from dashboard.aws import tasks as aws_tasks
from dashboard.core.palette import Entry, score
from tests.test_prevention_support import make_recs


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(space):
    sid = space["agentSpaceId"]
    task = aws_tasks.create_task(
        sid, task_type="INVESTIGATION", title="Checkout latency above SLO", priority="HIGH"
    )
    chat = aws_chat.create_chat(sid)
    aws_chat.update_chat(sid, chat["executionId"], summary="Why is ledger slow")
    return {"space": sid, "task": task["taskId"], "chat": chat["executionId"]}


def _results(client, q, space=""):
    response = client.get("/go/", {"q": q, "space": space}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<ul id="palette-results"')
    kind = r'<span class="palette-kind[^"]*">([^<]+)</span>\s*'
    title = r'<span class="palette-title">([^<]+)</span>'
    return re.findall(kind + title, body), body


def test_it_finds_a_task_by_words_of_its_title_with_gaps(viewer_client, world):
    found, body = _results(viewer_client, "chkout latncy")
    assert found[0] == ("Task", "Checkout latency above SLO")
    assert f"/spaces/{world['space']}/tasks/{world['task']}/" in body


def test_it_finds_spaces_chats_and_pages(viewer_client, world):
    found, _ = _results(viewer_client, "payments")
    assert ("Agent space", "Payments") in found
    found, body = _results(viewer_client, "ledger slow")
    assert found[0] == ("Chat", "Why is ledger slow")
    found, _ = _results(viewer_client, "usage")
    assert ("Page", "Usage") in found
    # A space's tabs are pages too: "payments board" is that space's board.
    found, body = _results(viewer_client, "payments board")
    assert found[0] == ("Page", "Board")
    assert f'href="/spaces/{world["space"]}/tasks/"' in body


def test_it_finds_recommendations_by_title(viewer_client, space):
    rec = make_recs(space["agentSpaceId"], 1)[0]
    words = " ".join(rec["title"].split()[:3])
    found, body = _results(viewer_client, words)
    assert ("Recommendation", rec["title"]) in found
    assert f"/recommendations/{rec['recommendationId']}/" in body


def test_actions_are_for_operators_and_new_chat_is_a_post(operator_client, viewer_client, world):
    found, body = _results(operator_client, "new chat", world["space"])
    assert found[0] == ("Action", "New chat")
    assert f'<form method="post" action="/spaces/{world["space"]}/chat/new/">' in body
    found, _ = _results(viewer_client, "new chat", world["space"])
    assert ("Action", "New chat") not in found and ("Action", "New task") not in found


def test_nothing_typed_offers_what_is_at_hand_in_this_space(operator_client, world):
    found, _ = _results(operator_client, "", world["space"])
    assert found[:2] == [("Action", "New task"), ("Action", "New chat")]
    assert ("Page", "Board") in found


def test_typing_costs_no_aws_call_once_the_lists_are_kept(viewer_client, world):
    _results(viewer_client, "checkout")
    made = []
    aws_clients.client("devops-agent").meta.events.register(
        "before-call", lambda model, **kw: made.append(model.name)
    )
    for q in ("c", "ch", "che", "chec", "check"):
        _results(viewer_client, q)
    assert made == []


def test_nothing_matches_says_so(viewer_client, world):
    found, body = _results(viewer_client, "zzqqxx")
    assert found == [] and "Nothing matches “zzqqxx”." in body


def test_without_javascript_it_is_a_search_page(viewer_client, world):
    response = viewer_client.get("/go/", {"q": "checkout"})
    body = response.content.decode()
    assert "<h1>Go to</h1>" in body and 'value="checkout"' in body
    assert "Checkout latency above SLO" in body


def test_a_whole_word_ranks_above_letters_scattered():
    whole = Entry("task", "Disk full on db-1", "/x")
    scattered = Entry("task", "Dashboard iss kept", "/y")
    assert score("disk", whole) > score("disk", scattered) > 0
    assert score("nothing", whole) == 0


def test_pages_apps_offer_are_listed_when_their_url_exists(viewer_client, world):
    from django.urls import NoReverseMatch, reverse

    from dashboard.core import palette

    palette.page("Nowhere yet", "no-such-app:page")
    try:
        found, _ = _results(viewer_client, "nowhere")
        assert ("Page", "Nowhere yet") not in found
    finally:
        palette.EXTRA_PAGES[:] = [
            p for p in palette.EXTRA_PAGES if p.url_name != "no-such-app:page"
        ]
    # The inbox is offered by name as soon as it exists.
    try:
        inbox = reverse("inbox:inbox")
    except NoReverseMatch:
        return
    found, body = _results(viewer_client, "inbox")
    assert found[0] == ("Page", "Inbox") and f'href="{inbox}"' in body


def test_a_list_aws_refuses_is_not_asked_for_again_at_every_keystroke(
    viewer_client, world, monkeypatch
):
    from dashboard.aws import errors
    from dashboard.aws import prevention as aws_prevention

    asked = []

    def denied(*args, **kwargs):
        asked.append(args)
        raise errors.AccessDenied("AWS denied ListRecommendations: aidevops:ListRecommendations")

    monkeypatch.setattr(aws_prevention, "list_recommendations", denied)
    found, body = _results(viewer_client, "checkout")
    assert found[0] == ("Task", "Checkout latency above SLO")
    assert "Not searched: recommendations of Payments" in body
    for q in ("c", "ch", "che", "chec", "check"):
        _, body = _results(viewer_client, q)
        assert "Not searched: recommendations of Payments" in body
    assert len(asked) == 1
