"""Proven reoffending (engines.reoffending): every edge of the MoJ definition, by hand.

Calendar used throughout (worked out by hand):

- index 2023-01-01, a span without 29 February: follow-up ends 2023-12-31 (index + 1 year
  - 1 day; "day 365" counting the index date as day 1, 364 days elapsed); the anniversary
  2024-01-01 is "day 366" and is outside. Convictions count up to 2024-06-30
  (index + 18 months - 1 day); the person is mature from 2024-07-01.
- index 2024-01-01, a span with 29 February: follow-up ends 2024-12-31 (365 days
  elapsed); convictions up to 2025-06-30; mature from 2025-07-01.
"""

from __future__ import annotations

import math
from datetime import date

import pytest

from throughgate.engines.reoffending import (
    PROVEN_DISPOSALS,
    Event,
    InputError,
    KMPoint,
    Person,
    add_months,
    age_band,
    by_group,
    follow_up_end,
    is_mature,
    kaplan_meier,
    measure,
    proven_offences,
    waiting_end,
)

D = date
INDEX = D(2023, 1, 1)  # non-leap span
LEAP_INDEX = D(2024, 1, 1)  # span containing 29 February 2024
AS_OF = D(2026, 1, 1)  # everybody below is mature unless a test says otherwise
Z = 1.959963984540054


def conviction(pid, offence, disposal, custodial=False, kind="conviction"):
    return Event(pid, offence, disposal, kind, custodial)


# --- calendar --------------------------------------------------------------------------


def test_follow_up_ends_the_day_before_the_anniversary():
    assert follow_up_end(INDEX) == D(2023, 12, 31)
    assert (follow_up_end(INDEX) - INDEX).days == 364
    assert follow_up_end(LEAP_INDEX) == D(2024, 12, 31)
    assert (follow_up_end(LEAP_INDEX) - LEAP_INDEX).days == 365


def test_waiting_period_ends_the_day_before_eighteen_months():
    assert waiting_end(INDEX) == D(2024, 6, 30)
    assert waiting_end(D(2023, 3, 15)) == D(2024, 9, 14)


def test_missing_anniversaries_fall_on_the_first_of_the_next_month():
    # 29 Feb 2024 + 1 year: there is no 29 Feb 2025, so the anniversary is 1 March 2025
    # and the follow-up ends on 28 Feb 2025 (365 days elapsed, a full year).
    assert add_months(D(2024, 2, 29), 12) == D(2025, 3, 1)
    assert follow_up_end(D(2024, 2, 29)) == D(2025, 2, 28)
    # 31 Aug 2023 + 18 months: no 31 Feb 2025, so 1 March 2025; waiting ends 28 Feb 2025.
    assert waiting_end(D(2023, 8, 31)) == D(2025, 2, 28)
    assert add_months(D(2023, 1, 31), 1) == D(2023, 3, 1)
    assert add_months(D(2023, 11, 30), 3) == D(2024, 3, 1)  # no 30 February
    assert add_months(D(2023, 11, 29), 3) == D(2024, 2, 29)


def test_maturity_starts_eighteen_months_after_the_index_date():
    assert not is_mature(INDEX, D(2024, 6, 30))  # the last day a conviction can come
    assert is_mature(INDEX, D(2024, 7, 1))
    assert not is_mature(INDEX, D(2024, 6, 1))  # 17 months after


# --- what counts as a proven reoffence -------------------------------------------------


def test_offence_on_day_365_counts_and_on_the_anniversary_does_not():
    # Index 2023-01-01. 2023-12-31 is day 365 (the index date being day 1): in.
    # 2024-01-01 is the anniversary, day 366: out. Both convicted well within 18 months.
    person = Person("P1", INDEX)
    day_365 = conviction("P1", D(2023, 12, 31), D(2024, 2, 1))
    day_366 = conviction("P1", D(2024, 1, 1), D(2024, 2, 1))
    assert proven_offences(person, [day_365, day_366]) == [day_365]


def test_a_leap_year_index_has_one_more_day():
    # Index 2024-01-01: 2024-12-31 is 365 days after (day 366 counting the index as 1)
    # and still inside; 2025-01-01, the anniversary, is outside.
    person = Person("P1", LEAP_INDEX)
    last_day = conviction("P1", D(2024, 12, 31), D(2025, 3, 1))
    anniversary = conviction("P1", D(2025, 1, 1), D(2025, 3, 1))
    assert proven_offences(person, [last_day, anniversary]) == [last_day]
    m = measure([person], [last_day, anniversary], AS_OF)
    assert m.mean_days_to_first == 365


