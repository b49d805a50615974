"""Duplicate linkage of person records with splink (engines.record_linkage).

Used at three points:

1. intake: `candidates_for(user, data)` scores a person being entered (saved or not)
   against the records that could be them, for the referral form to show; and
   `review_people([person.pk], found_by="intake")` records the pairs once saved;
2. import: `review_people(person_ids, found_by="import")`, called by the importer
   after its commit, records pairs between the imported people and everyone;
3. periodic review over everyone: the background job "people.linkage_review" and
   `throughgate manage link_people`, both through `review_everyone`.

The database does the first narrowing for 1 and 2 with the same blocking as the
engine (date of birth, transposed date of birth, sound of both names around the year
of birth, identifiers), so a check costs the same with 500 people or 100,000.

Pairs at or above the threshold become DuplicateCandidate rows; a pair already
declined ("not the same person") is never proposed again, an open one is re-scored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from throughgate.core import audit, jobs
from throughgate.core.models import AuditAction, Job
from throughgate.engines import record_linkage as engine
from throughgate.engines.names import phonetic_key

from .models import Alias, CandidateStatus, DuplicateCandidate, FoundBy, NameIndex, Person
from .search import PossibleDuplicate

JOB_KIND = "people.linkage_review"
CHUNK = 500  # ids per query: well inside SQLite's limit on query parameters
NEW_PERSON_ID = 0  # stands for a person not saved yet (ids start at 1)

Progress = Callable[[int, str], None]


def _no_progress(percent: int, step: str) -> None:
    return None


@dataclass(frozen=True)
class ReviewResult:
    people: int
    comparisons: int
    pairs: int  # pairs at or above the threshold
    new: int  # of which were new candidates
    seconds: float


# --- Loading records --------------------------------------------------------------

_RECORD_FIELDS = ("pk", "forename", "surname", "date_of_birth", "postcode", "pnc_id",
                  "prison_number", "crn")  # fmt: skip


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def load_records(person_ids: Iterable[int] | None = None) -> list[engine.PersonRecord]:
    """The engine's records for these people (everyone when None), aliases included."""
    if person_ids is None:
        rows = list(Person.objects.order_by().values_list(*_RECORD_FIELDS))
        alias_rows = list(Alias.objects.order_by().values_list("person_id", "forename", "surname"))
    else:
        ids = sorted(set(person_ids))
        rows, alias_rows = [], []
        for chunk in _chunks(ids):
            rows += Person.objects.filter(pk__in=chunk).order_by().values_list(*_RECORD_FIELDS)
            alias_rows += (
                Alias.objects.filter(person_id__in=chunk)
                .order_by()
                .values_list("person_id", "forename", "surname")
            )
    aliases: dict[int, list[tuple[str, str]]] = {}
    for person_id, forename, surname in alias_rows:
        aliases.setdefault(person_id, []).append((forename, surname))
    return [
        engine.PersonRecord(
            id=pk,
            forename=fn,
            surname=sn,
            date_of_birth=dob,
            postcode=postcode,
            pnc_id=pnc,
            prison_number=prison,
            crn=crn,
            aliases=tuple(aliases.get(pk, ())),
        )  # fmt: skip
        for pk, fn, sn, dob, postcode, pnc, prison, crn in rows
    ]


def _swapped(day: date | None) -> date | None:
    if day is None or day.day > 12 or day.day == day.month:
        return None
    return date(day.year, day.day, day.month)


