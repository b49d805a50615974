from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "throughgate.people"
    label = "people"
    verbose_name = "People"
