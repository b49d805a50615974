"""The demo charity's prevention work in schools: schools and venues, workshops with
their anonymous pre/post surveys, and reach targets.

Run after `seed.set_up_staff` (it needs the users), with its own random stream so the
rest of the demo is the same with or without it. Everything goes through the
prevention actions, as Pat would record it:

- about thirty schools (primary, secondary, special, PRU/AP, an FE college) and a few
  youth clubs, community centres and a youth offending service across London, plus one
  school outside London; the names and URNs are made up (URNs from 990001, a range no
  real school uses today);
- workshops on school days across last academic year and this one up to yesterday,
  enough at scale 1 to reach about 25,000 children a year, by Pat and Nadia (Ade covers
  now and then); about one in ten is a repeat session with a group already counted;
- survey counts for most workshops (children know more after than before), and
  individual answer sheets for a few small groups;
- one small workshop outside London, so the analyst's dashboard shows suppression;
- reach targets: 25,000 last year, 26,000 this year.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from throughgate.prevention import actions
from throughgate.prevention.models import (
    SurveyQuestion,
    Venue,
    WorkshopTopic,
    academic_year_of,
)

SEED = "throughgate-demo-prevention"
WORKSHOPS_PER_YEAR = 360  # at scale 1: about 25,000 children a year (~70 a workshop)

# (name, kind, school type, phase, borough, typical group size)
VENUES: list[tuple[str, str, str, str, str, int]] = [
    ("Brixton Hill Academy", "school", "academy", "secondary", "Lambeth", 90),
    ("Stockwell Green School", "school", "community", "secondary", "Lambeth", 60),
    ("Loughborough Park Primary", "school", "community", "primary", "Lambeth", 30),
    ("Peckham Rye Academy", "school", "academy", "secondary", "Southwark", 120),
    ("Bermondsey Free School", "school", "free_school", "secondary", "Southwark", 60),
    ("Camberwell Grove Primary", "school", "foundation", "primary", "Southwark", 28),
    ("Walworth Learning Centre", "school", "pru_ap", "secondary", "Southwark", 12),
    ("Hackney Downs Academy", "school", "academy", "all_through", "Hackney", 90),
    ("Clapton Park School", "school", "community", "secondary", "Hackney", 60),
    ("Dalston Lane Primary", "school", "community", "primary", "Hackney", 30),
    ("Tottenham Hale Academy", "school", "academy", "secondary", "Haringey", 120),
    ("Wood Green Sixth Form College", "school", "sixth_form", "post_16", "Haringey", 45),
    ("Edmonton Green School", "school", "community", "secondary", "Enfield", 90),
    ("Ponders End Primary", "school", "community", "primary", "Enfield", 30),
    ("Stratford Park Academy", "school", "academy", "secondary", "Newham", 150),
    ("Plaistow Free School", "school", "free_school", "secondary", "Newham", 60),
    ("Canning Town Primary", "school", "community", "primary", "Newham", 30),
    ("Bow Road Academy", "school", "academy", "secondary", "Tower Hamlets", 90),
    ("Poplar Special School", "school", "special", "all_through", "Tower Hamlets", 10),
    ("Lewisham Bridge Academy", "school", "academy", "secondary", "Lewisham", 90),
    ("Catford Hill School", "school", "community", "secondary", "Lewisham", 60),
    ("Woolwich Riverside Academy", "school", "academy", "secondary", "Greenwich", 90),
    ("Thamesmead Primary", "school", "community", "primary", "Greenwich", 30),
    ("Croydon Park Academy", "school", "academy", "secondary", "Croydon", 120),
    ("Thornton Heath School", "school", "community", "secondary", "Croydon", 60),
    ("Harlesden Academy", "school", "academy", "secondary", "Brent", 90),
    ("Southall Green School", "school", "community", "secondary", "Ealing", 90),
    ("Walthamstow Forest College", "school", "fe_college", "post_16", "Waltham Forest", 40),
    ("Streatham Independent School", "school", "independent", "secondary", "Lambeth", 45),
    ("Kingsway Youth Club", "youth_club", "", "", "Lambeth", 15),
    ("Peckham Community Centre", "community_centre", "", "", "Southwark", 20),
    ("Hackney Youth Hub", "youth_club", "", "", "Hackney", 18),
    ("Newham Youth Justice Service", "youth_offending", "", "", "Newham", 8),
]
OUTSIDE_LONDON = ("Dartford Grammar Academy", "school", "academy", "secondary", "Outside London")
CONTACTS = [
    ("Ms Adeyemi", "Mr Clarke"), ("Mr O'Neill", "Ms Begum"), ("Ms Kowalski", "Mr Mensah"),
    ("Mrs Patel", "Ms Hughes"), ("Mr Osei", "Mrs Ward"), ("Ms Ibrahim", "Mr Reid"),
]  # fmt: skip
YEAR_GROUPS = {
    "primary": ["Y5", "Y6"],
    "secondary": ["Y7", "Y8", "Y9", "Y10", "Y11"],
    "all_through": ["Y6", "Y7", "Y8", "Y9", "Y10"],
    "post_16": ["Y12", "Y13"],
    "": ["mixed"],
}
TOPIC_WEIGHTS = {
    "County lines": 5, "Knife crime": 5, "Exploitation and grooming": 3,
    "Online safety": 3, "Gangs and violence": 3, "Healthy relationships": 2,
}  # fmt: skip
COMMENTS = [
    "The students were gripped; several stayed behind to talk.",
    "Really powerful to hear from someone who has lived it.",
    "Good session, though a little long for Year 7.",
    "Please come back for Year 10 next term.",
    "",
    "",
]


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())[:20]


def _venues(rng: random.Random, pat: Any) -> list[tuple[Venue, str, int]]:
    made = []
    rows = [*VENUES, (*OUTSIDE_LONDON, 25)]
    for n, (name, kind, school_type, phase, borough, size) in enumerate(rows):
        venue = Venue.objects.filter(name=name).first()
        # Drawn either way, so the random stream is the same whether or not it exists.
        contact, dsl = rng.choice(CONTACTS)
        phone = f"020 7946 0{rng.randrange(1000):03d}"
        if venue is None:
            venue = actions.create_venue(pat, {
                "name": name, "kind": kind, "school_type": school_type, "phase": phase,
                "borough": borough, "urn": f"{990001 + n}" if kind == "school" else "",
                "contact_name": contact, "contact_email": f"office@{_slug(name)}.example.org",
                "contact_phone": phone,
                "dsl_name": dsl, "dsl_email": f"safeguarding@{_slug(name)}.example.org",
                "active": True,
            })  # fmt: skip
        made.append((venue, phase, size))
    return made


def _school_day(rng: random.Random, first: date, last: date) -> date | None:
    """A weekday in term time (roughly: no August, no Christmas or Easter fortnight)."""
    for _ in range(20):
        day = first + timedelta(days=rng.randint(0, max((last - first).days, 0)))
        holiday = (
            day.month == 8
            or (day.month == 12 and day.day > 19)
            or (day.month == 1 and day.day < 4)
            or (day.month == 4 and day.day < 14)
        )
        if day.weekday() < 5 and not holiday:
            return day
    return None


def _groups(rng: random.Random, phase: str, size: int) -> list[dict[str, Any]]:
    years = YEAR_GROUPS.get(phase, YEAR_GROUPS[""])
    rows = []
    for year in rng.sample(years, k=1 if rng.random() < 0.7 else min(2, len(years))):
        total = max(4, round(rng.gauss(size, size / 5)))
        girls = round(total * rng.uniform(0.4, 0.55))
        other = rng.choice([0, 0, 0, 1, 2]) if total > 10 else 0
        rows.append(
            {"year_group": year, "girls": girls, "boys": total - girls - other, "other": other}
        )
    return rows


def _survey(rng: random.Random, workshop: Any, questions: list[Any], pat: Any) -> None:
    topic_ids = set(workshop.topics.values_list("pk", flat=True))
    asked = [q for q in questions if q.topic_id is None or q.topic_id in topic_ids]
    if workshop.headcount <= 15 and rng.random() < 0.5:
        for stage, know in (("before", 0.45), ("after", 0.8)):
            for _ in range(workshop.headcount - rng.randint(0, 2)):
                answers = {
                    q.pk: ("yes" if rng.random() < know else "no")
                    if rng.random() > 0.05
                    else "skip"
                    for q in asked
                }
                if any(a != "skip" for a in answers.values()):
                    actions.add_survey_response(pat, workshop, stage, answers)
        return
    rows = {}
    for q in asked:
        before_n = max(1, round(workshop.headcount * rng.uniform(0.75, 0.95)))
        after_n = max(1, round(workshop.headcount * rng.uniform(0.7, 0.95)))
        rows[q.pk] = {
            "before_respondents": before_n,
            "before_yes": round(before_n * rng.uniform(0.3, 0.6)),
            "after_respondents": after_n,
            "after_yes": round(after_n * rng.uniform(0.7, 0.95)),
        }
    actions.save_survey_counts(pat, workshop, rows)


def set_up_prevention(seeder: Any) -> None:
    rng = random.Random(SEED)
    users = seeder.users
    pat, ade = users["pat"], users["ade"]
    nadia = users.get("nadia")
    team = [pat, nadia] if nadia is not None else [pat]
    topics = {t.name: t for t in WorkshopTopic.objects.filter(active=True)}
    topic_names = [t for t in TOPIC_WEIGHTS if t in topics]
    questions = list(SurveyQuestion.objects.filter(active=True))
    venues = _venues(rng, pat)
    today = seeder.today
    current = academic_year_of(today)
    for year, target in ((current - 1, 25_000), (current, 26_000)):
        actions.set_reach_target(ade, year, target)
    yesterday = today - timedelta(days=1)
    scale = getattr(seeder, "scale", 1.0)
    for year in (current - 1, current):
        first = date(year, 9, 1)
        last = min(date(year + 1, 7, 22), yesterday)
        if last < first:
            continue
        share = min(1.0, ((last - first).days + 1) / 325)  # this year: only the weeks so far
        for _ in range(max(3, round(WORKSHOPS_PER_YEAR * share * scale))):
            day = _school_day(rng, first, last)
            if day is None:
                continue
            venue, phase, size = rng.choice(venues[:-1])
            chosen = rng.choices(topic_names, weights=[TOPIC_WEIGHTS[t] for t in topic_names])
            if rng.random() < 0.2:
                chosen = list({*chosen, rng.choice(topic_names)})
            runner = ade if rng.random() < 0.03 else rng.choice(team)
            workshop = actions.record_workshop(
                runner,
                {
                    "held_on": day,
                    "venue": venue,
                    "duration_minutes": rng.choice([50, 60, 60, 90, 120]),
                    "repeat_group": rng.random() < 0.1,
                    "teacher_rating": rng.choice([None, 3, 4, 4, 5, 5, 5]),
                    "teacher_comment": rng.choice(COMMENTS),
                },
                _groups(rng, phase, size),
                [topics[name] for name in chosen],
                [runner] if rng.random() < 0.8 else team,
            )
            if rng.random() < 0.7 and questions:
                _survey(rng, workshop, questions, runner)
    # A small workshop outside London: three children (the analyst sees "[c]").
    outside = venues[-1][0]
    actions.record_workshop(
        pat,
        {"held_on": max(date(current, 9, 1), yesterday - timedelta(days=20)), "venue": outside,
         "duration_minutes": 60, "repeat_group": False, "teacher_rating": 4,
         "teacher_comment": "A small nurture group."},
        [{"year_group": "Y8", "girls": 1, "boys": 2, "other": 0}],
        [topics["County lines"]], [pat],
    )  # fmt: skip
