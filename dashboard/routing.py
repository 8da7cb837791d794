"""Websocket routes."""

from django.urls import path

from dashboard.prevention import consumers as prevention
from dashboard.spaces.consumers import SpacesConsumer
from dashboard.tasks.consumers import BoardConsumer, TaskConsumer

websocket_urlpatterns = [
    path("ws/spaces/", SpacesConsumer.as_asgi()),
    path("ws/spaces/<str:space_id>/board/", BoardConsumer.as_asgi()),
    path("ws/spaces/<str:space_id>/tasks/<str:task_id>/", TaskConsumer.as_asgi()),
    *prevention.websocket_urlpatterns,
]
