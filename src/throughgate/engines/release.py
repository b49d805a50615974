"""Expected release dates, key-date checks and the first-days follow-up schedule.

Pure computation, no Django: dates in, dataclasses out. The mentor has to be at
the gate on the day a young person actually walks out, and that is often not the
date on the sentence calculation, because two rules move it:

1. **Weekends and bank holidays.** A release date that falls on a Saturday, a
   Sunday or a bank holiday is brought forward to the last working day before it
   (Criminal Justice Act 1961, s.23). That is why so many releases land on a
   Friday.
2. **Friday releases.** Under the Offenders (Day of Release from Detention) Act
   2023 and the HMPPS Friday Release Policy Framework (in force from 30 November
   2023), a release due on a Friday or on the day before a bank holiday is
   brought forward so that the person has working days to reach housing, benefits,
   a GP and probation before services close: by one working day for adults and by
   two working days for children. Home detention curfew releases and indeterminate
   sentences (and any release the Parole Board directs) are excluded.

The rules applied, in order:

- a confirmed release date is the actual date and is returned unmoved;
- remand has no release date (the court decides, by bail or sentence);
- an indeterminate sentence (life, IPP) has none either: only the Parole Board
  can direct release, so the parole eligibility date is mentioned, not promised;
- an approved HDC date only gets the weekend/bank-holiday move;
- otherwise the ARD, or failing that the CRD, gets the weekend/bank-holiday move
  and then, if it now falls on a Friday or the day before a bank holiday, the
  Friday-release move: one working day for an adult, two for a child (under 18
  on the scheduled date).

Not modelled, so a coordinator confirms the date instead: the framework's
exclusion of people who have served under 28 days since sentence, and the
governor's discretion to grant an adult a second day (or to keep a Friday
release in exceptional circumstances).

Bank holidays come from the maintained `holidays` package (England and Wales
share one calendar), never from a hand-typed list, so substitute days such as
Monday 28 December 2026 are right without anyone remembering them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import holidays

SENTENCE_TYPES = ("determinate", "dto", "extended", "indeterminate", "recall", "remand")

ADULT_AGE = 18
ADULT_FRIDAY_MOVE = 1  # working days earlier for a Friday / pre-bank-holiday release
CHILD_FRIDAY_MOVE = 2

# Fixed English names so that explanations never depend on the server's locale.
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class KeyDates:
    """The dates on a custody episode's sentence calculation (all optional)."""

    sentence_date: dt.date | None = None
    crd: dt.date | None = None  # conditional release date
    ard: dt.date | None = None  # automatic release date
    hdced: dt.date | None = None  # home detention curfew eligibility date
    hdcad: dt.date | None = None  # home detention curfew approved date
    ped: dt.date | None = None  # parole eligibility date
    led: dt.date | None = None  # licence expiry date
    sed: dt.date | None = None  # sentence expiry date
    tused: dt.date | None = None  # top-up supervision expiry date
    confirmed_release_date: dt.date | None = None


@dataclass(frozen=True)
class ExpectedRelease:
    date: dt.date | None  # the day they are expected to walk out, or None if unknown
    basis: str  # "confirmed", "hdcad", "ard", "crd", "none"
    scheduled: dt.date | None  # the date the rules started from (before any move)
    working_days_earlier: int  # how many working days the Friday/pre-holiday rule moved it
    explanation: str  # plain English for the coordinator


@lru_cache(maxsize=64)  # decades of years; bounded in case of junk dates
def _bank_holidays(year: int) -> frozenset[dt.date]:
    """England and Wales bank holidays of one year, including substitute days.

    The `holidays` package builds a year's calendar from rules each time it is
    asked, so one frozen set per year is kept for the life of the process.
    """
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


