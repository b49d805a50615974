from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "throughgate.outcomes"
    label = "outcomes"
    verbose_name = "Reoffending outcomes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import figures, jobs  # noqa: F401 - register the background jobs
