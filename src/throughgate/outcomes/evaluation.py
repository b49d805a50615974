"""The charity's own people as the impact evaluation sees them: one row per mature person,
with the covariates it can match on and the outcomes it compares.

- **Participants** (the treated group): everyone with a case on the chosen programme,
  from their first index date on it (see `cohort.participants`).
- **Referred but not supported** (the charity's own comparison pool): people referred to
  the programme whose referral was declined and who never had a case on it. Their index
  date is worked out the same way: the first release from custody on or after the
  referral date for a custody programme, the referral date for a community one.

Only people whose 18 months of follow-up and waiting have passed on the `as_of` date
are included, as in the proven reoffending measure. The columns are documented for
uploaded comparison files in docs/methodology.md; `NUMERIC`, `CATEGORICAL` and
`OUTCOMES` below are that layout.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pandas as pd  # type: ignore[import-untyped]
from django.db.models import OuterRef, Subquery

from throughgate.casework.models import Case, Programme, ProgrammeKind, Referral, ReferralStatus
from throughgate.custody.models import CustodyEpisode
from throughgate.engines import reoffending as engine
from throughgate.people.models import Person

from .cohort import events_for, participants
from .models import PROVEN, ReoffendingEvent

NUMERIC = {
    "age_at_index": "Age on the index date",
    "prior_offences": "Proven offences before the index date",
    "prior_custody": "Earlier custodial sentences (ended before the index date)",
    "sentence_days": "Days in custody before the index date (0 for community programmes)",
    "index_year": "Year of the index date",
}
CATEGORICAL = {
    "gender": "Gender",
    "ethnic_group": "Ethnic group (White, Black, Asian, Mixed, Other, Not stated)",
    "age_band": "Age band (10-17, 18-20, 21-24, 25+)",
}
OUTCOMES = {
    "reoffended": "1 if proven to have reoffended within the year, else 0",
    "offences": "Number of proven reoffences in the year",
    "days_to_first": "Days from the index date to the first proven reoffence; blank if none",
}
DEFAULT_COVARIATES = ("age_at_index", "prior_offences", "prior_custody", "sentence_days")
DEFAULT_EXACT = ("gender",)


def ethnic_group(code: str) -> str:
    """The ONS high-level group of a Census ethnicity code ("black_caribbean" -> "black")."""
    head = code.split("_", 1)[0]
    return head if head in ("white", "black", "asian", "mixed") else (
        "not_stated" if code in ("", "not_stated") else "other"
    )  # fmt: skip


def ascii_band(band: str) -> str:
    """ "18–20" as a file would have it, "18-20" (an en dash is hard to type)."""
    return band.replace("\u2013", "-")


def participants_of(
    programme: Programme, index_from: date | None = None, index_to: date | None = None
) -> list[engine.Person]:
    people = participants(Case.objects.filter(programme=programme))
    return [p for p in people if _in_range(p.index_date, index_from, index_to)]


def referred_not_supported(
    programme: Programme, index_from: date | None = None, index_to: date | None = None
) -> list[engine.Person]:
    """People referred to `programme`, declined, and never supported on it."""
    released = (
        CustodyEpisode.objects.filter(
            person_id=OuterRef("person_id"), released_on__gte=OuterRef("referral_date")
        )
        .order_by("released_on")
        .values("released_on")[:1]
    )
    rows = (
        Referral.objects.filter(programme=programme, status=ReferralStatus.DECLINED)
        .exclude(person__cases__programme=programme)
        .annotate(release=Subquery(released))
        .order_by("referral_date", "id")
        .values_list("person_id", "referral_date", "release")
    )
    custody = programme.kind == ProgrammeKind.CUSTODY
    first: dict[int, date] = {}
    for person_id, referred, release in rows:
        index = release if custody else referred
        if index is not None and (person_id not in first or index < first[person_id]):
            first[person_id] = index
    return [
        engine.Person(str(pid), index, {})
        for pid, index in first.items()
        if _in_range(index, index_from, index_to)
    ]


def _in_range(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def frame(people: list[engine.Person], as_of: date) -> pd.DataFrame:
    """One row per mature person: `person_id`, the covariates and the outcomes. Four
    queries, whatever the number of people."""
    outcomes = engine.person_outcomes(people, events_for(people), as_of)
    index_of = {p.person_id: p.index_date for p in people}
    ids = [int(o.person_id) for o in outcomes]
    who = {
        row["id"]: row
        for row in Person.objects.filter(id__in=ids).values(
            "id", "date_of_birth", "gender", "ethnicity"
        )
    }
    episodes: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for pid, received, released in CustodyEpisode.objects.filter(person_id__in=ids).values_list(
        "person_id", "received_on", "released_on"
    ):
        episodes[pid].append((received, released))
    proven: dict[int, list[date]] = defaultdict(list)
    for pid, disposed in ReoffendingEvent.objects.filter(
        person_id__in=ids, disposal_type__in=PROVEN, disposal_date__isnull=False
    ).values_list("person_id", "disposal_date"):
        proven[pid].append(disposed)

    rows = []
    for o in outcomes:
        pid, index = int(o.person_id), index_of[o.person_id]
        person = who[pid]
        dob = person["date_of_birth"]
        age = index.year - dob.year - ((index.month, index.day) < (dob.month, dob.day))
        ended = [(r, e) for r, e in episodes[pid] if e is not None and e <= index]
        this = [r for r, e in ended if e == index]
        rows.append(
            {
                "person_id": pid,
                "index_date": index,
                "age_at_index": age,
                "prior_offences": sum(1 for d in proven[pid] if d < index),
                "prior_custody": sum(1 for _r, e in ended if e < index),
                "sentence_days": (index - min(this)).days if this else 0,
                "index_year": index.year,
                "gender": person["gender"],
                "ethnic_group": ethnic_group(person["ethnicity"]),
                "age_band": ascii_band(engine.age_band(max(age, 10))),
                "reoffended": int(o.offences > 0),
                "offences": o.offences,
                "days_to_first": o.days_to_first,
            }
        )
    columns = ["person_id", "index_date", *NUMERIC, *CATEGORICAL, *OUTCOMES]
    out = pd.DataFrame(rows, columns=columns)
    out["days_to_first"] = pd.to_numeric(out["days_to_first"]).astype(float)
    return out
