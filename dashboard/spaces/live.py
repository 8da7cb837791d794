"""Broadcast agent-space changes made through the console to every open list page."""

from __future__ import annotations

import logging
from typing import Any

from django.template.loader import render_to_string

from dashboard import fanout

TOPIC = "spaces"

logger = logging.getLogger(__name__)


def space_changed(kind: str, space_id: str, space: dict[str, Any] | None = None) -> None:
    """`kind` is created, updated or deleted; the row is rendered once, here, for everyone."""
    html = render_to_string(
        "spaces/list.html#live-row", {"space": space, "space_id": space_id, "kind": kind}
    )
    try:
        fanout.publish(TOPIC, {"html": html})
    except Exception:
        # The change is made in AWS already; a Redis that is down (restarting) must not turn
        # that success into an error page. Open pages resync on reconnect.
        logger.exception("Could not broadcast %s of agent space %s", kind, space_id)
