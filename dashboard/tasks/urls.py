from django.urls import path

from . import saved_views, views_board, views_report, views_support, views_task

app_name = "tasks"
urlpatterns = [
    path("tasks/", views_board.board, name="board"),
    path("tasks/export.<str:fmt>", views_board.export, name="export"),
    path("tasks/bulk/", views_board.bulk_status, name="bulk"),
    path("tasks/new/", views_task.create, name="create"),
    # Before tasks/<task_id>/: saved views of the board (dashboard/tasks/saved_views.py).
    path("tasks/views/", saved_views.save, name="view-save"),
    path("tasks/views/<str:token>/delete/", saved_views.delete, name="view-delete"),
    path("tasks/<str:task_id>/", views_task.detail, name="detail"),
    path("tasks/<str:task_id>/status/", views_task.change_status, name="status"),
    path("tasks/<str:task_id>/report/", views_report.report, name="report"),
    path("tasks/<str:task_id>/report.md", views_report.report_markdown, name="report-md"),
    path(
        "tasks/<str:task_id>/executions/<str:execution_id>/journal/",
        views_task.journal,
        name="journal",
    ),
    path("approvals/<str:approval_id>/", views_task.answer_approval, name="approval"),
    path("tasks/<str:task_id>/support/", views_support.page, name="support"),
    path("tasks/<str:task_id>/support/card/", views_support.card, name="support-card"),
    path("tasks/<str:task_id>/support/escalate/", views_support.escalate, name="support-escalate"),
    path("tasks/<str:task_id>/support/messages/", views_support.send, name="support-send"),
    path("tasks/<str:task_id>/support/end/", views_support.end, name="support-end"),
]
