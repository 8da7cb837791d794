from django.apps import AppConfig


class SpacesConfig(AppConfig):
    name = "dashboard.spaces"
    label = "spaces"
    verbose_name = "Agent spaces"
