"""What the processes share through the Django cache: who polls a key (the lease) and what
was last seen of it (the snapshot). Blocking calls; the poller runs them in a thread.

Everything goes through the plain cache API so locmem (one process) and Redis (many) behave
alike. Django's Redis cache counts timeouts in whole seconds (it truncates, and 0 deletes the
key), so every timeout here is rounded up to at least one second.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypedDict

from django.conf import settings
from django.core.cache import cache


class State(TypedDict):
    """The stored snapshot of one key."""

    # None until a fetch succeeds (the first polls may fail, and the notice must still clear).
    items: dict[str, Any] | None
    # The "live updates delayed" message pages are showing now, so whoever polls next (this
    # process or a new leader) knows to clear it.
    delayed: str | None


def seconds(value: float) -> int:
    return max(1, math.ceil(value))


def snapshot_ttl() -> int:
    # Long enough to outlive a leader handover; when it has expired (nobody watched for a
    # while) the next poll takes a silent baseline instead of diffing against old news.
    return seconds(getattr(settings, "LIVE_SNAPSHOT_TTL", 600.0))


def _lease(key: str) -> str:
    return f"live:lease:{key}"


def _snapshot(key: str) -> str:
    return f"live:snapshot:{key}"


def claim_lease(key: str, token: str, ttl: int) -> bool:
    """Take the lease on `key` for `ttl` seconds, or renew it if `token` holds it already."""
    lease = _lease(key)
    if cache.add(lease, token, ttl):
        return True
    if cache.get(lease) != token:
        return False
    if cache.touch(lease, ttl):
        return True
    # It expired between get and touch: claim it afresh like anyone else.
    return cache.add(lease, token, ttl)


def release_lease(key: str, token: str) -> None:
    """Give the lease up (if still ours) so a standby takes over at its next tick."""
    lease = _lease(key)
    if cache.get(lease) == token:
        cache.delete(lease)


def lease_holder(key: str) -> str | None:
    return cache.get(_lease(key))


def load(key: str) -> State | None:
    return cache.get(_snapshot(key))


def save(key: str, items: Mapping[str, Any] | None, delayed: str | None = None) -> None:
    stored = None if items is None else dict(items)
    cache.set(_snapshot(key), State(items=stored, delayed=delayed), snapshot_ttl())


def touch(key: str) -> None:
    cache.touch(_snapshot(key), snapshot_ttl())


def mark_delayed(key: str, message: str) -> None:
    """Remember that pages show the delayed notice, and keep the snapshot through the outage."""
    state = load(key)
    if state is None or state["delayed"] != message:
        save(key, None if state is None else state["items"], message)
    else:
        touch(key)


def merge(key: str, items: Mapping[str, Any]) -> bool:
    """Record items changed through the console (None = deleted) in the stored snapshot.

    Only when a snapshot exists: a snapshot made of these items alone would make the poller
    announce every other item as created. Returns whether it was recorded.
    """
    state = load(key)
    if state is None or state["items"] is None:
        return False
    merged = dict(state["items"])
    for item_id, item in items.items():
        if item is None:
            merged.pop(item_id, None)
        else:
            merged[item_id] = item
    save(key, merged, state["delayed"])
    return True
