"""The coordinator's start page within its budget (issue 10): the cases due a contact are
windowed (the most urgent 20, the rest a page further) and the mentors' attention line is
read in one query, with the same answers as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from throughgate.accounts.roles import Role
from throughgate.casework import views as casework_views
from throughgate.custody.models import Establishment
from throughgate.mentors import actions as mentor_actions
from throughgate.mentors import views as mentor_views
from throughgate.mentors.models import DBSLevel, MentorProfile, TrainingCourse
from throughgate.mentors.readiness import assess, with_readiness_records

from . import make

TODAY = timezone.localdate


def attention_by_assessing_each_mentor(user):
    """The attention line as it was worked out before: `assess` on every mentor."""
    today = TODAY()
    required = list(TrainingCourse.objects.filter(required_for_matching=True))
    found = {"not_ready": 0, "due": 0}
    for profile in with_readiness_records(MentorProfile.objects.visible_to(user)):
        r = assess(profile, today, required)
        found["not_ready"] += not r.ready
        found["due"] += len(r.alerts)
    return found if any(found.values()) else None


def _mentor(team, name, **kwargs):
    return make.make_mentor(make.make_user(name, Role.MENTOR, team), **kwargs)


def test_the_attention_line_is_what_assessing_every_mentor_gives(team, cara):
    today = TODAY()
    isis, feltham = Establishment.objects.all()[:2]
    _mentor(team, "ready")  # in date: counts nowhere
    _mentor(team, "norecords", ready=False)  # no DBS, training or supervision
    away = _mentor(team, "away")
    mentor_actions.update_mentor_profile(
        cara, away, {"unavailable_until": today + timedelta(days=5)}
    )
    renewal = _mentor(team, "renewal")
    mentor_actions.add_dbs_check(cara, renewal, {
        "level": DBSLevel.ENHANCED_BARRED_CHILDREN, "certificate_number": "009876543210",
        "issued_on": today - timedelta(days=1000), "renewal_due": today + timedelta(days=10),
    })  # fmt: skip
    lapsed = _mentor(team, "lapsed")
    mentor_actions.add_dbs_check(cara, lapsed, {
        "level": DBSLevel.ENHANCED_BARRED_CHILDREN, "certificate_number": "001111111111",
        "issued_on": today - timedelta(days=1200), "renewal_due": today - timedelta(days=3),
    })  # fmt: skip
    course = TrainingCourse.objects.filter(required_for_matching=True, valid_for_months__gt=0)
    if course.exists():
        stale = _mentor(team, "stale", ready=False)
        mentor_actions.add_training(cara, stale, {
            "course": course.first(), "completed_on": today - timedelta(days=2000),
        })  # fmt: skip
    unsupervised = _mentor(team, "unsupervised")
    supervisor = make.make_user("sup-x", Role.COORDINATOR, team)
    mentor_actions.add_supervision(cara, unsupervised, {
        "held_on": today - timedelta(days=400), "supervisor": supervisor, "wellbeing": "well",
    })  # fmt: skip
    clearing = _mentor(team, "clearing", expired=[feltham])
    mentor_actions.add_clearance(cara, clearing, {
        "establishment": isis, "level": "unescorted",
        "granted_on": today - timedelta(days=300), "expires_on": today + timedelta(days=12),
    })  # fmt: skip
    shadowed = _mentor(team, "shadowed")  # an expiring clearance, renewed: no alert
    for expires in (12, 500):
        mentor_actions.add_clearance(cara, shadowed, {
            "establishment": isis, "level": "unescorted",
            "granted_on": today - timedelta(days=300),
            "expires_on": today + timedelta(days=expires),
        })  # fmt: skip
    expected = attention_by_assessing_each_mentor(cara)
    assert expected == {"not_ready": 3, "due": 2}  # away, no records, lapsed; renewal, isis
    assert mentor_views.attention(cara) == expected


def test_nobody_needing_attention_gives_no_line(team, cara):
    _mentor(team, "ready")
    assert attention_by_assessing_each_mentor(cara) is None
    assert mentor_views.attention(cara) is None


def test_the_attention_line_costs_the_same_queries_for_2_or_12_mentors(team, cara):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            mentor_views.attention(cara)
        return len(ctx.captured_queries)

    for i in range(2):
        _mentor(team, f"few{i}", ready=i == 0)
    few = queries()
    for i in range(10):
        _mentor(team, f"more{i}", ready=i % 2 == 0)
    assert queries() == few


# --- Cases due a contact, windowed ---------------------------------------------------------


@pytest.fixture
def due_cases(mo, cara, programme):
    """25 of Mo's cases overdue a contact, the one last seen longest ago first, plus one
    seen yesterday (not due)."""
    cases = []
    for n in range(25):
        case = make.make_case(mentor=mo, actor=cara, opened_days_ago=400,
                              person=make.make_person(cara, forename=f"Due{n:02d}"),
                              referral_date=TODAY() - timedelta(days=410))  # fmt: skip
        make.make_contact(case, mo, days_ago=200 - n)
        cases.append(case)
    fresh = make.make_case(mentor=mo, actor=cara, person=make.make_person(cara, forename="Fresh"))
    make.make_contact(fresh, mo, days_ago=1)
    return cases


def _due_section(response) -> str:
    """The "Due a contact" part of the queue (the other parts name people too)."""
    page = response.content.decode()
    return page[page.index('id="due"') : page.index("Recently decided")]


def test_the_queue_shows_the_20_most_overdue_and_pages_to_the_rest(due_cases, cara, login):
    client = login(cara)
    page = _due_section(client.get(reverse("casework:referral_queue")))
    assert "Due a contact (25)" in page
    assert "Showing 1–20 of 25" in page
    shown = [f"Due{n:02d}" for n in range(20)]
    assert all(name in page for name in shown)
    assert [page.index(name) for name in shown] == sorted(page.index(name) for name in shown)
    assert "Due20" not in page and "Fresh" not in page
    assert 'href="?due_page=2#due"' in page
    second = _due_section(client.get(reverse("casework:referral_queue"), {"due_page": "2"}))
    assert all(f"Due{n:02d}" in second for n in range(20, 25)) and "Due00" not in second
    assert "Showing 21–25 of 25" in second
    # Nonsense page numbers show a page, never an error.
    for nonsense in ("x", "99", "-1"):
        assert (
            client.get(reverse("casework:referral_queue"), {"due_page": nonsense}).status_code
            == 200
        )


def test_a_release_in_the_coming_weeks_comes_first(due_cases, cara, login):
    last = due_cases[-1]  # the least overdue
    make.make_episode(last.person, cara, release_in=5)
    assert casework_views._due_order(cara)[0] == last.pk
    page = _due_section(login(cara).get(reverse("casework:referral_queue")))
    assert page.index(last.person.forename) < page.index("Due00")


def test_the_order_is_the_caseloads_order(due_cases, cara):
    """The light ordering is exactly the full caseload rows' ordering, due rows only."""
    make.make_episode(due_cases[10].person, cara, release_in=12)
    make.make_episode(due_cases[3].person, cara, release_in=3)
    from throughgate.casework.models import Case

    full = casework_views._caseload_rows(
        casework_views._with_contact_and_release(Case.objects.visible_to(cara).open())
    )
    assert casework_views._due_order(cara) == [r["case"].pk for r in full if r["is_due"]]
