from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dashboard.core"
    label = "core"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import nav, roles

        nav.main_link("Audit log", "audit-log", order=900, role=roles.ADMIN)
