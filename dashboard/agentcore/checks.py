"""System check: the largest code or payload the forms accept must fit both ways it travels,
a websocket message (JSON, up to 6 bytes a character) and a form post without JavaScript
(percent-encoded UTF-8, up to 12 bytes a character). Otherwise a form the page accepted
would be refused on the way (a closed socket, a bare Bad Request)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

# Room for the other fields of the form, htmx's HEADERS and the JSON around them.
ENVELOPE = 64 * 1024


def largest_input() -> int:
    from .forms_code import MAX_INPUT
    from .forms_runtime import MAX_PAYLOAD

    return max(MAX_INPUT, MAX_PAYLOAD)


@checks.register()
def form_limits_fit(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    chars = largest_input()
    problems = []
    need_ws = 6 * chars + ENVELOPE
    if settings.WEBSOCKET_MAX_MESSAGE_BYTES < need_ws:
        problems.append(
            checks.Error(
                f"WEBSOCKET_MAX_MESSAGE_BYTES is {settings.WEBSOCKET_MAX_MESSAGE_BYTES}: code "
                f"or a payload of {chars:,} characters needs up to {need_ws} bytes over the "
                "page's websocket.",
                hint=f"Set WEBSOCKET_MAX_MESSAGE_BYTES to at least {need_ws}.",
                id="agentcore.E001",
            )
        )
    need_post = 12 * chars + ENVELOPE
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE < need_post:
        problems.append(
            checks.Error(
                f"DATA_UPLOAD_MAX_MEMORY_SIZE is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE}: code or "
                f"a payload of {chars:,} characters posted without JavaScript needs up to "
                f"{need_post} bytes.",
                hint=f"Set DATA_UPLOAD_MAX_MEMORY_SIZE to at least {need_post}.",
                id="agentcore.E002",
            )
        )
    return problems
