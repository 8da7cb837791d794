from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "dashboard.flows"
    label = "flows"
    verbose_name = "Flow traces"

    def ready(self) -> None:
        from dashboard.core import nav

        nav.section_tab(
            "agentcore",
            "Flow traces",
            "flows:choose",
            order=60,
            match=("flows",),
            description=(
                "Bedrock Flows execution traces: inputs and outputs of every node, conditions, "
                "actions, agent traces with guardrail interventions, failures."
            ),
        )
