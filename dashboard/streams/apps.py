from django.apps import AppConfig


class StreamsConfig(AppConfig):
    name = "dashboard.streams"
    label = "streams"
    verbose_name = "Stream relay"
