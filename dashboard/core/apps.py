from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dashboard.core"
    label = "core"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import nav, palette, roles

        nav.main_link("Audit log", "audit-log", order=900, role=roles.ADMIN)
        # The inbox (what needs you across every space) is the page after sign-in, not a top-bar
        # link: offered in the palette by name once its app is installed (the palette skips a
        # page whose URL does not resolve).
        palette.page("Inbox", "inbox:inbox", keywords="needs me approvals")
