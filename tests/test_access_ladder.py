"""The access ladder (healthchecks style) for every URL in the project.

For each page: the people it is for can use it; the coordinator can use the
team's pages; another mentor gets 404; the analyst gets 404 on anything
personal; the safeguarding lead reads but gets 403 on every change; a mentor
gets 403 on case-management pages of their own mentee; anonymous visitors are
sent to log in; a wrong HTTP method gets 405; and a missing id answers exactly
like a forbidden one. `LADDER` below is the table every rung reads from, and
`test_every_url_pattern_has_a_ladder_entry` fails when a URL is added without a row.

Who is who (DESIGN.md): Mo and Kim are mentors, Pat a prevention facilitator
(another team), Cara the custody team's coordinator, Sam the safeguarding lead,
Ade the admin, Fay the analyst.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from throughgate.accounts.roles import Role
from throughgate.casework import support as support_actions
from throughgate.casework.models import ProgrammeKind
from throughgate.core.models import AuditAction, AuditEvent, Job, JobStatus
from throughgate.custody import actions as custody_actions
from throughgate.custody.models import KEY_DATES, Establishment
from throughgate.mentors import actions as mentor_actions
from throughgate.outcomes import actions as outcome_actions
from throughgate.outcomes.models import EvaluationRun
from throughgate.people import actions as people_actions

from . import make
from .ladder_base import (
    CASEWORKERS,
    FORM,
    HOLDERS,
    LOGGED_IN,
    MANAGERS,
    MISSING_PK,
    MOS_MENTEE,
    POST,
    READ,
    ROLES,
    Page,
)

# Who can *see* each object the ladder opens (so who gets 403 rather than 404
# on a change they may not make). Every object is Mo's mentee's, except the
# pending referral, which has no case yet and so no mentor.
VISIBLE_TO = {
    "case": MOS_MENTEE,
    "person": MOS_MENTEE,
    "referral": MOS_MENTEE,
    "alias": MOS_MENTEE,
    "family": MOS_MENTEE,
    "episode": MOS_MENTEE,
    "plan_item": MOS_MENTEE,
    "unplanned_case": MOS_MENTEE,
    "free_person": MOS_MENTEE,
    "pending_referral": frozenset({"cara", "sam", "ade"}),
    # The support plan of Mo's mentee's case.
    "need": MOS_MENTEE,
    "action": MOS_MENTEE,
    "id_app": MOS_MENTEE,
    "bank_app": MOS_MENTEE,
    "onward": MOS_MENTEE,
    "reoffending": MOS_MENTEE,
    # Mo's own mentor records, and the mentee he was matched with.
    "mentor": MOS_MENTEE,
    "licence": MOS_MENTEE,
    "assignment": MOS_MENTEE,
    # The conflicts register and match batches: never shown to mentors.
    "conflict": frozenset({"cara", "sam", "ade"}),
    "batch": frozenset({"cara", "sam", "ade"}),
    # Impact evaluations: aggregates, for the outcomes pages' users.
    "evaluation": frozenset({"ade", "fay"}),
    # A background job (an evaluation of Fay's that failed): only she follows it.
    "job": frozenset({"fay"}),
}


LADDER = [
    # Log-in and the machinery around it.
    Page("login", READ, frozenset(), personal=False, public=True),
    Page("healthz", READ, frozenset(), personal=False, public=True),
    Page("logout", POST, LOGGED_IN, personal=False),
    # "Confirm it's you" before a download (core.reauth): for anyone logged in.
    Page("reauth", FORM, LOGGED_IN, personal=False),
    Page("home", READ, LOGGED_IN, personal=False, ok=302),
    Page("audit_trail", READ, frozenset({"ade"})),
    Page("manage", READ, frozenset({"ade"}), personal=False),
    Page("reports:dashboard", READ, frozenset({"ade", "fay"}), personal=False),
    # A background job's progress page, for whoever started it (here Fay's evaluation).
    Page("job", READ, frozenset({"fay"}), "job", personal=False),
    Page("job_retry", POST, frozenset({"fay"}), "job", personal=False),
    # Casework.
    Page("casework:caseload", READ, CASEWORKERS),
    Page("casework:referral_queue", READ, MANAGERS),
    Page("casework:referral_new", FORM, MANAGERS),
    Page("casework:referral_detail", READ, frozenset({"mo", "cara", "sam", "ade"}), "referral"),
    Page("casework:referral_accept", POST, MANAGERS, "pending_referral"),
    Page("casework:referral_decline", POST, MANAGERS, "pending_referral"),
    Page("casework:case_list", READ, frozenset({"cara", "sam", "ade"})),
    Page("casework:case_detail", READ, frozenset({"mo", "cara", "sam", "ade"}), "case"),
    Page("casework:contact_new", FORM, HOLDERS, "case"),
    Page("casework:case_phase", FORM, MANAGERS, "case"),
    Page("casework:case_mentor", FORM, MANAGERS, "case"),
    Page("casework:case_close", FORM, MANAGERS, "case"),
    # Custody and the release-day plan.
    Page("custody:episode_new", FORM, HOLDERS, "free_person", kwarg="person_pk"),
    Page("custody:episode_detail", READ, MOS_MENTEE, "episode"),
    Page("custody:episode_dates", FORM, HOLDERS, "episode"),
    Page("custody:episode_transfer", FORM, HOLDERS, "episode"),
    Page("custody:episode_release", FORM, HOLDERS, "episode"),
    Page("custody:release_calendar", READ, frozenset({"cara", "sam", "ade"})),
    Page("custody:plan_detail", READ, MOS_MENTEE, "case", kwarg="case_pk"),
    Page("custody:plan_create", POST, HOLDERS, "unplanned_case", kwarg="case_pk"),
    Page("custody:plan_item_new", FORM, HOLDERS, "case", kwarg="case_pk"),
    Page("custody:plan_item_edit", FORM, HOLDERS, "plan_item"),
    # A caseworker's calendar link is shown once, on the page that made it (no
    # redirect); the feed answers to the token in its link, not to a log-in.
    Page("custody:calendar_settings", FORM, CASEWORKERS, personal=False, posted=200),
    Page("custody:calendar_feed", READ, frozenset(), personal=False, public=True),
    # People.
    Page("people:search", READ, LOGGED_IN - {"fay"}),
    Page("people:detail", READ, frozenset({"mo", "cara", "sam", "ade"}), "person"),
    Page("people:edit", FORM, HOLDERS, "person"),
    Page("people:alias_new", FORM, HOLDERS, "person"),
    Page("people:alias_delete", POST, HOLDERS, "alias"),
    Page("people:family_new", FORM, HOLDERS, "person"),
    Page("people:family_edit", FORM, HOLDERS, "family"),
    Page("people:family_delete", POST, HOLDERS, "family"),
    # Holistic support: needs, actions, ID and bank, onward referrals, questionnaires.
    Page("casework:support_plan", READ, MOS_MENTEE, "case"),
    Page("casework:needs_assess", FORM, HOLDERS, "case"),
    Page("casework:need_update", FORM, HOLDERS, "need"),
    Page("casework:action_new", FORM, HOLDERS, "case"),
    Page("casework:action_done", POST, HOLDERS, "action"),
    Page("casework:id_new", FORM, HOLDERS, "case"),
    Page("casework:id_edit", FORM, HOLDERS, "id_app"),
    Page("casework:bank_new", FORM, HOLDERS, "case"),
    Page("casework:bank_edit", FORM, HOLDERS, "bank_app"),
    Page("casework:onward_new", FORM, HOLDERS, "case"),
    Page("casework:onward_detail", FORM, HOLDERS, "onward"),
    Page("casework:instrument_new", FORM, HOLDERS, "case", fixed=(("key", "trust-check-in"),)),
    Page("casework:agency_list", READ, LOGGED_IN - {"fay"}, personal=False),
    Page("casework:agency_new", FORM, MANAGERS, personal=False),
    # Reoffending outcomes.
    Page("outcomes:dashboard", READ, frozenset({"ade", "fay"}), personal=False),
    Page("outcomes:baselines", FORM, frozenset({"ade"}), personal=False),
    Page("outcomes:jdl_export", READ, frozenset({"ade"})),
    # A valid POST queues the evaluation as a background job and shows its progress
    # page; tests/test_evaluation_web.py runs them to the end in the worker.
    Page("outcomes:evaluation_new", FORM, frozenset({"ade", "fay"}), personal=False),
    Page("outcomes:evaluation", READ, frozenset({"ade", "fay"}), "evaluation", personal=False),
    Page("outcomes:event_new", FORM, HOLDERS, "person", kwarg="person_pk"),
    Page("outcomes:event_edit", FORM, HOLDERS, "reoffending"),
    # Mentors, their vetting and licence conditions, conflicts and matching.
    Page("mentors:list", READ, frozenset({"cara", "sam", "ade"})),
    Page("mentors:new", FORM, MANAGERS),
    Page("mentors:mine", READ, frozenset({"mo", "kim"}), ok=302),
    Page("mentors:detail", READ, MOS_MENTEE, "mentor"),
    Page("mentors:edit", FORM, MANAGERS, "mentor"),
    Page("mentors:record_new", FORM, MANAGERS, "mentor", fixed=(("kind", "supervision"),)),
    Page("mentors:licence_end", POST, MANAGERS, "licence"),
    Page("mentors:conflicts", READ, frozenset({"cara", "sam", "ade"})),
    Page("mentors:conflict_new", FORM, MANAGERS),
    Page("mentors:conflict_end", FORM, MANAGERS, "conflict"),
    Page("mentors:matching_needs", FORM, MANAGERS, "person", kwarg="person_pk"),
    Page("mentors:batch", FORM, MANAGERS),
    Page("mentors:batch_detail", READ, frozenset({"cara", "sam", "ade"}), "batch"),
    Page("mentors:batch_accept", POST, MANAGERS, "batch"),
    Page("mentors:assignment_seen", POST, frozenset({"mo"}), "assignment"),
]


def _ladder_modules() -> list[ModuleType]:
    """The per-app ladder modules beside this file (`ladder_*.py`, see ladder_base)."""
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("ladder_*.py") if p.stem != "ladder_base")
    return [importlib.import_module(f"{__package__}.{name}") for name in names]


LADDER_MODULES = _ladder_modules()
for _module in LADDER_MODULES:
    LADDER.extend(_module.PAGES)
    assert not set(_module.VISIBLE_TO) & set(VISIBLE_TO), f"{_module.__name__} reuses a key"
    VISIBLE_TO.update(_module.VISIBLE_TO)
PAGES = {page.name: page for page in LADDER}
assert len(PAGES) == len(LADDER), "a URL has two LADDER rows"


def pages(predicate: Any) -> list[Any]:
    return [pytest.param(p, id=p.name) for p in LADDER if predicate(p)]


def page_roles(predicate: Any) -> list[Any]:
    return [
        pytest.param(p, role, id=f"{p.name}-{role}")
        for p in LADDER
        for role in ROLES
        if predicate(p, role)
    ]


# --- The world every rung runs in ----------------------------------------------


@dataclass
class Holding:
    """One caseworker's mentee and everything hanging off their case."""

    case: Any
    person: Any
    referral: Any
    alias: Any
    family: Any
    episode: Any = None  # in custody, due out in about a month
    plan_item: Any = None  # "ID" on the release-day plan


