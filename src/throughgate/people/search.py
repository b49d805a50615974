"""Finding people: free-text search and the duplicate check on new referrals.

The database narrows candidates by indexed sound and prefix keys (or an exact
identifier or date of birth); engines.names ranks them. Search always starts
from `Person.objects.visible_to(user)`, so it can never reveal a hidden record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q

from throughgate.core.validators import (
    CRN_RE,
    PRISON_NUMBER_RE,
    normalise_pnc_id,
)
from throughgate.engines.names import (
    DuplicateCandidate,
    NameCandidate,
    find_duplicates,
    rank_names,
    search_keys,
)

from .models import NameIndex, Person

MAX_CANDIDATES = 5000
DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")


@dataclass
class ParsedQuery:
    words: list[str] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)

    @property
    def name_text(self) -> str:
        return " ".join(self.words)


def _parse_date(token: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(token, fmt).date()
        except ValueError:
            continue
    return None


def parse_query(text: str) -> ParsedQuery:
    parsed = ParsedQuery()
    for token in re.split(r"[\s,]+", (text or "").strip()):
        if not token:
            continue
        upper = token.upper()
        if PRISON_NUMBER_RE.match(upper) or CRN_RE.match(upper):
            parsed.identifiers.append(upper)
            continue
        if "/" in token and re.match(r"^\d{2,4}/\d{1,7}[A-Za-z]$", token):
            try:
                parsed.identifiers.append(normalise_pnc_id(token))
                continue
            except ValidationError:
                pass
        as_date = _parse_date(token)
        if as_date:
            parsed.dates.append(as_date)
            continue
        parsed.words.append(token)
    return parsed


@dataclass(frozen=True)
class SearchHit:
    person: Person
    score: float
    matched_name: str  # the name or alias that matched
    via_alias: bool


def search_people(user: Any, text: str, limit: int = 50) -> list[SearchHit]:
    parsed = parse_query(text)
    visible = Person.objects.visible_to(user)
    if not parsed.words and not parsed.dates and not parsed.identifiers:
        return []
    base = visible
    if parsed.identifiers:
        id_filter = Q()
        for ident in parsed.identifiers:
            id_filter |= Q(prison_number=ident) | Q(pnc_id=ident) | Q(crn=ident)
        base = base.filter(id_filter)
    if parsed.dates:
        base = base.filter(date_of_birth__in=parsed.dates)
    if not parsed.words:
        people = list(base.order_by("surname", "forename")[:limit])
        return [SearchHit(p, 1.0, p.full_name, False) for p in people]

    sounds, prefixes = search_keys(parsed.name_text)
    # The name keys find the candidates through their indexes first; each is then checked
    # against the user's scope for that one person (EXISTS on the primary key). Asking
    # the other way round ("every visible person, then their keys") walks the whole
    # person table for a coordinator: 0.7 s at region scale.
    rows = (
        NameIndex.objects.filter(
            Q(forename_sound__in=sounds)
            | Q(surname_sound__in=sounds)
            | Q(forename_prefix__in=prefixes)
            | Q(surname_prefix__in=prefixes)
        )
        .filter(Exists(base.filter(pk=OuterRef("person_id"))))
        .values_list("person_id", "forename", "surname", "is_alias")[:MAX_CANDIDATES]
    )
    alias_of: dict[tuple[int, str, str], bool] = {}
    candidates = []
    for person_id, forename, surname, is_alias in rows:
        candidates.append(NameCandidate(person_id, forename, surname))
        alias_of[(person_id, forename, surname)] = is_alias
    matches = rank_names(parsed.name_text, candidates, threshold=0.82, limit=limit)
    people = {p.pk: p for p in Person.objects.filter(pk__in=[m.key for m in matches])}
    return [
        SearchHit(
            people[m.key],
            m.score,
            f"{m.forename} {m.surname}".strip(),
            alias_of.get((m.key, m.forename, m.surname), False),
        )
        for m in matches
        if m.key in people
    ]


@dataclass(frozen=True)
class PossibleDuplicate:
    person: Person
    score: float
    reasons: tuple[str, ...]
    visible: bool  # whether the user may open the existing record


def possible_duplicates(
    user: Any,
    forename: str,
    surname: str,
    date_of_birth: date | None,
    identifiers: list[str] | tuple[str, ...] = (),
    exclude_pk: int | None = None,
) -> list[PossibleDuplicate]:
    """Existing people who may be the one being entered.

    Searches every record, not only visible ones: a referral for someone
    another team already knows must not create a second record silently. The
    caller shows hidden matches without their details.
    """
    idents = [i for i in identifiers if i]
    sounds, prefixes = search_keys(f"{forename} {surname}")
    name_rows = NameIndex.objects.filter(
        Q(surname_sound__in=sounds) | Q(surname_prefix__in=prefixes)
    )
    if date_of_birth is None:
        name_rows = name_rows.filter(forename_sound__in=sounds)
    person_filter = Q(pk__in=name_rows.values("person_id"))
    if date_of_birth is not None:
        # Same birthday, any spelling: catches swapped first and last names.
        person_filter |= Q(date_of_birth=date_of_birth)
    if idents:
        person_filter |= Q(prison_number__in=idents) | Q(pnc_id__in=idents) | Q(crn__in=idents)
    people = Person.objects.filter(person_filter)
    if exclude_pk:
        people = people.exclude(pk=exclude_pk)
    people_by_pk = {p.pk: p for p in people[:MAX_CANDIDATES]}
    rows = NameIndex.objects.filter(person_id__in=people_by_pk).values_list(
        "person_id", "forename", "surname"
    )
    candidates = [
        DuplicateCandidate(
            pid,
            fn,
            sn,
            people_by_pk[pid].date_of_birth.isoformat(),
            people_by_pk[pid].identifiers,
        )
        for pid, fn, sn in rows
    ]
    matches = find_duplicates(
        forename,
        surname,
        date_of_birth.isoformat() if date_of_birth else None,
        idents,
        candidates,
    )
    visible_ids = set(
        Person.objects.visible_to(user)
        .filter(pk__in=[m.key for m in matches])
        .values_list("pk", flat=True)
    )
    return [
        PossibleDuplicate(people_by_pk[m.key], m.score, m.reasons, m.key in visible_ids)
        for m in matches
    ]
