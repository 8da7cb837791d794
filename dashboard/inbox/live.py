"""Live updates of what needs people: the inbox, the space overview and the top bar's count.

Three watches (dashboard.live: one poll per watched key per LIVE_POLL_INTERVAL, cluster-wide):

``inbox:<spaceId>``
    fetch: the space's items (`needs.space_items`: shared with pages and the other watches,
    so a space is read from AWS at most once per interval whoever asks).
    render: the item (``inbox/items.html#live-item``) appended to ``#needs-sink`` marked
    ``data-live`` and ``data-slot``; static/js/inbox.js moves it into the page's list for that
    slot (where the list's order puts it), replaces the copy the page shows, removes deleted
    ones and drops what the page has no list for (another kind, or the overview). The inbox
    and the space overview both watch it.

``overview:<spaceId>``
    fetch: the space's five most recent chats (ListChats) and the account's usage this month
    (GetAccountUsage, read once per interval for all spaces). Only the overview watches it.

``needs`` (one key for the whole console)
    fetch: every space's items again (`needs.space_items`, so no second read), kept to the
    approvals and root causes, and the number of approvals waiting.
    render: the top bar's count (``inbox/topbar.html#count``, out of band) when the number
    changes; a notice (``inbox/topbar.html#notice``) for each new approval request and root
    cause, which static/js/needs.js turns into a desktop notification when the person asked
    for them. Every page's top bar watches it, over a socket of its own.

Fragments go to everyone watching, so they are role-neutral: the approval form in an item is
marked ``operator-only`` and shown only inside a live region whose page says the user may
operate (``data-can-operate``); inbox.js removes it for others. The server still answers 403
to anyone else. Forms in pushed fragments carry no CSRF field: htmx sends the page's token.

Changes made through the console are published at once: `approval_answered` (the approval
view) takes the request out of every inbox and the count; `task_changed` (called by
dashboard.tasks.live.task_changed after every status change) moves or removes the task's
item. Both drop the space's shared read so that the next poll reads it afresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from dashboard.aws import chat as aws_chat
from dashboard.aws.errors import AwsError
from dashboard.configuration import display
from dashboard.live import (
    CREATED,
    DELETED,
    UPDATED,
    Change,
    make_key,
    publish,
    register,
    status_placeholder,
    store,
)
from dashboard.live.watch import split_key

from . import needs

logger = logging.getLogger(__name__)

INBOX = "inbox"
OVERVIEW = "overview"
NEEDS = "needs"
NEEDS_KEY = NEEDS
TOTAL = "#total"
USAGE = "#usage"
CHATS_SHOWN = 5

SLOTS = {
    needs.APPROVAL: "approvals",
    needs.INVESTIGATION: "investigations",
    needs.ROOT_CAUSE: "root-causes",
    needs.FAILED: "failed",
    needs.RECOMMENDATION: "recommendations",
}

_NO_TOKEN = "live-fragment-without-token"
_PUSHED = {"can_operate": True, "csrf_token": _NO_TOKEN}
_TOKEN_FIELD = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_NO_TOKEN}">'


def _render(template: str, context: dict[str, Any]) -> str:
    """A pushed fragment: no request, no database, no CSRF field."""
    return render_to_string(template, context).replace(_TOKEN_FIELD, "").strip()


def inbox_key(space_id: str) -> str:
    return make_key(INBOX, space_id)


def overview_key(space_id: str) -> str:
    return make_key(OVERVIEW, space_id)


def inbox_notice(space_id: str) -> SafeString:
    """The "live updates delayed" placeholder of a space's inbox watch."""
    try:
        return status_placeholder(inbox_key(space_id))
    except ValueError:  # an id no key can hold: never watched
        return mark_safe("")


def overview_notice(space_id: str) -> SafeString:
    try:
        return status_placeholder(overview_key(space_id))
    except ValueError:
        return mark_safe("")


# --- how an item is shown ---------------------------------------------------------------------


def _url(name: str, *args: str) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # an id from AWS that no URL can hold: no link
        return ""


def dom_id(space_id: str, item_id: str) -> str:
    return "need-" + re.sub(r"[^A-Za-z0-9_-]", "-", f"{space_id}-{item_id}")


def sort_text(item: Mapping[str, Any]) -> str:
    """`needs.sort_key` as text that sorts the same way (inbox.js compares strings)."""
    parts = []
    for value in needs.sort_key(item):
        if value == float("inf"):
            value = 9e12
        parts.append(f"{float(value) + 1e13:020.3f}")
    return "|".join(parts)


