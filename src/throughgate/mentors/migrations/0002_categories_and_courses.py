"""The lived-experience categories and training courses a charity starts with.
Both are data: a charity adds its own."""

from django.db import migrations

CATEGORIES = [
    ("Custody", "Has served a custodial sentence or been on remand"),
    ("Gang involvement", "Has been part of, or pressured by, a gang or group"),
    ("Criminal exploitation", "Was groomed or exploited, e.g. county lines"),
    ("Care experience", "Was looked after by a local authority"),
    ("Substance misuse", "Has struggled with drugs or alcohol"),
    ("School exclusion", "Was excluded from school or in a pupil referral unit"),
    ("Knife crime", "Carried a knife or was harmed by one"),
    ("Mental health", "Has lived with a mental health condition"),
    ("Homelessness", "Has been homeless or sofa-surfed"),
    ("Young parent", "Became a parent young"),
    ("Bereavement", "Lost someone close, including to violence"),
]

COURSES = [
    # name, level, required for matching, valid for months
    ("Peer mentor induction", "", True, None),
    ("Safeguarding children and young people", "Level 2", True, 24),
    ("Advice and Guidance", "Level 3", False, None),
    ("Trauma-informed practice", "", False, None),
    ("Prison security awareness", "", False, 36),
    ("Emergency first aid at work", "Level 3", False, 36),
]


def add(apps, schema_editor):
    Category = apps.get_model("mentors", "LivedExperienceCategory")
    Course = apps.get_model("mentors", "TrainingCourse")
    for position, (name, description) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            name=name, defaults={"description": description, "position": position}
        )
    for name, level, required, months in COURSES:
        Course.objects.get_or_create(
            name=name,
            defaults={
                "level": level,
                "required_for_matching": required,
                "valid_for_months": months,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("mentors", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
