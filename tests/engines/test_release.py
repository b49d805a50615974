"""Expected release dates, key-date checks and follow-ups (engines.release): pure, no database.

Worked examples use real England and Wales bank holidays, so a reader can check
them against a calendar: Easter 2026 (Good Friday 3 April, Easter Monday 6 April),
Christmas 2026 (Friday 25 December, Boxing Day substitute Monday 28 December,
Friday 1 January 2027) and Christmas 2027 (Saturday 25 and Sunday 26 December with
substitutes Monday 27 and Tuesday 28 December, New Year substitute Monday 3
January 2028). The week of 6 July 2026 has no bank holidays.
"""

from __future__ import annotations

import ast
import inspect
from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughgate.engines import release
from throughgate.engines.release import (
    FOLLOW_UPS,
    SENTENCE_TYPES,
    KeyDates,
    WorkingCalendar,
    age_on,
    expected_release,
    follow_ups,
    validate_key_dates,
)

ADULT = date(1990, 5, 17)  # well over 18 on every date used here
CHILD = date(2010, 5, 17)  # 16 in 2026, 17 in 2027
CAL = WorkingCalendar()


def crd_release(crd: date, dob: date = ADULT, sentence_type: str = "determinate"):
    return expected_release(KeyDates(crd=crd), sentence_type=sentence_type, date_of_birth=dob)


# -- The working calendar ---------------------------------------------------------------


def test_england_and_wales_bank_holidays_include_substitute_days():
    assert CAL.is_bank_holiday(date(2026, 12, 25))  # Christmas, a Friday
    assert CAL.is_bank_holiday(date(2026, 12, 28))  # Boxing Day substitute, Monday
    assert CAL.is_bank_holiday(date(2027, 12, 27))  # Christmas substitute, Monday
    assert CAL.is_bank_holiday(date(2027, 12, 28))  # Boxing Day substitute, Tuesday
    assert CAL.is_bank_holiday(date(2028, 1, 3))  # New Year substitute, Monday
    assert CAL.is_bank_holiday(date(2026, 4, 3))  # Good Friday
    assert CAL.is_bank_holiday(date(2026, 4, 6))  # Easter Monday
    assert not CAL.is_bank_holiday(date(2026, 12, 29))


def test_scottish_only_holidays_are_not_bank_holidays_here():
    assert not CAL.is_bank_holiday(date(2027, 1, 4))  # 2 January substitute, Scotland only
    assert not CAL.is_bank_holiday(date(2026, 8, 3))  # Scottish summer holiday


def test_working_days_are_weekdays_that_are_not_bank_holidays():
    assert CAL.is_working_day(date(2026, 12, 24))
    assert not CAL.is_working_day(date(2026, 12, 25))
    assert not CAL.is_working_day(date(2026, 12, 26))  # Saturday
    assert not CAL.is_working_day(date(2026, 12, 28))


def test_previous_working_day_is_strictly_before_and_skips_the_christmas_break():
    assert CAL.previous_working_day(date(2026, 12, 29)) == date(2026, 12, 24)
    assert CAL.previous_working_day(date(2026, 12, 24)) == date(2026, 12, 23)
    assert CAL.previous_working_day(date(2027, 12, 29)) == date(2027, 12, 24)


def test_on_or_before_working_day_keeps_a_working_day():
    assert CAL.on_or_before_working_day(date(2026, 12, 24)) == date(2026, 12, 24)
    assert CAL.on_or_before_working_day(date(2026, 12, 28)) == date(2026, 12, 24)
    assert CAL.on_or_before_working_day(date(2028, 1, 3)) == date(2027, 12, 31)


def test_extra_holidays_close_a_day_for_one_calendar_only():
    closed = WorkingCalendar(extra_holidays=[date(2026, 7, 8)])  # a Wednesday
    assert not closed.is_working_day(date(2026, 7, 8))
    assert CAL.is_working_day(date(2026, 7, 8))
    # Tuesday is now the day before a bank holiday, so an adult goes on Monday.
    result = expected_release(
        KeyDates(crd=date(2026, 7, 7)),
        sentence_type="determinate",
        date_of_birth=ADULT,
        calendar=closed,
    )
    assert result.date == date(2026, 7, 6)


