from django.urls import path

from . import views

app_name = "chat"
urlpatterns = [
    path("chat/", views.chat_list, name="list"),
    path("chat/new/", views.create, name="create"),
    path("chat/<str:chat_id>/", views.detail, name="detail"),
    path("chat/<str:chat_id>/send/", views.send, name="send"),
    path("chat/<str:chat_id>/rename/", views.rename, name="rename"),
    path("chat/<str:chat_id>/archive/", views.archive, name="archive"),
]
