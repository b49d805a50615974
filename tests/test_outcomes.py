"""Reoffending events and the outcomes dashboard (first part of issue 6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from throughgate.custody import actions as custody_actions
from throughgate.outcomes import actions
from throughgate.outcomes.cohort import participants
from throughgate.outcomes.models import NationalBaseline

from . import make
from .test_bad_input import SavesNothing, assert_refused_on_field

TODAY = timezone.localdate


def released_case(cara, mo, days_ago: int, **person):
    """A custody case whose young person was released `days_ago` days ago."""
    person = make.make_person(cara, **person)
    case = make.make_case(
        mentor=mo, person=person, actor=cara, opened_days_ago=days_ago + 200,
        referral_date=TODAY() - timedelta(days=days_ago + 210),
    )  # fmt: skip
    episode = make.make_episode(person, cara, days_in=days_ago + 150, release_in=-days_ago)
    custody_actions.record_release(cara, episode, TODAY() - timedelta(days=days_ago))
    return case


def convicted(actor, person, offence_days_ago: int, disposal_days_ago: int, **extra):
    return actions.record_event(actor, person, {
        "disposal_type": "conviction", "source": "probation",
        "offence_date": TODAY() - timedelta(days=offence_days_ago),
        "disposal_date": TODAY() - timedelta(days=disposal_days_ago), **extra,
    })  # fmt: skip


# --- Recording events ------------------------------------------------------------------


def test_a_conviction_needs_the_offence_date(mo, mo_case, login):
    data = {"disposal_type": "conviction", "source": "probation",
            "disposal_date": TODAY().isoformat()}  # fmt: skip
    url = reverse("outcomes:event_new", args=[mo_case.person_id])
    with SavesNothing():
        response = login(mo).post(url, data)
    assert_refused_on_field(response, "offence_date", "needs the date of the offence")


def test_a_disposal_before_the_offence_is_refused(mo, mo_case):
    with pytest.raises(ValidationError) as refused:
        convicted(mo, mo_case.person, 10, 20)
    assert refused.value.message_dict["disposal_date"] == [
        "The disposal cannot come before the offence."
    ]


def test_only_a_coordinator_or_manager_verifies_an_event(mo, cara, mo_case):
    with pytest.raises(ValidationError) as refused:
        convicted(mo, mo_case.person, 20, 10, verified=True)
    assert "verified" in refused.value.message_dict
    event = convicted(cara, mo_case.person, 20, 10, verified=True)
    assert event.verified


def test_the_person_page_lists_reoffending_events(mo, mo_case, login):
    actions.record_event(mo, mo_case.person, {
        "disposal_type": "recall", "disposal_date": TODAY(), "source": "mentor",
    })  # fmt: skip
    page = login(mo).get(reverse("people:detail", args=[mo_case.person_id])).content.decode()
    assert "Recall to custody" in page and "not verified" in page


# --- The cohort and the dashboard -------------------------------------------------------------


def test_the_index_date_is_the_release_on_the_programme(cara, mo):
    case = released_case(cara, mo, days_ago=600)
    (person,) = participants()
    assert person.person_id == str(case.person_id)
    assert person.index_date == TODAY() - timedelta(days=600)
    assert person.groups["programme"] == case.programme.name


def test_people_still_in_custody_have_no_index_date_yet(cara, mo):
    make.make_episode(make.make_case(mentor=mo, actor=cara).person, cara)
    assert participants() == []


def test_the_dashboard_counts_mature_people_and_hides_small_numbers(cara, mo, ade, fay, login):
    # Ten people released 600 days ago (mature) and one released 100 days ago (not yet).
    cases = [released_case(cara, mo, 600, forename=f"P{i}") for i in range(10)]
    released_case(cara, mo, 100, forename="Late")
    for case in cases[:3]:  # three reoffend within the year, proven in time
        convicted(cara, case.person, 500, 450)
    convicted(cara, cases[3].person, 100, 50)  # offence after the follow-up year: not counted
    response = login(ade).get(reverse("outcomes:dashboard"), {"group_by": "year"})
    page = response.content.decode()
    assert response.status_code == 200
    # 3 of 10: the 3 is a small number, so the count and the rate are hidden…
    assert "<td>10</td><td>[c]</td><td>[c]</td>" in page
    # … until enough reoffend: 5 of 10 shows 50.0% with its Wilson interval.
    for case in cases[4:6]:
        convicted(cara, case.person, 400, 380)
    page = login(fay).get(reverse("outcomes:dashboard"), {"group_by": "year"}).content.decode()
    assert "<td>10</td><td>5</td><td>50.0%</td><td>23.7–76.3%</td>" in page
    assert "59.2%" in page  # the national baseline beside it


def test_the_funder_view_cannot_break_figures_down_by_mentor(fay, login):
    response = login(fay).get(reverse("outcomes:dashboard"), {"group_by": "mentor"})
    assert "Select a valid choice" in response.content.decode()
    assert ">Mentor<" not in response.content.decode()


def test_the_dashboard_costs_the_same_queries_for_5_or_40_people(cara, mo, ade, login):
    client = login(ade)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("outcomes:dashboard")).status_code == 200
        return len(ctx.captured_queries)

    for i in range(5):
        convicted(cara, released_case(cara, mo, 600, forename=f"A{i}").person, 500, 450)
    few = queries()
    for i in range(35):
        convicted(cara, released_case(cara, mo, 600, forename=f"B{i}").person, 500, 450)
    assert queries() == few


def test_admin_adds_a_national_baseline(ade, login):
    response = login(ade).post(reverse("outcomes:baselines"), {
        "label": "Young adults aged 18 to 20", "period": "April to June 2023 cohort",
        "rate": "150", "source": "MoJ",
    })  # fmt: skip
    assert_refused_on_field(response, "rate", "between 0 and 100")
    response = login(ade).post(reverse("outcomes:baselines"), {
        "label": "Young adults aged 18 to 20", "period": "April to June 2023 cohort",
        "rate": "41.5", "source": "MoJ", "active": "on",
    })  # fmt: skip
    assert response.status_code == 302
    page = login(ade).get(reverse("outcomes:dashboard")).content.decode()
    assert "Young adults aged 18 to 20" in page and "41.5%" in page


def test_a_baseline_id_that_is_no_number_adds_a_baseline(ade, login):
    """A superscript "²" passes str.isdigit() but not int(): it was a server error (found
    by tests/test_fuzz_forms.py). Like any text that is no id, it means a new baseline."""
    url = reverse("outcomes:baselines")
    assert login(ade).get(url, {"baseline": "²"}).status_code == 200
    response = login(ade).post(url, {
        "baseline": "²", "label": "Young adults aged 18 to 20", "period": "2023", "rate": "41.5",
        "source": "MoJ",
    })  # fmt: skip
    assert response.status_code == 302
    assert NationalBaseline.objects.filter(label="Young adults aged 18 to 20").exists()


def test_index_dates_before_the_programme_are_not_used(cara, mo):
    person = make.make_person(cara, date_of_birth=date(2004, 1, 1))
    old = make.make_episode(person, cara, days_in=900, release_in=-700)
    custody_actions.record_release(cara, old, TODAY() - timedelta(days=700))
    make.make_case(mentor=mo, person=person, actor=cara, opened_days_ago=100,
                   referral_date=TODAY() - timedelta(days=110))  # fmt: skip
    assert participants() == []  # released long before the case began: no index yet


def test_the_jdl_submission_needs_60_participants_with_identifiers(cara, mo, ade, login):
    from throughgate.core.models import AuditAction, AuditEvent

    cases = [
        released_case(cara, mo, 400 + i, forename=f"P{i}", prison_number=f"A{1000 + i}BC",
                      gender="male")
        for i in range(61)
    ]  # fmt: skip
    no_prison_number = released_case(cara, mo, 420, forename="Nobody", gender="male")
    query = {
        "programme": cases[0].programme_id,
        "index_from": (TODAY() - timedelta(days=500)).isoformat(),
        "index_to": TODAY().isoformat(),
    }
    client = login(ade)
    page = client.get(reverse("outcomes:jdl_export"), query).content.decode()
    # make_person gives no PNC IDs: nobody can be sent yet, and the page says why.
    assert "<strong>0</strong> participants can be sent" in page
    assert "no PNC ID" in page
    from throughgate.people.models import Person

    for n, case in enumerate(cases):
        Person.objects.filter(pk=case.person_id).update(pnc_id=f"2012/{n:07d}X")
    page = client.get(reverse("outcomes:jdl_export"), query).content.decode()
    assert "<strong>61</strong> participants can be sent" in page
    assert f"{no_prison_number.person.full_name}: no PNC ID, no prison number" in page
    response = make.confirm_password(client).get(
        reverse("outcomes:jdl_export"), {**query, "download": "1"}
    )
    rows = response.content.decode().splitlines()
    assert rows[0].startswith("Surname,Forename,Date of birth,Gender,Index date")
    assert len(rows) == 62
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="outcomes.jdl").exists()


def test_rates_break_down_by_release_quarter(cara, mo, ade, login):
    for i in range(6):
        case = released_case(cara, mo, 600, forename=f"Q{i}")
        if i < 3:
            convicted(cara, case.person, 500, 450)
    index = TODAY() - timedelta(days=600)
    quarter = f"{index.year} Q{(index.month - 1) // 3 + 1}"
    page = login(ade).get(reverse("outcomes:dashboard"), {"group_by": "quarter"}).content
    assert f'<th scope="row">{quarter}</th><td>6</td>' in page.decode()
    assert "Quarter of index date" in page.decode()


# --- Stored figures (issue 10: the dashboard within its page budget) -----------------------


def _mixed_cohort(cara, mo):
    """Mature and not-yet-mature people, reoffenders and not, a late conviction."""
    cases = [released_case(cara, mo, 600 + 40 * i, forename=f"S{i}") for i in range(8)]
    released_case(cara, mo, 90, forename="Recent")
    for n, case in enumerate(cases[:4]):
        convicted(cara, case.person, 550 + 40 * n, 500 + 40 * n)
    convicted(cara, cases[4].person, 100, 50)  # after the follow-up year
    return cases


def test_the_stored_figures_are_exactly_the_engines(cara, mo):
    from dataclasses import replace

    from throughgate.engines import reoffending as engine
    from throughgate.outcomes import figures
    from throughgate.outcomes.cohort import GROUPINGS, events_for

    _mixed_cohort(cara, mo)
    as_of = TODAY()
    figures.recalculate_now(None, as_of)
    people = participants()
    events = events_for(people)
    direct = engine.measure(people, events, as_of)
    for group_by in GROUPINGS:
        overall, groups = figures.figures_of(figures.stored(as_of, group_by))
        # The ids of people not yet counted are not stored (personal, and as many as the
        # cohort); every figure is.
        assert overall == replace(direct, immature_ids=())
        expected = engine.by_group(people, events, as_of, group_by)
        assert list(groups) == list(expected)
        for label, measures in expected.items():
            assert groups[label] == replace(measures, immature_ids=())
    assert direct.n_reoffenders == 4 and direct.n_immature == 1 and len(direct.km) > 1


@pytest.fixture
def large_cohort(settings):
    """Make every cohort "large": the dashboard reads stored figures."""
    settings.OUTCOMES_LIVE_LIMIT = 0


def test_a_large_cohort_is_worked_out_in_the_background(
    large_cohort, cara, mo, ade, login, run_jobs
):
    from throughgate.core.models import Job

    _mixed_cohort(cara, mo)
    client = login(ade)
    page = client.get(reverse("outcomes:dashboard")).content.decode()
    assert "The figures are being worked out" in page and "<progress" in page
    # Opening it again does not queue a second job.
    client.get(reverse("outcomes:dashboard"))
    assert Job.objects.filter(kind="outcome_figures").count() == 1
    run_jobs()
    page = client.get(reverse("outcomes:dashboard"), {"group_by": "year"}).content.decode()
    assert f"Figures as of <strong>{TODAY():%-d %b %Y}</strong>" in page
    assert "recalculating" not in page and "<progress" not in page
    live = login(ade)
    with override_live():
        expected = live.get(reverse("outcomes:dashboard"), {"group_by": "year"}).content.decode()
    assert _table(page) == _table(expected)


def override_live():
    from django.test import override_settings

    return override_settings(OUTCOMES_LIVE_LIMIT=10_000)


def _table(page: str) -> str:
    return page[page.index("<table>") : page.index("</table>")]


def test_the_stored_dashboard_makes_a_fixed_number_of_queries(
    large_cohort, cara, mo, ade, login, run_jobs
):
    from throughgate.outcomes import figures
    from throughgate.outcomes.models import CohortFigures

    client = login(ade)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("outcomes:dashboard")).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        convicted(cara, released_case(cara, mo, 600, forename=f"A{i}").person, 500, 450)
    queries()  # no figures yet: it queues the job
    run_jobs()
    few = queries()
    for i in range(20):
        convicted(cara, released_case(cara, mo, 600, forename=f"B{i}").person, 500, 450)
    figures.recalculate(None)
    run_jobs()
    assert queries() == few
    assert CohortFigures.objects.get(as_of=TODAY(), group_by="year").overall["n_mature"] == 23


def test_another_day_shows_the_latest_figures_until_its_own_are_ready(
    large_cohort, cara, mo, ade, login, run_jobs
):
    _mixed_cohort(cara, mo)
    from throughgate.outcomes import figures

    figures.recalculate_now(None, TODAY())
    earlier = TODAY() - timedelta(days=30)
    query = {"as_of": earlier.isoformat(), "group_by": "year"}
    page = login(ade).get(reverse("outcomes:dashboard"), query).content.decode()
    assert f"Figures as of <strong>{TODAY():%-d %b %Y}</strong>" in page
    assert f"These are not yet the figures as of {earlier:%-d %b %Y}" in page
    assert "recalculating" in page
    run_jobs()
    assert figures.stored(earlier, "year") is not None


def test_a_new_event_queues_a_recalculation_once_committed(
    cara, mo, django_capture_on_commit_callbacks
):
    from throughgate.core.models import Job

    case = released_case(cara, mo, 600)
    with django_capture_on_commit_callbacks(execute=True):
        convicted(cara, case.person, 500, 450)
        convicted(cara, case.person, 480, 450)
    jobs = Job.objects.filter(kind="outcome_figures")
    assert jobs.count() == 1  # two events, one job
    assert jobs.get().params == {"as_of": TODAY().isoformat()}


def test_ade_recalculates_now_and_sees_the_progress(large_cohort, cara, mo, ade, fay, login):
    from throughgate.core.models import Job
    from throughgate.outcomes import figures

    released_case(cara, mo, 600)
    figures.recalculate_now(None, TODAY())
    page = login(ade).get(reverse("outcomes:dashboard")).content.decode()
    assert "Recalculate now" in page and "<progress" not in page
    assert "Recalculate now" not in login(fay).get(reverse("outcomes:dashboard")).content.decode()
    response = login(ade).post(
        reverse("outcomes:recalculate"), {"as_of": TODAY().isoformat(), "group_by": "gender"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"?group_by=gender&as_of={TODAY().isoformat()}")
    assert Job.objects.filter(kind="outcome_figures", created_by=ade).count() == 1
    page = login(ade).get(reverse("outcomes:dashboard")).content.decode()
    assert "recalculating…" in page and "<progress" in page


def test_the_command_line_works_out_the_figures(cara, mo):
    from django.core.management import call_command

    from throughgate.outcomes.models import CohortFigures

    released_case(cara, mo, 600)
    call_command("outcome_figures", "--as-of", "2026-01-31")
    assert CohortFigures.objects.filter(as_of=date(2026, 1, 31)).count() == 8
