"""Child criminal exploitation risk indicators on 1:1 prevention cases: dated checks, shown
on the case page as a grid of indicators × checks (newest first) with the count at
each check; recorded only by those who can change the case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from throughgate.casework import safeguarding
from throughgate.casework.models import ProgrammeKind, RiskCheck, RiskIndicator
from throughgate.casework.risk import risk_grid
from throughgate.core.models import AuditAction, AuditEvent

from . import make


@pytest.fixture
def pat_case(pat, ade, prevention_team):
    """Pat's 1:1 prevention case, opened 50 days ago."""
    programme = make.make_programme("Prevention 1:1", ProgrammeKind.PREVENTION, prevention_team)
    return make.make_case(mentor=pat, actor=ade, programme=programme, source_type="school",
                          referring_organisation="Lambeth Academy")  # fmt: skip


def indicators(*keys: str) -> list[RiskIndicator]:
    return list(RiskIndicator.objects.filter(key__in=keys))


def test_the_shipped_indicators_are_seeded_in_order(db):
    labels = list(RiskIndicator.objects.values_list("label", flat=True))
    assert len(labels) == 11
    assert labels[0] == "Missing episodes"
    for label in ("Unexplained money, gifts or phones", "Older or controlling associates",
                  "School exclusion or part-time timetable", "Involvement in drug supply",
                  "Carrying weapons", "Change in behaviour or friends"):  # fmt: skip
        assert label in labels


def test_worker_records_a_check_and_it_is_audited(pat, pat_case, login):
    picked = indicators("missing_episodes", "drug_supply")
    response = login(pat).post(
        reverse("casework:risk_check_new", args=[pat_case.pk]),
        {"checked_on": timezone.localdate().isoformat(), "indicators": [i.pk for i in picked],
         "notes": "Missing twice this month."},
    )  # fmt: skip
    assert response.status_code == 302
    check = RiskCheck.objects.get()
    assert set(check.indicators.all()) == set(picked) and check.recorded_by == pat
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="casework.riskcheck", person_id=pat_case.person_id
    ).exists()


def test_case_page_shows_the_grid_newest_check_first_with_counts(pat, pat_case, login):
    today = timezone.localdate()
    safeguarding.record_risk_check(pat, pat_case, today - timedelta(days=28),
                                   indicators("school_exclusion"))  # fmt: skip
    safeguarding.record_risk_check(
        pat, pat_case, today - timedelta(days=14),
        indicators("school_exclusion", "unexplained_money", "older_associates"),
    )  # fmt: skip
    response = login(pat).get(reverse("casework:case_detail", args=[pat_case.pk]))
    grid = response.context["risk"]
    assert [c.checked_on for c in grid.checks] == [today - timedelta(days=14),
                                                  today - timedelta(days=28)]  # fmt: skip
    assert grid.counts == [3, 1] and grid.trend == "up"
    rows = {indicator.key: marks for indicator, marks in grid.rows}
    assert rows["school_exclusion"] == [True, True]
    assert rows["unexplained_money"] == [True, False]
    assert rows["carrying_weapons"] == [False, False]
    body = response.content.decode()
    assert "Exploitation risk checks" in body
    assert "3 indicators present at the latest check" in body
    assert "more than at the check before" in body


def test_safeguarding_lead_reads_the_checks_but_cannot_record_one(sam, pat, pat_case, login):
    safeguarding.record_risk_check(pat, pat_case, timezone.localdate(), indicators("substance_use"))
    client = login(sam)
    assert (
        "Substance use"
        in client.get(reverse("casework:case_detail", args=[pat_case.pk])).content.decode()
    )
    url = reverse("casework:risk_check_new", args=[pat_case.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"checked_on": timezone.localdate().isoformat()}).status_code == 403


def test_another_worker_gets_404_on_pats_case(mo, pat_case, login):
    url = reverse("casework:risk_check_new", args=[pat_case.pk])
    assert login(mo).get(url).status_code == 404


def test_check_in_the_future_is_refused_naming_the_field(pat, pat_case, login):
    response = login(pat).post(
        reverse("casework:risk_check_new", args=[pat_case.pk]),
        {"checked_on": (timezone.localdate() + timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.context["form"].errors["checked_on"][0]
    assert not RiskCheck.objects.exists()


def test_check_before_the_case_opened_is_refused(pat, pat_case):
    with pytest.raises(ValidationError, match="before the case opened"):
        safeguarding.record_risk_check(pat, pat_case, pat_case.opened_on - timedelta(days=1), [])
    assert not RiskCheck.objects.exists()


def test_a_second_check_on_the_same_day_is_refused(pat, pat_case, login):
    today = timezone.localdate()
    safeguarding.record_risk_check(pat, pat_case, today, [])
    response = login(pat).post(
        reverse("casework:risk_check_new", args=[pat_case.pk]), {"checked_on": today.isoformat()}
    )
    assert response.status_code == 400
    assert "already recorded" in response.content.decode()
    assert RiskCheck.objects.count() == 1


def test_a_retired_indicator_is_not_offered_but_stays_on_old_checks(pat, pat_case, login):
    weapons = RiskIndicator.objects.get(key="carrying_weapons")
    safeguarding.record_risk_check(pat, pat_case, timezone.localdate() - timedelta(days=3),
                                   [weapons])  # fmt: skip
    weapons.active = False
    weapons.save()
    form = login(pat).get(reverse("casework:risk_check_new", args=[pat_case.pk])).context["form"]
    assert weapons not in form.fields["indicators"].queryset
    assert weapons in [indicator for indicator, _ in risk_grid(pat_case).rows]
    with pytest.raises(ValidationError, match="no longer in use"):
        safeguarding.record_risk_check(pat, pat_case, timezone.localdate(), [weapons])
