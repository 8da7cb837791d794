from django.urls import path

from . import views

app_name = "spaces"
urlpatterns = [
    path("", views.space_list, name="list"),
    path("new/", views.space_create, name="create"),
    path("<str:space_id>/", views.space_detail, name="detail"),
    path("<str:space_id>/edit/", views.space_edit, name="edit"),
    path("<str:space_id>/delete/", views.space_delete, name="delete"),
    path("<str:space_id>/tags/", views.tag_add, name="tag-add"),
    path("<str:space_id>/tags/remove/", views.tag_remove, name="tag-remove"),
]
