from django.apps import AppConfig


class TrainingConfig(AppConfig):
    """Training and consultancy for professionals: its own app (and migrations) inside
    prevention/, because the same team delivers it."""

    name = "throughgate.prevention.training"
    label = "training"
    verbose_name = "Training and consultancy"
    default_auto_field = "django.db.models.BigAutoField"
