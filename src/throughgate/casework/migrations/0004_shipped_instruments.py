"""The two free instruments Throughgate ships (engines.instruments.SHIPPED), as data.

Copied here rather than imported so that this migration means the same thing however the
engine's constants change later. Licensed instruments (Outcomes Star, WAI-SR, ...) are
never shipped: a charity that holds a licence adds them as data.
"""

from django.db import migrations

INSTRUMENTS = [
    {
        "key": "distance-travelled",
        "name": "Distance travelled",
        "scale_min": 1,
        "scale_max": 10,
        "scoring": "mean",
        "min_answered": 0.7,
        "interval_days": [0, 91, 182, 273, 365],
        "anchor_low": "Not at all",
        "anchor_high": "Completely",
        "items": [
            ("accommodation", "How settled is where you are living?", False, "accommodation"),
            (
                "education_skills_work",
                "How on track are you with work, training or education?",
                False,
                "education_skills_work",
            ),
            ("finance_id", "How on top of your money, bills and ID are you?", False, "finance_id"),
            (
                "health",
                "How well are you looking after your health, in body and mind?",
                False,
                "health",
            ),
            (
                "drugs_alcohol",
                "How in control are you of any drinking or drug use?",
                False,
                "drugs_alcohol",
            ),
            (
                "children_families_community",
                "How supported do you feel by your family, friends and the people around you?",
                False,
                "children_families_community",
            ),
            (
                "attitudes_thinking_behaviour",
                "How in control do you feel of the choices you make and how you react?",
                False,
                "attitudes_thinking_behaviour",
            ),
        ],
    },
    {
        "key": "trust-check-in",
        "name": "Trust check-in",
        "scale_min": 1,
        "scale_max": 5,
        "scoring": "mean",
        "min_answered": 0.8,
        "interval_days": [28, 91, 182],
        "anchor_low": "Not at all true",
        "anchor_high": "Very true",
        "items": [
            ("t1", "My mentor is someone I can trust.", False, "trust"),
            ("t2", "My mentor listens to me.", False, "trust"),
            ("t3", "I can be honest with my mentor.", False, "trust"),
            ("t4", "My mentor keeps their promises.", False, "trust"),
            ("t5", "My mentor understands where I am coming from.", False, "trust"),
            ("t6", "I feel my mentor judges me.", True, "trust"),
            ("t7", "My mentor is there for me when things go wrong.", False, "trust"),
            ("t8", "I would go to my mentor if I needed help.", False, "trust"),
            ("t9", "I feel my mentor would give up on me.", True, "trust"),
            ("t10", "My mentor believes I can change.", False, "trust"),
        ],
    },
]


def add(apps, schema_editor):
    Definition = apps.get_model("casework", "InstrumentDefinition")
    Item = apps.get_model("casework", "InstrumentItem")
    for data in INSTRUMENTS:
        fields = {k: v for k, v in data.items() if k != "items"}
        definition, created = Definition.objects.get_or_create(
            key=fields.pop("key"), defaults=fields
        )
        if created:
            Item.objects.bulk_create(
                Item(
                    instrument=definition,
                    key=key,
                    text=text,
                    reverse=reverse,
                    subscale=subscale,
                    position=position,
                )
                for position, (key, text, reverse, subscale) in enumerate(data["items"])
            )


class Migration(migrations.Migration):
    dependencies = [("casework", "0003_holistic_support")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
