"""Chats of an agent space: the list (recent first, paged, archived apart), a new chat, one
chat's page (its history, replies streamed live, the message box), renaming and archiving.

The chat page works without JavaScript: the message form posts to `send`, which waits for the
reply (at most CHAT_WAIT_SECONDS) and shows the page again with it. With JavaScript the same
form goes over the page's websocket (dashboard/chat/consumers.py) and the reply streams in.
"""

from __future__ import annotations

import uuid
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from dashboard import streams
from dashboard.aws import chat as aws_chat
from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.views import wants_fragment

from . import exchanges, sending
from .forms import SERVICE, MessageForm, RenameForm, valid_chat_id, valid_space_id

SUGGESTIONS = ("What is open?", "What needs my approval?")


def _check(space_id: str, chat_id: str | None = None) -> None:
    if not valid_space_id(space_id) or (chat_id is not None and not valid_chat_id(chat_id)):
        raise Http404("No such chat")


def _space(space_id: str) -> dict[str, Any]:
    """The space for the breadcrumbs; a busy AWS leaves them showing the id."""
    try:
        return aws_spaces.get_space(space_id)
    except (errors.Throttled, errors.Unavailable):
        return {"agentSpaceId": space_id, "name": ""}


@require_GET
@vary_on_headers("HX-Request")
def chat_list(request: HttpRequest, space_id: str) -> HttpResponse:
    _check(space_id)
    archived = request.GET.get("archived") == "1"
    next_token = request.GET.get("next") or None
    try:
        page = aws_chat.list_chats(space_id, archived=archived, next_token=next_token)
    except errors.ValidationFailed:
        if not next_token or wants_fragment(request):
            raise
        # A bookmarked or stale "Load more" link: its token has expired (or was never one).
        messages.warning(
            request, "That page of chats is no longer available; here are the most recent."
        )
        first = reverse("chat:list", args=[space_id])
        return redirect(f"{first}?archived=1" if archived else first)
    context = {
        "space_id": space_id,
        "chats": page["chats"],
        "next_token": page.get("nextToken") or "",
        "archived": archived,
    }
    if wants_fragment(request) and next_token:
        return render(request, "chat/list.html#page", context)
    context["space"] = aws_spaces.get_space(space_id)
    return render(request, "chat/list.html", context)


@require_POST
@roles.role_required(roles.OPERATOR)
def create(request: HttpRequest, space_id: str) -> HttpResponse:
    _check(space_id)
    with audited(request, SERVICE, "CreateChat", space_id, {"agentSpaceId": space_id}):
        chat = aws_chat.create_chat(space_id)
    return redirect("chat:detail", space_id=space_id, chat_id=chat["executionId"])


def _detail_context(
    request: HttpRequest,
    space_id: str,
    chat_id: str,
    form: MessageForm | None = None,
    *,
    tolerant: bool = False,
) -> dict[str, Any]:
    try:
        chat = aws_chat.get_chat(space_id, chat_id)
    except (errors.Throttled, errors.Unavailable):
        if not tolerant:
            raise
        # Showing the message that could not be sent matters more than the chat's details.
        chat = {"executionId": chat_id, "summary": "", "archiveStatus": "ACTIVE"}
    key = exchanges.stream_key(space_id, chat_id)
    history_error = ""
    records: list[dict[str, Any]] = []
    truncated = False
    try:
        found = aws_chat.history(space_id, chat_id)
        records, truncated = found["records"], found["truncated"]
    except (errors.Throttled, errors.Unavailable, errors.AccessDenied) as exc:
        history_error = exc.message
    # Read after the history: a run that started meanwhile is in the log, and its reply is
    # shown from there (the history's copy is left out), never twice.
    runs, unreachable = streams.read_runs_or_notice(key)
    if unreachable:
        messages.warning(request, unreachable)
    live = [exchanges.fold(key, run["run"], run["events"]) for run in runs]
    items = exchanges.from_records(
        records, space_id=space_id, chat_id=chat_id, exclude=exchanges.response_ids(runs)
    )
    last_message = next(
        (x.response_id for x in reversed([*_exchanges(items), *live]) if x.response_id), ""
    )
    form = form or MessageForm(initial={"last_message": last_message})
    return {
        "space_id": space_id,
        "chat_id": chat_id,
        "chat": chat,
        "items": items,
        "live": live,
        "streaming": any(run["open"] for run in runs),
        "history_error": history_error,
        "truncated": truncated,
        "position": streams.page_position(key, runs),
        "form": form,
        "archived": chat.get("archiveStatus") == "ARCHIVED",
        "ws_url": f"/ws/spaces/{space_id}/chat/{chat_id}/",
        "suggestions": SUGGESTIONS,
        # The page warns when nothing (not even a heartbeat) came for this long mid-reply.
        "idle_seconds": int(3 * float(getattr(settings, "STREAM_HEARTBEAT_SECONDS", 10.0)) + 5),
    }


