from django.apps import AppConfig


class PreventionConfig(AppConfig):
    name = "throughgate.prevention"
    label = "prevention"
    verbose_name = "Prevention in schools"
    default_auto_field = "django.db.models.BigAutoField"
