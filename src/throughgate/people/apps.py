from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "throughgate.people"
    label = "people"
    verbose_name = "People"

    def ready(self) -> None:
        from . import linkage, retention  # noqa: F401  # register their background jobs
