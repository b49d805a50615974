"""The demo's prevention data: built through the actions, believable, deterministic."""

from __future__ import annotations

from types import SimpleNamespace

from django.utils import timezone

from tests import make
from throughgate.accounts.roles import Role
from throughgate.demo.prevention import set_up_prevention
from throughgate.engines.disclosure import HIDDEN
from throughgate.prevention.models import (
    ReachTarget,
    SurveyResult,
    Venue,
    Workshop,
    academic_year_of,
)
from throughgate.prevention.reach import reach_for


def seeder(pat, ade, nadia, scale=0.05):
    return SimpleNamespace(
        users={"pat": pat, "ade": ade, "nadia": nadia}, today=timezone.localdate(), scale=scale
    )


def test_demo_builds_schools_workshops_surveys_and_targets(pat, ade, prevention_team):
    nadia = make.make_user("nadia", Role.PREVENTION_FACILITATOR, prevention_team)
    set_up_prevention(seeder(pat, ade, nadia))
    year = academic_year_of(timezone.localdate())
    assert Venue.objects.count() == 34
    assert Workshop.objects.filter(academic_year=year - 1).count() >= 15
    assert Workshop.objects.filter(academic_year=year).exists()
    assert SurveyResult.objects.exists()
    assert ReachTarget.objects.get(academic_year=year).target == 26_000
    exact = reach_for(year, exact=True)
    assert exact.reached.value > 0
    suppressed = reach_for(year, exact=False)
    borough = next(b for b in suppressed.breakdowns if b.heading == "Borough")
    outside = dict(zip(borough.labels, borough.reached, strict=True))["Outside London"]
    assert str(outside) == HIDDEN
    first = sorted(Workshop.objects.values_list("held_on", "headcount"))
    # Deterministic: the same again on a fresh start gives the same workshops.
    Workshop.objects.all().delete()
    set_up_prevention(seeder(pat, ade, nadia))
    assert sorted(Workshop.objects.values_list("held_on", "headcount")) == first