def test_the_holiday_calendar_is_cached_per_year():
    release._bank_holidays.cache_clear()
    CAL.is_bank_holiday(date(2031, 1, 1))
    CAL.is_bank_holiday(date(2031, 6, 1))
    info = release._bank_holidays.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_the_engine_imports_nothing_from_django():
    tree = ast.parse(inspect.getsource(release))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.split(".")[0] == "django" for name in imported)


# -- Age ----------------------------------------------------------------------------------


def test_age_turns_over_on_the_birthday():
    assert age_on(date(2008, 7, 4), date(2026, 7, 3)) == 17
    assert age_on(date(2008, 7, 4), date(2026, 7, 4)) == 18


def test_a_leap_day_birthday_turns_over_on_the_first_of_march():
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


# -- Expected release: an ordinary week (6–12 July 2026, no bank holidays) ---------------

ORDINARY_WEEK = [
    # scheduled CRD, adult release, child release
    (date(2026, 7, 6), date(2026, 7, 6), date(2026, 7, 6)),  # Monday: no move
    (date(2026, 7, 7), date(2026, 7, 7), date(2026, 7, 7)),  # Tuesday: no move
    (date(2026, 7, 8), date(2026, 7, 8), date(2026, 7, 8)),  # Wednesday: no move
    (date(2026, 7, 9), date(2026, 7, 9), date(2026, 7, 9)),  # Thursday: no move
    (date(2026, 7, 10), date(2026, 7, 9), date(2026, 7, 8)),  # Friday: Thursday / Wednesday
    # Weekend: first back to Friday, which is itself a Friday release, so it moves again.
    (date(2026, 7, 11), date(2026, 7, 9), date(2026, 7, 8)),  # Saturday
    (date(2026, 7, 12), date(2026, 7, 9), date(2026, 7, 8)),  # Sunday
]


@pytest.mark.parametrize(("crd", "adult", "child"), ORDINARY_WEEK)
def test_each_day_of_an_ordinary_week(crd, adult, child):
    assert crd_release(crd, ADULT).date == adult
    assert crd_release(crd, CHILD).date == child


def test_a_friday_crd_moves_an_adult_to_thursday():
    result = crd_release(date(2026, 7, 10), ADULT)
    assert (result.date, result.basis, result.scheduled) == (
        date(2026, 7, 9),
        "crd",
        date(2026, 7, 10),
    )
    assert result.working_days_earlier == 1
    assert "Friday 10 July 2026" in result.explanation
    assert result.explanation.endswith("Thursday 9 July 2026.")


def test_a_friday_crd_moves_a_17_year_old_to_wednesday():
    seventeen = date(2009, 1, 15)
    result = crd_release(date(2026, 7, 10), seventeen)
    assert result.date == date(2026, 7, 8)
    assert result.working_days_earlier == 2
    assert "child (aged 17 on the CRD)" in result.explanation


def test_a_saturday_crd_goes_back_to_friday_and_then_the_friday_rule_applies():
    result = crd_release(date(2026, 7, 11), ADULT)
    assert result.date == date(2026, 7, 9)
    # Only the Friday-release move is counted; the weekend move is scheduled → Friday.
    assert result.working_days_earlier == 1
    assert "a weekend" in result.explanation and "which is a Friday" in result.explanation


def test_a_midweek_crd_is_not_moved():
    result = crd_release(date(2026, 7, 8), CHILD)
    assert (result.date, result.working_days_earlier) == (date(2026, 7, 8), 0)
    assert "release is on that day" in result.explanation


# -- Expected release: around bank holidays ------------------------------------------------

