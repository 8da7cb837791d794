from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "dashboard.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox emulator"
    default_auto_field = "django.db.models.BigAutoField"
