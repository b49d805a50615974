from django.db import migrations


def load(apps, schema_editor):
    from throughgate.custody.establishments import load_register

    load_register(apps.get_model("custody", "Establishment"))


class Migration(migrations.Migration):
    dependencies = [("custody", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
