"""Saved views of the board: a person's named filters and sort, kept per user."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_token() -> str:
    return secrets.token_urlsafe(12)


class SavedView(models.Model):
    """The board's query string (filters and sort, as BoardQuery.querystring() writes it) under
    a name. Listed only to its owner; anyone signed in who has its link (`?view=<token>`) can
    open it, on any agent space's board."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_views"
    )
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True)
    # Unguessable, so a view's link shares that one view and nothing else of its owner's.
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="one_view_name_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.owner_id})"
