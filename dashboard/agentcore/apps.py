from django.apps import AppConfig


class AgentcoreConfig(AppConfig):
    name = "dashboard.agentcore"
    label = "agentcore"
    verbose_name = "AgentCore"

    def ready(self) -> None:
        from dashboard.core import nav

        from . import checks  # noqa: F401  (the forms' limits fit the transport limits)
        from .urls import CODE_VIEWS, MEMORY_VIEWS, RUNTIME_VIEWS

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
        nav.section_tab(
            "agentcore",
            "Code interpreter",
            "agentcore:code-list",
            order=20,
            match=CODE_VIEWS,
            description=(
                "Code interpreter sessions: run code, shell commands and file tools in a "
                "session and watch the output stream in."
            ),
        )
        nav.section_tab(
            "agentcore",
            "Runtime playground",
            "agentcore:runtime",
            order=30,
            match=RUNTIME_VIEWS,
            description=(
                "Invoke an agent runtime with a payload and watch its answer stream in, in a "
                "runtime session you can share."
            ),
        )
        # The stream kinds the pages' websockets relay (registered at import).
        from . import code_runs, runtime_runs  # noqa: F401