BANK_HOLIDAY_CASES = [
    # scheduled CRD, adult release, child release
    # Easter 2026: Thursday before Good Friday is the day before a bank holiday.
    (date(2026, 4, 2), date(2026, 4, 1), date(2026, 3, 31)),
    (date(2026, 4, 3), date(2026, 4, 1), date(2026, 3, 31)),  # Good Friday → Thursday → …
    (date(2026, 4, 6), date(2026, 4, 1), date(2026, 3, 31)),  # Easter Monday
    (date(2026, 4, 7), date(2026, 4, 7), date(2026, 4, 7)),  # Tuesday after Easter: no move
    # Spring bank holiday 2026 (Monday 25 May): the Friday before is just a Friday.
    (date(2026, 5, 22), date(2026, 5, 21), date(2026, 5, 20)),
    (date(2026, 5, 25), date(2026, 5, 21), date(2026, 5, 20)),
    # Christmas 2026.
    (date(2026, 12, 24), date(2026, 12, 23), date(2026, 12, 22)),  # Christmas Eve, a Thursday
    (date(2026, 12, 25), date(2026, 12, 23), date(2026, 12, 22)),  # Christmas Day, a Friday
    (date(2026, 12, 28), date(2026, 12, 23), date(2026, 12, 22)),  # substitute Boxing Day
    (date(2026, 12, 29), date(2026, 12, 29), date(2026, 12, 29)),  # Tuesday: no move
    (date(2026, 12, 31), date(2026, 12, 30), date(2026, 12, 29)),  # day before New Year's Day
    (date(2027, 1, 1), date(2026, 12, 30), date(2026, 12, 29)),  # New Year's Day, a Friday
    # Christmas 2027: Christmas and Boxing Day at the weekend, substitutes Mon 27 and Tue 28.
    (date(2027, 12, 24), date(2027, 12, 23), date(2027, 12, 22)),
    (date(2027, 12, 25), date(2027, 12, 23), date(2027, 12, 22)),
    (date(2027, 12, 28), date(2027, 12, 23), date(2027, 12, 22)),
    (date(2027, 12, 29), date(2027, 12, 29), date(2027, 12, 29)),  # Wednesday: no move
    # New Year 2028: Saturday 1 January, substitute Monday 3 January.
    (date(2028, 1, 3), date(2027, 12, 30), date(2027, 12, 29)),
]


@pytest.mark.parametrize(("crd", "adult", "child"), BANK_HOLIDAY_CASES)
def test_releases_around_bank_holidays(crd, adult, child):
    child_dob = date(crd.year - 16, 1, 1)
    assert crd_release(crd, ADULT).date == adult
    assert crd_release(crd, child_dob).date == child


def test_christmas_day_2026_is_explained_step_by_step():
    result = crd_release(date(2026, 12, 25), ADULT)
    assert result.explanation == (
        "CRD is Friday 25 December 2026, a bank holiday; release moves to the working day "
        "before, Thursday 24 December, which is the day before a bank holiday, so an adult "
        "is released one working day earlier: Wednesday 23 December 2026."
    )


def test_a_move_across_the_new_year_names_both_years():
    result = crd_release(date(2027, 1, 1), ADULT)
    assert "Thursday 31 December 2026" in result.explanation


@pytest.mark.parametrize("sentence_type", ["determinate", "dto", "extended", "recall"])
def test_every_automatic_release_follows_the_friday_rule(sentence_type):
    assert crd_release(date(2026, 7, 10), ADULT, sentence_type).date == date(2026, 7, 9)


def test_ard_is_preferred_to_crd():
    dates = KeyDates(ard=date(2026, 7, 10), crd=date(2026, 7, 15))
    result = expected_release(dates, sentence_type="determinate", date_of_birth=ADULT)
    assert (result.date, result.basis, result.scheduled) == (
        date(2026, 7, 9),
        "ard",
        date(2026, 7, 10),
    )
    assert result.explanation.startswith("ARD is Friday 10 July 2026")


