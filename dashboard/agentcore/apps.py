from django.apps import AppConfig


class AgentcoreConfig(AppConfig):
    name = "dashboard.agentcore"
    label = "agentcore"
    verbose_name = "AgentCore"

    def ready(self) -> None:
        from dashboard.core import nav

        from .urls import MEMORY_VIEWS

        nav.main_link(
            "AgentCore", "agentcore:index", order=60, match=("agentcore", "flows", "browser")
        )
        nav.section_tab(
            "agentcore",
            "Memory",
            "agentcore:memory-choose",
            order=40,
            match=MEMORY_VIEWS,
            description=(
                "Agent memory: actors, sessions and their conversations (with branches), "
                "long-term records by namespace, and search by relevance."
            ),
        )
