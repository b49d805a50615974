from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "throughgate.custody"
    label = "custody"
    verbose_name = "Custody"
