from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard.accounts.views import ConsoleLoginView
from dashboard.configuration import urls as configuration_urls
from dashboard.core import csp, views_palette
from dashboard.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path(
        "accounts/login/",
        ConsoleLoginView.as_view(),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("dashboard.accounts.urls")),
    path("csp-report", csp.report, name="csp-report"),
    path("audit/", core_views.audit_log, name="audit-log"),
    path("go/", views_palette.palette, name="palette"),
    path("setup/", core_views.setup, name="setup"),
    path("healthz", core_views.healthz, name="healthz"),
    path("inbox/", include("dashboard.inbox.urls")),
    path("spaces/", include("dashboard.spaces.urls")),
    path("spaces/<str:space_id>/", include("dashboard.tasks.urls")),
    path("agentcore/browsers/", include("dashboard.browser.urls")),
    path("agentcore/flows/", include("dashboard.flows.urls")),
    path("agentcore/", include("dashboard.agentcore.urls")),
    path("private-connections/", include(configuration_urls.private_connections)),
    path("usage/", include(configuration_urls.usage)),
    path("spaces/<str:space_id>/operator-app/", include(configuration_urls.operator_app)),
    path("spaces/<str:space_id>/assets/", include(configuration_urls.assets)),
    path("", include("dashboard.integrations.urls")),
    path("sandbox/", include("dashboard.sandbox.urls")),
    path("spaces/<str:space_id>/", include("dashboard.chat.urls")),
    path("spaces/<str:space_id>/", include("dashboard.prevention.urls")),
]

handler403 = "dashboard.core.views.forbidden"
handler404 = "dashboard.core.views.not_found"
handler500 = "dashboard.core.views.server_error"
