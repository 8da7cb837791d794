"""ASGI entry point: HTTP through Django, websockets through Channels (signed-in users, own
origin only)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
# Django must be set up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from dashboard.core import daphne_options, warmup  # noqa: E402
from dashboard.routing import websocket_urlpatterns  # noqa: E402
from dashboard.sandbox.browser_streams import route as sandbox_streams  # noqa: E402

# Oversized websocket messages close with 1009 and a reason instead of a dropped connection.
daphne_options.apply()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The sandbox's browser stream endpoints are authorized by SigV4, as AWS's are.
        "websocket": sandbox_streams(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Before serving anyone: the first-use costs a live update would otherwise pay on the event
# loop, and a garbage collector that does not pause every stream of the process.
warmup.warm()
warmup.tune_gc()