def test_a_29_february_index_follows_up_to_28_february():
    person = Person("P1", D(2024, 2, 29))
    in_time = conviction("P1", D(2025, 2, 28), D(2025, 4, 1))
    too_late = conviction("P1", D(2025, 3, 1), D(2025, 4, 1))
    assert proven_offences(person, [in_time, too_late]) == [in_time]


def test_offences_before_or_on_the_index_date_are_ignored():
    # Convicted after release for something done before (or on the day of) release:
    # not a reoffence in the follow-up period.
    person = Person("P1", INDEX)
    before = conviction("P1", D(2022, 12, 1), D(2023, 2, 1))
    same_day = conviction("P1", INDEX, D(2023, 2, 1))
    day_after = conviction("P1", D(2023, 1, 2), D(2023, 2, 1))
    assert proven_offences(person, [before, same_day, day_after]) == [day_after]


def test_conviction_at_17_months_counts_and_at_19_months_does_not():
    # Index 2023-03-15; offences in the follow-up year. Waiting period ends 2024-09-14.
    person = Person("P1", D(2023, 3, 15))
    at_17_months = conviction("P1", D(2023, 9, 1), D(2024, 8, 15))
    at_19_months = conviction("P1", D(2023, 10, 1), D(2024, 10, 15))
    last_day = conviction("P1", D(2023, 11, 1), D(2024, 9, 14))
    one_day_late = conviction("P1", D(2023, 12, 1), D(2024, 9, 15))
    assert proven_offences(person, [at_17_months, at_19_months, last_day, one_day_late]) == [
        at_17_months,
        last_day,
    ]


@pytest.mark.parametrize("kind", sorted(PROVEN_DISPOSALS))
def test_cautions_prove_an_offence_like_convictions(kind):
    person = Person("P1", INDEX)
    event = conviction("P1", D(2023, 5, 1), D(2023, 6, 1), kind=kind)
    assert proven_offences(person, [event]) == [event]


@pytest.mark.parametrize("kind", ["recall", "breach", "other"])
def test_recalls_breaches_and_other_disposals_are_not_proven_offences(kind):
    person = Person("P1", INDEX)
    assert proven_offences(person, [Event("P1", D(2023, 5, 1), D(2023, 5, 2), kind)]) == []


def test_other_peoples_events_are_ignored():
    other = conviction("P2", D(2023, 5, 1), D(2023, 6, 1))
    assert proven_offences(Person("P1", INDEX), [other]) == []


# --- the measures ----------------------------------------------------------------------


def test_recall_without_new_offence_is_custody_but_not_reoffending():
    # R: recalled on 2023-04-11, no new offence -> not a reoffender, back in custody,
    #    counted in recalls_without_new_offence.
    # B: breached, no new offence -> not back in custody (no recall), but counted as
    #    breached without a new offence.
    # N: nothing.
    people = [Person("R", INDEX), Person("B", INDEX), Person("N", INDEX)]
    events = [
        Event("R", None, D(2023, 4, 11), "recall"),
        Event("B", D(2023, 6, 1), D(2023, 6, 20), "breach", custodial=True),
    ]
    m = measure(people, events, AS_OF)
    assert m.n_reoffenders == 0 and m.binary_rate == 0.0
    assert m.recalls_without_new_offence == 2
    assert m.n_back_in_custody == 1
    assert m.back_in_custody_rate == pytest.approx(1 / 3)


def test_recall_after_the_follow_up_is_not_counted():
    m = measure([Person("R", INDEX)], [Event("R", None, D(2024, 1, 1), "recall")], AS_OF)
    assert m.n_back_in_custody == 0 and m.recalls_without_new_offence == 0


def test_custodial_new_offence_is_back_in_custody():
    # C: convicted, custodial sentence -> reoffender and back in custody.
    # S: convicted, community sentence -> reoffender, not back in custody.
    # X: recalled AND convicted -> reoffender, back in custody, not "recall without offence".
    people = [Person("C", INDEX), Person("S", INDEX), Person("X", INDEX)]
    events = [
        conviction("C", D(2023, 3, 1), D(2023, 8, 1), custodial=True),
        conviction("S", D(2023, 3, 1), D(2023, 8, 1)),
        Event("X", None, D(2023, 3, 5), "recall"),
        conviction("X", D(2023, 3, 1), D(2023, 8, 1)),
    ]
    m = measure(people, events, AS_OF)
    assert m.n_reoffenders == 3 and m.binary_rate == 1.0
    assert m.n_back_in_custody == 2
    assert m.recalls_without_new_offence == 0


