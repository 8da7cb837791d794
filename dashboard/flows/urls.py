from django.urls import path

from . import views

app_name = "flows"
urlpatterns = [
    path("", views.choose, name="choose"),
    path("<str:flow_id>/", views.flow, name="flow"),
    path(
        "<str:flow_id>/aliases/<str:alias_id>/executions/<str:execution_id>/",
        views.trace,
        name="trace",
    ),
]
