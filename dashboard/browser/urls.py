from django.urls import path

from . import views

app_name = "browser"
_SESSION = "<str:browser_id>/sessions/<str:session_id>/"
urlpatterns = [
    path("", views.session_list, name="list"),
    path("dcv-sdk/<path:path>", views.dcv_sdk, name="dcv-sdk"),
    path("<str:browser_id>/sessions/new/", views.session_start, name="start"),
    path(_SESSION, views.session_detail, name="detail"),
    path(_SESSION + "control/", views.session_control, name="control"),
    path(_SESSION + "stop/", views.session_stop, name="stop"),
]
