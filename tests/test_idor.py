"""The IDOR walk (issue 9, acceptance 1): another mentor cannot reach any record of
Mo's mentees through any URL that takes an object id, by guessing numbers.

The access ladder (test_access_ladder.py) checks one object per page. This walk is
exhaustive the other way: Kim, a mentor with no mentees of her own, requests *every*
URL pattern with an int in it, with *every* id of every record held about Mo's two
mentees (their person records, referrals, cases, contacts, custody episodes, plans,
needs, concerns and the rest, found as the subject access export finds them), by GET
and by POST, and then ids just past the highest in the database. Every answer must be
404, exactly as for a record that does not exist (405 for a method the page does not
take); never 200, 302 or 403, which would tell her the record exists. Nothing in the
database may change. A control walk as Mo shows the same URLs do open his mentees'
records, so the 404s are about who asks, not broken URLs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db.models import Max, Q
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from throughgate.people import subject_access as sar

from . import make
from .test_subject_access import build_records

# Values for the URL arguments that are not object ids (a questionnaire's key, a kind
# of mentor record): real ones, so the object id is the only thing the answer turns on.
FIXED_ARGUMENTS = {"key": "trust-check-in", "kind": "supervision"}
# Models left out of the database snapshot: they change on every request by design
# (the session's idle clock, django-axes' access log), not because of what was asked.
NOT_SNAPSHOTTED = {"sessions.session", "axes.accesslog", "axes.accessattempt",
                   "axes.accessfailurelog", "axes.accessattemptexpiration"}  # fmt: skip
REFUSED = {404, 405}  # 405: a method the page never takes, whoever asks
# The walk must never silently shrink to nothing: with two mentees it makes thousands.
MINIMUM_REQUESTS = 1000


def id_patterns() -> list[tuple[str, str, dict[str, Any]]]:
    """(URL name, route, its arguments' converters) for every pattern taking an
    object id."""
    found = []

    def walk(patterns: list[Any], namespaces: list[str], route: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                space = [pattern.namespace] if pattern.namespace else []
                walk(pattern.url_patterns, namespaces + space, route + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                converters = pattern.pattern.converters
                if any(isinstance(c, IntConverter) for c in converters.values()):
                    name = ":".join([*namespaces, pattern.name or ""])
                    found.append((name, route + str(pattern.pattern), dict(converters)))

    walk(get_resolver().url_patterns, [], "")
    return found


def url_for(name: str, converters: dict[str, Any], pk: int) -> str:
    kwargs: dict[str, Any] = {}
    for argument, converter in converters.items():
        if isinstance(converter, IntConverter):
            kwargs[argument] = pk
        else:
            assert argument in FIXED_ARGUMENTS, f"{name}: add a real value for {argument!r}"
            kwargs[argument] = FIXED_ARGUMENTS[argument]
    return reverse(name, kwargs=kwargs)


def record_ids(person: Any) -> set[int]:
    """Every primary key of every record held about `person` (as the subject access
    export finds them), and the person's own."""
    ids = {person.pk}
    for model, paths in sar.person_paths().items():
        condition = Q()
        for lookup in paths:
            condition |= Q(**{lookup: person.pk})
        ids |= set(model._base_manager.filter(condition).values_list("pk", flat=True))
    return ids


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (bar NOT_SNAPSHOTTED), so any insert, update or delete,
    including a changed `updated_at`, shows up as a difference."""
    return {
        m._meta.label_lower: list(m._base_manager.order_by("pk").values_list())
        for m in apps.get_models()
        if m._meta.label_lower not in NOT_SNAPSHOTTED
    }


def highest_id() -> int:
    return max(
        (m._base_manager.aggregate(top=Max("pk"))["top"] or 0)
        for m in apps.get_models()
        if m._meta.label_lower not in NOT_SNAPSHOTTED
        and m._meta.pk.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField")
    )


@pytest.fixture
def mos_mentees(mo, kim, cara, sam, ade) -> list[Any]:
    """Two mentees of Mo's: one with records in every app, one with a case, a contact,
    family and a custody episode (a second full set would double the ids walked, and so
    the requests, without reaching another table). Kim has no mentee of her own, so no
    id she walks can be one of her own records."""
    first = build_records(mo, None, cara, sam, ade)
    jaden = make.make_person(cara, forename="Jaden", surname="Marsh", prison_number="B7654CD")
    case = make.make_case(mentor=mo, person=jaden, actor=cara)
    make.make_contact(case, summary="Went to the job centre together.")
    make.make_family_member(jaden, cara, name="Tanya Marsh")
    make.make_episode(jaden, cara, release_in=45)
    return [first, SimpleNamespace(person=jaden, case=case)]


def walk(client: Any, ids: list[int], methods: tuple[str, ...]) -> Iterator[tuple[str, str, int]]:
    """(method, URL, status) for each pattern × id × method."""
    for name, _route, converters in id_patterns():
        for pk in ids:
            url = url_for(name, converters, pk)
            for method in methods:
                response = getattr(client, method)(url)
                yield method, url, response.status_code


def test_another_mentor_gets_404_for_every_id_of_mos_mentees_on_every_url(mos_mentees, kim, login):
    ids = set()
    for records in mos_mentees:
        ids |= record_ids(records.person)
    past_the_end = [highest_id() + n for n in (1, 2, 3)]
    walked = sorted(ids) + past_the_end
    client = login(kim)
    before = snapshot()

    answers = list(walk(client, walked, ("get", "post")))

    leaks = [(m.upper(), url, status) for m, url, status in answers if status not in REFUSED]
    assert leaks == [], f"{len(leaks)} answers other than 404/405, e.g. {leaks[:10]}"
    assert snapshot() == before, "a refused request changed the database"
    statuses = Counter(status for _, _, status in answers)
    print(f"\nIDOR walk: {len(answers)} requests over {len(id_patterns())} URL patterns and "
          f"{len(walked)} ids ({len(ids)} distinct ids of Mo's mentees' records, then "
          f"{past_the_end[0]}-{past_the_end[-1]}): {dict(statuses)}")  # fmt: skip
    assert len(answers) >= MINIMUM_REQUESTS
    assert statuses[404] > statuses[405]


def test_the_same_walk_as_mo_opens_his_mentees_records(mos_mentees, mo, login):
    """The control: the ids and URLs walked are real, so Kim's 404s are about her."""
    records = mos_mentees[0]
    opened = {url for method, url, status in walk(login(mo), sorted(record_ids(records.person)),
                                                 ("get",)) if status == 200}  # fmt: skip
    for name, pk in (("people:detail", records.person.pk),
                     ("casework:case_detail", records.case.pk),
                     ("custody:episode_detail", records.episode.pk),
                     ("casework:support_plan", records.case.pk),
                     ("casework:concern_detail", records.concern.pk)):  # fmt: skip
        assert reverse(name, args=[pk]) in opened, name
    assert len(opened) >= 15