def test_age_on_the_scheduled_date_decides_child_or_adult():
    turns_18_on_saturday = date(2008, 7, 11)
    # Friday 10 July: still 17, so released as a child two working days earlier.
    assert crd_release(date(2026, 7, 10), turns_18_on_saturday).date == date(2026, 7, 8)
    # Saturday 11 July: 18 on the scheduled date, so an adult — although the day they
    # walk out (Thursday) falls before the birthday.
    assert crd_release(date(2026, 7, 11), turns_18_on_saturday).date == date(2026, 7, 9)


def test_an_18th_birthday_on_the_scheduled_date_counts_as_adult():
    assert crd_release(date(2026, 7, 10), date(2008, 7, 10)).date == date(2026, 7, 9)


# -- Expected release: HDC, indeterminate, remand, confirmed ------------------------------


def test_hdc_on_a_friday_is_not_moved():
    dates = KeyDates(hdcad=date(2026, 7, 10), crd=date(2026, 9, 4))
    result = expected_release(dates, sentence_type="determinate", date_of_birth=CHILD)
    assert (result.date, result.basis, result.working_days_earlier) == (
        date(2026, 7, 10),
        "hdcad",
        0,
    )
    assert "not moved for Fridays" in result.explanation


def test_hdc_on_a_bank_holiday_only_moves_to_the_working_day_before():
    dates = KeyDates(hdcad=date(2026, 12, 28))
    result = expected_release(dates, sentence_type="determinate", date_of_birth=ADULT)
    assert result.date == date(2026, 12, 24)  # not Wednesday 23rd: no Friday-release move
    assert result.scheduled == date(2026, 12, 28)


def test_hdc_is_preferred_to_ard_and_crd():
    dates = KeyDates(hdcad=date(2026, 7, 7), ard=date(2026, 8, 5), crd=date(2026, 8, 5))
    assert expected_release(dates, sentence_type="dto", date_of_birth=CHILD).basis == "hdcad"


def test_indeterminate_sentence_has_no_expected_date_but_mentions_the_ped():
    dates = KeyDates(ped=date(2027, 5, 3), crd=date(2027, 5, 7))
    result = expected_release(dates, sentence_type="indeterminate", date_of_birth=ADULT)
    assert (result.date, result.basis, result.scheduled) == (None, "none", None)
    assert "Parole Board" in result.explanation
    assert "Monday 3 May 2027" in result.explanation


def test_indeterminate_sentence_without_a_ped_says_so():
    result = expected_release(KeyDates(), sentence_type="indeterminate", date_of_birth=ADULT)
    assert "No parole eligibility date" in result.explanation


def test_remand_has_no_expected_date():
    dates = KeyDates(crd=date(2026, 7, 8))
    result = expected_release(dates, sentence_type="remand", date_of_birth=ADULT)
    assert (result.date, result.basis) == (None, "none")


def test_a_confirmed_friday_release_is_left_on_the_friday():
    dates = KeyDates(confirmed_release_date=date(2026, 7, 10), crd=date(2026, 7, 10))
    result = expected_release(dates, sentence_type="determinate", date_of_birth=CHILD)
    assert (result.date, result.basis, result.working_days_earlier) == (
        date(2026, 7, 10),
        "confirmed",
        0,
    )


def test_a_confirmed_date_overrides_remand_and_indeterminate():
    confirmed = KeyDates(confirmed_release_date=date(2026, 12, 25))
    for sentence_type in ("remand", "indeterminate"):
        result = expected_release(confirmed, sentence_type=sentence_type, date_of_birth=ADULT)
        assert result.date == date(2026, 12, 25)


def test_no_usable_dates_gives_no_expected_date():
    dates = KeyDates(sentence_date=date(2026, 1, 5), led=date(2027, 1, 5))
    result = expected_release(dates, sentence_type="determinate", date_of_birth=ADULT)
    assert (result.date, result.basis, result.scheduled) == (None, "none", None)
    assert "not known" in result.explanation


def test_an_unknown_sentence_type_is_refused():
    with pytest.raises(ValueError, match="life"):
        expected_release(KeyDates(), sentence_type="life", date_of_birth=ADULT)


# -- Expected release: properties -----------------------------------------------------------