def test_immature_people_are_reported_and_left_out_of_every_measure():
    # As of 2024-06-01, 17 months after INDEX: P_late (index 2023-01-01) is not mature even
    # though already convicted; P_early (index 2022-06-01, mature since 2023-12-01) is.
    as_of = D(2024, 6, 1)
    people = [Person("P_late", INDEX), Person("P_early", D(2022, 6, 1))]
    events = [conviction("P_late", D(2023, 2, 1), D(2023, 3, 1), custodial=True)]
    m = measure(people, events, as_of)
    assert (m.n_people, m.n_mature, m.n_immature) == (2, 1, 1)
    assert m.immature_ids == ("P_late",)
    assert m.n_reoffenders == 0 and m.binary_rate == 0.0
    assert m.n_back_in_custody == 0 and m.n_proven_offences == 0


def test_nobody_mature_gives_no_rates():
    m = measure([Person("P1", INDEX)], [], D(2024, 6, 30))
    assert m.n_mature == 0 and m.n_immature == 1
    assert m.binary_rate is None and m.rate_ci_low is None and m.rate_ci_high is None
    assert m.frequency_per_person is None and m.frequency_per_reoffender is None
    assert m.mean_days_to_first is None and m.back_in_custody_rate is None
    assert m.km == ()


def test_frequency_counts_every_offence_and_mean_days_to_first():
    # A: three offences (days 10, 20, 30 after index) proven at one court appearance.
    # B: one offence on day 50. C, D: none.
    # Offences 4; per person 4/4 = 1.0; per reoffender 4/2 = 2.0.
    # Days to first: A 10, B 50 -> mean 30.
    people = [Person(p, INDEX) for p in "ABCD"]
    court = D(2023, 5, 1)
    events = [
        conviction("A", D(2023, 1, 11), court),
        conviction("A", D(2023, 1, 21), court),
        conviction("A", D(2023, 1, 31), court),
        conviction("B", D(2023, 2, 20), court),
        conviction("C", D(2022, 12, 1), court),  # before the index: ignored
    ]
    m = measure(people, events, AS_OF)
    assert m.n_proven_offences == 4 and m.n_reoffenders == 2
    assert m.binary_rate == 0.5
    assert m.frequency_per_person == 1.0
    assert m.frequency_per_reoffender == 2.0
    assert m.mean_days_to_first == 30.0


def test_binary_rate_has_a_wilson_interval_checked_by_hand():
    # 3 reoffenders of 10. Wilson: centre (p + z²/2n) / (1 + z²/n),
    # half-width z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n); about 0.1078 to 0.6032.
    people = [Person(f"P{i}", INDEX) for i in range(10)]
    events = [conviction(f"P{i}", D(2023, 6, 1), D(2023, 7, 1)) for i in range(3)]
    m = measure(people, events, AS_OF)
    n, p = 10, 0.3
    denominator = 1 + Z**2 / n
    centre = (p + Z**2 / (2 * n)) / denominator
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / denominator
    assert m.binary_rate == 0.3
    assert m.rate_ci_low == pytest.approx(centre - half, abs=1e-9)
    assert m.rate_ci_high == pytest.approx(centre + half, abs=1e-9)
    assert (round(m.rate_ci_low, 4), round(m.rate_ci_high, 4)) == (0.1078, 0.6032)


def test_kaplan_meier_against_a_hand_computed_example():
    # Five people, leap-span index: first offences on days 10, 10 and 50, two without
    # (censored at the end of follow-up, day 365).
    # S(10) = 3/5 = 0.6; S(50) = 0.6 · 2/3 = 0.4.
    # Greenwood: var S(10) = 0.6² · 2/(5·3) = 0.048; var S(50) = 0.4² · (2/15 + 1/(3·2)) = 0.048.
    # Interval (log): exp(log S ± z·se/S), clipped to 1.
    people = [Person(p, LEAP_INDEX) for p in "ABCDE"]
    events = [
        conviction("A", D(2024, 1, 11), D(2024, 3, 1)),  # day 10
        conviction("B", D(2024, 1, 11), D(2024, 3, 1)),  # day 10
        conviction("C", D(2024, 2, 20), D(2024, 3, 1)),  # day 50
        conviction("C", D(2024, 3, 20), D(2024, 4, 1)),  # C's second offence: not a "first"
    ]
    m = measure(people, events, AS_OF)
    se = math.sqrt(0.048)
    assert [p.day for p in m.km] == [0, 10, 50]
    assert m.km[0] == KMPoint(0, 1.0, 1.0, 1.0)
    assert m.km[1].survival == pytest.approx(0.6)
    assert m.km[2].survival == pytest.approx(0.4)
    assert m.km[1].ci_low == pytest.approx(0.6 * math.exp(-Z * se / 0.6))
    assert m.km[1].ci_high == 1.0
    assert m.km[2].ci_low == pytest.approx(0.4 * math.exp(-Z * se / 0.4))
    assert m.km[2].ci_high == 1.0
    assert m.mean_days_to_first == pytest.approx(70 / 3)


