from django.apps import AppConfig


class MentorsConfig(AppConfig):
    name = "throughgate.mentors"
    label = "mentors"
    verbose_name = "Peer mentors and matching"
    default_auto_field = "django.db.models.BigAutoField"
