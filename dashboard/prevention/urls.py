from django.urls import path

from . import views_goals, views_recommendations, views_triggers

app_name = "prevention"
urlpatterns = [
    path(
        "recommendations/",
        views_recommendations.recommendation_list,
        name="recommendations",
    ),
    path(
        "recommendations/for-task/<str:task_id>/",
        views_recommendations.task_links,
        name="task_links",
    ),
    path(
        "recommendations/<str:rec_id>/",
        views_recommendations.recommendation_detail,
        name="recommendation",
    ),
    path(
        "recommendations/<str:rec_id>/status/",
        views_recommendations.change_status,
        name="recommendation_status",
    ),
    path(
        "recommendations/<str:rec_id>/context/",
        views_recommendations.send_back,
        name="recommendation_context",
    ),
    path("goals/", views_goals.goal_list, name="goals"),
    path("goals/<str:goal_id>/", views_goals.goal_detail, name="goal"),
    path("goals/<str:goal_id>/schedule/", views_goals.set_schedule, name="goal_schedule"),
    path("triggers/", views_triggers.trigger_list, name="triggers"),
    path("triggers/new/", views_triggers.trigger_create, name="trigger_create"),
    path("triggers/check/", views_triggers.check_expression, name="trigger_check"),
    path("triggers/<str:trigger_id>/", views_triggers.trigger_detail, name="trigger"),
    path("triggers/<str:trigger_id>/status/", views_triggers.trigger_status, name="trigger_status"),
    path("triggers/<str:trigger_id>/delete/", views_triggers.trigger_delete, name="trigger_delete"),
]
