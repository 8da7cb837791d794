"""Live private connections: their asynchronous states (CREATE_IN_PROGRESS, DELETE_IN_PROGRESS,
...) update on the list and detail pages until they settle, through dashboard.live.

``pconns``
    fetch: ListPrivateConnections, {name: summary}.
    render: the row (``configuration/connections/list.html#row``): a changed row replaces
    itself by id, a new one is appended to ``#pc-rows`` (static/js/configuration.js puts it in
    name order and drops a copy the tab shows already), a deleted one is removed.

``pconn:<name>``
    fetch: DescribePrivateConnection (without its tags: the tags card is not live),
    {"connection": description}, or {} once the connection is gone.
    render: the page's status panel (``configuration/connections/detail.html#status``) and
    its actions, out of band.

Writes through the console publish at once (`connection_changed`). Fragments go to a group, so
they are role-neutral: admin controls in them are marked ``admin-only`` and shown only inside a
live region whose page says the user is an admin (``data-can-admin``); the server still
answers 403 to anyone else. Pushed forms carry no CSRF field: htmx sends the page's token.
"""

from __future__ import annotations

import logging
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from dashboard.aws import configuration as aws_config
from dashboard.aws import errors
from dashboard.live import (
    DELETED,
    UPDATED,
    Change,
    make_key,
    publish_change,
    register,
    status_placeholder,
)
from dashboard.live.watch import split_key

from . import display

logger = logging.getLogger(__name__)

LIST = "pconns"
DETAIL = "pconn"
ITEM = "connection"

_NO_TOKEN = "live-fragment-without-token"
_PUSHED = {"can_admin": True, "csrf_token": _NO_TOKEN}
_TOKEN_FIELD = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_NO_TOKEN}">'


def _render(template: str, context: dict[str, Any]) -> str:
    """A pushed fragment: no request, no database, no CSRF field."""
    return render_to_string(template, {**_PUSHED, **context}).replace(_TOKEN_FIELD, "").strip()


def list_key() -> str:
    return make_key(LIST)


def detail_key(name: str) -> str:
    return make_key(DETAIL, name)


def list_notice() -> SafeString:
    return status_placeholder(list_key())


def detail_notice(name: str) -> SafeString:
    try:
        return status_placeholder(detail_key(name))
    except ValueError:  # a name no key can hold: such a page is never live
        return mark_safe("")


def summary(conn: dict[str, Any]) -> dict[str, Any]:
    """A connection as the list watch holds it (ListPrivateConnections' summary shape)."""
    return {k: v for k, v in conn.items() if k != "tags"}


def fetch_list() -> dict[str, Any]:
    return {c["name"]: summary(c) for c in aws_config.list_private_connections() if c.get("name")}


def render_list(change: Change) -> str:
    context = {"name": change.item_id, "kind": change.kind}
    if change.item is not None:
        context["c"] = display.connection(change.item)
    return _render("configuration/connections/list.html#live-row", context)


def fetch_detail(name: str) -> dict[str, Any]:
    try:
        conn = aws_config.describe_private_connection(name)
    except errors.NotFound:
        return {}
    return {ITEM: summary(conn)}


def render_detail(change: Change) -> str:
    _, (name,) = split_key(change.key)
    if change.kind == DELETED or change.item is None:
        return _render("configuration/connections/detail.html#gone", {"name": name})
    return _render(
        "configuration/connections/detail.html#live-status",
        {"c": display.connection(change.item), "name": name},
    )


register(LIST, fetch=fetch_list, render=render_list)
register(DETAIL, fetch=fetch_detail, render=render_detail)


def connection_changed(kind: str, conn: dict[str, Any]) -> None:
    """A connection changed through the console: tell the list and its page at once.
    Never raises (publish_change logs what it cannot send)."""
    name = str(conn.get("name") or "")
    if not name:
        return
    item = summary(conn)
    publish_change(list_key(), kind, name, item)  # type: ignore[arg-type]
    publish_change(detail_key(name), UPDATED if kind != DELETED else DELETED, ITEM, item)