@dataclass
class World:
    users: dict[str, Any]
    mo: Holding
    pat: Holding
    kim: Holding
    pending_referral: Any
    other_team_case: Any
    other_team_referral: Any
    establishment: Any
    other_establishment: Any
    unplanned_case: Any  # Mo's other mentee: in custody, no release-day plan yet
    free_case: Any  # Mo's third mentee: not in custody, so custody may be recorded
    calendar_token: str  # Mo's calendar feed
    profiles: dict[str, Any] = field(default_factory=dict)  # mentor profiles by username
    licence: Any = None  # a licence condition of Mo's
    conflict: Any = None  # between Mo's mentee and another young person
    batch: Any = None  # a batch match with one open proposal
    lee: Any = None  # a mentor account with no profile yet
    support: dict[str, Any] = field(default_factory=dict)  # Mo's mentee's support plan
    names: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # the ladder modules' objects

    def objects(self, owner: str = "mo") -> dict[str, Any]:
        """The objects a page's URL may name, around one caseworker's mentee."""
        holding: Holding = getattr(self, owner)
        return {
            "case": holding.case,
            "person": holding.person,
            "referral": holding.referral,
            "alias": holding.alias,
            "family": holding.family,
            "episode": holding.episode,
            "plan_item": holding.plan_item,
            "unplanned_case": self.unplanned_case,
            # Only someone not in custody now can have a new custody record.
            "free_person": self.free_case.person if owner == "mo" else holding.person,
            "pending_referral": self.pending_referral,
            "calendar_token": self.calendar_token,
            "mentor": self.profiles.get(owner),
            "licence": self.licence,
            "conflict": self.conflict,
            "batch": self.batch,
            "assignment": holding.case.mentor_assignments.first(),
            **(self.support if owner == "mo" else {}),
            **self.extra,
        }


