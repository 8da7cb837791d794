"""What can be watched: a named kind of resource, how to fetch it and how to render a change.

A key names one watched resource: the watch's name, then its parts, joined by ":" — for
example "board:<spaceId>" or "journal:<spaceId>:<executionId>". The watch's `fetch` is called
with the parts ("board:abc" → `fetch("abc")`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["created", "updated", "deleted"]
CREATED: Kind = "created"
UPDATED: Kind = "updated"
DELETED: Kind = "deleted"


@dataclass(frozen=True)
class Change:
    """One item that differs between two snapshots of a watched resource."""

    key: str
    kind: Kind
    item_id: str
    # The item as fetched now; None when deleted.
    item: Any
    # The item as last seen; None when created, and always None for changes published by a
    # view (the view does not know what the pages showed before).
    previous: Any = None


# Blocking (calls AWS through dashboard.aws): returns item id → comparable snapshot.
Fetch = Callable[..., Mapping[str, Any]]
# Pure (no database, no AWS): one change → an HTML fragment with hx-swap-oob.
Render = Callable[[Change], str]


@dataclass(frozen=True)
class Watch:
    name: str
    fetch: Fetch
    render: Render


# Every watch this process knows, by name. Modules that define a live page register theirs at
# import time (the consumer and the views of that page import the module).
WATCHES: dict[str, Watch] = {}

_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")


def register(name: str, *, fetch: Fetch, render: Render) -> Watch:
    """Define the watch `name` (the first part of its keys) for this process."""
    if not _NAME.match(name):
        raise ValueError(f"A watch name is lower-case letters, digits, - and _, not {name!r}")
    watch = Watch(name=name, fetch=fetch, render=render)
    WATCHES[name] = watch
    return watch


def make_key(name: str, *parts: str) -> str:
    """The key for one resource of watch `name`, e.g. make_key("board", space_id)."""
    for part in parts:
        if not part or ":" in part:
            raise ValueError(f"A key part must be non-empty and without ':', not {part!r}")
    return ":".join((name, *parts))


def split_key(key: str) -> tuple[str, list[str]]:
    """("board", ["abc"]) for "board:abc"."""
    name, *parts = key.split(":")
    return name, parts


def topic(key: str) -> str:
    """The fan-out topic of everyone watching `key`."""
    return "l:" + key


def diff(key: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """The changes from `old` to `new`: created and updated in `new`'s order, then deleted."""
    changes: list[Change] = []
    for item_id, item in new.items():
        if item_id not in old:
            changes.append(Change(key, CREATED, item_id, item, None))
        elif old[item_id] != item:
            changes.append(Change(key, UPDATED, item_id, item, old[item_id]))
    for item_id, item in old.items():
        if item_id not in new:
            changes.append(Change(key, DELETED, item_id, None, item))
    return changes
