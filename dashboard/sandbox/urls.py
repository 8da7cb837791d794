from django.urls import path

from . import oauth

app_name = "sandbox"
urlpatterns = [
    path("oauth/authorize/<str:flow_id>/", oauth.authorize, name="oauth-authorize"),
]
