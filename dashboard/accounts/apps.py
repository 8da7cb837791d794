from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dashboard.accounts"
    label = "accounts"
    verbose_name = "Users and sign-in"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dashboard.core import nav, roles

        from . import signals  # noqa: F401  (sign-ins, failures and lockouts in the audit log)

        nav.main_link("Users", "accounts:users", order=890, role=roles.ADMIN, match=("accounts",))
