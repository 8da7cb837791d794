"""Broadcast agent-space changes made through the console to every open list page."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string

GROUP = "spaces"


def space_changed(kind: str, space_id: str, space: dict[str, Any] | None = None) -> None:
    """`kind` is created, updated or deleted; the row is rendered once, here, for everyone."""
    html = render_to_string(
        "spaces/list.html#live-row", {"space": space, "space_id": space_id, "kind": kind}
    )
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(GROUP, {"type": "space.changed", "html": html})
