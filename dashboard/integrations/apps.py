from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "dashboard.integrations"
    label = "integrations"
    verbose_name = "Services and associations"

    def ready(self) -> None:
        from dashboard.core import nav

        nav.main_link(
            "Services",
            "integrations:services",
            order=20,
            match=(
                "integrations:services",
                "integrations:service",
                "integrations:register",
                "integrations:register-type",
                "integrations:deregister",
                "integrations:oauth-return",
            ),
        )
        nav.space_tab(
            "Associations",
            "integrations:associations",
            order=70,
            match=(
                "integrations:associations",
                "integrations:association",
                "integrations:associate",
                "integrations:associate-service",
                "integrations:association-edit",
                "integrations:disassociate",
            ),
        )
