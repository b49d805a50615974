"""Between the database and the matching engine: load mentors, a young person and the
conflicts that bind them into the engine's plain dataclasses, and nothing more.

Safety data is read without the viewer's scoping on purpose: a conflict recorded by
another team still forbids a pairing, even though this coordinator cannot read it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q

from throughgate.casework.models import Case
from throughgate.custody.models import CustodyEpisode
from throughgate.engines import matching as engine
from throughgate.people.models import Person

from .models import (
    Conflict,
    ConflictKind,
    LicenceKind,
    MatchingNeeds,
    MentorProfile,
    TrainingCourse,
)
from .readiness import Readiness, assess, caseload_of, with_readiness_records


@dataclass
class MentorPool:
    """The engine's mentors and, by engine id (the mentor's person id), their profiles."""

    mentors: list[engine.Mentor]
    profiles: dict[int, MentorProfile]
    readiness: dict[int, Readiness]

    def user_of(self, mentor_id: int) -> Any:
        return self.profiles[mentor_id].user


def _fold(values: Any) -> frozenset[str]:
    return frozenset(v for v in values if v)


def mentor_pool(team_id: int | None, today: date) -> MentorPool:
    """Every active mentor of the team (all teams when None) as the engine sees them."""
    profiles_qs = MentorProfile.objects.filter(user__is_active=True)
    if team_id is not None:
        profiles_qs = profiles_qs.filter(user__team_id=team_id)
    profiles = list(with_readiness_records(profiles_qs))
    required = list(TrainingCourse.objects.filter(required_for_matching=True))
    mentees: dict[int, set[int]] = defaultdict(set)
    for mentor_id, person_id in (
        Case.objects.open()
        .filter(mentor_id__in=[p.user_id for p in profiles])
        .values_list("mentor_id", "person_id")
    ):
        mentees[mentor_id].add(person_id)

    mentors, by_id, readiness = [], {}, {}
    for profile in profiles:
        r = assess(profile, today, required)
        person = profile.person
        active_conditions = [c for c in profile.licence_conditions.all() if c.is_active_on(today)]
        zones = [c for c in active_conditions if c.kind == LicenceKind.EXCLUSION_ZONE]
        mentors.append(
            engine.Mentor(
                id=person.pk,
                name=str(profile.user),
                capacity=profile.capacity,
                caseload=min(caseload_of(profile), profile.capacity),
                gender=person.gender,
                age=person.age_on(today),
                languages=_fold([person.first_language, *profile.languages]),
                boroughs_known=_fold(profile.boroughs_known),
                avoid_boroughs=_fold(profile.boroughs_to_avoid),
                exclusion_boroughs=_fold(b for c in zones for b in c.boroughs),
                exclusion_postcodes=_fold(p for c in zones for p in c.postcode_districts),
                non_associates=frozenset(
                    p.pk
                    for c in active_conditions
                    if c.kind in (LicenceKind.NON_ASSOCIATION, LicenceKind.COURT_ORDER)
                    for p in c.named_people.all()
                ),
                lived_experience=_fold(c.name for c in profile.lived_experience.all()),
                custody_history=_fold(e.display_name for e in profile.custody_history.all()),
                cleared_establishments=_fold(
                    c.establishment.display_name for c in r.cleared.values()
                ),
                clearance_notes=dict(r.clearance_notes),
                current_mentees=frozenset(mentees.get(profile.user_id, ())),
                ready=r.ready,
                not_ready_reasons=tuple(r.problems),
            )
        )
        by_id[person.pk] = profile
        readiness[person.pk] = r
    return MentorPool(mentors, by_id, readiness)


def young_people(persons: list[Person], today: date) -> list[engine.YoungPerson]:
    """Young people as the engine sees them, in a fixed number of queries."""
    ids = [p.pk for p in persons]
    needs = {
        n.person_id: n
        for n in MatchingNeeds.objects.filter(person_id__in=ids).prefetch_related("experiences")
    }
    display = {
        e.person_id: e.establishment.display_name
        for e in CustodyEpisode.objects.current()
        .filter(person_id__in=ids)
        .select_related("establishment")
        .order_by("received_on")
    }
    current_mentor = {
        person_id: mentor_person
        for person_id, mentor_person in Case.objects.open()
        .filter(person_id__in=ids, mentor__mentor_profile__isnull=False)
        .values_list("person_id", "mentor__mentor_profile__person_id")
    }
    associates: dict[int, set[int]] = defaultdict(set)
    for a, b in (
        Conflict.objects.active()
        .filter(Q(person_a_id__in=ids) | Q(person_b_id__in=ids), kind=ConflictKind.CO_DEFENDANT)
        .values_list("person_a_id", "person_b_id")
    ):
        associates[a].add(b)
        associates[b].add(a)
    result = []
    for person in persons:
        need = needs.get(person.pk)
        result.append(
            engine.YoungPerson(
                id=person.pk,
                name=person.full_name,
                gender=person.gender,
                mentor_gender_required=need.mentor_gender_required if need else "",
                age=person.age_on(today),
                borough=person.borough,
                postcode=person.postcode,
                language=person.first_language or "English",
                establishment=display.get(person.pk, ""),
                lived_experience=_fold(c.name for c in need.experiences.all())
                if need
                else frozenset(),
                current_mentor=current_mentor.get(person.pk),
                associates=frozenset(associates.get(person.pk, ())),
            )
        )
    return result


def conflicts_for(person_ids: list[int] | None = None) -> engine.ConflictIndex:
    """Active conflicts (every team's) involving these people, or all of them."""
    qs = Conflict.objects.active()
    if person_ids is not None:
        qs = qs.filter(Q(person_a_id__in=person_ids) | Q(person_b_id__in=person_ids))
    return engine.ConflictIndex(qs.values_list("person_a_id", "person_b_id"))


@dataclass
class Suggestions:
    young_person: engine.YoungPerson
    result: engine.SuggestionResult
    pool: MentorPool

    def rank_of(self, mentor_person_id: int) -> int | None:
        for rank, s in enumerate(self.result.suggestions, start=1):
            if s.mentor_id == mentor_person_id:
                return rank
        return None


def suggestions_for(
    person: Person, team_id: int | None, today: date, k: int | None = 5
) -> Suggestions:
    """The top k mentors for this young person (every feasible one when k is None)."""
    pool = mentor_pool(team_id, today)
    (young,) = young_people([person], today)
    result = engine.suggest(
        young, pool.mentors, conflicts_for([person.pk]), k=len(pool.mentors) if k is None else k
    )
    return Suggestions(young, result, pool)