def pool_for(records: Sequence[engine.PersonRecord]) -> set[int]:
    """Ids of everyone the engine's blocking could pair with these records: the same or
    transposed date of birth, an identifier, or the sound of a name (any alias too)
    with a birth year a year either side or the same birthday."""
    pool: set[int] = set()
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        dobs: set[date] = set()
        years: set[int] = set()
        idents: set[str] = set()
        forename_sounds: set[str] = set()
        surname_sounds: set[str] = set()
        for record in chunk:
            if record.date_of_birth:
                dob = record.date_of_birth
                dobs.add(dob)
                if swapped := _swapped(dob):
                    dobs.add(swapped)
                years.update((dob.year - 1, dob.year, dob.year + 1))
            idents.update(i.upper() for i in (record.pnc_id, record.prison_number, record.crn) if i)
            for forename, surname in ((record.forename, record.surname), *record.aliases):
                if key := phonetic_key(forename):
                    forename_sounds.add(key)
                if key := phonetic_key(surname):
                    surname_sounds.add(key)
        found = Q(date_of_birth__in=dobs)
        if idents:
            found |= Q(pnc_id__in=idents) | Q(prison_number__in=idents) | Q(crn__in=idents)
        if forename_sounds and surname_sounds:
            sounds = NameIndex.objects.filter(
                forename_sound__in=forename_sounds, surname_sound__in=surname_sounds
            ).values("person_id")
            found |= Q(pk__in=sounds, date_of_birth__year__in=years)
        pool.update(Person.objects.filter(found).order_by().values_list("pk", flat=True))
    return pool


# --- Intake: who might this be? ---------------------------------------------------


def record_of(data: dict[str, Any], person_id: int = NEW_PERSON_ID) -> engine.PersonRecord:
    """An engine record from a person form's cleaned data (or a Person's fields)."""
    return engine.PersonRecord(
        id=person_id,
        forename=data.get("forename") or "",
        surname=data.get("surname") or "",
        date_of_birth=data.get("date_of_birth"),
        postcode=data.get("postcode") or "",
        pnc_id=data.get("pnc_id") or "",
        prison_number=data.get("prison_number") or "",
        crn=data.get("crn") or "",
        aliases=tuple(data.get("aliases") or ()),
    )


def candidates_for(
    user: Any, person: Person | dict[str, Any], limit: int = 10
) -> list[PossibleDuplicate]:
    """Existing people the linkage model scores as possibly this person, best first.

    `person`: a saved Person, or the cleaned data of a person form not saved yet. Like
    people.search.possible_duplicates it looks at every record, so a referral for
    someone another team knows does not make a second record silently; `visible` says
    whether `user` may open each one (the caller shows the others without details)."""
    if isinstance(person, Person):
        aliases = tuple(person.aliases.values_list("forename", "surname")) if person.pk else ()
        data = {name: getattr(person, name) for name in _RECORD_FIELDS[1:]}
        record = record_of({**data, "aliases": aliases}, person.pk or NEW_PERSON_ID)
    else:
        record = record_of(person)
    if not record.surname and not record.forename:
        return []
    pool = pool_for([record]) - {record.id}
    if not pool:
        return []
    run = engine.link([record, *load_records(pool)], only_involving={record.id})
    scores = {}
    for pair in run.pairs:
        other = pair.b if pair.a == record.id else pair.a
        scores[other] = pair
    people = {p.pk: p for p in Person.objects.filter(pk__in=scores)}
    visible = set(
        Person.objects.visible_to(user).filter(pk__in=scores).values_list("pk", flat=True)
    )
    ranked = sorted(scores.items(), key=lambda item: -item[1].match_weight)[:limit]
    return [
        PossibleDuplicate(people[pk], pair.match_probability, pair.agreements, pk in visible)
        for pk, pair in ranked
        if pk in people
    ]


# --- Recording candidates ---------------------------------------------------------


