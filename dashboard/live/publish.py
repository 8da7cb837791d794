"""Broadcast on write: views push changes made through the console at once.

`publish_change` is the one to use: it renders the change with the watch's own render (the
same fragment the poller would send), records it in the stored snapshot first so the poller
does not send it again, then publishes. Racing a poll that is diffing at that very moment can
still produce one duplicate fragment, never a lost one; out-of-band swaps by element id make
a duplicate harmless (a page that appends "created" rows should drop repeated ids, as the
spaces list does). If the item passed differs in shape from what the watch's fetch returns,
the next poll sends it once more as "updated" — harmless too, but pass the fetch's shape.

Both functions are sync (for views) and never raise: the change is made in AWS already, and a
Redis that is down must not turn that success into an error page. Pages resync on reconnect.
They reuse the process's long-lived connections (dashboard.fanout): no event loop or connection
pool per call. From async code use `apublish`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dashboard import fanout

from . import store
from .fragments import message
from .watch import DELETED, WATCHES, Change, Kind, Watch, split_key, topic

logger = logging.getLogger(__name__)


def publish(key: str, html: str) -> None:
    """Send `html` (out-of-band fragments) to every socket watching `key` now."""
    try:
        fanout.publish(topic(key), message(html))
    except Exception:
        logger.exception("Could not publish a live update of %s", key)


async def apublish(key: str, html: str) -> None:
    """`publish` for async code."""
    try:
        await fanout.apublish(topic(key), message(html))
    except Exception:
        logger.exception("Could not publish a live update of %s", key)


def publish_change(
    key: str,
    kind: Kind,
    item_id: str,
    item: Any = None,
    *,
    watches: Mapping[str, Watch] | None = None,
) -> None:
    """Render, record and publish one change made through the console (item None if deleted)."""
    try:
        name, _ = split_key(key)
        watch = (WATCHES if watches is None else watches)[name]
        if kind == DELETED:
            item = None
        html = watch.render(Change(key, kind, item_id, item, None))
        store.merge(key, {item_id: item})
    except Exception:
        logger.exception("Could not record a live %s of %s in %s", kind, item_id, key)
        return
    publish(key, html)
