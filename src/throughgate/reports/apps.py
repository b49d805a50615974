from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "throughgate.reports"
    label = "reports"
    verbose_name = "Reports"
