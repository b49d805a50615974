from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "throughgate.casework"
    label = "casework"
    verbose_name = "Casework"