def _holding(
    mentor: Any,
    actor: Any,
    forename: str,
    surname: str,
    prison_number: str = "",
    **case_kwargs: Any,
) -> Holding:
    person = make.make_person(
        actor, forename=forename, surname=surname, prison_number=prison_number
    )
    case = make.make_case(mentor=mentor, person=person, actor=actor, **case_kwargs)
    alias = people_actions.add_alias(actor, person, "Shadow", "", "street name")
    family = make.make_family_member(person, actor, name=f"Grace {surname}")
    make.make_contact(case)
    return Holding(case, person, case.referral, alias, family)


def build_world() -> World:
    custody_team = make.make_team("Custody team")
    prevention_team = make.make_team("Prevention team")
    users = {
        "mo": make.make_user("mo", Role.MENTOR, custody_team, first_name="Mo", last_name="Ahmed"),
        "kim": make.make_user(
            "kim", Role.MENTOR, custody_team, first_name="Kim", last_name="Walsh"
        ),
        "pat": make.make_user(
            "pat", Role.PREVENTION_FACILITATOR, prevention_team, first_name="Pat"
        ),
        "cara": make.make_user(
            "cara", Role.COORDINATOR, custody_team, first_name="Cara", last_name="Jones"
        ),
        "sam": make.make_user(
            "sam", Role.SAFEGUARDING_LEAD, custody_team, first_name="Sam", last_name="Okafor"
        ),
        "ade": make.make_user("ade", Role.ADMIN, None, first_name="Ade", last_name="Bello"),
        "fay": make.make_user("fay", Role.ANALYST, None, first_name="Fay", last_name="Green"),
    }
    cara, ade = users["cara"], users["ade"]
    make.make_programme(team=custody_team)
    isis = Establishment.objects.get(code="ISI")  # where make_plan's custody is
    profiles = {name: make.make_mentor(users[name], ade, cleared=[isis]) for name in ("mo", "kim")}
    prevention = make.make_programme("Prevention 1:1", ProgrammeKind.PREVENTION, prevention_team)
    mo_holding = _holding(users["mo"], cara, "Tyrese", "Whitlock", prison_number="A1234BC")
    kim_holding = _holding(users["kim"], cara, "Dami", "Oyelaran")
    pat_holding = _holding(users["pat"], ade, "Rio", "Castell", programme=prevention)
    pending = make.make_referral(
        person=make.make_person(cara, forename="Leon", surname="Ashdown"), actor=cara
    )
    plan = make.make_plan(mo_holding.case, cara)
    mo_holding.episode = plan.episode
    mo_holding.plan_item = plan.items.get(kind="id")
    mo_holding.case.refresh_from_db()  # now in custody
    make.make_plan(kim_holding.case, cara, release_in=40)
    unplanned_case = make.make_case(
        mentor=users["mo"], person=make.make_person(cara, forename="Jaden", surname="Marsh"),
        actor=cara,
    )  # fmt: skip
    make.make_episode(unplanned_case.person, cara, release_in=50)
    free_case = make.make_case(
        mentor=users["mo"], person=make.make_person(cara, forename="Ellis", surname="Brook"),
        actor=cara,
    )  # fmt: skip
    # Another team's work, which Cara must never see.
    north = make.make_team("North team")
    north_programme = make.make_programme("North mentoring", team=north)
    nia = make.make_user("nia", Role.MENTOR, north, first_name="Nia")
    north_case = make.make_case(
        mentor=nia,
        person=make.make_person(ade, forename="Kezia", surname="Farrow"),
        actor=ade,
        programme=north_programme,
    )
    north_referral = make.make_referral(
        person=make.make_person(ade, forename="Bilal", surname="Renshaw"),
        programme=north_programme,
        actor=ade,
    )
    make.make_plan(north_case, ade, release_in=20)
    establishments = Establishment.objects.filter(active=True).order_by("code")
    licence = mentor_actions.add_licence_condition(ade, profiles["mo"], {
        "kind": "exclusion_zone", "boroughs": ["Barnet"], "starts_on": timezone.localdate(),
        "ends_on": timezone.localdate() + timedelta(days=200),
    })  # fmt: skip
    conflict = mentor_actions.record_conflict(
        ade, mo_holding.person, north_referral.person,
        {"kind": "rival_group", "source": "Prison security", "recorded_on": timezone.localdate()},
    )  # fmt: skip
    waiting = make.make_case(
        person=make.make_person(cara, forename="Remi", surname="Oduya"), actor=cara
    )
    batch = mentor_actions.propose_matches(cara, custody_team.pk)
    assert batch.proposals.filter(case=waiting, status="proposed").exists()
    lee = make.make_user("lee", Role.MENTOR, custody_team, first_name="Lee", last_name="Grant")
    mo_case = mo_holding.case
    (need,) = support_actions.assess_needs(cara, mo_case, {
        "accommodation": {"status": "in_progress", "summary": "Somewhere to live on release"},
    })  # fmt: skip
    agency = support_actions.add_agency(
        ade, {"name": "Southwark Housing Options", "kind": "housing"}
    )
    support = {
        "need": need,
        "action": support_actions.add_action(
            cara,
            mo_case,
            {
                "need": need,
                "description": "Call the housing officer",
                "owner": "mentor",
                "due_on": timezone.localdate() + timedelta(days=3),
            },
        ),  # fmt: skip
        "id_app": support_actions.save_id_application(
            cara, mo_case, {"id_type": "birth_certificate", "status": "not_started"}
        ),
        "bank_app": support_actions.save_bank_application(
            cara, mo_case, {"bank": "Barclays", "outcome": "not_started"}
        ),
        "onward": support_actions.create_onward_referral(
            cara,
            mo_case,
            {
                "agency": agency,
                "need": need,
                "reason": "Housing advice before release",
                "consent_recorded": True,
                "consent_on": timezone.localdate(),
            },
        ),  # fmt: skip
        "agency": agency,
        "evaluation": EvaluationRun.objects.create(
            programme=mo_case.programme,
            pool_source="file",
            pool_name="pool.csv",
            as_of=timezone.localdate(),
            report={},
        ),  # fmt: skip
        "job": Job.objects.create(
            kind="evaluation",
            title="Impact evaluation",
            status=JobStatus.FAILED,
            message="It stopped with an error.",
            created_by=users["fay"],
        ),  # fmt: skip
        "reoffending": outcome_actions.record_event(
            cara,
            mo_case.person,
            {
                "disposal_type": "recall",
                "disposal_date": timezone.localdate(),
                "source": "probation",
            },
        ),  # fmt: skip
    }
    world = World(
        users=users,
        mo=mo_holding,
        pat=pat_holding,
        kim=kim_holding,
        pending_referral=pending,
        other_team_case=north_case,
        other_team_referral=north_referral,
        establishment=establishments[0],
        other_establishment=establishments[1],
        unplanned_case=unplanned_case,
        free_case=free_case,
        calendar_token=custody_actions.create_calendar_token(users["mo"]),
        profiles=profiles,
        licence=licence,
        conflict=conflict,
        batch=batch,
        lee=lee,
        support=support,
        names=[
            "Tyrese",
            "Whitlock",
            "Dami",
            "Oyelaran",
            "Rio",
            "Castell",
            "Leon",
            "Ashdown",
            "Kezia",
            "Farrow",
            "Bilal",
            "Renshaw",
            "Jaden",
            "Marsh",
            "Ellis",
            "Brook",
            "Remi",
            "Oduya",
        ],
    )
    for module in LADDER_MODULES:
        world.extra.update(module.build(world))
    return world


