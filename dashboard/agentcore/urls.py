from django.urls import path, register_converter

from . import views, views_code, views_memory, views_runtime
from .converters import ActorIdConverter

register_converter(ActorIdConverter, "agentcore_actor")

app_name = "agentcore"

_SESSION = "memory/<str:memory_id>/actors/<agentcore_actor:actor_id>/sessions/<str:session_id>/"
urlpatterns = [
    path("", views.index, name="index"),
    path("memory/", views_memory.choose, name="memory-choose"),
    path("memory/<str:memory_id>/", views_memory.memory, name="memory"),
    path(
        "memory/<str:memory_id>/events/new/", views_memory.create_event, name="memory-event-create"
    ),
    path("memory/<str:memory_id>/records/", views_memory.records, name="memory-records"),
    path(
        "memory/<str:memory_id>/records/<str:record_id>/",
        views_memory.record,
        name="memory-record",
    ),
    path(
        "memory/<str:memory_id>/records/<str:record_id>/delete/",
        views_memory.delete_record,
        name="memory-record-delete",
    ),
    path("memory/<str:memory_id>/search/", views_memory.search, name="memory-search"),
    path(
        "memory/<str:memory_id>/actors/<agentcore_actor:actor_id>/",
        views_memory.actor,
        name="memory-actor",
    ),
    path(_SESSION, views_memory.session, name="memory-session"),
    path(_SESSION + "events/<str:event_id>/", views_memory.event, name="memory-event"),
    path(
        _SESSION + "events/<str:event_id>/delete/",
        views_memory.delete_event,
        name="memory-event-delete",
    ),
]

_CODE = "code-interpreters/<str:interpreter_id>/sessions/"
urlpatterns += [
    path("code-interpreters/", views_code.session_list, name="code-list"),
    path(_CODE + "new/", views_code.session_start, name="code-start"),
    path(_CODE + "<str:session_id>/", views_code.session_detail, name="code-session"),
    path(_CODE + "<str:session_id>/run/", views_code.session_run, name="code-run"),
    path(_CODE + "<str:session_id>/stop/", views_code.session_stop, name="code-stop"),
    path("runtime/", views_runtime.playground, name="runtime"),
    path("runtime/invoke/", views_runtime.invoke, name="runtime-invoke"),
]

# The pages under the Memory tab (it is marked current on each of them): names "memory*".
MEMORY_VIEWS = tuple(
    f"agentcore:{p.name}" for p in urlpatterns if p.name and p.name.startswith("memory")
)
# The pages under the Code interpreter and Runtime playground tabs.
CODE_VIEWS = tuple(
    f"agentcore:{p.name}" for p in urlpatterns if p.name and p.name.startswith("code-")
)
RUNTIME_VIEWS = ("agentcore:runtime", "agentcore:runtime-invoke")
