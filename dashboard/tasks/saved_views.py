"""Saved views of the board: name the current filters and sort, pick them again from any
board, share one by its link.

A view is the board's query string under a name, kept per user (models.SavedView). The board
lists the signed-in user's own views only. `?view=<token>` on any space's board opens that view
for whoever follows the link (the token is unguessable and names nothing else); someone else's
view says whose it is and can be saved as one's own.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from .filters import BoardQuery
from .models import SavedView

MAX_VIEWS = 50  # per user


def query_of(request: HttpRequest) -> tuple[SavedView | None, BoardQuery]:
    """The board's query: the saved view named by `?view=` (its filters and sort), else the
    URL's own. A view that no longer exists says so and shows the default board."""
    token = request.GET.get("view", "")
    if token:
        view = SavedView.objects.select_related("owner").filter(token=token[:32]).first()
        if view is not None:
            return view, BoardQuery.from_query(QueryDict(view.query))
        q = BoardQuery.from_query({})
        notice = "That saved view no longer exists (its owner deleted it)."
        return None, BoardQuery(notices=(notice,), **_fields(q))
    return None, BoardQuery.from_query(request.GET)


def _fields(q: BoardQuery) -> dict[str, Any]:
    return {
        "priority": q.priority,
        "status": q.status,
        "task_type": q.task_type,
        "primary": q.primary,
        "created_after": q.created_after,
        "created_before": q.created_before,
        "sort": q.sort,
        "order": q.order,
    }


def board_context(
    request: HttpRequest, space_id: str, view: SavedView | None, q: BoardQuery
) -> dict[str, Any]:
    """What the board's view picker needs: the user's views, the one shown (if any) and its
    shareable link."""
    mine = list(SavedView.objects.filter(owner=request.user))
    current = view
    if current is None:
        # The URL's filters may be exactly one of the user's views: show it as picked.
        here = q.querystring()
        current = next((v for v in mine if v.query == here), None)
    board = reverse("tasks:board", args=[space_id])
    return {
        "views": mine,
        "view": current,
        "view_is_mine": current is not None and current.owner_id == request.user.pk,
        "view_link": (
            request.build_absolute_uri(f"{board}?view={current.token}") if current else ""
        ),
        "board_url": board,
    }


@require_POST
def save(request: HttpRequest, space_id: str) -> HttpResponse:
    """Save the posted query under a name (the same name again replaces that view's query)."""
    board = reverse("tasks:board", args=[space_id])
    name = " ".join(request.POST.get("name", "").split())[:80]
    query = BoardQuery.from_query(QueryDict(request.POST.get("query", "")[:1000])).querystring()
    if not name:
        messages.error(request, "Give the view a name to save it.")
        return redirect(f"{board}?{query}" if query else board)
    existing = SavedView.objects.filter(owner=request.user, name=name).first()
    if existing is None and SavedView.objects.filter(owner=request.user).count() >= MAX_VIEWS:
        messages.error(request, f"You have {MAX_VIEWS} saved views: delete one to save another.")
        return redirect(f"{board}?{query}" if query else board)
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query", "updated_at"])
        view = existing
        messages.success(request, f"View “{name}” updated.")
    else:
        try:
            with transaction.atomic():
                view = SavedView.objects.create(owner=request.user, name=name, query=query)
        except IntegrityError:  # the same form sent twice at once: the first one made it
            view = SavedView.objects.get(owner=request.user, name=name)
        messages.success(request, f"View “{name}” saved. Its link opens it on any board.")
    return redirect(f"{board}?view={view.token}")


@require_POST
def delete(request: HttpRequest, space_id: str, token: str) -> HttpResponse:
    board = reverse("tasks:board", args=[space_id])
    view = SavedView.objects.filter(owner=request.user, token=token).first()
    if view is None:
        messages.info(request, "That view was deleted already.")
        return redirect(board)
    name, query = view.name, view.query
    view.delete()
    messages.success(request, f"View “{name}” deleted.")
    # The filters stay on screen; only the name is gone.
    return redirect(f"{board}?{query}" if query else board)
