"""Live updates of AWS resources: watchers that poll once per watched key, cluster-wide, and
push changed items to every open page as out-of-band HTML fragments.

To make a page live:

1. Register a watch (at import of the page's module):
   `register("board", fetch=fetch_board, render=render_task)` — `fetch(space_id)` is blocking,
   calls dashboard.aws and returns {item_id: comparable snapshot}; `render(change)` returns the
   fragment for one created/updated/deleted item, with hx-swap-oob and a stable element id.
2. Route a `LiveConsumer` subclass with `key_templates = ("board:{space_id}",)`.
3. In the page: `hx-ext="ws" ws-connect=...`, `status_placeholder(key)` for the delayed notice,
   and a live region that re-renders itself on `console:resync` (delivery is at-most-once).
4. In views that change the resource: `publish_change(key, "updated", task_id, task)`.

Settings: LIVE_POLL_INTERVAL (5 s), LIVE_POLL_MAX_INTERVAL (60 s, the backoff cap),
LIVE_SNAPSHOT_TTL (600 s). Leases and snapshots live in the default cache, fragments travel
through dashboard.fanout (Redis pub/sub with REDIS_URL): both must be Redis when more than one
process serves.
"""

from .consumers import LiveConsumer
from .fragments import status_fragment, status_placeholder
from .publish import apublish, publish, publish_change
from .registry import Registry, default_registry
from .watch import CREATED, DELETED, UPDATED, Change, Watch, make_key, register

__all__ = [
    "CREATED",
    "DELETED",
    "UPDATED",
    "Change",
    "LiveConsumer",
    "Registry",
    "Watch",
    "apublish",
    "default_registry",
    "make_key",
    "publish",
    "publish_change",
    "register",
    "status_fragment",
    "status_placeholder",
]
