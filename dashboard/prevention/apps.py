from django.apps import AppConfig


class PreventionConfig(AppConfig):
    name = "dashboard.prevention"
    label = "prevention"
    verbose_name = "Prevention"

    def ready(self) -> None:
        from dashboard.core import nav

        recs = ("recommendations", "recommendation", "recommendation_status")
        nav.space_tab(
            "Recommendations",
            "prevention:recommendations",
            order=40,
            match=(*(f"prevention:{n}" for n in recs), "prevention:recommendation_context"),
        )
        nav.space_tab(
            "Goals",
            "prevention:goals",
            order=50,
            match=("prevention:goals", "prevention:goal", "prevention:goal_schedule"),
        )
        triggers = ("triggers", "trigger", "trigger_create", "trigger_status", "trigger_delete")
        nav.space_tab(
            "Triggers",
            "prevention:triggers",
            order=60,
            match=tuple(f"prevention:{n}" for n in triggers),
        )
