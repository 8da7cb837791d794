"""Pages of an AWS list for a view: the page's `?next=` token may be stale or mangled, and a
list offered to pick from may be refused (the page then works without it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dashboard.aws import errors


def page_or_restart(
    fetch: Callable[[str | None], dict[str, Any]], token: str | None
) -> tuple[dict[str, Any], str]:
    """`fetch(token)`'s page and "", or, when AWS refuses the token (tokens expire), an empty
    page and the reason to show beside a link to the first page. A refusal without a token is
    the view's own problem and goes up."""
    try:
        return fetch(token), ""
    except errors.ValidationFailed as exc:
        if not token:
            raise
        return {
            "items": [],
            "nextToken": None,
        }, f"This page link is no longer valid ({exc.message})."


def listed(
    fetch: Callable[[str | None], Any], token: str | None = None, *, empty: Any = None
) -> tuple[Any, str]:
    """`fetch(token)`'s answer and "", or `empty` (an empty page by default) and why AWS would
    not list: a page that offers a list to pick from keeps working without it (ids can still
    be typed), and says why the list is missing (e.g. the IAM action it needs)."""
    blank = {"items": [], "nextToken": None} if empty is None else empty
    try:
        if token is None:
            return fetch(None), ""
        return page_or_restart(fetch, token)
    except errors.AwsError as exc:
        return blank, exc.message