class WorkingCalendar:
    """Working days in England and Wales: Monday–Friday except bank holidays."""

    def __init__(self, extra_holidays: Iterable[dt.date] = ()) -> None:
        # Extra days let tests (or a one-off announced holiday) close a day
        # without touching the shared per-year cache.
        self._extra = frozenset(extra_holidays)

    def is_bank_holiday(self, day: dt.date) -> bool:
        return day in self._extra or day in _bank_holidays(day.year)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and not self.is_bank_holiday(day)

    def previous_working_day(self, day: dt.date) -> dt.date:
        """The last working day strictly before `day`."""
        day -= dt.timedelta(days=1)
        while not self.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def on_or_before_working_day(self, day: dt.date) -> dt.date:
        """`day` itself if it is a working day, otherwise the last one before it."""
        return day if self.is_working_day(day) else self.previous_working_day(day)

    def working_days_before(self, day: dt.date, count: int) -> dt.date:
        """The working day `count` working days before `day` (`day` itself if 0)."""
        for _ in range(count):
            day = self.previous_working_day(day)
        return day


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    """Age in whole years on `day`.

    Someone born on 29 February turns a year older on 1 March in other years,
    which is what comparing (month, day) pairs gives.
    """
    had_birthday = (day.month, day.day) >= (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - (0 if had_birthday else 1)


def long_date(day: dt.date, *, with_year: bool = True) -> str:
    """'Friday 25 December 2026' (or without the year)."""
    text = f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def _is_friday_release(day: dt.date, calendar: WorkingCalendar) -> bool:
    return day.weekday() == 4 or calendar.is_bank_holiday(day + dt.timedelta(days=1))


def _friday_reason(day: dt.date, calendar: WorkingCalendar) -> str:
    friday = day.weekday() == 4
    before_holiday = calendar.is_bank_holiday(day + dt.timedelta(days=1))
    if friday and before_holiday:
        return "a Friday and the day before a bank holiday"
    return "a Friday" if friday else "the day before a bank holiday"


def _non_working_reason(day: dt.date, calendar: WorkingCalendar) -> str:
    return "a bank holiday" if calendar.is_bank_holiday(day) else "a weekend"


def expected_release(
    dates: KeyDates,
    *,
    sentence_type: str,
    date_of_birth: dt.date,
    calendar: WorkingCalendar | None = None,
) -> ExpectedRelease:
    """The day the young person is expected to walk out, and why (see the module notes)."""
    if sentence_type not in SENTENCE_TYPES:
        raise ValueError(f"Unknown sentence type {sentence_type!r}.")
    cal = calendar or WorkingCalendar()

    if dates.confirmed_release_date is not None:
        day = dates.confirmed_release_date
        return ExpectedRelease(
            day, "confirmed", day, 0, f"Release is confirmed for {long_date(day)}."
        )

    if sentence_type == "remand":
        return ExpectedRelease(
            None,
            "none",
            None,
            0,
            "On remand: there is no release date until the court grants bail or passes sentence.",
        )

    if sentence_type == "indeterminate":
        ped = (
            f"The parole eligibility date (PED) is {long_date(dates.ped)}."
            if dates.ped
            else "No parole eligibility date (PED) is recorded."
        )
        return ExpectedRelease(
            None,
            "none",
            None,
            0,
            "An indeterminate sentence: release comes only when the Parole Board directs it, "
            f"so there is no expected date. {ped}",
        )

    if dates.hdcad is not None:
        return _hdc_release(dates.hdcad, cal)

    if dates.ard is not None:
        return _automatic_release("ard", dates.ard, date_of_birth, cal)
    if dates.crd is not None:
        return _automatic_release("crd", dates.crd, date_of_birth, cal)

    return ExpectedRelease(
        None,
        "none",
        None,
        0,
        "No confirmed release date, HDC approved date, ARD or CRD is recorded, "
        "so the release date is not known.",
    )


def _hdc_release(hdcad: dt.date, cal: WorkingCalendar) -> ExpectedRelease:
    """Home detention curfew: only the weekend/bank-holiday move, never the Friday one."""
    day = cal.on_or_before_working_day(hdcad)
    if day == hdcad:
        text = (
            f"HDCAD is {long_date(hdcad)}, a working day; release on home detention curfew "
            "is on that day (HDC releases are not moved for Fridays or bank holidays)."
        )
    else:
        text = (
            f"HDCAD is {long_date(hdcad)}, {_non_working_reason(hdcad, cal)}; release moves to "
            f"the working day before, {long_date(day)} (HDC releases are not moved any further "
            "for Fridays or bank holidays)."
        )
    return ExpectedRelease(day, "hdcad", hdcad, 0, text)


def _automatic_release(
    basis: str, scheduled: dt.date, date_of_birth: dt.date, cal: WorkingCalendar
) -> ExpectedRelease:
    """ARD/CRD: the weekend/bank-holiday move, then the Friday-release move."""
    label = basis.upper()
    landed = cal.on_or_before_working_day(scheduled)
    age = age_on(date_of_birth, scheduled)
    child = age < ADULT_AGE

    text = f"{label} is {long_date(scheduled)}"
    if landed != scheduled:
        same_year = landed.year == scheduled.year
        text += (
            f", {_non_working_reason(scheduled, cal)}; release moves to the working day before, "
            f"{long_date(landed, with_year=not same_year)}"
        )

    if not _is_friday_release(landed, cal):
        if landed == scheduled:
            text += ", a working day; release is on that day."
        else:
            text += f". Release is on {long_date(landed)}."
        return ExpectedRelease(landed, basis, scheduled, 0, text)

    moves = CHILD_FRIDAY_MOVE if child else ADULT_FRIDAY_MOVE
    released = cal.working_days_before(landed, moves)
    who = (
        f"a child (aged {age} on the {label}) is released two working days earlier"
        if child
        else "an adult is released one working day earlier"
    )
    joiner = ", which is" if landed != scheduled else ","
    text += f"{joiner} {_friday_reason(landed, cal)}, so {who}: {long_date(released)}."
    return ExpectedRelease(released, basis, scheduled, moves, text)


# -- Checking key dates ---------------------------------------------------------------

_FIELD_NAMES = {
    "sentence_date": "sentence date",
    "crd": "conditional release date",
    "ard": "automatic release date",
    "hdced": "HDC eligibility date",
    "hdcad": "HDC approved date",
    "ped": "parole eligibility date",
    "led": "licence expiry date",
    "sed": "sentence expiry date",
    "tused": "top-up supervision expiry date",
    "confirmed_release_date": "confirmed release date",
}
_DATES_AFTER_SENTENCE = tuple(f for f in _FIELD_NAMES if f != "sentence_date")


def validate_key_dates(dates: KeyDates, sentence_type: str) -> dict[str, str]:
    """Problems with a set of key dates, as {field name: plain-English message}.

    Field names are the KeyDates attribute names, so a form can show each
    message beside its field. One message per field: the first problem found,
    checks running from the most basic (order against the sentence date) on.
    Only dates that are present are compared. Returns {} when all is well.
    """
    if sentence_type not in SENTENCE_TYPES:
        allowed = ", ".join(SENTENCE_TYPES)
        return {"sentence_type": f"Choose a sentence type: one of {allowed}."}

    problems: dict[str, str] = {}

    def in_order(first: str, second: str, *, blame: str, allow_same: bool = False) -> None:
        """Record a problem on `blame` unless `first` comes before `second`.

        Only the first problem found for a field is kept, so the message beside
        it is the most basic one.
        """
        a: dt.date | None = getattr(dates, first)
        b: dt.date | None = getattr(dates, second)
        if a is None or b is None or blame in problems or a < b or (a == b and allow_same):
            return
        other = second if blame == first else first
        if a == b:
            relation = "the same day as"
        else:
            relation = "after" if blame == first else "before"
        problems[blame] = f"The {_FIELD_NAMES[blame]} is {relation} the {_FIELD_NAMES[other]}."

    # Every date is optional, the sentence date included: custody is often recorded
    # on reception, before the prison sends the sentence calculation, and a person
    # on remand has no sentence at all. A missing date is unknown, not wrong.
    for field in _DATES_AFTER_SENTENCE:
        in_order("sentence_date", field, blame=field, allow_same=True)

    for release in ("crd", "ard"):
        in_order(release, "led", blame="led")
        in_order(release, "sed", blame="sed")
    in_order("led", "sed", blame="led", allow_same=True)

    # Eligibility for HDC must come before automatic release or it would be
    # pointless; the approved date may be as late as the release date, not after.
    in_order("hdced", "hdcad", blame="hdcad", allow_same=True)
    for release in ("crd", "ard"):
        in_order("hdced", release, blame="hdced")
        in_order("hdcad", release, blame="hdcad", allow_same=True)

    # An extended sentence is served to at least the parole eligibility point and
    # released automatically at the end of the custodial term (the CRD) if the
    # Parole Board has not directed release sooner.
    if sentence_type == "extended":
        in_order("ped", "crd", blame="ped")

    in_order("led", "tused", blame="tused")
    return problems


# -- First days after release -------------------------------------------------------

FOLLOW_UPS = (("day1", "Day 1", 1), ("day3", "Day 3", 3), ("week2", "Week 2", 14))
LAST_WINDOW_DAYS = 7


@dataclass(frozen=True)
class FollowUp:
    key: str
    label: str
    due: dt.date  # release + offset days
    window_end: dt.date  # exclusive: the next follow-up's due date; the last window is 7 days
    status: str  # "done", "upcoming", "due", "overdue", "missed"
    done_on: dt.date | None


def follow_ups(
    released_on: dt.date, contact_dates: Iterable[dt.date], today: dt.date
) -> list[FollowUp]:
    """The day 1 / day 3 / week 2 check-ins after release and where each stands.

    The first days out are when people are most likely to lose a bed, miss
    probation or drift back, so each check-in has a window running until the
    next one is due: a day-1 call made on day 2 still counts, but one made on
    day 3 is the day-3 check-in. The release day itself (the gate meeting) is not
    a follow-up. `contact_dates` are the dates of attended contacts; any dated
    after `today` are ignored, since a check-in cannot have happened yet.
    """
    contacts = sorted({d for d in contact_dates if d <= today})
    result: list[FollowUp] = []
    for index, (key, label, offset) in enumerate(FOLLOW_UPS):
        due = released_on + dt.timedelta(days=offset)
        if index + 1 < len(FOLLOW_UPS):
            window_end = released_on + dt.timedelta(days=FOLLOW_UPS[index + 1][2])
        else:
            window_end = due + dt.timedelta(days=LAST_WINDOW_DAYS)
        done_on = next((d for d in contacts if due <= d < window_end), None)
        if done_on is not None:
            status = "done"
        elif today < due:
            status = "upcoming"
        elif today == due:
            status = "due"
        elif today < window_end:
            status = "overdue"
        else:
            status = "missed"
        result.append(FollowUp(key, label, due, window_end, status, done_on))
    return result
