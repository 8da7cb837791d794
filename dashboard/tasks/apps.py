from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "dashboard.tasks"
    label = "tasks"
    verbose_name = "Triage"

    def ready(self) -> None:
        from dashboard.core import nav

        nav.space_tab("Board", "tasks:board", order=20, match=("tasks",))