@pytest.fixture(scope="module")
def shared_world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The world is built once for this module, inside a transaction rolled back at
    the end (Django's setUpTestData pattern); each test runs in its own savepoint,
    so a POST in one test is gone before the next. The users are conftest's
    named users, made the same way."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
        except BaseException:
            atomic.__exit__(*sys.exc_info())
            raise
    # Blocked again between tests: only tests asking for `world` (and so `db`) touch it.
    try:
        yield world
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def world(shared_world: World, db: Any) -> World:
    return shared_world


def url_of(page: Page, objects: dict[str, Any] | None = None, missing: bool = False) -> str:
    if page.name == "custody:calendar_feed":
        token = "no-such-token" if missing else objects["calendar_token"]  # type: ignore[index]
        return reverse(page.name, kwargs={"token": token})
    if not page.obj:
        return reverse(page.name)
    pk = MISSING_PK if missing else objects[page.obj].pk  # type: ignore[index]
    return reverse(page.name, kwargs={page.kwarg: pk, **dict(page.fixed)})


def valid_post(page: Page, world: World, objects: dict[str, Any]) -> dict[str, Any]:
    """Data a POST to the page accepts (so a refusal is about who, not what)."""
    for module in LADDER_MODULES:
        data = module.valid_post(page, world, objects)
        if data is not None:
            return data
    today = timezone.localdate()
    case, person = objects["case"], objects["person"]
    if page.name == "reauth":
        return {"password": make.PASSWORD}
    if page.name == "casework:referral_new":
        return {
            "person-forename": "Amani",
            "person-surname": "Okoro",
            "person-date_of_birth": "2007-03-09",
            "person-gender": "not_stated",
            "person-ethnicity": "not_stated",
            "person-first_language": "English",
            "referral-programme": world.mo.case.programme_id,
            "referral-source_type": "probation",
            "referral-referral_date": today.isoformat(),
            "referral-reasons": "Asked for a mentor on release.",
            "referral-consent_recorded": "on",
        }
    if page.name == "casework:referral_accept":
        return {
            "match-mentor": world.users["mo"].pk,
            "match-override_reason": "Mo knows the family.",
            "accept-opened_on": today.isoformat(),
            "accept-initial_phase": "referred",
        }
    if page.name == "casework:referral_decline":
        return {"decline-decline_reason": "no_capacity"}
    if page.name == "casework:contact_new":
        return {
            "occurred_at": f"{today - timedelta(days=1):%Y-%m-%d}T14:00",
            "mode": "phone",
            "attendance": "attended",
            "duration_minutes": "30",
            "summary": "Talked about the college course.",
        }
    if page.name == "casework:case_phase":
        phases = case.programme.phases
        return {"to_phase": phases[phases.index(case.phase) + 1], "changed_on": today.isoformat()}
    if page.name == "casework:case_mentor":
        if case.programme.uses_mentor_matching:
            return {"match-mentor": "other", "match-other_mentor": world.users["kim"].pk,
                    "match-override_reason": "Kim is nearer."}  # fmt: skip
        return {"mentor": world.users["pat"].pk}
    if page.name == "casework:case_close":
        return {"closure_reason": "completed", "closed_on": today.isoformat(),
                "closure_accommodation": "family", "closure_ete": "training"}  # fmt: skip
    if page.name == "custody:episode_new":
        return {
            "establishment": world.establishment.pk,
            "received_on": (today - timedelta(days=10)).isoformat(),
            "sentence_type": "determinate",
            "crd": (today + timedelta(days=60)).isoformat(),
        }
    if page.name == "custody:episode_dates":
        episode = objects["episode"]
        data = {name: getattr(episode, name) for name in KEY_DATES}
        data["crd"] += timedelta(days=7)
        return {
            **{k: v.isoformat() if v else "" for k, v in data.items()},
            "sentence_type": episode.sentence_type,
            "reason": "Added days",
        }
    if page.name == "custody:episode_transfer":
        return {
            "to_establishment": world.other_establishment.pk,
            "transferred_on": today.isoformat(),
        }
    if page.name == "custody:episode_release":
        return {"released_on": today.isoformat()}
    if page.name == "custody:plan_item_new":
        return {"label": "Collect birth certificate", "status": "to_do", "owner": "family"}
    if page.name == "custody:plan_item_edit":
        return {"status": "in_progress", "owner": "prison"}
    if page.name == "custody:calendar_settings":
        return {"action": "create"}
    if page.name == "people:edit":
        return make.person_form_data(person, phone="07700 900123")
    if page.name == "people:alias_new":
        return {"forename": "Ty", "surname": "", "note": "what friends call him"}
    if page.name in ("people:family_new", "people:family_edit"):
        return {"name": "Marcus Sibling", "relationship": "sibling", "may_contact": "on"}
    if page.name == "casework:needs_assess":
        data = {"on": today.isoformat()}
        for pathway in ("accommodation", "education_skills_work", "finance_id", "health",
                        "drugs_alcohol", "children_families_community",
                        "attitudes_thinking_behaviour", "other"):  # fmt: skip
            data.update({f"{pathway}-status": "not_started", f"{pathway}-priority": "medium",
                         f"{pathway}-responsible": "mentor"})  # fmt: skip
        data["health-status"] = "in_progress"
        return data
    if page.name == "casework:need_update":
        return {"status": "met", "priority": "high", "responsible": "mentor",
                "on": today.isoformat(), "note": "Moved into supported housing."}  # fmt: skip
    if page.name == "casework:action_new":
        return {"description": "Book a GP appointment", "owner": "mentor",
                "due_on": (today + timedelta(days=7)).isoformat()}  # fmt: skip
    if page.name == "casework:id_new":
        return {"id_type": "passport", "status": "not_started"}
    if page.name == "casework:id_edit":
        return {"id_type": "birth_certificate", "status": "submitted",
                "submitted_on": today.isoformat(), "cost": "12.50"}  # fmt: skip
    if page.name == "casework:bank_new":
        return {"bank": "Monzo", "outcome": "not_started"}
    if page.name == "casework:bank_edit":
        return {"bank": "Barclays", "outcome": "submitted", "submitted_on": today.isoformat()}
    if page.name == "casework:onward_new":
        return {"agency": world.support["agency"].pk, "reason": "Debt advice",
                "consent_recorded": "on", "consent_on": today.isoformat()}  # fmt: skip
    if page.name == "casework:onward_detail":
        return {"status": "sent", "on": today.isoformat()}
    if page.name == "casework:instrument_new":
        return {"completed_on": today.isoformat(), **{f"item-t{i}": "4" for i in range(1, 11)}}
    if page.name == "casework:agency_new":
        return {"name": "New Horizon Youth Centre", "kind": "housing"}
    if page.name == "outcomes:baselines":
        return {"label": "Young adults (18-20)", "period": "2023", "rate": "41.0",
                "source": "MoJ", "active": "on"}  # fmt: skip
    if page.name == "outcomes:evaluation_new":
        return {"programme": case.programme_id, "pool_source": "own", "k": "1",
                "covariates": ["age_at_index", "gender"], "caliper": "0.2"}  # fmt: skip
    if page.name in ("outcomes:event_new", "outcomes:event_edit"):
        return {"disposal_type": "conviction", "source": "probation",
                "offence_date": (today - timedelta(days=40)).isoformat(),
                "disposal_date": (today - timedelta(days=10)).isoformat()}  # fmt: skip
    if page.name == "mentors:new":
        return {
            "user": world.lee.pk, "date_of_birth": "1992-04-05", "gender": "male",
            "first_language": "English", "capacity": "4", "available": "on",
        }  # fmt: skip
    if page.name == "mentors:edit":
        return {"capacity": "7", "available": "on", "languages": "English, Twi"}
    if page.name == "mentors:record_new":
        return {"held_on": today.isoformat(), "supervisor": world.users["cara"].pk,
                "wellbeing": "well"}  # fmt: skip
    if page.name == "mentors:conflict_new":
        return {"person_a": world.mo.person.pk, "person_b": world.unplanned_case.person.pk,
                "kind": "co_defendant", "source": "Probation",
                "recorded_on": today.isoformat()}  # fmt: skip
    if page.name == "mentors:conflict_end":
        return {"ended_on": today.isoformat(), "ended_reason": "Moved out of London."}
    if page.name == "mentors:matching_needs":
        return {"mentor_gender_required": "male"}
    if page.name == "mentors:batch_accept":
        return {"proposal": list(world.batch.proposals.values_list("pk", flat=True))}
    return {}


def answers(
    client: Client, page: Page, world: World, objects: dict[str, Any], missing: bool = False
) -> dict[str, Any]:
    """The page's response to each method it takes (a POST carries valid data)."""
    url = url_of(page, objects, missing)
    responses = {}
    for method in page.methods:
        if method == "get":
            responses[method] = client.get(url)
        else:
            responses[method] = client.post(url, valid_post(page, world, objects))
    return responses


def change_events() -> int:
    return AuditEvent.objects.filter(
        action__in=[AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE]
    ).count()


def statuses(responses: dict[str, Any]) -> dict[str, int]:
    return {method: response.status_code for method, response in responses.items()}


def assert_works(client: Client, page: Page, world: World, objects: dict[str, Any]) -> None:
    before = change_events()
    responses = answers(client, page, world, objects)
    if "get" in responses:
        assert responses["get"].status_code == page.ok, page
    if "post" in responses:
        response = responses["post"]
        assert response.status_code == page.posted, (
            f"{page}: a valid POST should answer {page.posted}, got {response.status_code}"
        )
        if page.personal:
            assert change_events() > before, f"{page}: the change was not audited"


def assert_refused(
    client: Client, page: Page, world: World, status: int, objects: dict[str, Any] | None = None
) -> None:
    objects = objects or world.objects("mo")
    before = change_events()
    responses = answers(client, page, world, objects)
    assert statuses(responses) == {m: status for m in responses}, page
    assert change_events() == before, f"{page}: a refused request changed something"


# --- Every URL has a rung -------------------------------------------------------


# URL namespaces answered by API token, not the log-in session the ladder uses: their
# own ladder (tests/test_api_ladder.py) fails if an operation is added without a row.
TOKEN_AUTHENTICATED = {ns for m in LADDER_MODULES for ns in getattr(m, "TOKEN_AUTHENTICATED", ())}


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespaces: list[str]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespaces + ([pattern.namespace] if pattern.namespace else [])
                if ":".join(inner) in TOKEN_AUTHENTICATED:
                    continue
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                # An unnamed pattern cannot be in the ladder, so it fails the test too.
                names.add(":".join([*namespaces, pattern.name or f"<unnamed {pattern.pattern}>"]))

    walk(get_resolver().url_patterns, [])
    return names


def test_every_url_pattern_has_a_ladder_entry():
    assert url_names() - set(PAGES) == set(), "add these URLs to LADDER with their access rules"
    assert set(PAGES) - url_names() == set(), "these LADDER rows name URLs that no longer exist"


# --- Rung 1: it works for the people it is for -----------------------------------


@pytest.mark.parametrize("page", pages(lambda p: "mo" in p.users))
def test_mentor_can_use_page_for_own_mentee(page, world, login):
    assert_works(login(world.users["mo"]), page, world, world.objects("mo"))


@pytest.mark.parametrize("page", pages(lambda p: "pat" in p.users))
def test_prevention_facilitator_can_use_page_for_own_case(page, world, login):
    assert_works(login(world.users["pat"]), page, world, world.objects("pat"))


@pytest.mark.parametrize("page", pages(lambda p: "cara" in p.users))
def test_coordinator_can_use_page_for_teams_case(page, world, login):
    assert_works(login(world.users["cara"]), page, world, world.objects("mo"))


@pytest.mark.parametrize("page", pages(lambda p: "ade" in p.users))
def test_admin_can_use_page(page, world, login):
    assert_works(login(world.users["ade"]), page, world, world.objects("mo"))


def test_safeguarding_lead_changes_nothing_but_safeguarding_work():
    """Sam reads every person and case; the only changes she makes are her own
    (log-out, her password and two-factor log-in) and those of the
    safeguarding pages."""
    safeguarding = {
        page.name
        for module in LADDER_MODULES
        if module.__name__.endswith("safeguarding")
        for page in module.PAGES
    }
    changes = {p.name for p in LADDER if "sam" in p.users and p.changes}
    assert changes - safeguarding == {
        "logout", "reauth", "two_factor", "two_factor_setup", "two_factor_codes",
        "change_password",
    }  # fmt: skip


@pytest.mark.parametrize("page", pages(lambda p: "sam" in p.users))
def test_safeguarding_lead_can_use_page(page, world, login):
    assert_works(login(world.users["sam"]), page, world, world.objects("mo"))


@pytest.mark.parametrize("page", pages(lambda p: "kim" in p.users))
def test_other_mentor_can_still_use_her_own_pages(page, world, login):
    assert_works(login(world.users["kim"]), page, world, world.objects("kim"))


@pytest.mark.parametrize("page", pages(lambda p: "fay" in p.users))
def test_analyst_can_use_page(page, world, login):
    assert_works(login(world.users["fay"]), page, world, world.objects("mo"))


@pytest.mark.parametrize(
    ("role", "start"),
    [
        ("mo", "casework:caseload"),
        ("kim", "casework:caseload"),
        ("pat", "casework:caseload"),
        ("cara", "casework:referral_queue"),
        ("sam", "casework:safeguarding_queue"),
        ("ade", "casework:referral_queue"),
        ("fay", "reports:dashboard"),
    ],
)
def test_home_sends_each_role_to_a_start_page_they_can_use(role, start, world, login):
    client = login(world.users[role])
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == reverse(start)
    assert client.get(response.url).status_code == 200


# --- Rung 2: no access answers 404 -----------------------------------------------


@pytest.mark.parametrize(
    ("page", "caseworker"),
    page_roles(lambda p, role: p.obj and role in ("kim", "pat") and role not in VISIBLE_TO[p.obj]),
)
def test_other_mentor_gets_404_on_page_of_someone_elses_mentee(page, caseworker, world, login):
    assert_refused(login(world.users[caseworker]), page, world, 404)


@pytest.mark.parametrize("page", pages(lambda p: p.personal))
def test_analyst_gets_404_on_personal_page(page, world, login):
    assert_refused(login(world.users["fay"]), page, world, 404)


@pytest.mark.parametrize(
    ("page", "role"),
    page_roles(lambda p, role: not p.public and not p.obj and role not in p.users),
)
def test_page_a_role_never_uses_answers_404(page, role, world, login):
    assert_refused(login(world.users[role]), page, world, 404)


def test_coordinator_gets_404_on_another_teams_case_and_referral(world, login):
    client = login(world.users["cara"])
    for page, obj in (
        (PAGES["casework:case_detail"], world.other_team_case),
        (PAGES["casework:case_phase"], world.other_team_case),
        (PAGES["people:detail"], world.other_team_case.person),
        (PAGES["casework:referral_detail"], world.other_team_referral),
        (PAGES["casework:referral_accept"], world.other_team_referral),
        (PAGES["custody:plan_detail"], world.other_team_case),
        (PAGES["custody:episode_detail"], world.other_team_case.person.custody_episodes.get()),
    ):
        assert_refused(client, page, world, 404, {**world.objects("mo"), page.obj: obj})


def normalised(body: bytes) -> str:
    """The page without what differs on every render (CSRF tokens)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body.decode())


@pytest.mark.parametrize("page", pages(lambda p: p.obj and "kim" not in VISIBLE_TO[p.obj]))
def test_missing_id_answers_exactly_like_a_forbidden_one(page, world, login):
    client = login(world.users["kim"])
    forbidden = answers(client, page, world, world.objects("mo"))
    missing = answers(client, page, world, world.objects("mo"), missing=True)
    assert statuses(forbidden) == statuses(missing) == {m: 404 for m in page.methods}
    person = world.mo.person
    for method in page.methods:
        assert normalised(forbidden[method].content) == normalised(missing[method].content)
        body = forbidden[method].content.decode()
        assert person.forename not in body and person.surname not in body


@pytest.mark.parametrize("page", pages(lambda p: p.obj))
def test_missing_id_answers_404_to_those_who_may_see_the_real_one(page, world, login):
    for role in VISIBLE_TO[page.obj]:
        client = login(world.users[role])
        responses = answers(client, page, world, world.objects("mo"), missing=True)
        assert statuses(responses) == {m: 404 for m in page.methods}, role


# --- Rung 3: can see, may not change: 403 ---------------------------------------


@pytest.mark.parametrize(
    ("page", "role"),
    page_roles(lambda p, role: p.obj and role in VISIBLE_TO[p.obj] and role not in p.users),
)
def test_who_can_see_the_record_but_not_change_it_gets_403(page, role, world, login):
    assert_refused(login(world.users[role]), page, world, 403)


@pytest.mark.parametrize(
    "page", pages(lambda p: p.obj and p.changes and "sam" in VISIBLE_TO[p.obj] - p.users)
)
def test_safeguarding_lead_gets_403_on_change_page_of_a_case_record(page, world, login):
    assert_refused(login(world.users["sam"]), page, world, 403)


@pytest.mark.parametrize("page", pages(lambda p: p.name.startswith("casework:case_") and p.changes))
def test_mentor_gets_403_on_case_management_page_of_own_mentee(page, world, login):
    assert_refused(login(world.users["mo"]), page, world, 403)


@pytest.mark.parametrize("name", ["casework:referral_accept", "casework:referral_decline"])
def test_mentor_gets_403_on_triage_of_own_mentees_referral(name, world, login):
    objects = {**world.objects("mo"), "pending_referral": world.mo.referral}
    assert_refused(login(world.users["mo"]), PAGES[name], world, 403, objects)


# --- Rung 4: anonymous visitors log in first; wrong methods get 405 --------------


@pytest.mark.parametrize("page", pages(lambda p: not p.public))
def test_anonymous_is_redirected_to_login(page, world):
    client = Client()
    url = url_of(page, world.objects("mo"))
    for method in page.methods:
        response = getattr(client, method)(url)
        assert response.status_code == 302, method
        assert response.url == f"/login/?next={url}"


def test_login_and_healthz_answer_anonymous_visitors(db):
    client = Client()
    assert client.get("/login/").status_code == 200
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("page", "method"),
    [
        pytest.param(p, m, id=f"{p.name}-{m.upper()}")
        for p in LADDER
        if p.name != "login"  # Django's LoginView takes PUT as POST; tested below
        for m in p.wrong_methods
    ],
)
def test_wrong_method_gets_405(page, method, world, login):
    if page.public:
        client = Client()
    else:
        client = login(world.users["ade" if "ade" in page.users else sorted(page.users)[0]])
    response = getattr(client, method)(url_of(page, world.objects("mo")))
    assert response.status_code == 405


def test_login_page_refuses_delete_with_405(db):
    assert Client().delete("/login/").status_code == 405


# --- Lists show only permitted rows ----------------------------------------------


def test_other_mentors_caseload_does_not_contain_mos_mentee(world, login):
    body = login(world.users["kim"]).get(reverse("casework:caseload")).content.decode()
    assert "Oyelaran" in body  # her own mentee is there
    assert "Whitlock" not in body and "Tyrese" not in body


def test_coordinators_case_list_excludes_another_teams_case(world, login):
    response = login(world.users["cara"]).get(reverse("casework:case_list"), {"status": "all"})
    body = response.content.decode()
    assert "Whitlock" in body and "Oyelaran" in body
    assert "Farrow" not in body and "Kezia" not in body


def test_coordinators_referral_queue_excludes_another_teams_referral_and_case(world, login):
    body = login(world.users["cara"]).get(reverse("casework:referral_queue")).content.decode()
    assert "Ashdown" in body  # her team's pending referral
    for name in ("Renshaw", "Bilal", "Farrow", "Kezia"):
        assert name not in body


def test_safeguarding_leads_case_list_shows_every_team(world, login):
    body = login(world.users["sam"]).get(reverse("casework:case_list")).content.decode()
    assert "Whitlock" in body and "Farrow" in body


@pytest.mark.parametrize("query", ["Tyrese Whitlock", "Whitlock", "A1234BC", "17/05/2006"])
def test_person_search_by_other_mentor_finds_nothing_of_mos_mentee(query, world, login):
    response = login(world.users["kim"]).get(reverse("people:search"), {"q": query})
    assert response.status_code == 200
    assert world.mo.person.pk not in [hit.person.pk for hit in response.context["hits"]]
    assert reverse("people:detail", args=[world.mo.person.pk]) not in response.content.decode()


def test_person_search_by_mentor_finds_own_mentee(world, login):
    response = login(world.users["mo"]).get(reverse("people:search"), {"q": "Tyrese Whitlock"})
    assert [hit.person.pk for hit in response.context["hits"]] == [world.mo.person.pk]


def test_analysts_dashboard_contains_no_person_names(world, login):
    response = login(world.users["fay"]).get(reverse("reports:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    for name in world.names:
        assert name not in body
    assert "A1234BC" not in body


def release_calendar_names(client: Client) -> set[str]:
    response = client.get(reverse("custody:release_calendar"))
    assert response.status_code == 200
    return {row.person.surname for row in response.context["rows"]}


def test_coordinators_release_calendar_shows_only_her_teams_releases(world, login):
    names = release_calendar_names(login(world.users["cara"]))
    assert names == {"Whitlock", "Oyelaran", "Marsh"}


def test_safeguarding_leads_release_calendar_shows_every_team(world, login):
    assert "Farrow" in release_calendar_names(login(world.users["sam"]))


# --- The calendar feed: the token decides ------------------------------------------


def test_calendar_feed_answers_to_its_token_whoever_asks(world, login):
    url = url_of(PAGES["custody:calendar_feed"], world.objects("mo"))
    for client in (Client(), login(world.users["kim"]), login(world.users["fay"])):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")


def test_calendar_feed_with_an_unknown_token_is_404_even_when_logged_in(world, login):
    url = url_of(PAGES["custody:calendar_feed"], world.objects("mo"), missing=True)
    assert Client().get(url).status_code == 404
    assert login(world.users["ade"]).get(url).status_code == 404
