from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "throughgate.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from . import jobs  # noqa: F401 - register the background job
