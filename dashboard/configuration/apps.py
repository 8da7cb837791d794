from django.apps import AppConfig


class ConfigurationConfig(AppConfig):
    name = "dashboard.configuration"
    label = "configuration"
    verbose_name = "Configuration"

    def ready(self) -> None:
        from dashboard.core import nav

        nav.main_link(
            "Private connections",
            "private_connections:list",
            order=30,
            match=("private_connections",),
        )
        nav.main_link("Usage", "usage:usage", order=40, match=("usage",))
        nav.space_tab("Operator App", "operator_app:detail", order=80, match=("operator_app",))
        nav.space_tab("Assets", "assets:list", order=90, match=("assets",))
