from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "throughgate.core"
    label = "core"
    verbose_name = "Core"
