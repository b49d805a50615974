from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "throughgate.imports"
    label = "imports"
    verbose_name = "Spreadsheet import"

    def ready(self) -> None:
        from . import jobs  # noqa: F401 - registers the "import" job handler for the worker
