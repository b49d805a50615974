"""The synthetic-data plan (engines.generate): sizes, order of dates and the release rules,
checked on arrays without a database."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from throughgate.engines import generate as g
from throughgate.engines.release import KeyDates, expected_release
from throughgate.engines.synthetic_pool import COLUMNS

TODAY = g.day_number(dt.date(2026, 11, 27))


def _plan(scale: str = "charity", seed: int = 2006):
    rng = np.random.default_rng(seed)
    sc = g.SCALES[scale]
    staff = g.plan_staff(sc, rng)
    cases, people, extra = g.plan_cases(sc, staff, TODAY, rng, [1.0] * 20)
    return sc, staff, cases, people, extra, rng


@pytest.fixture(scope="module")
def charity():
    return _plan()


def test_charity_is_a_twentieth_of_the_region():
    region, charity = g.SCALES["region"], g.SCALES["charity"]
    assert (region.people, region.cases, region.contacts) == (100_000, 120_000, 5_000_000)
    assert (region.episodes, region.reoffending, region.workshops) == (200_000, 60_000, 8_000)
    for name in ("people", "cases", "contacts", "episodes", "reoffending", "workshops"):
        assert getattr(charity, name) * 20 == getattr(region, name)
    assert (charity.mentors, charity.teams) == (40, 2)


def test_the_plan_has_the_scales_numbers_of_people_and_cases(charity):
    sc, staff, cases, people, _, _ = charity
    assert cases.n == sc.cases
    assert people.n == sc.people
    assert people.mentor_person.sum() == sc.mentors


def test_mo_has_fifteen_open_cases_and_no_mentor_more_than_twenty(charity):
    _, staff, cases, _, _, _ = charity
    open_ = (cases.state != g.CLOSED) & (cases.kind == g.CUSTODY) & (cases.worker != g.NONE)
    per_mentor = np.bincount(cases.worker[open_], minlength=len(staff.mentor_team))
    assert per_mentor[0] == 15
    assert per_mentor.max() <= 20
    assert cases.worker[cases.big] == 0 and cases.state[cases.big] == g.COMMUNITY


def test_nobody_has_two_open_cases(charity):
    _, _, cases, _, _, _ = charity
    open_people = cases.person[cases.state != g.CLOSED]
    assert len(open_people) == len(set(open_people.tolist()))


def test_phases_are_dated_in_programme_order(charity):
    _, _, cases, _, _, _ = charity
    last = cases.opened.copy()
    for col in (cases.second, cases.gate, cases.community, cases.closed):
        present = col != g.NONE
        assert (col[present] >= last[present]).all()
        last = np.where(present, col, last)
    assert (last <= TODAY).all()
    assert (cases.referral_date <= cases.opened).all()


def test_a_persons_second_case_starts_after_the_first_closed(charity):
    _, _, cases, _, _, _ = charity
    first_closed: dict[int, int] = {}
    for i in range(cases.n):
        p = int(cases.person[i])
        if p in first_closed:
            start = cases.received[i] if cases.kind[i] == g.CUSTODY else cases.opened[i]
            assert start > first_closed[p]
        else:
            first_closed[p] = int(cases.closed[i]) if cases.closed[i] != g.NONE else 10**9


def test_released_cases_walk_out_on_the_engines_expected_date_after_sentence(charity):
    _, _, cases, people, extra, _ = charity
    released = extra["released"]
    has = released != g.NONE
    assert (released[has] == extra["expected"][has]).all()
    sd = cases.sentence_date
    assert (released[has] >= cases.received[has]).all()
    assert (released[has & (sd != g.NONE)] >= sd[has & (sd != g.NONE)]).all()
    assert (released[has] <= TODAY).all()
    # Spot-check against the release engine itself, one call per episode.
    for i in np.flatnonzero(has)[:300].tolist():
        r = expected_release(
            KeyDates(crd=g.to_date(cases.crd[i])),
            sentence_type=g.SENTENCE_CODES[cases.sentence_type[i]],
            date_of_birth=g.to_date(people.dob[cases.person[i]]),
        )
        assert g.day_number(r.date) == released[i]
        assert r.explanation[:400] == extra["notes"][i]


def test_open_custody_cases_are_not_yet_released(charity):
    _, _, cases, _, extra, _ = charity
    inside = (cases.kind == g.CUSTODY) & np.isin(cases.state, (g.REFERRED, g.IN_CUSTODY))
    assert (extra["released"][inside] == g.NONE).all()
    due = inside & (extra["expected"] != g.NONE)
    assert (extra["expected"][due] > TODAY).all()


def test_prior_episodes_end_before_the_first_case_and_fill_the_episode_count(charity):
    sc, _, cases, people, _, rng = charity
    n_index = int((cases.kind == g.CUSTODY).sum())
    prior = g.plan_prior_episodes(cases, people, sc.episodes - n_index, TODAY, rng)
    assert len(prior.person) + n_index == sc.episodes
    first = {}
    for p, r in zip(cases.person.tolist(), cases.received.tolist(), strict=True):
        if r != g.NONE:
            first[p] = min(first.get(p, r), r)
    for p, rel, rec in zip(
        prior.person.tolist(), prior.expected.tolist(), prior.received.tolist(), strict=True
    ):
        assert rec <= rel < first[p]
    assert (prior.received >= people.dob[prior.person] + 15 * 365).all()


def test_contacts_fall_inside_their_cases_open_period(charity):
    sc, _, cases, _, _, rng = charity
    counts = g.contacts_per_case(cases, sc.contacts, TODAY, rng)
    assert counts.sum() == sc.contacts
    assert counts[cases.big] == g.BIG_CASE_CONTACTS
    end = cases.end(TODAY)
    seen = 0
    for chunk in g.contact_chunks(cases, counts, TODAY, rng, chunk_cases=700):
        day = chunk.at // g.DAY_SECONDS
        assert (day >= cases.opened[chunk.case]).all()
        assert (day <= end[chunk.case]).all()
        assert ((chunk.attendance == 2) == (chunk.reason != g.NONE)).all()
        assert ((chunk.attendance == 2) == (chunk.minutes == g.NONE)).all()
        seen += len(chunk.case)
    assert seen == sc.contacts


def test_reoffending_comes_after_the_index_date_and_never_in_the_future(charity):
    sc, _, cases, people, extra, rng = charity
    index = g.person_index_dates(cases, extra["released"], people.n)
    events = g.plan_reoffending(cases, people, index, sc.reoffending, TODAY, rng)
    assert len(events.person) == sc.reoffending
    assert (events.offence > index[events.person]).all()
    assert (events.disposal >= events.offence).all()
    assert (events.disposal <= TODAY).all()


def test_workshops_are_on_weekdays_with_plausible_groups():
    rng = np.random.default_rng(1)
    plan = g.plan_workshops(400, 20, 3, 5, TODAY, rng)
    weekday = [g.to_date(d).weekday() for d in plan.held_on.tolist()]
    assert max(weekday) <= 4
    assert (plan.headcount > 0).all() and (plan.headcount <= 400).all()
    assert all(len({y for y, *_ in gs}) == len(gs) for gs in plan.groups)


def test_the_plan_is_the_same_for_the_same_seed_and_differs_for_another():
    a, b, c = _plan(seed=7), _plan(seed=7), _plan(seed=8)
    assert (a[2].opened == b[2].opened).all() and (a[2].person == b[2].person).all()
    assert not (a[2].opened == c[2].opened).all()


def test_identifiers_are_unique_and_well_formed():
    numbers = [g.prison_number(i) for i in range(0, 120_000, 7)]
    crns = [g.crn(i) for i in range(0, 120_000, 7)]
    assert len(set(numbers)) == len(numbers) and len(set(crns)) == len(crns)
    assert all(re.fullmatch(r"[A-Z]\d{4}[A-Z]{2}", n) for n in numbers)
    assert all(re.fullmatch(r"[A-Z]\d{6}", n) for n in crns)


def test_comparison_pool_has_the_evaluations_columns(tmp_path):
    out = tmp_path / "pool.parquet"
    assert g.write_comparison_pool(250, str(out), seed=3) == 250
    frame = pd.read_parquet(out)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 250
