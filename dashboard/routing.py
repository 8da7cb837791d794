"""Websocket routes."""

from django.urls import path

from dashboard.spaces.consumers import SpacesConsumer

websocket_urlpatterns = [
    path("ws/spaces/", SpacesConsumer.as_asgi()),
]
