"""The Justice Data Lab submission: the programme's participants, one row each, in the
layout the JDL asks for, checked before anything leaves the building."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from throughgate.casework.models import Case, Programme, ProgrammeKind

from .cohort import participants

# The columns of the JDL submission template, in its order.
COLUMNS = [
    "Surname", "Forename", "Date of birth", "Gender", "Index date",
    "Programme start date", "Programme end date", "PNC ID", "Prison number",
]  # fmt: skip
MINIMUM = 60  # the Justice Data Lab needs at least 60 matched participants
JDL_GENDER = {"male": "Male", "female": "Female"}


@dataclass
class Submission:
    rows: list[list[str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line per person left out

    @property
    def ready(self) -> bool:
        return len(self.rows) >= MINIMUM


def build(programme: Programme, index_from: date, index_to: date) -> Submission:
    """Participants of `programme` whose index date falls in the range. Someone without
    a PNC ID or a prison number cannot be matched by the JDL and is listed as a problem,
    not sent."""
    cases = Case.objects.filter(programme=programme)
    wanted = {p.person_id: p for p in participants(cases) if index_from <= p.index_date <= index_to}
    spans: dict[str, tuple[date, date | None]] = {}
    people: dict[str, Any] = {}
    for case in cases.filter(person_id__in=[int(i) for i in wanted]).select_related("person"):
        key = str(case.person_id)
        start, end = spans.get(key, (case.opened_on, case.closed_on))
        spans[key] = (min(start, case.opened_on), case.closed_on or end)
        people[key] = case.person
    submission = Submission()
    for key, p in sorted(wanted.items(), key=lambda kv: (people[kv[0]].surname, kv[0])):
        person = people[key]
        missing = []
        if not person.pnc_id:
            missing.append("PNC ID")
        if programme.kind == ProgrammeKind.CUSTODY and not person.prison_number:
            missing.append("prison number")
        if person.gender not in JDL_GENDER:
            missing.append("gender (male or female)")
        if missing:
            submission.problems.append(f"{person.full_name}: no {', no '.join(missing)}")
            continue
        start, end = spans[key]
        submission.rows.append([
            person.surname, person.forename, person.date_of_birth.isoformat(),
            JDL_GENDER[person.gender], p.index_date.isoformat(), start.isoformat(),
            end.isoformat() if end else "", person.pnc_id, person.prison_number,
        ])  # fmt: skip
    return submission
