"""Escalating an investigation to AWS Support: the support card on the task page, the case
chat page, and the operator's actions (escalate, send a message, end the chat).

Escalation is offered only when the botocore model the console loaded has the support-case
operations (`dashboard.aws.support.missing()`); otherwise the card says it is not in this AWS
API version. Escalating starts the case chat (InitiateChatForCase), connects to it through
Amazon Connect's participant API (CreateParticipantConnection) and keeps the connection
server-side (`support_chat`); the chat page reads the transcript (GetTranscript, polled every
few seconds while the chat is open), sends messages (SendMessage) and ends it
(EndChatForCase, then DisconnectParticipant). Operators only; every action is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from dashboard.aws import errors
from dashboard.aws import support as aws_support
from dashboard.aws import tasks as aws_tasks
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.views import wants_fragment

from . import support_chat
from .forms import SupportMessageForm, valid_id

POLL_SECONDS = 3


def _check(task_id: str) -> None:
    if not valid_id(task_id):
        raise Http404("No such task")


def _card_context(request: HttpRequest, space_id: str, task_id: str) -> dict[str, Any]:
    """Whether escalation is possible here, the support level, and the open chat if any."""
    missing = aws_support.missing()
    context: dict[str, Any] = {
        "space_id": space_id,
        "task_id": task_id,
        "missing": missing,
        "botocore_version": aws_support.botocore_version(),
        "chat": support_chat.get(space_id, task_id),
        "level": None,
        "level_error": "",
        "client_token": str(uuid.uuid4()),
    }
    if not missing:
        try:
            context["level"] = aws_support.support_level(space_id, task_id)
        except errors.AwsError as exc:
            context["level_error"] = exc.message
    return context


@require_GET
def card(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    """The task page's support card (loaded after the page, as it asks AWS)."""
    _check(task_id)
    return render(request, "tasks/support.html#card", _card_context(request, space_id, task_id))


def _transcript(space_id: str, task_id: str, chat: dict[str, Any]) -> dict[str, Any]:
    """The chat's items, or why they could not be read (a refused connection means the chat
    has ended: the console forgets it)."""
    try:
        items = aws_support.transcript(chat["connectionToken"], chat["contactId"])
    except errors.AccessDenied:
        support_chat.drop(space_id, task_id)
        return {"items": [], "ended": True, "error": ""}
    except errors.AwsError as exc:
        return {"items": [], "ended": False, "error": exc.message}
    ended = any(
        i.get("ContentType") == "application/vnd.amazonaws.connect.event.chat.ended" for i in items
    )
    if ended:
        support_chat.drop(space_id, task_id)
    return {"items": items, "ended": ended, "error": ""}


def _page_context(request: HttpRequest, space_id: str, task_id: str) -> dict[str, Any]:
    context = _card_context(request, space_id, task_id)
    context["task"] = aws_tasks.get_task(space_id, task_id)
    context["poll_seconds"] = POLL_SECONDS
    context["on_page"] = True
    chat = context["chat"]
    if chat and roles.has_role(request.user, roles.OPERATOR):
        context["transcript"] = _transcript(space_id, task_id, chat)
        if context["transcript"]["ended"]:
            context["chat"] = None
    context.setdefault("form", SupportMessageForm())
    return context


def _transcript_context(space_id: str, task_id: str) -> dict[str, Any]:
    """What the transcript's poll (every POLL_SECONDS, per open tab) shows: the chat's items
    only, not the card's support level or the task (two AWS calls more each time)."""
    chat = support_chat.get(space_id, task_id)
    context: dict[str, Any] = {
        "space_id": space_id,
        "task_id": task_id,
        "poll_seconds": POLL_SECONDS,
        "chat": chat,
        "transcript": {"items": [], "ended": False, "error": ""},
    }
    if chat:
        context["transcript"] = _transcript(space_id, task_id, chat)
        if context["transcript"]["ended"]:
            context["chat"] = None
    return context


