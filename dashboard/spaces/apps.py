from django.apps import AppConfig


class SpacesConfig(AppConfig):
    name = "dashboard.spaces"
    label = "spaces"
    verbose_name = "Agent spaces"

    def ready(self) -> None:
        from dashboard.core import nav

        nav.main_link(
            "Agent spaces", "spaces:list", order=10, match=("spaces",), match_kwarg="space_id"
        )
        nav.space_tab("Overview", "spaces:detail", order=10, match=("spaces:detail",))