QUICK = settings(max_examples=300, deadline=None)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31))
births = st.dates(min_value=date(1985, 1, 1), max_value=date(2025, 12, 31))
released_types = st.sampled_from(["determinate", "dto", "extended", "recall"])


def nth_working_day_before(day: date, n: int) -> date:
    for _ in range(n):
        day = CAL.previous_working_day(day)
    return day


@QUICK
@given(scheduled=days, dob=births, sentence_type=released_types, use_ard=st.booleans())
def test_automatic_release_is_a_working_day_no_later_than_scheduled(
    scheduled, dob, sentence_type, use_ard
):
    dates = KeyDates(ard=scheduled) if use_ard else KeyDates(crd=scheduled)
    result = expected_release(dates, sentence_type=sentence_type, date_of_birth=dob)
    assert result.date is not None
    assert result.date <= scheduled
    assert CAL.is_working_day(result.date)
    assert result.scheduled == scheduled
    assert result.basis == ("ard" if use_ard else "crd")


@QUICK
@given(scheduled=days, dob=births)
def test_the_friday_move_is_at_most_one_working_day_for_adults_and_two_for_children(scheduled, dob):
    result = crd_release(scheduled, dob)
    landed = CAL.on_or_before_working_day(scheduled)
    limit = 2 if age_on(dob, scheduled) < 18 else 1
    assert 0 <= result.working_days_earlier <= limit
    assert result.date == nth_working_day_before(landed, result.working_days_earlier)
    friday_release = landed.weekday() == 4 or CAL.is_bank_holiday(landed + timedelta(days=1))
    assert (result.working_days_earlier > 0) == friday_release


@QUICK
@given(scheduled=days)
def test_a_child_is_never_released_later_than_an_adult_with_the_same_dates(scheduled):
    child_dob = date(scheduled.year - 15, 1, 1)
    assert crd_release(scheduled, child_dob).date <= crd_release(scheduled, ADULT).date


@QUICK
@given(hdcad=days, crd=days, dob=births, sentence_type=released_types)
def test_hdc_release_only_moves_off_non_working_days(hdcad, crd, dob, sentence_type):
    dates = KeyDates(hdcad=hdcad, crd=crd)
    result = expected_release(dates, sentence_type=sentence_type, date_of_birth=dob)
    assert result.date == CAL.on_or_before_working_day(hdcad)
    assert (result.basis, result.working_days_earlier) == ("hdcad", 0)


@QUICK
@given(
    crd=st.none() | days,
    ard=st.none() | days,
    hdcad=st.none() | days,
    ped=st.none() | days,
    dob=births,
    sentence_type=st.sampled_from(["indeterminate", "remand"]),
)
def test_indeterminate_and_remand_without_confirmation_have_no_date(
    crd, ard, hdcad, ped, dob, sentence_type
):
    dates = KeyDates(crd=crd, ard=ard, hdcad=hdcad, ped=ped)
    result = expected_release(dates, sentence_type=sentence_type, date_of_birth=dob)
    assert (result.date, result.basis) == (None, "none")


@QUICK
@given(
    confirmed=days,
    crd=st.none() | days,
    hdcad=st.none() | days,
    dob=births,
    sentence_type=st.sampled_from(SENTENCE_TYPES),
)
def test_a_confirmed_date_is_returned_unchanged(confirmed, crd, hdcad, dob, sentence_type):
    dates = KeyDates(confirmed_release_date=confirmed, crd=crd, hdcad=hdcad)
    result = expected_release(dates, sentence_type=sentence_type, date_of_birth=dob)
    assert (result.date, result.basis, result.working_days_earlier) == (confirmed, "confirmed", 0)


@QUICK
@given(day=days)
def test_the_calendar_agrees_with_the_holidays_library(day):
    official = holidays.country_holidays("GB", subdiv="ENG", years=day.year)
    assert CAL.is_bank_holiday(day) == (day in official)
    assert CAL.is_working_day(day) == (day.weekday() < 5 and day not in official)
    before = CAL.previous_working_day(day)
    assert before < day and CAL.is_working_day(before)
    assert all(not CAL.is_working_day(between) for between in _days_between(before, day))


