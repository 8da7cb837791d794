"""The inbox: what needs a person now, across every agent space the console sees.

Filters (space and kind, each repeatable) are in the URL. The page renders from the shared
reads of `needs.space_items` (no AWS call when a poller or another tab read the space within
the interval) and hands each space's items to the live watch as its snapshot when nobody
polls it yet, so the first poll sends exactly what changed since this page was drawn.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from dashboard.aws.errors import AwsError
from dashboard.core.views import wants_fragment
from dashboard.live import store
from dashboard.tasks.forms import valid_id

from . import live, needs

logger = logging.getLogger(__name__)

# The lists of the page, in order: (slot, heading, what an empty list says).
SECTIONS = (
    ("approvals", "Approvals waiting", "The agent is not waiting for anyone's approval."),
    (
        "investigations",
        "Investigations: pending triage and in progress",
        "No investigation waits for triage or runs now.",
    ),
    ("root-causes", "Root causes found in the last 24 hours", "No root cause found lately."),
    ("failed", "Failed in the last 24 hours", "Nothing failed lately."),
    (
        "recommendations",
        "Recommendations proposed in the last 24 hours",
        "No new recommendation waits for an answer.",
    ),
)
KIND_LABELS = {
    "approvals": "Approvals",
    "investigations": "Investigations",
    "root-causes": "Root causes",
    "failed": "Failed",
    "recommendations": "Recommendations",
}
MAX_SPACES = 200  # spaces one page (and its socket) watches


def _filters(request: HttpRequest, listed: list[dict[str, str]]) -> dict[str, Any]:
    known = {s["agentSpaceId"] for s in listed}
    spaces = [s for s in dict.fromkeys(request.GET.getlist("space")) if valid_id(s) and s in known]
    kinds = [k for k in dict.fromkeys(request.GET.getlist("kind")) if k in KIND_LABELS]
    return {"spaces": spaces, "kinds": kinds}


def _query(filters: dict[str, Any]) -> str:
    pairs = [("space", s) for s in filters["spaces"]] + [("kind", k) for k in filters["kinds"]]
    return urlencode(pairs)


@require_GET
@vary_on_headers("HX-Request")
def inbox(request: HttpRequest) -> HttpResponse:
    listed = needs.spaces()
    filters = _filters(request, listed)
    chosen = [s for s in listed if not filters["spaces"] or s["agentSpaceId"] in filters["spaces"]]
    chosen = chosen[:MAX_SPACES]
    results = needs.gather(s["agentSpaceId"] for s in chosen)
    lists: dict[str, list[dict[str, Any]]] = {slot: [] for slot, _, _ in SECTIONS}
    failed: list[dict[str, str]] = []
    names = {s["agentSpaceId"]: s["name"] for s in chosen}
    for space_id, result in results.items():
        if isinstance(result, AwsError):
            failed.append({"name": names.get(space_id) or space_id, "error": result.message})
            continue
        hand_over(live.inbox_key(space_id), result)
        for slot, shown in live.views(space_id, result).items():
            lists[slot].extend(shown)
    sections = []
    for slot, heading, empty in SECTIONS:
        if filters["kinds"] and slot not in filters["kinds"]:
            continue
        items = sorted(lists[slot], key=lambda v: v["sort"])
        # Beside other lists a long one shows its first CAP (CSS: live items keep to it) and
        # a link to itself alone; approvals are never cut.
        capped = slot != "approvals" and len(filters["kinds"]) != 1
        more = _query({**filters, "kinds": [slot]})
        section = {"slot": slot, "heading": heading, "empty": empty, "items": items}
        sections.append({**section, "capped": capped, "more_query": more})
    context = {
        "spaces": listed,
        "chosen": chosen,
        "filters": filters,
        "query": _query(filters),
        "kind_labels": KIND_LABELS,
        "sections": sections,
        "failed": failed,
        "watched": ",".join(s["agentSpaceId"] for s in chosen),
        "live_notices": [live.inbox_notice(s["agentSpaceId"]) for s in chosen],
        "total_items": sum(len(s["items"]) for s in sections),
    }
    if wants_fragment(request):
        return render(request, "inbox/inbox.html#page", context)
    return render(request, "inbox/inbox.html", context)


def hand_over(key: str, items: dict[str, Any]) -> None:
    """Give a live watch what the page shows as its snapshot, unless a poller keeps one: its
    first poll then sends exactly what changed since the page was drawn."""
    try:
        if store.lease_holder(key) is None:
            store.save(key, items)
    except Exception:  # the cache is down: the page still shows; live updates catch up later
        logger.warning("Could not hand the page's items to the live watch of %s", key)
