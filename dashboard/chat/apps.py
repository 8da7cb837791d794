from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "dashboard.chat"
    label = "chat"
    verbose_name = "Chat with the agent"

    def ready(self) -> None:
        from dashboard.core import nav

        nav.space_tab("Chat", "chat:list", order=30, match=("chat",))
