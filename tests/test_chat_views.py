"""The chat pages over HTTP: the list (recent, archived, paging, empty states), starting a
chat, the chat page with its history, the no-JavaScript send that waits for the reply (and
keeps the typed message when it cannot be sent), renaming with the model's limits, archiving,
roles and malformed URLs."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from dashboard import streams
from dashboard.aws import chat as aws_chat
from dashboard.core.models import AuditEntry

from .chat_support import backlog, new_chat, serialize_sqlite

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fast(settings, monkeypatch):
    cache.clear()
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.0
    settings.SANDBOX_CHAT_FAULTS = ""
    settings.SANDBOX_FAULTS = ""
    serialize_sqlite(monkeypatch)
    yield
    cache.clear()


def url(space_id: str, chat_id: str = "", action: str = "") -> str:
    base = f"/spaces/{space_id}/chat/"
    if chat_id:
        base += f"{chat_id}/"
    if action:
        base += f"{action}/"
    return base


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_an_empty_state_with_a_way_to_start(operator_client, space):
    page = operator_client.get(url(space["agentSpaceId"])).content.decode()
    assert "No chats yet" in page and "Start a chat" in page
    assert 'aria-current="page">Chat</a>' in page  # the space tab


def test_viewers_see_chats_but_cannot_start_one(viewer_client, space):
    page = viewer_client.get(url(space["agentSpaceId"])).content.decode()
    assert "Starting a chat needs the operator role" in page
    response = viewer_client.post(url(space["agentSpaceId"], action="new"))
    assert response.status_code == 403


def test_starting_a_chat_opens_it_and_is_audited(operator_client, space):
    sid = space["agentSpaceId"]
    response = operator_client.post(url(sid) + "new/")
    assert response.status_code == 302
    chat_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    page = operator_client.get(response["Location"]).content.decode()
    assert "New chat" in page and "No messages yet" in page
    assert f'ws-connect="/ws/spaces/{sid}/chat/{chat_id}/"' in page
    assert AuditEntry.objects.filter(operation="CreateChat", outcome="ok").count() == 1


def test_the_list_pages_through_recent_chats(operator_client, space):
    sid = space["agentSpaceId"]
    ids = [new_chat(sid) for _ in range(23)]
    page = operator_client.get(url(sid)).content.decode()
    assert page.count('class="chat-row"') == 20
    token = re.search(r'next=([^"&]+)"', page).group(1)
    more = operator_client.get(url(sid) + f"?next={token}", HTTP_HX_REQUEST="true")
    assert more.content.decode().count('class="chat-row"') == 3
    shown = re.findall(r"/chat/([0-9a-f-]{36})/", page + more.content.decode())
    assert set(shown) == set(ids)


def test_archived_chats_are_listed_apart(operator_client, space):
    sid = space["agentSpaceId"]
    kept, gone = new_chat(sid), new_chat(sid)
    response = operator_client.post(url(sid, gone, "archive"), {"to": "ARCHIVED"})
    assert response.status_code == 302
    recent = operator_client.get(url(sid)).content.decode()
    archived = operator_client.get(url(sid) + "?archived=1").content.decode()
    assert kept in recent and gone not in recent
    assert gone in archived and kept not in archived
    page = operator_client.get(url(sid, gone)).content.decode()
    assert "This chat is archived" in page and "Unarchive" in page
    operator_client.post(url(sid, gone, "archive"), {"to": "ACTIVE"})
    assert gone in operator_client.get(url(sid)).content.decode()


def test_a_stale_or_odd_page_link_starts_again_from_the_first_page(operator_client, space):
    sid = space["agentSpaceId"]
    new_chat(sid)
    for query, first in (
        ("?next=garbage", url(sid)),
        ("?archived=1&next=x", url(sid) + "?archived=1"),
    ):
        response = operator_client.get(url(sid) + query)
        assert response.status_code == 302 and response["Location"] == first
        page = operator_client.get(first).content.decode()
        assert "That page of chats is no longer available" in page
    # htmx's "Load more" gets the alert instead (the page stays as it is).
    response = operator_client.get(url(sid) + "?next=garbage", HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and response["HX-Retarget"] == "#alerts"


def test_an_odd_archive_request_changes_nothing(operator_client, space):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    response = operator_client.post(url(sid, chat_id, "archive"), {"to": "DELETE"}, follow=True)
    assert "Choose whether to archive" in response.content.decode()
    assert aws_chat.get_chat(sid, chat_id)["archiveStatus"] == "ACTIVE"


# --- one chat -----------------------------------------------------------------------------------


def test_a_chat_that_does_not_exist_is_a_404(viewer_client, space):
    sid = space["agentSpaceId"]
    assert viewer_client.get(url(sid, "c" * 36)).status_code == 404
    assert viewer_client.get(url(sid, "bad id!")).status_code == 404
    assert viewer_client.get("/spaces/a:b/chat/").status_code == 404


def test_anonymous_users_are_sent_to_sign_in(anon_client, space):
    response = anon_client.get(url(space["agentSpaceId"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_without_javascript_sending_waits_for_the_reply_and_shows_it(operator_client, space):
    sid = space["agentSpaceId"]
    backlog(sid)
    chat_id = new_chat(sid)
    response = operator_client.post(url(sid, chat_id, "send"), {"content": "What is open?"})
    assert response.status_code == 302
    assert re.search(r"#x-[0-9a-f]{16}$", response["Location"])
    page = operator_client.get(response["Location"]).content.decode()
    assert "What is open?" in page
    assert "<strong>CRITICAL</strong>" in page and "Done" in page
    assert "Tokens:" in page
    entry = AuditEntry.objects.get(operation="SendMessage")
    assert entry.outcome == "ok" and entry.detail["content"] == "What is open?"


def test_the_history_shows_after_the_stream_log_is_gone(operator_client, space):
    sid = space["agentSpaceId"]
    backlog(sid)
    chat_id = new_chat(sid)
    operator_client.post(url(sid, chat_id, "send"), {"content": "What is open?"})
    streams.log.reset()  # the replay log expired (or was evicted)
    page = operator_client.get(url(sid, chat_id)).content.decode()
    assert page.count('class="exchange') == 1
    assert "<strong>CRITICAL</strong>" in page
    assert 'id="h-' in page, "rendered from the chat's history records"


def test_a_message_that_cannot_be_sent_is_kept_with_the_reason(operator_client, space, settings):
    settings.SANDBOX_FAULTS = "throttle=1"
    sid = space["agentSpaceId"]
    settings.SANDBOX_FAULTS = ""
    chat_id = new_chat(sid)
    settings.SANDBOX_FAULTS = "throttle=1"
    response = operator_client.post(
        url(sid, chat_id, "send"), {"content": "Roll back checkout-api?"}
    )
    settings.SANDBOX_FAULTS = ""
    assert response.status_code == 503
    page = response.content.decode()
    assert "throttling" in page and "kept below" in page
    assert re.search(r">\s*Roll back checkout-api\?</textarea>", page)
    assert AuditEntry.objects.get(operation="SendMessage").outcome == "failed"


def test_an_unexpected_failure_while_sending_is_told_and_the_message_kept(
    operator_client, space, monkeypatch
):
    from dashboard import streams

    async def broken(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(streams, "start", broken)
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    response = operator_client.post(url(sid, chat_id, "send"), {"content": "Roll back?"})
    assert response.status_code == 503
    page = response.content.decode()
    assert "could not be sent" in page and "kept below" in page and "6379" not in page
    assert re.search(r">\s*Roll back\?</textarea>", page)
    assert AuditEntry.objects.get(operation="SendMessage").outcome == "failed"


def test_an_archived_chat_refuses_messages_and_keeps_them(operator_client, space):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    aws_chat.update_chat(sid, chat_id, archive_status="ARCHIVED")
    response = operator_client.post(url(sid, chat_id, "send"), {"content": "Still there?"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "This chat is archived: unarchive it to continue." in page


def test_an_empty_or_oversized_message_is_refused_in_place(operator_client, space):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    response = operator_client.post(url(sid, chat_id, "send"), {"content": "  "})
    assert response.status_code == 400
    assert "Type a message for the agent." in response.content.decode()
    too_long = "x" * 32769
    response = operator_client.post(url(sid, chat_id, "send"), {"content": too_long})
    assert response.status_code == 400
    assert "at most 32768 characters" in response.content.decode()
    assert "Ensure this value" not in response.content.decode(), "one message, not two"


def test_an_odd_answer_or_last_message_is_explained_or_ignored(operator_client, space):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    response = operator_client.post(
        url(sid, chat_id, "send"), {"content": "Go ahead", "answer": "y" * 300}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The chosen answer is too long" in page
    assert re.search(r">\s*Go ahead</textarea>", page)
    # A last-message id that is not one is left out, not refused.
    response = operator_client.post(
        url(sid, chat_id, "send"), {"content": "What is open?", "last_message": "z" * 300}
    )
    assert response.status_code == 302


def test_viewers_cannot_send(viewer_client, space):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    response = viewer_client.post(url(sid, chat_id, "send"), {"content": "Hello"})
    assert response.status_code == 403
    page = viewer_client.get(url(sid, chat_id)).content.decode()
    assert "sending messages needs the operator role" in page
    assert 'id="composer"' not in page


def test_a_failed_reply_shows_its_error_and_a_retry_without_javascript(
    operator_client, space, settings
):
    settings.SANDBOX_CHAT_FAULTS = "fail=1"
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    response = operator_client.post(url(sid, chat_id, "send"), {"content": "What is open?"})
    page = operator_client.get(response["Location"]).content.decode()
    assert "The agent could not reply" in page and "InternalServerException" in page
    assert 'class="retry-form operator-only"' in page
    assert f'action="/spaces/{sid}/chat/{chat_id}/send/"' in page


def test_without_javascript_retry_posts_with_its_csrf_token(operator_user, space, settings):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    settings.SANDBOX_CHAT_FAULTS = "fail=1"
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    page = client.get(url(sid, chat_id)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    sent = client.post(
        url(sid, chat_id, "send"), {"content": "What is open?", "csrfmiddlewaretoken": token}
    )
    page = client.get(sent["Location"]).content.decode()
    retry = re.search(r'<form[^>]*class="retry-form operator-only">(.*?)</form>', page, re.S)
    assert retry, "the failed reply offers a retry"
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', retry.group(1)))
    assert "csrfmiddlewaretoken" in fields, "a plain POST needs the token"
    settings.SANDBOX_CHAT_FAULTS = ""
    again = client.post(url(sid, chat_id, "send"), fields)
    assert again.status_code == 302
    assert AuditEntry.objects.filter(operation="SendMessage").count() == 2


# --- rename -------------------------------------------------------------------------------------


def test_renaming_checks_the_models_limits_and_keeps_the_input(operator_client, space):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    response = operator_client.post(url(sid, chat_id, "rename"), {"summary": "x" * 257})
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 256 characters" in page and "x" * 257 in page
    response = operator_client.post(url(sid, chat_id, "rename"), {"summary": ""})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = operator_client.post(url(sid, chat_id, "rename"), {"summary": "Checkout 5xx"})
    assert response.status_code == 302
    assert aws_chat.get_chat(sid, chat_id)["summary"] == "Checkout 5xx"
    assert "Checkout 5xx" in operator_client.get(url(sid)).content.decode()
    assert AuditEntry.objects.filter(operation="UpdateChat", outcome="ok").exists()


def test_renaming_while_aws_throttles_keeps_the_typed_name(operator_client, space, settings):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    settings.SANDBOX_FAULTS = "throttle=1"
    response = operator_client.post(url(sid, chat_id, "rename"), {"summary": "Checkout 5xx"})
    settings.SANDBOX_FAULTS = ""
    assert response.status_code == 503
    page = response.content.decode()
    assert "The chat was not renamed; submit again." in page
    assert 'value="Checkout 5xx"' in page


def test_viewers_cannot_rename_or_archive(viewer_client, space):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    assert viewer_client.get(url(sid, chat_id, "rename")).status_code == 403
    assert viewer_client.post(url(sid, chat_id, "archive"), {"to": "ARCHIVED"}).status_code == 403
