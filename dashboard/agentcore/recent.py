"""What a user opened lately (memories, namespaces, flow executions), kept in their session.

The AgentCore data plane cannot list memories, and flow executions are found by id: the pages
offer what this user opened before so they need not paste ids twice. Entries are plain dicts
of ids; the newest comes first; a few are kept per kind.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

LIMIT = 8
_KEY = "agentcore-recent"


def recent(request: HttpRequest, kind: str) -> list[dict[str, Any]]:
    entries = request.session.get(_KEY, {}).get(kind, [])
    return [e for e in entries if isinstance(e, dict)]


def remember(request: HttpRequest, kind: str, entry: dict[str, Any], *, limit: int = LIMIT) -> None:
    everything = dict(request.session.get(_KEY, {}))
    kept = [e for e in everything.get(kind, []) if e != entry]
    everything[kind] = [entry, *kept][:limit]
    request.session[_KEY] = everything
