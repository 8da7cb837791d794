"""The websockets of the live prevention pages (the watches are in `live.py`).

- ws/spaces/<space_id>/recommendations/ and .../recommendations/<id>/
- ws/spaces/<space_id>/goals/ and .../goals/<id>/
- ws/spaces/<space_id>/triggers/ and .../triggers/<id>/

Signed-in users only (4401); ids no AWS resource can have are refused (4404) before anything
is polled. They catch up like the triage pages: when a key had no baseline yet, the page is
told to re-render once the first poll has taken it (dashboard/tasks/consumers.py).
"""

from __future__ import annotations

from django.urls import path

from dashboard.live.consumers import BAD_KEY
from dashboard.tasks.consumers import CatchUpConsumer

from . import live  # noqa: F401 - registers the watches
from .forms import valid_id


class _ResourceConsumer(CatchUpConsumer):
    """One resource of a space: its id (the route's `id_kwarg`) must be a valid ResourceId."""

    id_kwarg = ""

    async def connect(self) -> None:
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        user = self.scope.get("user")
        if (
            user is not None
            and user.is_authenticated
            and not valid_id(str(kwargs.get(self.id_kwarg, "")))
        ):
            await self.close(code=BAD_KEY)
            return
        await super().connect()


class RecommendationsConsumer(CatchUpConsumer):
    key_templates = ("recs:{space_id}",)


class RecommendationConsumer(_ResourceConsumer):
    key_templates = ("rec:{space_id}:{rec_id}",)
    id_kwarg = "rec_id"


class GoalsConsumer(CatchUpConsumer):
    key_templates = ("goals:{space_id}",)


class GoalConsumer(_ResourceConsumer):
    key_templates = ("goal:{space_id}:{goal_id}",)
    id_kwarg = "goal_id"


class TriggersConsumer(CatchUpConsumer):
    key_templates = ("triggers:{space_id}",)


class TriggerConsumer(_ResourceConsumer):
    key_templates = ("trigger:{space_id}:{trigger_id}",)
    id_kwarg = "trigger_id"


websocket_urlpatterns = [
    path("ws/spaces/<str:space_id>/recommendations/", RecommendationsConsumer.as_asgi()),
    path(
        "ws/spaces/<str:space_id>/recommendations/<str:rec_id>/",
        RecommendationConsumer.as_asgi(),
    ),
    path("ws/spaces/<str:space_id>/goals/", GoalsConsumer.as_asgi()),
    path("ws/spaces/<str:space_id>/goals/<str:goal_id>/", GoalConsumer.as_asgi()),
    path("ws/spaces/<str:space_id>/triggers/", TriggersConsumer.as_asgi()),
    path("ws/spaces/<str:space_id>/triggers/<str:trigger_id>/", TriggerConsumer.as_asgi()),
]
