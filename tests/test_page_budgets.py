"""Page budgets (issue 10): the pages staff open fifty times a day make the same number of
database queries whatever the amount of data. Each key page is opened on a small world
and again after three times as much has been added; the query counts must be equal.
(Timings belong in bench/, never in tests.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from throughgate.accounts.roles import Role
from throughgate.casework.models import ProgrammeKind
from throughgate.core import audit
from throughgate.core.models import AuditAction

from . import make


@dataclass
class Budgeted:
    user: str  # who opens it
    url: Any  # a URL, or a function of the world giving one
    shows: Any = None  # what the larger page must show (so it did read the new data)


def _newest_mentee(world: dict[str, Any]) -> str:
    return world["cases"][-1].person.forename


def _case_url(world: dict[str, Any]) -> str:
    return reverse("casework:case_detail", args=[world["case"].pk])


def _person_url(world: dict[str, Any]) -> str:
    return reverse("people:detail", args=[world["case"].person_id])


PAGES = {
    "mentor home (caseload)": Budgeted("mo", reverse("casework:caseload"), _newest_mentee),
    "case page": Budgeted("mo", _case_url),
    "case page (older contacts)": Budgeted("mo", lambda w: _case_url(w) + "?page=2"),
    "person page": Budgeted("mo", _person_url),
    "person search": Budgeted("cara", reverse("people:search") + "?q=Smith", _newest_mentee),
    "referral queue": Budgeted("cara", reverse("casework:referral_queue")),
    "referral queue (more cases due)": Budgeted(
        "cara", reverse("casework:referral_queue") + "?due_page=2"
    ),
    "case list": Budgeted("cara", reverse("casework:case_list")),
    "release calendar": Budgeted(
        "cara", reverse("custody:release_calendar"), lambda w: w["cases"][-1].person.surname
    ),
    "outcomes dashboard": Budgeted("ade", reverse("outcomes:dashboard")),
    "audit trail (filtered)": Budgeted("ade", reverse("audit_trail") + "?action=view"),
    "safeguarding queue": Budgeted("sam", reverse("casework:safeguarding_queue")),
    "prevention caseload": Budgeted("pat", reverse("casework:caseload")),
    "workshop list": Budgeted("pat", reverse("prevention:workshop_list")),
    "reach dashboard": Budgeted("pat", reverse("prevention:reach")),
    "reach dashboard (analyst)": Budgeted("fay", reverse("prevention:reach")),
    "training list": Budgeted("pat", reverse("training:course_list")),
    "training summary": Budgeted("fay", reverse("training:summary")),
}


def grow(world: dict[str, Any], times: int) -> None:
    """Add `times` more of everything the pages list: Mo's mentees with contacts and
    custody, contacts on the case the case page shows, pending referrals, Pat's cases,
    concerns, courses and audit events."""
    users, cara = world["users"], world["users"]["cara"]
    for i in range(times):
        case = make.make_case(
            mentor=users["mo"], actor=cara,
            person=make.make_person(cara, forename=f"Jo{i}{len(world['cases'])}",
                                    surname="Smith"),
        )  # fmt: skip
        world["cases"].append(case)
        make.make_contact(case, cara)
        make.make_plan(case, cara, release_in=10 + i)
        make.make_contact(world["case"], cara, days_ago=1 + i)
        make.make_referral(actor=cara, person=make.make_person(cara, surname="Smith"))
        make.make_case(mentor=users["pat"], actor=users["ade"], programme=world["prevention"])
        make.make_concern(case.person, users["mo"], hours_ago=30 + i)
        make.make_course(users["pat"], title=f"County lines for teachers {i}")
        make.make_workshop(users["pat"], make.make_venue(users["pat"], borough="Lambeth"))
        audit.record_view(users["ade"], case)
        audit.record(users["ade"], AuditAction.UPDATE, case.person, fields=["surname"])


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    team = make.make_team("Custody team")
    prevention_team = make.make_team("Prevention team")
    users = {
        "mo": make.make_user("mo", Role.MENTOR, team),
        "cara": make.make_user("cara", Role.COORDINATOR, team),
        "sam": make.make_user("sam", Role.SAFEGUARDING_LEAD, team),
        "pat": make.make_user("pat", Role.PREVENTION_FACILITATOR, prevention_team),
        "ade": make.make_user("ade", Role.ADMIN, None),
        "fay": make.make_user("fay", Role.ANALYST, None),
    }
    make.make_programme(team=team)
    prevention = make.make_programme("Prevention 1:1", ProgrammeKind.PREVENTION, prevention_team)
    case = make.make_case(mentor=users["mo"], actor=users["cara"])
    world = {"users": users, "case": case, "cases": [case], "prevention": prevention}
    grow(world, 2)
    return world


def queries(client: Any, url: str) -> tuple[int, list[str], str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured), [q["sql"] for q in captured.captured_queries], response.content.decode()


@pytest.mark.parametrize("name", list(PAGES))
def test_page_makes_the_same_number_of_queries_with_three_times_the_data(name, world, login):
    page = PAGES[name]
    client = login(world["users"][page.user])
    url = page.url(world) if callable(page.url) else page.url
    queries(client, url)  # warm: the session, the content types, first-use caches
    small, _, _ = queries(client, url)
    grow(world, 6)
    large, sql, body = queries(client, url)
    if page.shows:
        assert page.shows(world) in body, f"{name} does not show the newest data"
    assert large == small, f"{name}: {small} queries, then {large} with more data:\n" + (
        "\n".join(sql)
    )


def test_the_world_really_grew(world):
    before = len(world["cases"])
    grow(world, 3)
    assert len(world["cases"]) == before + 3
    assert world["case"].contacts.count() >= 5
    assert timezone.now() - timedelta(days=1) < world["cases"][-1].created_at
