from django.apps import AppConfig


class ReadingsConfig(AppConfig):
    name = "readings"

    def ready(self):
        from readings import changes  # noqa: F401 — connects the signal receivers
