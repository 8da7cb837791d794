"""daphne's websocket options that its command line cannot set (applied from dashboard.asgi,
which daphne imports before it builds its websocket factory).

- A message or frame over `WEBSOCKET_MAX_MESSAGE_BYTES` ends the socket with close code 1009
  ("message too big") and a reason. autobahn's server default, failByDrop, instead dropped
  the TCP connection without any close frame, so the page could only guess what happened.
- After that close frame the server waits up to 10 s (autobahn's default: 1 s) for the client
  to answer it: a browser still writing the rest of an 8 MiB message reads the close frame
  only when done, and a connection torn down under it arrives as a reset, not as 1009.
- The limit itself comes from settings, so it agrees with the forms (see settings and
  dashboard/agentcore/checks.py) whatever command line started daphne.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def apply() -> None:
    try:
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:  # not served by daphne
        return
    if getattr(WebSocketFactory, "_console_options", False):
        return
    inherited = WebSocketFactory.setProtocolOptions

    def set_protocol_options(self: Any, *args: Any, **kwargs: Any) -> None:
        limit = settings.WEBSOCKET_MAX_MESSAGE_BYTES
        kwargs["maxMessagePayloadSize"] = limit
        kwargs["maxFramePayloadSize"] = limit
        kwargs["failByDrop"] = False
        kwargs["closeHandshakeTimeout"] = 10
        inherited(self, *args, **kwargs)

    WebSocketFactory.setProtocolOptions = set_protocol_options  # type: ignore[method-assign]
    WebSocketFactory._console_options = True  # type: ignore[attr-defined]
