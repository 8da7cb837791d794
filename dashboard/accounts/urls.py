from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/sso/login/", views.sso_login, name="sso-login"),
    path("accounts/sso/callback/", views.sso_callback, name="sso-callback"),
    path("users/", views.users, name="users"),
    path("users/new/", views.user_create, name="create"),
    path("users/unlock/", views.unlock, name="unlock"),
    path("users/<int:user_id>/role/", views.user_role, name="role"),
    path("users/<int:user_id>/deactivate/", views.user_deactivate, name="deactivate"),
    path("users/<int:user_id>/reactivate/", views.user_reactivate, name="reactivate"),
    path("users/<int:user_id>/sign-out/", views.user_sign_out, name="sign-out"),
]
