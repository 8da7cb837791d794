"""The command palette: jump to any agent space, task (by title), chat, recommendation or page,
and run common actions (new task, new chat), by a forgiving match of what is typed.

`search(request, query, space_id)` answers the palette (static/js/palette.js opens it with
Ctrl/Cmd+K or the top bar's "Go to…"; without JavaScript the same link is a search page).

What it searches:
- pages: the top bar's links, AgentCore's tabs and every agent space's tabs (dashboard/core/nav),
  plus any page an app adds with `page()` (e.g. an inbox that is not in the top bar);
- actions: new task and new chat in the space the user is in (first) and in every space, for
  operators;
- records: agent spaces (ListAgentSpaces), and per space its newest tasks (one
  ListBacklogTasks of up to `TASKS_PER_SPACE`), its chats (one ListChats page) and its
  recommendations (one ListRecommendations page). Those lists are kept in the cache for
  `CACHE_SECONDS` and shared by every user, so typing costs no AWS call; a space whose list
  AWS refuses is left out with a note (and asked again after `RETRY_SECONDS`).

Matching: every word typed must appear in the entry's label or context, in order within the
word but with gaps allowed ("chk web" finds "Checkout web"); whole words and word starts rank
higher, then the space the user is in, then the kind (pages and actions before records).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import regex
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from dashboard.aws import chat as aws_chat
from dashboard.aws import errors
from dashboard.aws import prevention as aws_prevention
from dashboard.aws import spaces as aws_spaces
from dashboard.aws import tasks as aws_tasks

from . import nav, roles


def _words(value: str) -> str:
    """PENDING_TRIAGE → Pending triage."""
    return value.replace("_", " ").capitalize()


logger = logging.getLogger(__name__)

CACHE_SECONDS = 60
RETRY_SECONDS = 15  # a space's lists that AWS partly refused are asked again after this
TASKS_PER_SPACE = 1000  # one ListBacklogTasks call (the API's largest page), newest first
RECOMMENDATIONS_PER_SPACE = 100
LIMIT = 12  # results shown
MAX_QUERY = 200

SECTION_NAMES = {"agentcore": "AgentCore"}
# Kinds, in the order they rank when scores tie.
KINDS = ("action", "page", "space", "task", "chat", "recommendation")
KIND_LABELS = {
    "action": "Action",
    "page": "Page",
    "space": "Agent space",
    "task": "Task",
    "chat": "Chat",
    "recommendation": "Recommendation",
}


@dataclass(frozen=True)
class Entry:
    kind: str
    label: str
    url: str
    context: str = ""  # where it belongs, e.g. the agent space's name
    space_id: str = ""
    post: bool = False  # an action that changes something: sent as a form post

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class ExtraPage:
    label: str
    url_name: str
    role: str
    keywords: str


# Pages an app adds that are not in the top bar or a set of tabs (registered in ready()).
EXTRA_PAGES: list[ExtraPage] = []


def page(label: str, url_name: str, *, role: str = roles.VIEWER, keywords: str = "") -> None:
    """Offer a page without arguments in the palette (the top bar's links are offered already)."""
    EXTRA_PAGES[:] = [p for p in EXTRA_PAGES if p.url_name != url_name]
    EXTRA_PAGES.append(ExtraPage(label, url_name, role, keywords))


# --- what there is ----------------------------------------------------------------------------


def _spaces() -> list[dict[str, str]]:
    key = "palette:spaces"
    found = cache.get(key)
    if found is None:
        found = [
            {"id": s["agentSpaceId"], "name": s.get("name") or s["agentSpaceId"]}
            for s in aws_spaces.all_spaces()
        ]
        cache.set(key, found, CACHE_SECONDS)
    return found


def _records(space: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
    """Tasks, chats and recommendations of one space as entry dicts, and a note if some are
    missing (an AWS refusal is said, not raised: the rest of the palette still works)."""
    key = f"palette:space:{space['id']}"
    found = cache.get(key)
    if found is not None:
        return found
    space_id, name = space["id"], space["name"]
    out: list[dict[str, Any]] = []
    notes: list[str] = []
    try:
        page_ = aws_tasks.list_tasks(space_id, limit=TASKS_PER_SPACE)
        for task in page_["tasks"]:
            url = reverse("tasks:detail", args=[space_id, task["taskId"]])
            title = task.get("title") or task["taskId"]
            where = f"{name} · {_words(task.get('status', ''))}"
            out.append(asdict(Entry("task", title, url, where, space_id)))
    except errors.AwsError as exc:
        notes.append(f"tasks of {name}: {exc.message}")
    try:
        for chat in aws_chat.list_chats(space_id)["chats"]:
            url = reverse("chat:detail", args=[space_id, chat["executionId"]])
            label = chat.get("summary") or "Untitled chat"
            out.append(asdict(Entry("chat", label, url, name, space_id)))
    except errors.AwsError as exc:
        notes.append(f"chats of {name}: {exc.message}")
    try:
        recs = aws_prevention.list_recommendations(space_id, limit=RECOMMENDATIONS_PER_SPACE)
        for rec in recs["recommendations"]:
            url = reverse("prevention:recommendation", args=[space_id, rec["recommendationId"]])
            label = rec.get("title") or rec["recommendationId"]
            out.append(asdict(Entry("recommendation", label, url, name, space_id)))
    except errors.AwsError as exc:
        notes.append(f"recommendations of {name}: {exc.message}")
    note = "; ".join(notes)
    # Kept even when AWS refused a part (a missing IAM permission stays missing): briefly, so
    # typing does not ask again for every space at each keystroke.
    cache.set(key, (out, note), RETRY_SECONDS if notes else CACHE_SECONDS)
    return out, note


def forget(space_id: str = "") -> None:
    """Drop what the palette keeps (after a change it should show at once)."""
    cache.delete("palette:spaces")
    if space_id:
        cache.delete(f"palette:space:{space_id}")


def _pages(request: HttpRequest, spaces: list[dict[str, str]]) -> list[Entry]:
    out = [Entry("page", e["label"], e["url"]) for e in nav.main_entries(request)]
    user = request.user
    for extra in EXTRA_PAGES:
        if not roles.has_role(user, extra.role):
            continue
        try:
            url = reverse(extra.url_name)
        except NoReverseMatch:
            continue
        out.append(Entry("page", extra.label, url, extra.keywords))
    for section in nav.SECTIONS:
        name = SECTION_NAMES.get(section, section.capitalize())
        for e in nav.section_entries(request, section):
            out.append(Entry("page", e["label"], e["url"], name))
    for space in spaces:
        for e in nav.space_entries(request, space["id"]):
            out.append(Entry("page", e["label"], e["url"], space["name"], space["id"]))
    return out


def _actions(request: HttpRequest, spaces: list[dict[str, str]]) -> list[Entry]:
    if not roles.has_role(request.user, roles.OPERATOR):
        return []
    out = []
    for space in spaces:
        out.append(
            Entry(
                "action",
                "New task",
                reverse("tasks:create", args=[space["id"]]),
                space["name"],
                space["id"],
            )
        )
        out.append(
            Entry(
                "action",
                "New chat",
                reverse("chat:create", args=[space["id"]]),
                space["name"],
                space["id"],
                post=True,
            )
        )
    return out


# --- matching ---------------------------------------------------------------------------------

_WORD = regex.compile(r"\w+")


def _word_score(word: str, text: str) -> float:
    """How well one typed word matches `text` (both lower case); 0 when it does not."""
    at = text.find(word)
    if at >= 0:
        start = at == 0 or not text[at - 1].isalnum()
        end = at + len(word) == len(text) or not text[at + len(word)].isalnum()
        return 3.0 + (2.0 if start else 0.0) + (1.0 if start and end else 0.0)
    # Letters in order with gaps: each gap costs a little, a match at a word start earns.
    score, pos = 1.0, 0
    for char in word:
        found = text.find(char, pos)
        if found < 0:
            return 0.0
        if found > pos:
            score -= 0.05 * min(found - pos, 10)
        if found == 0 or not text[found - 1].isalnum():
            score += 0.3
        pos = found + 1
    return max(score, 0.1)


def score(query: str, entry: Entry) -> float:
    """0 when some word of `query` is not in the entry; higher is a better match."""
    words = _WORD.findall(query.lower())
    if not words:
        return 0.0
    label = entry.label.lower()
    context = f"{entry.context} {KIND_LABELS[entry.kind]}".lower()
    total = 0.0
    for word in words:
        best = max(_word_score(word, label) * 1.5, _word_score(word, context))
        if not best:
            return 0.0
        total += best
    return total


def search(request: HttpRequest, query: str, space_id: str = "") -> dict[str, Any]:
    """What the palette shows for `query`: {"results": [Entry...], "note": str}."""
    query = query.strip()[:MAX_QUERY]
    notes: list[str] = []
    try:
        spaces = _spaces()
    except errors.AwsError as exc:
        spaces, notes = [], [f"agent spaces: {exc.message}"]
    here = next((s for s in spaces if s["id"] == space_id), None)
    # The space the user is in first, so its entries win ties.
    ordered = ([here] if here else []) + [s for s in spaces if s is not here]
    entries = _actions(request, ordered) + _pages(request, ordered)
    entries += [
        Entry("space", s["name"], reverse("spaces:detail", args=[s["id"]])) for s in ordered
    ]
    if not query:
        # Nothing typed yet: what is at hand here (this space's actions and tabs), then spaces.
        near = [e for e in entries if here and e.space_id == here["id"]]
        rest = [e for e in entries if e.kind in ("page", "space") and not e.space_id]
        return {"results": (near + rest)[:LIMIT], "note": "", "query": query}
    for space in ordered:
        records, note = _records(space)
        entries += [Entry(**r) for r in records]
        if note:
            notes.append(note)
    rank = {kind: i for i, kind in enumerate(KINDS)}
    scored = []
    for i, entry in enumerate(entries):
        value = score(query, entry)
        if value:
            if here and entry.space_id == here["id"]:
                value += 0.5
            scored.append((-value, rank[entry.kind], i, entry))
    scored.sort(key=lambda item: item[:3])
    note = ("Not searched: " + "; ".join(notes)) if notes else ""
    return {"results": [item[3] for item in scored[:LIMIT]], "note": note, "query": query}