def view(space_id: str, item_id: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """What the item partial shows: the item and its element id, list, order and links."""
    kind = str(item.get("kind") or "")
    task_id = str(item.get("taskId") or "")
    task_url = _url("tasks:detail", space_id, task_id) if task_id else ""
    record_id = str(item.get("recordId") or "")
    out: dict[str, Any] = {
        "id": dom_id(space_id, item_id),
        "kind": kind,
        "slot": SLOTS.get(kind, ""),
        "sort": sort_text(item),
        "item": item,
        "space_id": space_id,
        "space_url": _url("spaces:detail", space_id),
        "task_url": task_url,
        "record_url": f"{task_url}#record-{record_id}" if task_url and record_id else task_url,
    }
    if kind == needs.APPROVAL:
        out["approval_url"] = _url("tasks:approval", space_id, str(item.get("approvalId") or ""))
        expires = item.get("expiresAt")
        out["expired"] = isinstance(expires, dt.datetime) and expires <= timezone.now()
    elif kind == needs.RECOMMENDATION:
        out["rec_url"] = _url(
            "prevention:recommendation", space_id, str(item.get("recommendationId") or "")
        )
    return out


def views(space_id: str, items: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The space's items by list, each in its order."""
    out: dict[str, list[dict[str, Any]]] = {slot: [] for slot in SLOTS.values()}
    for item_id, item in items.items():
        if item_id.startswith("#") or not isinstance(item, Mapping):
            continue
        shown = view(space_id, item_id, item)
        if shown["slot"]:
            out[shown["slot"]].append(shown)
    for listed in out.values():
        listed.sort(key=lambda v: v["sort"])
    return out


# --- inbox:<spaceId> ----------------------------------------------------------------------


def fetch_inbox(space_id: str) -> dict[str, Any]:
    return needs.space_items(space_id)


def render_inbox(change: Change) -> str:
    _, (space_id,) = split_key(change.key)
    if change.item_id == needs.COUNTS:
        context = {"space_id": space_id, "counts": change.item or {}, "oob": True}
        return _render("inbox/items.html#counts", context)
    context = {
        **_PUSHED,
        "space_id": space_id,
        "element_id": dom_id(space_id, change.item_id),
        "kind": change.kind,
        "v": None if change.kind == DELETED else view(space_id, change.item_id, change.item),
        "pushed": True,
    }
    return _render("inbox/items.html#live-item", context)


# --- overview:<spaceId> -------------------------------------------------------------------


def fetch_overview(space_id: str) -> dict[str, Any]:
    """The space's recent chats and the month's usage, read at most once per interval."""
    return needs.shared(f"needs:overview:{space_id}", lambda: _read_overview(space_id))


def _read_overview(space_id: str) -> dict[str, Any]:
    items: dict[str, Any] = {}
    chats = aws_chat.list_chats(space_id)["chats"]
    chats.sort(key=lambda c: c.get("updatedAt") or c.get("createdAt"), reverse=True)
    for chat in chats[:CHATS_SHOWN]:
        items[f"chat:{chat['executionId']}"] = {
            "executionId": str(chat["executionId"]),
            "summary": str(chat.get("summary") or ""),
            "at": chat.get("updatedAt") or chat.get("createdAt"),
        }
    items[USAGE] = needs.usage()
    return items


def usage_view(answer: Any) -> dict[str, Any]:
    return display.usage(answer if isinstance(answer, dict) else {})


def chat_views(space_id: str, items: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item_id, chat in items.items():
        if item_id.startswith("chat:"):
            out.append(chat_view(space_id, item_id, chat))
    out.sort(key=lambda v: v["sort"])
    return out


def chat_view(space_id: str, item_id: str, chat: Mapping[str, Any]) -> dict[str, Any]:
    at = chat.get("at")
    stamp = at.timestamp() if isinstance(at, dt.datetime) else 0.0
    return {
        "id": dom_id(space_id, item_id),
        "slot": "chats",
        "sort": f"{1e13 - stamp:020.3f}",
        "chat": chat,
        "url": _url("chat:detail", space_id, str(chat.get("executionId") or "")),
    }


def render_overview(change: Change) -> str:
    _, (space_id,) = split_key(change.key)
    if change.item_id == USAGE:
        context = {"usage": usage_view(change.item), "oob": True}
        return _render("spaces/overview.html#usage", context)
    context = {
        "space_id": space_id,
        "element_id": dom_id(space_id, change.item_id),
        "kind": change.kind,
        "c": None if change.kind == DELETED else chat_view(space_id, change.item_id, change.item),
    }
    return _render("spaces/overview.html#live-chat", context)


# --- needs (the whole console) --------------------------------------------------------------


def fetch_needs() -> dict[str, Any]:
    """Approvals waiting and root causes found, in every space, and how many approvals wait.

    A space AWS would not read this time keeps what was last seen of it (not "everything in
    it was answered", which would drop the count and notify again when it comes back)."""
    listed = needs.spaces()
    state = store.load(NEEDS_KEY)
    previous = (state or {}).get("items") or {}
    results = needs.gather(s["agentSpaceId"] for s in listed)
    failures = [r for r in results.values() if isinstance(r, AwsError)]
    if listed and len(failures) == len(listed):
        raise failures[0]
    items: dict[str, Any] = {}
    for space_id, result in results.items():
        if isinstance(result, AwsError):
            items.update({k: v for k, v in previous.items() if k.startswith(f"{space_id}/")})
            continue
        for item_id, item in result.items():
            if not isinstance(item, Mapping) or item.get("kind") not in (
                needs.APPROVAL,
                needs.ROOT_CAUSE,
            ):
                continue
            items[f"{space_id}/{item_id}"] = {
                "kind": item["kind"],
                "spaceId": space_id,
                "spaceName": item.get("spaceName", ""),
                "taskId": item.get("taskId", ""),
                "title": item.get("title", ""),
                "tool": item.get("tool", ""),
                "rootCause": item.get("rootCause", ""),
                "recordId": item.get("recordId", ""),
                "at": item.get("at"),
            }
    items[TOTAL] = sum(1 for v in items.values() if v["kind"] == needs.APPROVAL)
    return items


def waiting_count() -> int | None:
    """Approvals waiting across the console, from the shared snapshot (no AWS call); None
    when nobody watches (the page's socket brings the number)."""
    state = store.load(NEEDS_KEY)
    items = state["items"] if state else None
    if not items or TOTAL not in items:
        return None
    return int(items[TOTAL])


def _notice_recent(at: Any) -> bool:
    # Only what happened lately: a space read again after a failure must not notify about
    # requests made an hour ago.
    window = dt.timedelta(seconds=max(120.0, 6 * needs.interval()))
    return isinstance(at, dt.datetime) and timezone.now() - at <= window


def render_needs(change: Change) -> str:
    if change.item_id == TOTAL:
        return count_fragment(change.item)
    item = change.item
    if change.kind != CREATED or not isinstance(item, Mapping) or not _notice_recent(item["at"]):
        return ""
    task_url = _url("tasks:detail", item["spaceId"], item["taskId"])
    if item["kind"] == needs.APPROVAL:
        title = f"Approval needed: {item['tool'] or 'an action'}"
        anchor = f"#record-{item['recordId']}" if item["recordId"] else ""
        kind = "approval"
    else:
        title = f"Root cause found: {item['rootCause'] or item['title']}"
        anchor = "#root-cause"
        kind = "root-cause"
    notice = {
        "key": change.item_id,
        "kind": kind,
        "title": title,
        "body": f"{item['title']} · {item['spaceName']}",
        "url": f"{task_url}{anchor}" if task_url else "",
    }
    return _render("inbox/topbar.html#notice", {"notice": notice})


def count_fragment(count: int | None) -> str:
    return _render("inbox/topbar.html#count", {"needs_count": count, "oob": True})


register(INBOX, fetch=fetch_inbox, render=render_inbox)
register(OVERVIEW, fetch=fetch_overview, render=render_overview)
register(NEEDS, fetch=fetch_needs, render=render_needs)


# --- broadcast on write -------------------------------------------------------------------


def approval_answered(space_id: str, approval_id: str) -> None:
    """An approval answered through the console: it leaves every inbox and the count at once."""
    try:
        publish_inbox(space_id, {f"approval:{approval_id}": None})
        key = NEEDS_KEY
        state = store.load(key)
        items = state["items"] if state else None
        needs_id = f"{space_id}/approval:{approval_id}"
        if items is None or needs_id not in items:
            return
        total = max(0, int(items.get(TOTAL) or 0) - 1)
        store.merge(key, {needs_id: None, TOTAL: total})
        publish(key, count_fragment(total))
    except Exception:
        logger.exception("Could not publish the answer to approval %s", approval_id)


def publish_inbox(space_id: str, changes: Mapping[str, Any]) -> None:
    """Items changed (None: gone) in a space through the console: render, record, publish."""
    needs.forget(space_id)
    key = inbox_key(space_id)
    state = store.load(key)
    known = state["items"] if state is not None and state["items"] is not None else {}
    html = ""
    for item_id, item in changes.items():
        if item is None and item_id not in known:
            continue
        kind = DELETED if item is None else UPDATED if item_id in known else CREATED
        html += render_inbox(Change(key, kind, item_id, item))
    store.merge(key, changes)
    if html:
        publish(key, html)


def task_changed(space_id: str, task: Mapping[str, Any]) -> None:
    """A task changed through the console (its status): its inbox entry follows at once; the
    next poll reads the space again for whatever else follows from it. Never raises."""
    try:
        task_id = str(task.get("taskId") or "")
        key = inbox_key(space_id)
        state = store.load(key)
        known = state["items"] if state is not None and state["items"] is not None else {}
        item_id = f"task:{task_id}"
        if item_id in known:
            status = str(task.get("status") or "")
            still = status == "PENDING_TRIAGE" or (
                task.get("taskType") == "INVESTIGATION" and status in needs.WORKING
            )
            if still:
                updated = {**known[item_id], "status": status, "updatedAt": task.get("updatedAt")}
                publish_inbox(space_id, {item_id: updated})
            else:
                publish_inbox(space_id, {item_id: None})
        else:
            needs.forget(space_id)
    except Exception:
        logger.exception("Could not publish the change of task %s to the inbox", task.get("taskId"))
