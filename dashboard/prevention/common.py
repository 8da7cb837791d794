"""Small helpers the prevention views share."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.urls import NoReverseMatch, reverse

from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces

from .forms import valid_id


def space_or_id(space_id: str) -> dict[str, Any]:
    """The space, for breadcrumbs. A busy AWS leaves them showing the id (the page's own calls
    say what failed); a missing or malformed space is an error page."""
    try:
        return aws_spaces.get_space(space_id)
    except (errors.Throttled, errors.Unavailable):
        return {"agentSpaceId": space_id, "name": ""}


def require_id(value: str, what: str) -> str:
    """404 for an id no AWS resource can have (a typo in a URL), before any call."""
    if not valid_id(value):
        raise Http404(f"No such {what}")
    return value


def url(name: str, *args: str) -> str:
    """reverse() for ids that came from AWS: one that no URL can hold gives "" (no link)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def field_errors(form: Any, exc: errors.AwsError, names: dict[str, str]) -> None:
    """AWS's per-field messages next to the fields they name (`names`: AWS path → field)."""
    placed = False
    for path, message in exc.fields.items():
        field = names.get(path, path)
        if field in form.fields:
            form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def get_choice(request: HttpRequest, name: str, allowed: list[str]) -> str:
    """A filter value from the URL, "" when it is not one the API accepts."""
    value = (request.GET.get(name) or "").strip().upper()
    return value if value in allowed else ""