def _days_between(start: date, end: date):
    """Days strictly between start and end."""
    current = start + timedelta(days=1)
    while current < end:
        yield current
        current += timedelta(days=1)


# -- Checking key dates ------------------------------------------------------------------------

SENTENCED = date(2026, 1, 12)
VALID = KeyDates(
    sentence_date=SENTENCED,
    hdced=date(2026, 5, 4),
    hdcad=date(2026, 5, 18),
    ped=date(2026, 4, 1),
    crd=date(2026, 7, 8),
    ard=date(2026, 7, 8),
    led=date(2027, 1, 11),
    sed=date(2027, 1, 11),
    tused=date(2027, 7, 8),
    confirmed_release_date=date(2026, 5, 18),
)


@pytest.mark.parametrize("sentence_type", [t for t in SENTENCE_TYPES if t != "indeterminate"])
def test_a_consistent_set_of_key_dates_is_accepted(sentence_type):
    assert validate_key_dates(VALID, sentence_type) == {}


def test_an_indeterminate_sentence_with_a_ped_is_accepted():
    dates = KeyDates(sentence_date=SENTENCED, ped=date(2031, 1, 12))
    assert validate_key_dates(dates, "indeterminate") == {}


def test_remand_needs_no_sentence_date():
    assert validate_key_dates(KeyDates(), "remand") == {}


def test_a_missing_date_is_unknown_not_wrong():
    # Custody is often recorded on reception, before the sentence calculation arrives.
    assert validate_key_dates(KeyDates(), "determinate") == {}
    assert validate_key_dates(KeyDates(crd=date(2026, 7, 8)), "determinate") == {}


def test_an_unknown_sentence_type_is_reported_on_its_field():
    problems = validate_key_dates(VALID, "life")
    assert list(problems) == ["sentence_type"]
    assert "determinate" in problems["sentence_type"]


@pytest.mark.parametrize(
    "field",
    ["crd", "ard", "hdced", "hdcad", "ped", "led", "sed", "tused", "confirmed_release_date"],
)
def test_every_key_date_must_be_on_or_after_the_sentence_date(field):
    dates = KeyDates(sentence_date=SENTENCED, **{field: SENTENCED - timedelta(days=1)})
    problems = validate_key_dates(dates, "determinate")
    assert list(problems) == [field]
    assert "before the sentence date" in problems[field]
    assert (
        validate_key_dates(KeyDates(sentence_date=SENTENCED, **{field: SENTENCED}), "determinate")
        == {}
    )


BAD_ORDER = [
    # (changes to VALID, sentence type, field refused, words in the message)
    ({"led": date(2026, 7, 1)}, "determinate", "led", "before the conditional release date"),
    ({"led": date(2026, 7, 8), "sed": date(2026, 7, 8)}, "determinate", "led", "same day"),
    (
        {"crd": date(2026, 6, 1), "sed": date(2026, 7, 1), "led": None},
        "determinate",
        "sed",
        "before the automatic release date",
    ),
    ({"led": date(2027, 2, 1)}, "determinate", "led", "after the sentence expiry date"),
    ({"hdcad": date(2026, 5, 1)}, "determinate", "hdcad", "before the HDC eligibility date"),
    (
        {"hdced": date(2026, 7, 8), "hdcad": None},
        "determinate",
        "hdced",
        "same day as the conditional release date",
    ),
    (
        {"hdcad": date(2026, 7, 9), "confirmed_release_date": None},
        "determinate",
        "hdcad",
        "after the conditional release date",
    ),
    ({"ped": date(2026, 7, 8)}, "extended", "ped", "same day as the conditional release date"),
    ({"tused": date(2027, 1, 11)}, "determinate", "tused", "licence expiry date"),
]