def store_candidates(
    actor: Any, pairs: Sequence[engine.LinkedPair], found_by: str = FoundBy.REVIEW
) -> int:
    """Save pairs as candidates in one transaction: new pairs are added, open ones
    re-scored, declined ones left alone. Returns how many were new."""
    if found_by not in FoundBy.values:
        raise ValueError(f"found_by must be one of {FoundBy.values}")
    by_pair = {(p.a, p.b): p for p in pairs if p.a != p.b}
    if not by_pair:
        return 0
    with transaction.atomic():
        existing: dict[tuple[int, int], DuplicateCandidate] = {}
        firsts = sorted({a for a, _ in by_pair})
        for chunk in _chunks(firsts):
            for candidate in DuplicateCandidate.objects.filter(person_a_id__in=chunk):
                key = (candidate.person_a_id, candidate.person_b_id)
                if key in by_pair:
                    existing[key] = candidate
        # People merged away since the run started are gone: only pairs of live records.
        alive: set[int] = set()
        ids = sorted({i for pair in by_pair for i in pair})
        for chunk in _chunks(ids):
            alive.update(Person.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        new = [
            DuplicateCandidate(
                person_a_id=a,
                person_b_id=b,
                match_probability=p.match_probability,
                match_weight=p.match_weight,
                agreements=list(p.agreements),
                found_by=found_by,
            )  # fmt: skip
            for (a, b), p in by_pair.items()
            if (a, b) not in existing and a in alive and b in alive
        ]
        rescored = []
        for key, candidate in existing.items():
            if candidate.status == CandidateStatus.OPEN:
                pair = by_pair[key]
                candidate.match_probability = pair.match_probability
                candidate.match_weight = pair.match_weight
                candidate.agreements = list(pair.agreements)
                rescored.append(candidate)
        DuplicateCandidate.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        DuplicateCandidate.objects.bulk_update(
            rescored, ["match_probability", "match_weight", "agreements"], batch_size=1000
        )
        if new or rescored:
            audit.record(
                actor,
                AuditAction.CREATE,
                object_type="people.duplicatecandidate",
                summary=f"Duplicate check ({found_by}): {len(new)} new possible duplicate(s), "
                f"{len(rescored)} re-scored",
            )
    return len(new)


def review_people(
    person_ids: Iterable[int], found_by: str = FoundBy.IMPORT, actor: Any = None
) -> int:
    """Look for duplicates of these people among everyone (after an import or at
    intake) and record them; returns how many new candidates were recorded."""
    ids = set(person_ids)
    if not ids:
        return 0
    records = load_records(ids)
    pool = pool_for(records) - ids
    run = engine.link([*records, *load_records(pool)], only_involving=ids)
    return store_candidates(actor, run.pairs, found_by)


def review_everyone(
    actor: Any = None, progress: Progress = _no_progress, found_by: str = FoundBy.REVIEW
) -> ReviewResult:
    """Link every person against every other and record the candidates."""
    progress(5, "Reading the person records")
    records = load_records()
    progress(20, f"Comparing {len(records):,} people")
    run = engine.link(records)
    progress(85, f"Recording {len(run.pairs):,} possible duplicates")
    new = store_candidates(actor, run.pairs, found_by)
    return ReviewResult(len(records), run.comparisons, len(run.pairs), new, run.seconds)


@jobs.handler(JOB_KIND)
def run_review_job(job: Job, progress: Progress) -> str:
    result = review_everyone(job.created_by, progress)
    progress(
        99, f"Found {result.pairs:,} possible duplicate(s) among {result.people:,} people, "
        f"{result.new:,} new",
    )  # fmt: skip
    return reverse("people:duplicates")


NEW_PEOPLE_KIND = "people.linkage_new"


@jobs.handler(NEW_PEOPLE_KIND)
def run_new_people_job(job: Job, progress: Progress) -> str:
    ids = [int(i) for i in job.params["person_ids"]]
    progress(10, f"Looking for duplicates of {len(ids):,} new record(s)")
    new = review_people(ids, job.params.get("found_by", FoundBy.INTAKE), job.created_by)
    progress(99, f"{new:,} new possible duplicate(s)")
    return reverse("people:duplicates")


def review_later(actor: Any, person_ids: Iterable[int], found_by: str) -> None:
    """After this transaction commits, check these new records for duplicates in the
    background worker: at intake the form already warned with the fast name check
    (people.search.possible_duplicates); the probabilistic model's pairs, which take
    a second or so, then wait on the manager's duplicates page."""
    ids = sorted({int(i) for i in person_ids})
    if not ids:
        return
    transaction.on_commit(
        lambda: jobs.start(
            actor,
            NEW_PEOPLE_KIND,
            f"Look for duplicates of {len(ids):,} new record(s)",
            {"person_ids": ids, "found_by": str(found_by)},
        )  # fmt: skip
    )


def start_review(actor: Any) -> Job:
    """Queue the review of everyone as a background job (the duplicates page's button)."""
    job = jobs.start(actor, JOB_KIND, "Look for duplicate people", {})
    audit.record(actor, AuditAction.CREATE, job, summary="Started a duplicate check of everyone")
    return job
