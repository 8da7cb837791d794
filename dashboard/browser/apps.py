from django.apps import AppConfig


class BrowserConfig(AppConfig):
    name = "dashboard.browser"
    label = "browser"
    verbose_name = "AgentCore browser sessions"

    def ready(self) -> None:
        from dashboard.core import nav

        nav.section_tab(
            "agentcore",
            "Browser sessions",
            "browser:list",
            order=10,
            match=("browser",),
            description=(
                "Cloud browsers the agent drives: start and stop sessions, watch one live, "
                "take control from the agent and give it back."
            ),
        )
