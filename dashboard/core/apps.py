from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dashboard.core"
    label = "core"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"