def _exchanges(items: list[Any]) -> list[exchanges.Exchange]:
    return [item for item in items if isinstance(item, exchanges.Exchange)]


@require_GET
@vary_on_headers("HX-Request")
def detail(request: HttpRequest, space_id: str, chat_id: str) -> HttpResponse:
    _check(space_id, chat_id)
    context = _detail_context(request, space_id, chat_id)
    if wants_fragment(request) and request.GET.get("fragment") == "conversation":
        return render(request, "chat/detail.html#conversation", context)
    context["space"] = _space(space_id)
    return render(request, "chat/detail.html", context)


@require_POST
async def send(request: HttpRequest, space_id: str, chat_id: str) -> HttpResponse:
    """Without JavaScript: send, wait for the reply, show the chat with it."""
    _check(space_id, chat_id)
    user = await request.auser()
    page = reverse("chat:detail", args=[space_id, chat_id])
    sent = await sending.send(user, space_id, chat_id, request.POST.dict(), current_page=page)
    if not sent.ok:
        if sent.status == 403:
            raise PermissionDenied(sent.error)
        return await sync_to_async(_error_page)(request, space_id, chat_id, sent)
    if sent.relay is None:  # this message box's message went out before: nothing sent again
        await sync_to_async(messages.info)(
            request, "That message was already sent (once); it is in the chat below."
        )
        return redirect(page)
    try:
        how = await sent.relay.wait(sending.wait_seconds())
    except TimeoutError:
        await sync_to_async(messages.info)(
            request, "The agent is still replying; reload the page to see the rest."
        )
    else:
        if how != streams.END:
            await sync_to_async(messages.warning)(
                request, "The reply did not finish: see below, and retry if you need to."
            )
    return redirect(f"{page}#x-{sent.relay.run}")


def _error_page(
    request: HttpRequest, space_id: str, chat_id: str, sent: sending.Sent
) -> HttpResponse:
    context = _detail_context(request, space_id, chat_id, form=sent.form, tolerant=True)
    context["send_error"] = sent.error
    context["space"] = _space(space_id)
    return render(request, "chat/detail.html", context, status=sent.status)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
def rename(request: HttpRequest, space_id: str, chat_id: str) -> HttpResponse:
    _check(space_id, chat_id)
    try:
        chat = aws_chat.get_chat(space_id, chat_id)
    except (errors.Throttled, errors.Unavailable):
        if request.method != "POST":
            raise
        # The name typed matters more than the chat's details: go on without them (UpdateChat
        # says whether AWS is still busy, and the form keeps the name).
        chat = {"executionId": chat_id, "summary": ""}
    form = RenameForm(request.POST or None, initial={"summary": chat.get("summary") or ""})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            summary = form.cleaned_data["summary"]
            params = {"agentSpaceId": space_id, "executionId": chat_id, "summary": summary}
            try:
                with audited(request, SERVICE, "UpdateChat", chat_id, params):
                    aws_chat.update_chat(
                        space_id, chat_id, summary=summary, client_token=str(uuid.uuid4())
                    )
            except (errors.ValidationFailed, errors.Conflict) as exc:
                form.add_error("summary" if "summary" in exc.fields else None, exc.message)
                status = exc.status
            except (errors.Throttled, errors.Unavailable) as exc:
                form.add_error(None, f"{exc.message} The chat was not renamed; submit again.")
                status = exc.status
            else:
                messages.success(request, f"Renamed the chat to “{summary}”.")
                return redirect("chat:detail", space_id=space_id, chat_id=chat_id)
        else:
            status = 400
    context = {"space_id": space_id, "chat_id": chat_id, "chat": chat, "form": form}
    context["space"] = _space(space_id)
    return render(request, "chat/rename.html", context, status=status)


@require_POST
@roles.role_required(roles.OPERATOR)
def archive(request: HttpRequest, space_id: str, chat_id: str) -> HttpResponse:
    _check(space_id, chat_id)
    target = request.POST.get("to", "")
    if target not in ("ARCHIVED", "ACTIVE"):
        messages.error(request, "Choose whether to archive or unarchive the chat.")
        return redirect("chat:detail", space_id=space_id, chat_id=chat_id)
    params = {"agentSpaceId": space_id, "executionId": chat_id, "archiveStatus": target}
    with audited(request, SERVICE, "UpdateChat", chat_id, params):
        aws_chat.update_chat(
            space_id, chat_id, archive_status=target, client_token=str(uuid.uuid4())
        )
    if target == "ARCHIVED":
        messages.success(request, "Archived the chat: it is listed under Archived now.")
        return redirect(reverse("chat:list", args=[space_id]))
    messages.success(request, "Unarchived the chat.")
    return redirect("chat:detail", space_id=space_id, chat_id=chat_id)