@pytest.mark.parametrize(("changes", "sentence_type", "field", "words"), BAD_ORDER)
def test_dates_out_of_order_are_refused_on_the_right_field(changes, sentence_type, field, words):
    values = {**VALID.__dict__, **changes}
    problems = validate_key_dates(KeyDates(**values), sentence_type)
    assert field in problems, problems
    assert words in problems[field]


def test_the_licence_message_reads_plainly():
    problems = validate_key_dates(KeyDates(**{**VALID.__dict__, "led": date(2026, 7, 1)}), "dto")
    assert problems == {"led": "The licence expiry date is before the conditional release date."}


def test_an_hdc_approved_on_the_release_date_is_allowed():
    assert (
        validate_key_dates(KeyDates(**{**VALID.__dict__, "hdcad": VALID.crd}), "determinate") == {}
    )


def test_ped_after_crd_is_only_a_problem_for_extended_sentences():
    late_ped = KeyDates(**{**VALID.__dict__, "ped": date(2026, 8, 1)})
    assert validate_key_dates(late_ped, "determinate") == {}
    assert list(validate_key_dates(late_ped, "extended")) == ["ped"]


def test_one_message_per_field_the_most_basic_first():
    dates = KeyDates(sentence_date=SENTENCED, crd=date(2026, 7, 8), led=date(2025, 12, 1))
    assert validate_key_dates(dates, "determinate") == {
        "led": "The licence expiry date is before the sentence date."
    }


# -- First-days follow-ups ----------------------------------------------------------------------

RELEASED = date(2026, 7, 8)  # a Wednesday
DAY1, DAY3, WEEK2 = (RELEASED + timedelta(days=n) for n in (1, 3, 14))


def statuses(contacts, today):
    return {f.key: f.status for f in follow_ups(RELEASED, contacts, today)}


def test_the_schedule_is_day_1_day_3_and_week_2_with_back_to_back_windows():
    schedule = follow_ups(RELEASED, [], RELEASED)
    assert [(f.key, f.label, f.due, f.window_end) for f in schedule] == [
        ("day1", "Day 1", DAY1, DAY3),
        ("day3", "Day 3", DAY3, WEEK2),
        ("week2", "Week 2", WEEK2, WEEK2 + timedelta(days=7)),
    ]
    assert [f.key for f in schedule] == [key for key, _, _ in FOLLOW_UPS]


def test_on_release_day_everything_is_upcoming_and_the_gate_meeting_does_not_count():
    assert statuses([RELEASED], RELEASED) == {
        "day1": "upcoming",
        "day3": "upcoming",
        "week2": "upcoming",
    }


def test_a_follow_up_is_due_on_its_day():
    assert statuses([], DAY1)["day1"] == "due"


def test_a_follow_up_not_made_is_overdue_inside_its_window_then_missed():
    assert statuses([], DAY1 + timedelta(days=1))["day1"] == "overdue"
    assert statuses([], DAY3) == {"day1": "missed", "day3": "due", "week2": "upcoming"}


def test_a_day_1_contact_made_late_on_day_2_counts():
    day2 = RELEASED + timedelta(days=2)
    schedule = follow_ups(RELEASED, [day2], WEEK2)
    assert (schedule[0].status, schedule[0].done_on) == ("done", day2)


def test_a_day_3_contact_does_not_count_for_day_1():
    assert statuses([DAY3], DAY3) == {"day1": "missed", "day3": "done", "week2": "upcoming"}


def test_the_earliest_contact_in_a_window_is_the_one_shown():
    schedule = follow_ups(RELEASED, [DAY3 + timedelta(days=2), DAY3], WEEK2)
    assert schedule[1].done_on == DAY3


def test_week_2_is_missed_once_its_seven_day_window_has_passed():
    assert statuses([DAY1, DAY3], WEEK2 + timedelta(days=6))["week2"] == "overdue"
    assert statuses([DAY1, DAY3], WEEK2 + timedelta(days=7)) == {
        "day1": "done",
        "day3": "done",
        "week2": "missed",
    }


def test_a_contact_dated_in_the_future_is_not_a_follow_up_done():
    assert statuses([DAY1], RELEASED)["day1"] == "upcoming"
