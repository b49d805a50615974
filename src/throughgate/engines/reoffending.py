"""Proven reoffending, measured the Ministry of Justice way. Pure: no Django.

The definition, as implemented here (every boundary is tested in
tests/engines/test_reoffending.py):

- Each person has an **index date**: release from custody, or the start date of a
  community programme.
- The **follow-up period** runs from the day after the index date to
  `follow_up_end(index)` = index + 1 year - 1 day, *inclusive*. The anniversary of the
  index date itself is **not** in it. Counting the index date as day 1, an offence on day
  365 of a common-year span counts and day 366 (the anniversary) does not; a span that
  contains 29 February has one more day. In elapsed days (`offence_date - index_date`,
  the unit of `mean_days_to_first` and the survival curve) that is days 1 to 364, or 365
  across a 29 February.
- A **proven reoffence** is an offence committed in the follow-up period
  (`index < offence_date <= follow_up_end`) and proven by a conviction or caution
  (`PROVEN_DISPOSALS`) dated no later than `waiting_end(index)` = index + 18 months - 1 day
  (the follow-up year plus a six-month waiting period for the courts to catch up).
  Every offence event counts once: several offences proven at one court appearance are
  several offences for the frequency measures, as the MoJ counts them.
- Recalls and breaches are **not** reoffences. A mature person recalled or breached in
  the follow-up period without a proven reoffence is counted in
  `recalls_without_new_offence`.
- **Back in custody**: a recall dated in the follow-up period, or a proven reoffence whose
  outcome was custodial (`custodial=True`). A breach, even with a custodial outcome, is
  not counted unless it comes with a recall event.
- A person is counted only when the follow-up and waiting periods have both ended on the
  "as of" date (`as_of >= index + 18 months`): until then a conviction could still come.
  Others are reported as not yet mature and left out of every measure.

Calendar arithmetic: adding years or months keeps the day of the month; when that day
does not exist in the target month (29 February in a common year, 31 August + 18 months)
the anniversary falls on the 1st of the following month, as the law of England and
Wales treats a 29 February birthday. So the follow-up for an index date of 29 February
2024 ends on 28 February 2025.

Intervals: the binary rate and the back-in-custody rate carry Wilson 95% intervals
(`statsmodels.stats.proportion.proportion_confint(method="wilson")`), which behave at 0%,
100% and with small cohorts. The Kaplan-Meier curve comes from
`statsmodels.duration.survfunc.SurvfuncRight`; its 95% interval at each day is
*pointwise* on the log scale, exp(log S +/- 1.96 * se / S), from statsmodels' Greenwood
standard error, clipped to [0, 1]. (statsmodels' own `simultaneous_cb` is a Hall-Wellner
band for the whole curve at once, also log-transformed by default; it is much wider for
small cohorts and answers a different question, so it is not used.)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

PROVEN_DISPOSALS = frozenset({"conviction", "caution", "youth_caution", "conditional_caution"})
RECALL_DISPOSALS = frozenset({"recall", "breach"})
OTHER_DISPOSALS = frozenset({"other"})
DISPOSAL_TYPES = PROVEN_DISPOSALS | RECALL_DISPOSALS | OTHER_DISPOSALS

FOLLOW_UP_MONTHS = 12
WAITING_MONTHS = 6
Z_95 = 1.959963984540054  # the normal quantile for a two-sided 95% interval

AGE_BANDS = (("10–17", 10, 17), ("18–20", 18, 20), ("21–24", 21, 24), ("25+", 25, None))
NOT_RECORDED = "not recorded"


class InputError(ValueError):
    """Bad input, naming the person and the field so the caller can point at the cell."""

    def __init__(self, person_id: object, field_name: str, detail: str) -> None:
        super().__init__(f"person {person_id}, {field_name}: {detail}")
        self.person_id = person_id
        self.field = field_name
        self.detail = detail


@dataclass(frozen=True)
class Event:
    """One offence and how it was dealt with, or a recall or breach.

    For a recall or breach the date that matters is the disposal date (the date of the
    recall), or the offence date when no disposal date is known.
    """

    person_id: str
    offence_date: date | None
    disposal_date: date | None
    disposal_type: str
    custodial: bool = False


@dataclass(frozen=True)
class Person:
    person_id: str
    index_date: date
    groups: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KMPoint:
    """The share not yet proven to have reoffended by `day` days after the index date."""

    day: int
    survival: float
    ci_low: float | None  # None where the interval is undefined (survival 0)
    ci_high: float | None


@dataclass(frozen=True)
class Measures:
    as_of: date
    n_people: int
    n_mature: int
    n_immature: int
    immature_ids: tuple[str, ...]
    n_reoffenders: int
    n_proven_offences: int
    binary_rate: float | None  # None when nobody is mature yet
    rate_ci_low: float | None
    rate_ci_high: float | None
    frequency_per_person: float | None
    frequency_per_reoffender: float | None
    mean_days_to_first: float | None  # among reoffenders
    n_back_in_custody: int
    back_in_custody_rate: float | None
    back_in_custody_ci_low: float | None
    back_in_custody_ci_high: float | None
    recalls_without_new_offence: int
    km: tuple[KMPoint, ...]


# --- calendar --------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later; the 1st of the next month if it is missing."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    try:
        return date(year, month + 1, day.day)
    except ValueError:  # 29-31 in a shorter month: the anniversary is the next 1st
        year, month = divmod(index + 1, 12)
        return date(year, month + 1, 1)


def follow_up_end(index: date) -> date:
    """The last day on which an offence counts: index + 1 year - 1 day (inclusive)."""
    return add_months(index, FOLLOW_UP_MONTHS) - timedelta(days=1)


def waiting_end(index: date) -> date:
    """The last day on which a conviction or caution proves it: index + 18 months - 1 day."""
    return add_months(index, FOLLOW_UP_MONTHS + WAITING_MONTHS) - timedelta(days=1)


def is_mature(index: date, as_of: date) -> bool:
    """True when follow-up and waiting period have both ended on `as_of`."""
    return as_of > waiting_end(index)


def age_band(age: int) -> str:
    """The MoJ age bands for proven reoffending: 10–17, 18–20, 21–24, 25+."""
    if isinstance(age, bool) or not isinstance(age, int):
        raise ValueError(f"age must be a whole number of years, not {age!r}")
    if age < 10:
        raise ValueError(f"age {age} is under 10, the age of criminal responsibility")
    for label, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    raise AssertionError("unreachable")  # pragma: no cover


# --- validation ------------------------------------------------------------------------


def validate_event(event: Event) -> None:
    """Raise `InputError` naming the person and the field when an event cannot be used."""
    pid = event.person_id
    if event.disposal_type not in DISPOSAL_TYPES:
        raise InputError(
            pid,
            "disposal_type",
            f'"{event.disposal_type}" is not one of {", ".join(sorted(DISPOSAL_TYPES))}',
        )
    if event.disposal_type in PROVEN_DISPOSALS:
        if event.offence_date is None:
            raise InputError(pid, "offence_date", f"a {event.disposal_type} needs an offence date")
        if event.disposal_date is None:
            raise InputError(
                pid, "disposal_date", f"a {event.disposal_type} needs the date it was given"
            )
    if event.disposal_type in RECALL_DISPOSALS and event.disposal_date is None:
        if event.offence_date is None:
            raise InputError(pid, "disposal_date", f"a {event.disposal_type} needs a date")
    if (
        event.offence_date is not None
        and event.disposal_date is not None
        and event.disposal_date < event.offence_date
    ):
        raise InputError(
            pid,
            "disposal_date",
            f"{event.disposal_date.isoformat()} is before the offence date "
            f"{event.offence_date.isoformat()}",
        )


def _index(
    people: Iterable[Person], events: Iterable[Event]
) -> tuple[dict[str, Person], dict[str, list[Event]]]:
    by_id: dict[str, Person] = {}
    for person in people:
        if person.person_id in by_id:
            raise InputError(person.person_id, "person_id", "appears more than once")
        if not isinstance(person.index_date, date):
            raise InputError(person.person_id, "index_date", "is not a date")
        by_id[person.person_id] = person
    events_of: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.person_id not in by_id:
            raise InputError(event.person_id, "person_id", "has events but is not in the cohort")
        validate_event(event)
        events_of[event.person_id].append(event)
    return by_id, events_of


# --- per person ------------------------------------------------------------------------


def proven_offences(person: Person, events: Iterable[Event]) -> list[Event]:
    """The person's proven reoffences, earliest offence first.

    `events` may include other people's events; they are ignored.
    """
    end, proof_by = follow_up_end(person.index_date), waiting_end(person.index_date)
    found = [
        e
        for e in events
        if e.person_id == person.person_id
        and e.disposal_type in PROVEN_DISPOSALS
        and e.offence_date is not None
        and e.disposal_date is not None
        and person.index_date < e.offence_date <= end
        and e.disposal_date <= proof_by
    ]
    return sorted(found, key=lambda e: (e.offence_date, e.disposal_date))


def _recall_date(event: Event) -> date | None:
    return event.disposal_date or event.offence_date


def _recalls_in_follow_up(person: Person, events: Iterable[Event]) -> list[Event]:
    end = follow_up_end(person.index_date)
    return [
        e
        for e in events
        if e.disposal_type in RECALL_DISPOSALS
        and (when := _recall_date(e)) is not None
        and person.index_date < when <= end
    ]


@dataclass(frozen=True)
class _Outcome:
    offences: int
    days_to_first: int | None
    back_in_custody: bool
    recalled_or_breached: bool
    censor_day: int


def _outcome(person: Person, events: list[Event]) -> _Outcome:
    proven = proven_offences(person, events)
    recalls = _recalls_in_follow_up(person, events)
    first = proven[0].offence_date if proven else None
    return _Outcome(
        offences=len(proven),
        days_to_first=(first - person.index_date).days if first else None,
        back_in_custody=any(e.disposal_type == "recall" for e in recalls)
        or any(e.custodial for e in proven),
        recalled_or_breached=bool(recalls),
        censor_day=(follow_up_end(person.index_date) - person.index_date).days,
    )


# --- statistics ------------------------------------------------------------------------


def wilson_interval(count: int, n: int) -> tuple[float, float]:
    """Wilson score 95% interval for count / n (n > 0)."""
    from statsmodels.stats.proportion import proportion_confint  # type: ignore[import-untyped]

    low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
    # The formula can miss 0 or 1 by a rounding error (2.8e-17 for 0 of 7): the
    # interval must hold its own estimate, exactly.
    rate = count / n
    return (0.0 if count == 0 else min(float(low), rate)), (
        1.0 if count == n else max(float(high), rate)
    )


def kaplan_meier(days: Sequence[int], reoffended: Sequence[bool]) -> tuple[KMPoint, ...]:
    """Time to first proven reoffence: day 0 at 1.0, then one point per day with an event.

    `days` is the day of the first proven offence, or the censoring day (end of follow-up)
    for people who did not reoffend. Interval: pointwise log, from the Greenwood standard
    error (see the module docstring).
    """
    if len(days) == 0:
        return ()
    points = [KMPoint(0, 1.0, 1.0, 1.0)]
    status = np.asarray(reoffended, dtype=int)
    if not status.any():
        return tuple(points)
    from statsmodels.duration.survfunc import SurvfuncRight  # type: ignore[import-untyped]

    with np.errstate(divide="ignore", invalid="ignore"):
        curve = SurvfuncRight(np.asarray(days, dtype=float), status)
    for day, survival, se in zip(
        curve.surv_times, curve.surv_prob, curve.surv_prob_se, strict=True
    ):
        s = float(survival)
        if s <= 0.0 or not math.isfinite(float(se)):
            low = high = None
        else:
            half = Z_95 * float(se) / s
            low = max(0.0, min(1.0, math.exp(math.log(s) - half)))
            high = max(0.0, min(1.0, math.exp(math.log(s) + half)))
        points.append(KMPoint(int(day), s, low, high))
    return tuple(points)


# --- the measures ----------------------------------------------------------------------


@dataclass(frozen=True)
class PersonOutcome:
    """One mature person's year, for analyses that need people rather than totals (the
    impact evaluation)."""

    person_id: str
    offences: int  # proven reoffences
    days_to_first: int | None  # None: no proven reoffence in the year
    back_in_custody: bool


def person_outcomes(
    people: Iterable[Person], events: Iterable[Event], as_of: date
) -> list[PersonOutcome]:
    """The outcome of each *mature* person on `as_of`, in the order given; people not yet
    mature are left out, as they are from the measures."""
    by_id, events_of = _index(people, events)
    out = []
    for person in by_id.values():
        if not is_mature(person.index_date, as_of):
            continue
        o = _outcome(person, events_of.get(person.person_id, []))
        out.append(PersonOutcome(person.person_id, o.offences, o.days_to_first, o.back_in_custody))
    return out


def _measure(
    people: Sequence[Person], events_of: Mapping[str, list[Event]], as_of: date
) -> Measures:
    mature = [p for p in people if is_mature(p.index_date, as_of)]
    immature = tuple(p.person_id for p in people if not is_mature(p.index_date, as_of))
    outcomes = [_outcome(p, events_of.get(p.person_id, [])) for p in mature]
    n = len(mature)
    reoffenders = [o for o in outcomes if o.offences]
    total = sum(o.offences for o in outcomes)
    custody = sum(o.back_in_custody for o in outcomes)
    rate_ci = wilson_interval(len(reoffenders), n) if n else (None, None)
    custody_ci = wilson_interval(custody, n) if n else (None, None)
    return Measures(
        as_of=as_of,
        n_people=len(people),
        n_mature=n,
        n_immature=len(immature),
        immature_ids=immature,
        n_reoffenders=len(reoffenders),
        n_proven_offences=total,
        binary_rate=len(reoffenders) / n if n else None,
        rate_ci_low=rate_ci[0],
        rate_ci_high=rate_ci[1],
        frequency_per_person=total / n if n else None,
        frequency_per_reoffender=total / len(reoffenders) if reoffenders else None,
        mean_days_to_first=(
            sum(o.days_to_first or 0 for o in reoffenders) / len(reoffenders)
            if reoffenders
            else None
        ),
        n_back_in_custody=custody,
        back_in_custody_rate=custody / n if n else None,
        back_in_custody_ci_low=custody_ci[0],
        back_in_custody_ci_high=custody_ci[1],
        recalls_without_new_offence=sum(
            1 for o in outcomes if o.recalled_or_breached and not o.offences
        ),
        km=kaplan_meier(
            [o.censor_day if o.days_to_first is None else o.days_to_first for o in outcomes],
            [bool(o.offences) for o in outcomes],
        ),
    )


def measure(people: Iterable[Person], events: Iterable[Event], as_of: date) -> Measures:
    """The proven reoffending measures for a cohort on the `as_of` date."""
    by_id, events_of = _index(people, events)
    return _measure(list(by_id.values()), events_of, as_of)


def by_group(
    people: Iterable[Person], events: Iterable[Event], as_of: date, key: str
) -> dict[str, Measures]:
    """The measures for each value of `person.groups[key]`, in sorted order.

    A blank value is its own group, "not recorded"; a person without the key at all is an
    error, because it usually means the wrong key was asked for.
    """
    by_id, events_of = _index(people, events)
    members: dict[str, list[Person]] = defaultdict(list)
    for person in by_id.values():
        if key not in person.groups:
            raise InputError(person.person_id, key, "is missing: cannot group by it")
        members[str(person.groups[key]).strip() or NOT_RECORDED].append(person)
    return {value: _measure(members[value], events_of, as_of) for value in sorted(members)}
