"""The workshop topics the charity runs today and a few yes/no survey questions.

Both are data the manager can change afterwards (add, rename, retire); this only
gives a new installation somewhere sensible to start."""

from django.db import migrations

from throughgate.prevention.defaults import QUESTIONS, TOPICS, seed_defaults


def seed(apps, schema_editor):
    seed_defaults(
        apps.get_model("prevention", "WorkshopTopic"),
        apps.get_model("prevention", "SurveyQuestion"),
    )


def unseed(apps, schema_editor):
    apps.get_model("prevention", "SurveyQuestion").objects.filter(
        text__in=[t for t, _ in QUESTIONS], results__isnull=True
    ).delete()
    apps.get_model("prevention", "WorkshopTopic").objects.filter(
        name__in=TOPICS, workshops__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("prevention", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
