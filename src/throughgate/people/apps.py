from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "throughgate.people"
    label = "people"
    verbose_name = "People"

    def ready(self) -> None:
        from . import linkage  # noqa: F401  # registers the "people.linkage_review" job
