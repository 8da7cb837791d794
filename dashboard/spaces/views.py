"""Agent spaces: list, create, view, edit, tag and delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.tags import TagForm, Taggable, add_view, remove_view
from dashboard.core.tags import card as tags_card
from dashboard.core.views import wants_fragment

from . import live
from .forms import LOCALES, SERVICE, SpaceForm

PAGE_SIZE = 25


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def _apply_field_errors(form: Any, exc: errors.AwsError) -> None:
    """Put AWS's per-field validation messages next to the fields they name."""
    placed = False
    for name, message in exc.fields.items():
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@require_GET
@vary_on_headers("HX-Request")
def space_list(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("next") or None
    page = aws_spaces.list_spaces(next_token=token, max_results=PAGE_SIZE)
    context = {"spaces": page["agentSpaces"], "next_token": page["nextToken"]}
    if wants_fragment(request) and (token or request.GET.get("fragment") == "rows"):
        return render(request, "spaces/list.html#page", context)
    return render(request, "spaces/list.html", context)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def space_create(request: HttpRequest) -> HttpResponse:
    form = SpaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        params = {k: v for k, v in form.cleaned_data.items() if v}
        try:
            with audited(request, SERVICE, "CreateAgentSpace", params["name"], params):
                space = aws_spaces.create_space(**params)
        except (errors.ValidationFailed, errors.QuotaExceeded, errors.Conflict) as exc:
            _apply_field_errors(form, exc)
        else:
            live.space_changed("created", space["agentSpaceId"], space)
            messages.success(request, f"Created agent space “{space['name']}”.")
            return redirect("spaces:detail", space_id=space["agentSpaceId"])
    return render(request, "spaces/form.html", {"form": form, "locales": LOCALES})


@require_GET
@vary_on_headers("HX-Request")
def space_detail(request: HttpRequest, space_id: str) -> HttpResponse:
    if wants_fragment(request) and request.GET.get("live"):
        # The overview re-rendering itself after a reconnect: the live part only.
        return render(request, "spaces/detail.html#overview", _overview(space_id))
    return _detail_page(request, space_id)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def space_edit(request: HttpRequest, space_id: str) -> HttpResponse:
    current = aws_spaces.get_space(space_id)
    context: dict[str, Any] = {"space": current, "locales": LOCALES, "editing": True}
    if request.method != "POST":
        initial = {
            "name": current["name"],
            "description": current.get("description", ""),
            "locale": current.get("locale", ""),
            "seen_updated_at": _iso(current["updatedAt"]),
        }
        context["form"] = SpaceForm(initial=initial, editing=current)
        return render(request, "spaces/form.html", context)

    form = SpaceForm(request.POST, editing=current)
    context["form"] = form
    if not form.is_valid():
        return render(request, "spaces/form.html", context)
    changes = form.changes()
    seen = form.cleaned_data.get("seen_updated_at") or ""
    if seen != _iso(current["updatedAt"]):
        # Someone changed the space since this form was drawn: show both, overwrite nothing.
        # The conflict form carries the version it showed, so "Apply my values" (overwrite=1)
        # saves only over that version; a third change in between is shown again, not lost.
        context["conflict"] = True
        context["form"] = SpaceForm(
            {**request.POST.dict(), "seen_updated_at": _iso(current["updatedAt"])},
            editing=current,
        )
        context["form"].is_valid()
        return render(request, "spaces/form.html", context, status=409)
    if not changes:
        messages.info(request, "Nothing changed.")
        return redirect("spaces:detail", space_id=space_id)
    try:
        with audited(request, SERVICE, "UpdateAgentSpace", space_id, changes):
            space = aws_spaces.update_space(space_id, **changes)
    except (errors.ValidationFailed, errors.Conflict) as exc:
        _apply_field_errors(form, exc)
        return render(request, "spaces/form.html", context)
    live.space_changed("updated", space_id, space)
    messages.success(request, f"Saved agent space “{space['name']}”.")
    return redirect("spaces:detail", space_id=space_id)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def space_delete(request: HttpRequest, space_id: str) -> HttpResponse:
    space = aws_spaces.get_space(space_id)
    context: dict[str, Any] = {"space": space}
    if request.method == "POST":
        typed = request.POST.get("confirm_name", "").strip()
        if typed != space["name"].strip():
            context["error"] = "Type the space's name exactly to confirm."
            context["typed"] = typed
            return render(request, "spaces/delete.html", context, status=400)
        with audited(request, SERVICE, "DeleteAgentSpace", space_id, {"agentSpaceId": space_id}):
            aws_spaces.delete_space(space_id)
        live.space_changed("deleted", space_id)
        messages.success(request, f"Deleted agent space “{space['name']}”.")
        return redirect("spaces:list")
    return render(request, "spaces/delete.html", context)


def _detail_page(
    request: HttpRequest, space_id: str, tag_form: TagForm | None = None
) -> HttpResponse:
    space, tags = aws_spaces.describe_space(space_id)
    context = {
        "space": space,
        "tags_card": tags_card(SPACE_TAGS, space_id, tags, tag_form),
        **_overview(space_id),
    }
    return render(request, "spaces/detail.html", context)


# What a part of the overview may meet while the rest of the page still shows.
_BUSY = (errors.Throttled, errors.Unavailable, errors.AccessDenied)


def _overview(space_id: str) -> dict[str, Any]:
    """The overview's live part: what needs someone in the space (the inbox's shared read),
    its recent chats and the month's usage. A part AWS would not read is said in place."""
    from dashboard.inbox import live as inbox_live
    from dashboard.inbox import views as inbox_views

    context: dict[str, Any] = {
        "space_id": space_id,
        "live_notice": inbox_live.inbox_notice(space_id),
        "overview_notice": inbox_live.overview_notice(space_id),
    }
    try:
        items = inbox_live.fetch_inbox(space_id)
    except _BUSY as exc:
        items = {}
        context["needs_error"] = exc.message
    else:
        inbox_views.hand_over(inbox_live.inbox_key(space_id), items)
    lists = inbox_live.views(space_id, items)
    context["counts"] = items.get("#counts") or {}
    context["sections"] = [
        {**section, "items": lists[section["slot"]]} for section in _overview_sections(space_id)
    ]
    try:
        extra = inbox_live.fetch_overview(space_id)
    except _BUSY as exc:
        extra = {}
        context["chats_error"] = exc.message
    else:
        inbox_views.hand_over(inbox_live.overview_key(space_id), extra)
    context["chats"] = inbox_live.chat_views(space_id, extra)
    context["usage"] = inbox_live.usage_view(extra.get("#usage"))
    return context


def _overview_sections(space_id: str) -> list[dict[str, str]]:
    board = reverse("tasks:board", args=[space_id])
    return [
        {
            "slot": "approvals",
            "heading": "Approvals waiting",
            "empty": "The agent is not waiting for anyone's approval.",
            "url": f"{board}?status=PENDING_CUSTOMER_APPROVAL",
        },
        {
            "slot": "investigations",
            "heading": "Investigations pending triage and running",
            "empty": "No investigation waits for triage or runs now.",
            "url": f"{board}?type=INVESTIGATION",
        },
        {
            "slot": "root-causes",
            "heading": "Root causes found in the last 24 hours",
            "empty": "No root cause found lately.",
            "url": f"{board}?status=COMPLETED",
        },
        {
            "slot": "failed",
            "heading": "Failed in the last 24 hours",
            "empty": "Nothing failed lately.",
            "url": f"{board}?status=FAILED",
        },
        {
            "slot": "recommendations",
            "heading": "Recommendations proposed in the last 24 hours",
            "empty": "No new recommendation waits for an answer.",
            "url": reverse("prevention:recommendations", args=[space_id]) + "?status=PROPOSED",
        },
    ]


SPACE_TAGS = Taggable(
    kind="agentspace",
    url_kwarg="space_id",
    detail_url="spaces:detail",
    add_url="spaces:tag-add",
    remove_url="spaces:tag-remove",
    tags=lambda space_id: aws_spaces.describe_space(space_id)[1],
    page=_detail_page,
)
tag_add = add_view(SPACE_TAGS)
tag_remove = remove_view(SPACE_TAGS)
