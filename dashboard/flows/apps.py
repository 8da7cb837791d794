from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "dashboard.flows"
    label = "flows"
    verbose_name = "Flow traces"

    def ready(self) -> None:
        from dashboard.core import nav

        nav.section_tab("agentcore", "Flow traces", "flows:choose", order=60, match=("flows",))
