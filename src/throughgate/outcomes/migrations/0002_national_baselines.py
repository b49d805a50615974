"""The published national proven reoffending rates Throughgate starts with (DESIGN.md).

Ministry of Justice, Proven reoffending statistics: April to June 2023 (published April
2025). Admins can change or add baselines; this only seeds an empty table.
"""

from django.db import migrations

SOURCE = "Ministry of Justice, Proven reoffending statistics: April to June 2023 (April 2025)"
BASELINES = [
    ("Adults released from custodial sentences of less than 12 months", "59.2"),
    ("Adults released from custodial sentences of 6 months or less", "62.3"),
    ("Juveniles (all disposals)", "31.6"),
]


def add(apps, schema_editor):
    Baseline = apps.get_model("outcomes", "NationalBaseline")
    if Baseline.objects.exists():
        return
    for position, (label, rate) in enumerate(BASELINES):
        Baseline.objects.create(
            label=label, period="April to June 2023 cohort", rate=rate, source=SOURCE,
            position=position,
        )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
