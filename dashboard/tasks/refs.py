"""Task ids in agent replies and journal text as links to the task, when the task belongs to
the agent space the text comes from.

`link_task_ids(value, space_id)` takes plain text (escaped here) or HTML the console made safe
(the sanitized Markdown of dashboard/core/markdown.py) and wraps each task id in its text in a
link to the task's page; ids inside links or tags are left alone. It runs where the final text
is rendered on the server (the `task_links` filter), never on streamed raw text.

An id is linked only when it is a task of that space: the space's newest tasks (one
ListBacklogTasks of up to 1000, kept in the cache for a minute) and, for an id not among them,
GetBacklogTask (the answer kept for ten minutes; at most `SPACE_LOOKUPS` such calls per space
per minute, whatever the pages show). Task ids are UUIDs (as the service and the sandbox make
them); other words are never looked up. Rendered on an event loop (a chat reply pushed live:
stream renders make no calls), only the ids this process read within the minute are linked;
sending a message reads them first (`warm`).
"""

from __future__ import annotations

import asyncio
import logging
import time

import regex
from django.core.cache import cache
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeData, SafeString, mark_safe

from dashboard.aws import errors
from dashboard.aws import tasks as aws_tasks

logger = logging.getLogger(__name__)

TASK_ID = regex.compile(
    r"(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])"
)
_PARTS = regex.compile(r"(<[^>]*>)")
LIST_SECONDS = 60
GET_SECONDS = 600
FAILED_SECONDS = 10  # a list AWS refused is asked for again after this
MAX_LOOKUPS = 10  # GetBacklogTask calls per text at most
# ...and per space per LIST_SECONDS, however many texts a page shows: a journal full of
# request and trace ids (UUIDs too) must not cost a call per id.
SPACE_LOOKUPS = 30


# What this process read last per space (when, ids): what a render on an event loop may use.
_read: dict[str, tuple[float, frozenset[str]]] = {}


def _known(space_id: str) -> set[str]:
    key = f"task-ids:{space_id}"
    found = cache.get(key)
    if found is None:
        try:
            found = {t["taskId"] for t in aws_tasks.list_tasks(space_id, limit=1000)["tasks"]}
        except errors.AwsError as exc:
            # Kept briefly too: each text of the page would ask again (a busy AWS, busier).
            logger.info("task links in %s: %s", space_id, exc)
            cache.set(key, set(), FAILED_SECONDS)
            return set()
        cache.set(key, found, LIST_SECONDS)
    _read[space_id] = (time.monotonic(), frozenset(found))
    return found


def warm(space_id: str) -> None:
    """Read the space's task ids now (blocking: from a thread), so that a reply about to be
    rendered on the event loop (a live push) can link them."""
    _known(space_id)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _may_look_up(space_id: str) -> bool:
    """One GetBacklogTask of the space's budget (SPACE_LOOKUPS per LIST_SECONDS)."""
    key = f"task-lookups:{space_id}"
    try:
        cache.add(key, 0, LIST_SECONDS)
        return cache.incr(key) <= SPACE_LOOKUPS
    except ValueError:  # expired between the two calls: a new window
        return True


def _exists(space_id: str, task_id: str) -> bool | None:
    key = f"task-exists:{space_id}:{task_id}"
    found = cache.get(key)
    if found is not None:
        return bool(found)
    if not _may_look_up(space_id):
        return None  # not linked this time; asked again in a later window
    try:
        aws_tasks.get_task(space_id, task_id)
        found = True
    except errors.NotFound:
        found = False
    except errors.AwsError:
        return None  # unknown this time: not linked, asked again next time
    cache.set(key, found, GET_SECONDS)
    return found


def tasks_of(space_id: str, ids: set[str]) -> set[str]:
    """Those of `ids` that are tasks of the space."""
    if not ids or not space_id:
        return set()
    if _on_event_loop():
        # A stream's render (the relay's, a catching-up socket's) runs on the event loop and
        # must not wait for AWS or the cache: only what this process read lately.
        when, ids_read = _read.get(space_id, (0.0, frozenset()))
        return ids & ids_read if time.monotonic() - when < LIST_SECONDS else set()
    known = _known(space_id)
    out = ids & known
    for task_id in sorted(ids - known)[:MAX_LOOKUPS]:
        if _exists(space_id, task_id):
            out.add(task_id)
    return out


def link_task_ids(value: object, space_id: str) -> SafeString:
    if isinstance(value, SafeData):
        html = str(value)
    else:
        html = escape(str(value if value is not None else ""))
    candidates = set(TASK_ID.findall(html))
    if not candidates:
        return mark_safe(html)  # noqa: S308 - escaped above or safe already
    linked = {c for c in tasks_of(space_id, {c.lower() for c in candidates})}
    if not linked:
        return mark_safe(html)  # noqa: S308 - escaped above or safe already
    out: list[str] = []
    inside_link = 0
    for part in _PARTS.split(html):
        if part.startswith("<"):
            tag = part[1:].lstrip("/").split(None, 1)[0].rstrip(">").lower() if part[1:] else ""
            if tag == "a":
                inside_link += -1 if part.startswith("</") else 1
            out.append(part)
            continue
        if inside_link > 0:
            out.append(part)
            continue
        out.append(
            TASK_ID.sub(
                lambda m: (
                    '<a class="task-ref" href="{}">{}</a>'.format(
                        escape(reverse("tasks:detail", args=[space_id, m.group(0).lower()])),
                        m.group(0),
                    )
                    if m.group(0).lower() in linked
                    else m.group(0)
                ),
                part,
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - only ids (hex and dashes) and our own URLs added
