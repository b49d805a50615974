"""The charity's own cohort, as the reoffending engine sees it.

Each participant counts once, from their first index date: the day they were released
from custody while on a custody programme case, or the day a community (prevention)
case opened. People still in custody have no index date yet and are left out.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Min, OuterRef, Subquery

from throughgate.casework.models import Case, ProgrammeKind
from throughgate.custody.models import CustodyEpisode
from throughgate.engines import reoffending as engine

from .models import ReoffendingEvent

GROUPINGS = {
    "year": "Year of index date",
    "quarter": "Quarter of index date",
    "programme": "Programme",
    "age_band": "Age at index date",
    "gender": "Gender",
    "ethnicity": "Ethnicity",
    "borough": "Borough",
    "mentor": "Mentor",
}


def participants(cases=None) -> list[engine.Person]:  # type: ignore[no-untyped-def]
    """Every person with a case (or those of `cases`), with their index date and groups.
    Three queries, whatever the number of people."""
    cases = Case.objects.all() if cases is None else cases
    released = (
        CustodyEpisode.objects.filter(
            person_id=OuterRef("person_id"), released_on__gte=OuterRef("opened_on")
        )
        .order_by("released_on")
        .values("released_on")[:1]
    )
    rows = (
        cases.annotate(release=Subquery(released))
        .select_related("person", "programme", "mentor")
        .order_by("opened_on", "id")
    )
    first: dict[int, tuple[date, Case]] = {}
    for case in rows:
        index = case.release if case.programme.kind == ProgrammeKind.CUSTODY else case.opened_on
        if index is None:
            continue
        held = first.get(case.person_id)
        if held is None or index < held[0]:
            first[case.person_id] = (index, case)
    people = []
    for person_id, (index, case) in first.items():
        person = case.person
        people.append(
            engine.Person(
                person_id=str(person_id),
                index_date=index,
                groups={
                    "year": str(index.year),
                    "quarter": f"{index.year} Q{(index.month - 1) // 3 + 1}",
                    "programme": case.programme.name,
                    "age_band": engine.age_band(max(person.age_on(index), 10)),
                    "gender": person.get_gender_display(),
                    "ethnicity": person.get_ethnicity_display(),
                    "borough": person.borough or "Not recorded",
                    "mentor": str(case.mentor) if case.mentor else "No mentor",
                },
            )
        )
    return people


def events_for(people: list[engine.Person]) -> list[engine.Event]:
    ids = [int(p.person_id) for p in people]
    return [
        engine.Event(str(e["person_id"]), e["offence_date"], e["disposal_date"],
                     e["disposal_type"], e["custodial"])
        for e in ReoffendingEvent.objects.filter(person_id__in=ids).values(
            "person_id", "offence_date", "disposal_date", "disposal_type", "custodial"
        )
    ]  # fmt: skip


def earliest_index() -> date | None:
    return Case.objects.aggregate(first=Min("opened_on"))["first"]