@require_GET
@vary_on_headers("HX-Request")
def page(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    _check(task_id)
    if wants_fragment(request) and request.GET.get("fragment") == "transcript":
        if not roles.has_role(request.user, roles.OPERATOR):
            raise Http404("No transcript")
        return render(
            request, "tasks/support.html#transcript", _transcript_context(space_id, task_id)
        )
    context = _page_context(request, space_id, task_id)
    return render(request, "tasks/support.html", context)


def _to_page(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    url = reverse("tasks:support", args=[space_id, task_id])
    return HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else redirect(url)


@require_POST
@roles.role_required(roles.OPERATOR)
def escalate(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    _check(task_id)
    missing = aws_support.missing()
    if missing:
        messages.error(
            request,
            "Escalation to AWS Support is not in this AWS API version "
            f"(botocore {aws_support.botocore_version()} has no {', '.join(missing)}).",
        )
        return _to_page(request, space_id, task_id)
    token = (request.POST.get("client_token") or "")[:64] or str(uuid.uuid4())
    params = {"agentSpaceId": space_id, "taskId": task_id, "clientToken": token}
    try:
        with audited(request, "devops-agent", "InitiateChatForCase", task_id, params):
            opened = aws_support.initiate(space_id, task_id, token)
            connection = aws_support.connect(opened["participantToken"])
    except errors.AwsError as exc:
        messages.error(request, f"{exc.message} The case chat was not opened.")
        return _to_page(request, space_id, task_id)
    support_chat.put(
        space_id,
        task_id,
        {
            "contactId": opened["initialContactId"],
            "participantId": opened["participantId"],
            "connectionToken": connection["ConnectionToken"],
            "startedBy": request.user.get_username(),
            "startedAt": timezone.now().isoformat(),
        },
        connection.get("Expiry", ""),
    )
    messages.success(request, "Escalated to AWS Support: the case chat is open.")
    return _to_page(request, space_id, task_id)


@require_POST
@roles.role_required(roles.OPERATOR)
def send(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    _check(task_id)
    form = SupportMessageForm(request.POST)
    chat = support_chat.get(space_id, task_id)
    status = 200
    if chat is None:
        form.add_error(None, "No support chat is open for this task: escalate first.")
        status = 409
    elif form.is_valid():
        text = form.cleaned_data["text"]
        token = form.cleaned_data.get("client_token") or str(uuid.uuid4())
        params = {"ContentType": "text/plain", "Content": text[:500], "ClientToken": token}
        try:
            with audited(request, "connectparticipant", "SendMessage", task_id, params):
                aws_support.send(chat["connectionToken"], text, token)
        except errors.AccessDenied:
            support_chat.drop(space_id, task_id)
            form.add_error(None, "The chat has ended: your message was not sent.")
            status = 409
        except errors.AwsError as exc:
            form.add_error(None, f"{exc.message} Your message was not sent.")
            status = exc.status
        else:
            if getattr(request, "htmx", False):
                context = _page_context(request, space_id, task_id)
                return render(request, "tasks/support.html#chat", context)
            return _to_page(request, space_id, task_id)
    else:
        status = 400
    context = _page_context(request, space_id, task_id)
    context["form"] = form  # what was typed stays
    template = (
        "tasks/support.html#chat" if getattr(request, "htmx", False) else "tasks/support.html"
    )
    return render(request, template, context, status=status)


@require_POST
@roles.role_required(roles.OPERATOR)
def end(request: HttpRequest, space_id: str, task_id: str) -> HttpResponse:
    _check(task_id)
    chat = support_chat.get(space_id, task_id)
    token = (request.POST.get("client_token") or "")[:64] or str(uuid.uuid4())
    params = {"agentSpaceId": space_id, "taskId": task_id, "clientToken": token}
    try:
        with audited(request, "devops-agent", "EndChatForCase", task_id, params):
            answer = aws_support.end(
                space_id, task_id, requester=request.user.get_username(), client_token=token
            )
    except errors.AwsError as exc:
        messages.error(request, f"{exc.message} The chat was not ended.")
        return _to_page(request, space_id, task_id)
    if chat is not None:
        try:
            with audited(request, "connectparticipant", "DisconnectParticipant", task_id, {}):
                aws_support.disconnect(chat["connectionToken"])
        except errors.AwsError:
            pass  # the chat is over either way; the connection expires by itself
    support_chat.drop(space_id, task_id)
    if answer.get("isDisconnected"):
        messages.success(request, "The support chat has ended.")
    else:
        messages.info(request, answer.get("errorMessage") or "No support chat was open.")
    return _to_page(request, space_id, task_id)
