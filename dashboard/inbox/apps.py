from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "dashboard.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        # The watches register at import; consumers and views import them anyway.
        from . import live  # noqa: F401
