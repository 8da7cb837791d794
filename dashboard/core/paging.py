"""Pages of an AWS list for a view, when the page's `?next=` token may be stale or mangled."""

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
