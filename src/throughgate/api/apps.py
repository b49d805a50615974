from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "throughgate.api"
    label = "api"
    verbose_name = "JSON API"
