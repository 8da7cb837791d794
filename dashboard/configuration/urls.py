"""URLs of the configuration pages, one namespace per area (the navigation marks its link
current by namespace). dashboard/urls.py mounts them:

    /private-connections/...   private_connections
    /usage/                    usage
    /spaces/<space_id>/operator-app/...   operator_app
    /spaces/<space_id>/assets/...         assets
"""

from django.urls import path

from . import views_assets, views_connections, views_operator_app, views_usage

private_connections = (
    [
        path("", views_connections.connection_list, name="list"),
        path("new/", views_connections.connection_create, name="create"),
        path("<str:name>/", views_connections.connection_detail, name="detail"),
        path(
            "<str:name>/certificate/",
            views_connections.connection_certificate,
            name="certificate",
        ),
        path("<str:name>/delete/", views_connections.connection_delete, name="delete"),
        path("<str:name>/tags/", views_connections.tag_add, name="tag-add"),
        path("<str:name>/tags/remove/", views_connections.tag_remove, name="tag-remove"),
    ],
    "private_connections",
)

usage = ([path("", views_usage.usage, name="usage")], "usage")

operator_app = (
    [
        path("", views_operator_app.operator_app, name="detail"),
        path("idp-secret/", views_operator_app.idp_secret, name="idp-secret"),
        path("<str:flow>/enable/", views_operator_app.enable_flow, name="enable"),
        path("<str:flow>/disable/", views_operator_app.disable_flow, name="disable"),
    ],
    "operator_app",
)

assets = (
    [
        path("", views_assets.asset_list, name="list"),
        path("new/", views_assets.asset_create, name="create"),
        path("<str:asset_id>/", views_assets.asset_detail, name="detail"),
        path("<str:asset_id>/edit/", views_assets.asset_edit, name="edit"),
        path("<str:asset_id>/delete/", views_assets.asset_delete, name="delete"),
        path("<str:asset_id>/content.zip", views_assets.asset_content, name="content"),
        path("<str:asset_id>/file/", views_assets.file_detail, name="file"),
        path("<str:asset_id>/file/download", views_assets.file_download, name="file-download"),
        path("<str:asset_id>/file/new/", views_assets.file_create, name="file-create"),
        path("<str:asset_id>/file/edit/", views_assets.file_edit, name="file-edit"),
        path("<str:asset_id>/file/delete/", views_assets.file_delete, name="file-delete"),
    ],
    "assets",
)
