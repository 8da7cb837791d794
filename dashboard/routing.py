"""Websocket routes."""

from django.urls import path

from dashboard.agentcore.consumers import CodeSessionConsumer, RuntimeConsumer
from dashboard.browser.consumers import BrowserSessionConsumer
from dashboard.chat.consumers import ChatConsumer
from dashboard.configuration.consumers import (
    PrivateConnectionConsumer,
    PrivateConnectionsConsumer,
)
from dashboard.inbox.consumers import InboxConsumer, NeedsConsumer, OverviewConsumer
from dashboard.prevention import consumers as prevention
from dashboard.spaces.consumers import SpacesConsumer
from dashboard.tasks.consumers import BoardConsumer, TaskConsumer

websocket_urlpatterns = [
    path("ws/spaces/", SpacesConsumer.as_asgi()),
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/needs/", NeedsConsumer.as_asgi()),
    path("ws/spaces/<str:space_id>/overview/", OverviewConsumer.as_asgi()),
    path("ws/spaces/<str:space_id>/board/", BoardConsumer.as_asgi()),
    path("ws/spaces/<str:space_id>/tasks/<str:task_id>/", TaskConsumer.as_asgi()),
    path(
        "ws/agentcore/browsers/<str:browser_id>/sessions/<str:session_id>/",
        BrowserSessionConsumer.as_asgi(),
    ),
    path(
        "ws/agentcore/code-interpreters/<str:interpreter_id>/sessions/<str:session_id>/",
        CodeSessionConsumer.as_asgi(),
    ),
    path("ws/agentcore/runtime/<str:digest>/", RuntimeConsumer.as_asgi()),
    path("ws/private-connections/", PrivateConnectionsConsumer.as_asgi()),
    path("ws/private-connections/<str:name>/", PrivateConnectionConsumer.as_asgi()),
    path("ws/spaces/<str:space_id>/chat/<str:chat_id>/", ChatConsumer.as_asgi()),
    *prevention.websocket_urlpatterns,
]
