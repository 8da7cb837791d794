from django.apps import AppConfig


class AgentcoreConfig(AppConfig):
    name = "dashboard.agentcore"
    label = "agentcore"
    verbose_name = "AgentCore"

    def ready(self) -> None:
        from dashboard.core import nav

        from .urls import CODE_VIEWS, MEMORY_VIEWS, RUNTIME_VIEWS

        nav.main_link(
            "AgentCore", "agentcore:index", order=60, match=("agentcore", "flows", "browser")
        )
        nav.section_tab(
            "agentcore", "Memory", "agentcore:memory-choose", order=40, match=MEMORY_VIEWS
        )
        nav.section_tab(
            "agentcore", "Code interpreter", "agentcore:code-list", order=20, match=CODE_VIEWS
        )
        nav.section_tab(
            "agentcore", "Runtime playground", "agentcore:runtime", order=30, match=RUNTIME_VIEWS
        )
        # The stream kinds the pages' websockets relay (registered at import).
        from . import code_runs, runtime_runs  # noqa: F401
