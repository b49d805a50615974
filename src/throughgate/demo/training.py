"""The demo charity's training and consultancy for professionals.

Run after `seed.set_up_staff` (it needs the users), with its own random stream so the
rest of the demo is the same with or without it. Everything goes through the training
actions, as a person would record it:

- courses and consultancy engagements from the start of last financial year (April) to
  two months ahead, for teachers, police, youth workers, social workers and others,
  delivered by Pat and Nadia (sometimes with a peer mentor, who speaks from lived
  experience);
- delegates on each (attended, a few absent or cancelled; booked on planned courses),
  and anonymous feedback from about two in three of those who attended;
- invoices sent a few days after delivery and mostly paid within two months, leaving a
  few outstanding, one of them long overdue; one course cancelled ahead of time.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from throughgate.engines.training import financial_year_of, year_bounds
from throughgate.prevention.training import actions
from throughgate.prevention.training.models import Attendance, Audience, Course, CourseKind

SEED = "throughgate-demo-training"

CLIENTS: dict[str, list[tuple[str, str]]] = {
    Audience.TEACHERS: [
        ("Lambeth Council Education", "Safeguarding in education team"),
        ("Harris Academy Peckham", "Designated safeguarding lead"),
        ("Southwark Schools Partnership", "Partnership manager"),
        ("Ark Walworth Academy", "Deputy head, pastoral"),
        ("Lewisham Learning", "CPD coordinator"),
    ],
    Audience.POLICE: [
        ("Metropolitan Police, South Area BCU", "Youth engagement inspector"),
        ("Metropolitan Police, Central East BCU", "Safer schools sergeant"),
        ("British Transport Police", "Training officer"),
    ],
    Audience.YOUTH_WORKERS: [
        ("Southwark Youth Service", "Youth service manager"),
        ("Croydon Youth Offending Service", "Practice lead"),
        ("London Youth", "Programmes officer"),
    ],
    Audience.SOCIAL_WORKERS: [
        ("Lambeth Children's Services", "Principal social worker"),
        ("Hackney Children and Families", "Workforce development lead"),
        ("Newham MASH", "MASH manager"),
    ],
    Audience.OTHER: [
        ("Guy's and St Thomas' NHS Trust", "Named nurse, safeguarding children"),
        ("Transport for London", "Community safety lead"),
        ("Peabody Housing", "Tenancy sustainment manager"),
    ],
}

COURSE_TITLES: dict[str, list[str]] = {
    Audience.TEACHERS: [
        "County lines: spotting the signs in school",
        "Exploitation and grooming: what staff can do",
        "Knife crime and the school day",
        "Reducing exclusions for children at risk of exploitation",
    ],
    Audience.POLICE: [
        "Child criminal exploitation for neighbourhood officers",
        "Seeing the child first: county lines and the NRM",
        "Trauma-informed stop and search with young people",
    ],
    Audience.YOUTH_WORKERS: [
        "Detached youth work and county lines",
        "Gangs, violence and safe conversations",
        "Lived experience in youth work",
    ],
    Audience.SOCIAL_WORKERS: [
        "Contextual safeguarding and exploitation",
        "Working with families of children in the youth justice system",
        "The NRM for children: referrals that work",
    ],
    Audience.OTHER: [
        "Exploitation awareness for frontline staff",
        "Recognising county lines in health settings",
    ],
}

CONSULTANCY_TITLES = [
    "Review of exclusion and safeguarding policy",
    "Advice on a county lines early-help pathway",
    "Co-designing a peer mentoring scheme",
    "Lived-experience panel for staff recruitment",
]

ROLES: dict[str, list[str]] = {
    Audience.TEACHERS: ["Teacher", "Head of year", "DSL", "Teaching assistant", "SENCo"],
    Audience.POLICE: ["PC", "PCSO", "Sergeant", "DC", "Youth engagement officer"],
    Audience.YOUTH_WORKERS: ["Youth worker", "Senior youth worker", "Outreach worker"],
    Audience.SOCIAL_WORKERS: ["Social worker", "Senior practitioner", "Team manager"],
    Audience.OTHER: ["Nurse", "Community safety officer", "Housing officer", "Manager"],
}

FORENAMES = [
    "Aisha", "Ben", "Chloe", "Daniel", "Efua", "Fatima", "Grace", "Hassan", "Imran", "Jade",
    "Kwame", "Laura", "Marcus", "Nadia", "Oliver", "Priya", "Rachel", "Samuel", "Tom",
    "Yetunde", "Zoe", "Chris", "Emma", "Femi", "Hannah", "Joel", "Leah", "Mohammed", "Niamh",
    "Rebecca", "Sophie", "Tariq",
]  # fmt: skip
SURNAMES = [
    "Adeyemi", "Baker", "Clarke", "Daniels", "Evans", "Francis", "Green", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Mensah", "Nolan", "O'Brien", "Patel", "Quinn", "Reid",
    "Singh", "Thompson", "Walker", "Williams", "Yusuf", "Osei", "Murphy", "Ahmed", "Campbell",
]  # fmt: skip

COMMENTS = [
    "Really practical — I will use the warning signs checklist with my team.",
    "Hearing from someone with lived experience made it real.",
    "Would have liked more time on the NRM referral process.",
    "The case studies were very close to what we see.",
    "Excellent, should be mandatory for all new staff.",
    "A bit rushed at the end.",
    "Changed how I think about children who go missing.",
    "Clear, honest and challenging in a good way.",
]

AUDIENCE_WEIGHTS = {
    Audience.TEACHERS: 35, Audience.POLICE: 20, Audience.YOUTH_WORKERS: 20,
    Audience.SOCIAL_WORKERS: 15, Audience.OTHER: 10,
}  # fmt: skip


def set_up_training(seeder: Any) -> None:
    """Courses, delegates, feedback and invoices since the start of last financial year."""
    if Course.objects.exists():
        return
    rng = random.Random(SEED)
    today: date = seeder.today
    users = seeder.users
    pat, ade = users["pat"], users["ade"]
    facilitators = [u for u in (users.get("pat"), users.get("nadia")) if u is not None]
    mentors = [u for u in (users.get("mo"), users.get("tunde")) if u is not None]
    first_day = year_bounds(financial_year_of(today) - 1)[0]
    count = max(10, round(48 * seeder.scale))
    span = (today + timedelta(days=60) - first_day).days
    starts = sorted(first_day + timedelta(days=rng.randint(0, span)) for _ in range(count))
    # Always something coming up, whatever the scale (one of them will be called off).
    starts += [today + timedelta(days=rng.randint(low, low + 15)) for low in (5, 25, 45)]
    delivered: list[Course] = []
    for number, start in enumerate(starts):
        while start.weekday() >= 5:  # training happens on working days
            start += timedelta(days=1)
        course = _course(rng, pat, start, facilitators, mentors, number)
        if course.end_date <= today:
            delivered.append(course)
        _delegates(rng, pat, course, today)
        if course.end_date <= today:
            _feedback(rng, pat, course, today)
    _invoices(rng, ade, delivered, today)
    # One planned course called off by the client.
    planned = [c for c in Course.objects.filter(start_date__gt=today, cancelled=False)]
    if planned:
        cancelled = rng.choice(planned)
        actions.update_course(
            pat, cancelled,
            {"cancelled": True, "notes": "Cancelled by the client: staff shortages."},
            today=today,
        )  # fmt: skip


def _course(rng: random.Random, actor: Any, start: date, facilitators: list, mentors: list,
            number: int) -> Course:  # fmt: skip
    audience = rng.choices(list(AUDIENCE_WEIGHTS), weights=list(AUDIENCE_WEIGHTS.values()))[0]
    consultancy = rng.random() < 0.2
    client, contact_role = rng.choice(CLIENTS[audience])
    if consultancy:
        title = rng.choice(CONSULTANCY_TITLES)
        sessions = rng.randint(2, 6)
        end = start + timedelta(days=rng.choice([14, 21, 28, 42]))
        fee = Decimal(rng.randrange(800, 3200, 100))
        hours = Decimal(sessions * 2)
    else:
        title = rng.choice(COURSE_TITLES[audience])
        sessions = rng.choice([1, 1, 1, 2, 3])
        end = start if sessions == 1 else start + timedelta(days=7 * (sessions - 1))
        fee = Decimal(0) if rng.random() < 0.1 else Decimal(rng.randrange(350, 1600, 50))
        hours = Decimal(sessions * rng.choice([3, 3, 6]))
    trainers = [rng.choice(facilitators)]
    if mentors and rng.random() < 0.3:
        trainers.append(rng.choice(mentors))
    contact = f"{rng.choice(FORENAMES)} {rng.choice(SURNAMES)}, {contact_role}"
    return actions.create_course(
        actor,
        {
            "kind": CourseKind.CONSULTANCY if consultancy else CourseKind.COURSE,
            "title": title,
            "audience": audience,
            "client": client,
            "client_contact": contact,
            "start_date": start,
            "end_date": end,
            "sessions": sessions,
            "hours": hours,
            "fee": fee,
            "notes": "",
        },
        trainers,
        today=start,  # recorded when it was booked
    )


def _delegates(rng: random.Random, actor: Any, course: Course, today: date) -> None:
    size = rng.randint(2, 6) if course.kind == CourseKind.CONSULTANCY else rng.randint(8, 24)
    names = rng.sample([(f, s) for f in FORENAMES for s in SURNAMES], size)
    organisation = course.client.split(",")[0]
    rows = [
        {"line": i + 1, "name": f"{f} {s}", "organisation": organisation,
         "role": rng.choice(ROLES[course.audience])}
        for i, (f, s) in enumerate(names)
    ]  # fmt: skip
    made = actions.add_delegates(actor, course, rows, Attendance.BOOKED, today=today)
    if course.start_date > today:
        return
    marks = {}
    for delegate in made:
        roll = rng.random()
        marks[delegate.pk] = (
            Attendance.ATTENDED if roll < 0.85
            else Attendance.ABSENT if roll < 0.95
            else Attendance.CANCELLED
        )  # fmt: skip
    actions.record_attendance(actor, course, marks, today=today)


def _feedback(rng: random.Random, actor: Any, course: Course, today: date) -> None:
    attended = course.delegates.filter(attendance=Attendance.ATTENDED).count()
    for _ in range(round(attended * rng.uniform(0.5, 0.8))):
        overall = rng.choices([2, 3, 4, 5], weights=[1, 4, 12, 14])[0]
        actions.add_feedback(
            actor,
            course,
            {
                "overall": overall,
                "relevance": min(5, max(1, overall + rng.choice([-1, 0, 0, 1]))),
                "trainer_knowledge": rng.choices([3, 4, 5], weights=[1, 5, 12])[0],
                "comments": rng.choice(COMMENTS) if rng.random() < 0.3 else "",
            },
            today=today,
        )


def _invoices(rng: random.Random, actor: Any, delivered: list[Course], today: date) -> None:
    chargeable = [c for c in delivered if c.fee > 0]
    # The oldest unpaid: a client who needs chasing.
    overdue = next((c for c in chargeable if 75 <= (today - c.end_date).days <= 150), None)
    for course in chargeable:
        invoiced = course.end_date + timedelta(days=rng.randint(2, 12))
        if invoiced > today:
            continue
        actions.record_invoice(
            actor, course,
            {"invoiced_on": invoiced, "invoice_reference": f"TG-{invoiced:%y%m}-{course.pk:03d}"},
            today=today,
        )  # fmt: skip
        paid = invoiced + timedelta(days=rng.randint(10, 65))
        if course is overdue or paid > today:
            continue
        actions.record_invoice(actor, course, {"paid_on": paid}, today=today)