def test_kaplan_meier_with_no_reoffences_stays_at_one_and_everyone_reoffending_reaches_zero():
    assert kaplan_meier([364, 364], [False, False]) == (KMPoint(0, 1.0, 1.0, 1.0),)
    curve = kaplan_meier([5, 9], [True, True])
    assert [(p.day, p.survival) for p in curve] == [(0, 1.0), (5, 0.5), (9, 0.0)]
    assert curve[-1].ci_low is None and curve[-1].ci_high is None  # undefined at 0
    assert kaplan_meier([], []) == ()


def test_back_in_custody_has_a_wilson_interval():
    people = [Person(f"P{i}", INDEX) for i in range(10)]
    events = [Event(f"P{i}", None, D(2023, 6, 1), "recall") for i in range(3)]
    m = measure(people, events, AS_OF)
    assert m.back_in_custody_rate == 0.3
    assert (round(m.back_in_custody_ci_low, 4), round(m.back_in_custody_ci_high, 4)) == (
        0.1078,
        0.6032,
    )


# --- groups and age bands --------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "band"),
    [(10, "10–17"), (17, "10–17"), (18, "18–20"), (20, "18–20"), (21, "21–24"),
     (24, "21–24"), (25, "25+"), (70, "25+")],
)  # fmt: skip
def test_age_bands(age, band):
    assert age_band(age) == band


@pytest.mark.parametrize("age", [9, -1, 17.5, "17", True])
def test_age_band_refuses_impossible_ages(age):
    with pytest.raises(ValueError, match="age"):
        age_band(age)


def test_measures_by_group():
    # Under-18s: Y1 reoffends, Y2 does not -> 1/2. Adults: A1 does not -> 0/1.
    # A blank group value is its own group, "not recorded".
    people = [
        Person("Y1", INDEX, {"age_band": "10–17"}),
        Person("Y2", INDEX, {"age_band": "10–17"}),
        Person("A1", INDEX, {"age_band": "25+"}),
        Person("U1", INDEX, {"age_band": " "}),
    ]
    events = [conviction("Y1", D(2023, 4, 1), D(2023, 5, 1))]
    groups = by_group(people, events, AS_OF, "age_band")
    assert list(groups) == ["10–17", "25+", "not recorded"]
    assert groups["10–17"].binary_rate == 0.5 and groups["10–17"].n_mature == 2
    assert groups["25+"].binary_rate == 0.0
    assert groups["not recorded"].n_people == 1


def test_grouping_by_a_missing_key_names_the_person():
    with pytest.raises(InputError, match="person P1, age_band: is missing"):
        by_group([Person("P1", INDEX)], [], AS_OF, "age_band")


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("people", "events", "message"),
    [
        ([Person("P1", INDEX), Person("P1", INDEX)], [], "person P1, person_id: appears more"),
        ([Person("P1", INDEX)], [conviction("P9", D(2023, 2, 1), D(2023, 3, 1))],
         "person P9, person_id: has events but is not in the cohort"),
        ([Person("P1", INDEX)], [conviction("P1", D(2023, 3, 1), D(2023, 2, 1))],
         "person P1, disposal_date: 2023-02-01 is before the offence date 2023-03-01"),
        ([Person("P1", INDEX)], [Event("P1", D(2023, 3, 1), D(2023, 4, 1), "fine")],
         'person P1, disposal_type: "fine" is not one of'),
        ([Person("P1", INDEX)], [Event("P1", None, D(2023, 4, 1), "conviction")],
         "person P1, offence_date: a conviction needs an offence date"),
        ([Person("P1", INDEX)], [Event("P1", D(2023, 4, 1), None, "caution")],
         "person P1, disposal_date: a caution needs the date it was given"),
        ([Person("P1", INDEX)], [Event("P1", None, None, "recall")],
         "person P1, disposal_date: a recall needs a date"),
    ],
)  # fmt: skip
def test_bad_input_names_the_person_and_the_field(people, events, message):
    with pytest.raises(ValueError, match=message) as caught:
        measure(people, events, AS_OF)
    assert isinstance(caught.value, InputError)
