"""Assessment instruments (engines.instruments): validating, scoring and scheduling.

Every expected score below is worked out by hand in a comment beside it, so a
reader can check the arithmetic without running anything.
"""

from __future__ import annotations

import ast
import inspect
from datetime import date

import pytest

from throughgate.engines import instruments
from throughgate.engines.instruments import (
    DISTANCE_TRAVELLED,
    PATHWAYS,
    SHIPPED,
    TRUST_CHECK_IN,
    Instrument,
    InvalidAnswers,
    Item,
    Score,
    change,
    due_dates,
    score,
    validate,
)

# A 10-item, 1-5 instrument with two reverse-scored items (q4, q8) and two subscales.
TEN = Instrument(
    key="ten",
    name="Ten questions",
    scale_min=1,
    scale_max=5,
    items=tuple(
        Item(f"q{n}", f"Question {n}?", reverse=n in (4, 8), subscale="a" if n <= 5 else "b")
        for n in range(1, 11)
    ),
    min_answered=0.8,
)
TEN_ANSWERS = {
    "q1": 4,
    "q2": 5,
    "q3": 3,
    "q4": 2,  # reversed: 1 + 5 - 2 = 4
    "q5": 4,
    "q6": 3,
    "q7": 5,
    "q8": 1,  # reversed: 1 + 5 - 1 = 5
    "q9": 2,
    "q10": 4,
}

SAFE = Instrument(
    key="safe",
    name="Feeling safe",
    scale_min=1,
    scale_max=10,
    items=(Item("home", "How safe do you feel where you live?"),),
)


def test_the_engine_imports_nothing_from_django():
    tree = ast.parse(inspect.getsource(instruments))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.split(".")[0] == "django" for name in imported)


# -- Scoring ---------------------------------------------------------------------------


def test_reverse_items_are_flipped_before_the_mean_is_taken():
    result = score(TEN, TEN_ANSWERS)
    # q1..q5 after flipping: 4 + 5 + 3 + 4 + 4 = 20
    # q6..q10 after flipping: 3 + 5 + 5 + 2 + 4 = 19
    # mean of all ten: 39 / 10 = 3.9
    assert result.total == 3.9
    assert (result.answered, result.of, result.missing) == (10, 10, ())


def test_each_subscale_is_scored_on_its_own_items():
    result = score(TEN, TEN_ANSWERS)
    # a: 20 / 5 = 4.0; b: 19 / 5 = 3.8 (sums as above)
    assert result.subscales == {"a": 4.0, "b": 3.8}


def test_items_without_a_subscale_count_in_the_total_only():
    result = score(SAFE, {"home": 7})
    assert result.total == 7.0
    assert result.subscales == {}


def test_the_trust_check_in_reverses_judging_and_giving_up():
    answers = {f"t{n}": 5 for n in range(1, 11)}
    answers["t6"] = 1  # "I feel my mentor judges me." - not at all true, so 5
    answers["t9"] = 2  # "I feel my mentor would give up on me." - becomes 4
    # eight 5s, then 5 and 4: (8 * 5 + 5 + 4) / 10 = 49 / 10 = 4.9
    result = score(TRUST_CHECK_IN, answers)
    assert result.total == 4.9
    assert result.subscales == {"trust": 4.9}


def test_a_mean_is_rounded_to_two_places():
    result = score(TEN, {"q1": 1, "q2": 2, "q3": 2, "q5": 1, "q6": 2, "q7": 2, "q9": 1, "q10": 2})
    # 8 answered, 1 + 2 + 2 + 1 + 2 + 2 + 1 + 2 = 13; 13 / 8 = 1.625, half to even: 1.62
    assert result.total == 1.62


def test_rounding_is_half_to_even_on_the_exact_mean():
    three_and_an_eighth = {"q1": 4, "q2": 4, "q3": 3, "q5": 3, "q6": 3, "q7": 3, "q9": 3, "q10": 2}
    # 25 / 8 = 3.125: the 2 before the 5 is even, so it stays 3.12
    assert score(TEN, three_and_an_eighth).total == 3.12
    three_and_three_eighths = {**three_and_an_eighth, "q10": 4}
    # 27 / 8 = 3.375: the 7 is odd, so it goes up to 3.38
    assert score(TEN, three_and_three_eighths).total == 3.38


def test_a_repeating_mean_is_rounded_not_truncated():
    trio = Instrument("trio", "Trio", 1, 5, (Item("x", "X?"), Item("y", "Y?"), Item("z", "Z?")))
    # (1 + 2 + 2) / 3 = 1.666... -> 1.67
    assert score(trio, {"x": 1, "y": 2, "z": 2}).total == 1.67


def test_sum_scoring_adds_the_answered_values_exactly():
    checklist = Instrument(
        key="checklist",
        name="Checklist",
        scale_min=0,
        scale_max=3,
        items=(
            Item("a", "A?", subscale="one"),
            Item("b", "B?", reverse=True, subscale="one"),
            Item("c", "C?", subscale="two"),
            Item("d", "D?", subscale="two"),
        ),
        scoring="sum",
    )
    result = score(checklist, {"a": 3, "b": 2, "c": 1, "d": 0})
    # b reversed: 0 + 3 - 2 = 1; total 3 + 1 + 1 + 0 = 5; one: 3 + 1 = 4; two: 1 + 0 = 1
    assert result.total == 5.0
    assert isinstance(result.total, float)
    assert result.subscales == {"one": 4.0, "two": 1.0}


def test_enough_answers_give_a_total():
    answers = {**TEN_ANSWERS, "q3": None, "q9": None}
    result = score(TEN, answers)
    # 8 of 10 answered meets min_answered 0.8; (20 - 3 + 19 - 2) / 8 = 34 / 8 = 4.25
    assert result.total == 4.25
    assert (result.answered, result.of, result.missing) == (8, 10, ("q3", "q9"))


def test_too_few_answers_give_no_total():
    answers = {k: v for k, v in TEN_ANSWERS.items() if k not in ("q1", "q2", "q6")}
    result = score(TEN, answers)
    # 7 of 10 is below 0.8
    assert result.total is None
    assert result.answered == 7
    assert result.missing == ("q1", "q2", "q6")


def test_a_subscale_with_too_few_answers_is_left_out_and_the_others_kept():
    answers = {k: v for k, v in TEN_ANSWERS.items() if k not in ("q1", "q2")}
    result = score(TEN, answers)
    # a: 3 of 5 answered, below 0.8, so no score; b is complete: 19 / 5 = 3.8
    # total: 8 of 10 answered, (20 - 4 - 5 + 19) / 8 = 30 / 8 = 3.75
    assert result.subscales == {"b": 3.8}
    assert result.total == 3.75


def test_no_answers_at_all_give_no_total():
    result = score(TEN, {})
    assert result == Score(
        total=None, subscales={}, answered=0, of=10, missing=tuple(f"q{n}" for n in range(1, 11))
    )


def test_distance_travelled_scores_with_five_of_seven_pathways():
    answers = {"accommodation": 3, "education_skills_work": 5, "finance_id": 2, "health": 7}
    # 4 of 7 (0.57) is below 0.7: no total, but each answered pathway has its score
    result = score(DISTANCE_TRAVELLED, answers)
    assert result.total is None
    assert result.subscales == {
        "accommodation": 3.0,
        "education_skills_work": 5.0,
        "finance_id": 2.0,
        "health": 7.0,
    }
    # 5 of 7 (0.71) is enough: (3 + 5 + 2 + 7 + 8) / 5 = 25 / 5 = 5.0
    assert score(DISTANCE_TRAVELLED, {**answers, "drugs_alcohol": 8}).total == 5.0


# -- Validation --------------------------------------------------------------------------


def test_an_answer_above_the_scale_names_the_question_and_the_range():
    assert validate(SAFE, {"home": 11}) == {
        "home": '"How safe do you feel where you live?": answer 1 to 10 (got 11).'
    }


def test_an_answer_below_the_scale_names_the_question_and_the_range():
    assert validate(SAFE, {"home": 0}) == {
        "home": '"How safe do you feel where you live?": answer 1 to 10 (got 0).'
    }


def test_both_ends_of_the_scale_are_allowed():
    assert validate(SAFE, {"home": 1}) == {}
    assert validate(SAFE, {"home": 10}) == {}


@pytest.mark.parametrize("value", [7.5, 7.0, "7"])
def test_an_answer_that_is_not_a_whole_number_is_refused(value):
    assert validate(SAFE, {"home": value}) == {
        "home": (
            '"How safe do you feel where you live?": answer a whole number from 1 to 10 '
            f"(got {value!r})."
        )
    }


def test_a_boolean_is_not_a_number():
    # True == 1 to Python, but a tick box is never a deliberate "1"
    assert validate(SAFE, {"home": True}) == {
        "home": '"How safe do you feel where you live?": answer a whole number from 1 to 10 '
        "(got True)."
    }


def test_an_unknown_question_is_reported_under_its_own_key():
    assert validate(SAFE, {"home": 5, "job": 3}) == {"job": "Not a question of Feeling safe."}


def test_an_unanswered_question_is_allowed():
    assert validate(SAFE, {"home": None}) == {}
    assert validate(SAFE, {}) == {}


def test_scoring_invalid_answers_raises_with_every_message():
    with pytest.raises(ValueError) as caught:
        score(SAFE, {"home": 11, "job": 3})
    assert isinstance(caught.value, InvalidAnswers)
    assert caught.value.errors == validate(SAFE, {"home": 11, "job": 3})
    assert "(got 11)" in str(caught.value)
    assert "Not a question of Feeling safe." in str(caught.value)


# -- Change (distance travelled) -----------------------------------------------------------


def test_change_is_after_minus_before_for_the_total_and_shared_subscales():
    before = Score(total=4.2, subscales={"a": 4.0, "b": 3.5}, answered=10, of=10, missing=())
    after = Score(total=5.1, subscales={"a": 6.0, "c": 2.0}, answered=10, of=10, missing=())
    # total: 5.1 - 4.2 = 0.9 (not 0.8999999999999995); a: 6.0 - 4.0 = 2.0; b, c not in both
    assert change(before, after) == {"total": 0.9, "a": 2.0}


def test_a_fall_is_a_negative_change():
    before = score(DISTANCE_TRAVELLED, {key: 6 for key, _ in PATHWAYS[:7]})
    after = score(DISTANCE_TRAVELLED, {**{key: 6 for key, _ in PATHWAYS[:7]}, "health": 2})
    # total: (6 * 6 + 2) / 7 = 38 / 7 = 5.43; 5.43 - 6.0 = -0.57
    assert change(before, after) == {
        "total": -0.57,
        "accommodation": 0.0,
        "education_skills_work": 0.0,
        "finance_id": 0.0,
        "health": -4.0,
        "drugs_alcohol": 0.0,
        "children_families_community": 0.0,
        "attitudes_thinking_behaviour": 0.0,
    }


def test_there_is_no_total_change_without_both_totals():
    before = Score(total=None, subscales={"a": 3.0}, answered=1, of=5, missing=())
    after = Score(total=4.0, subscales={"a": 4.0}, answered=5, of=5, missing=())
    assert change(before, after) == {"a": 1.0}


# -- Due dates -------------------------------------------------------------------------

# Days 0, 28, 91 and 182 from Monday 5 January 2026: due 5 January, 2 February,
# 6 April and 6 July 2026.
CHECK_INS = Instrument(
    key="check-ins",
    name="Check-ins",
    scale_min=1,
    scale_max=5,
    items=(Item("x", "X?"),),
    interval_days=(0, 28, 91, 182),
)
START = date(2026, 1, 5)


def test_due_dates_have_each_status_on_a_fixed_day():
    schedule = due_dates(CHECK_INS, START, done=[date(2026, 1, 12)], today=date(2026, 3, 31))
    assert schedule == [
        (date(2026, 1, 5), "done"),  # answered 12 January, 7 days after
        (date(2026, 2, 2), "overdue"),  # past, and nothing within 14 days of it
        (date(2026, 4, 6), "due"),  # 6 days from today
        (date(2026, 7, 6), "upcoming"),
    ]


def test_a_response_up_to_fourteen_days_either_side_counts():
    today = date(2026, 8, 1)
    schedule = due_dates(
        CHECK_INS,
        START,
        done=[date(2025, 12, 22), date(2026, 2, 16), date(2026, 3, 22)],
        today=today,
    )
    assert [status for _, status in schedule] == [
        "done",  # 22 December 2025 is 14 days before 5 January (in custody, before start)
        "done",  # 16 February is 14 days after 2 February
        "overdue",  # 22 March is 15 days before 6 April: too early to count
        "overdue",
    ]


def test_the_due_window_is_today_to_seven_days_ahead():
    def status_on(today):
        return due_dates(CHECK_INS, START, done=[], today=today)[2][1]  # due 6 April

    assert status_on(date(2026, 3, 29)) == "upcoming"  # 8 days ahead
    assert status_on(date(2026, 3, 30)) == "due"  # 7 days ahead
    assert status_on(date(2026, 4, 6)) == "due"  # due today
    assert status_on(date(2026, 4, 7)) == "overdue"  # a day late


def test_each_response_counts_once():
    weekly = Instrument("weekly", "Weekly", 1, 5, (Item("x", "X?"),), interval_days=(0, 7))
    # one response on 8 January is 3 days from 5 January and 4 from 12 January
    schedule = due_dates(weekly, START, done=[date(2026, 1, 8)], today=date(2026, 1, 20))
    assert schedule == [(date(2026, 1, 5), "done"), (date(2026, 1, 12), "overdue")]


def test_the_nearest_due_date_claims_a_response_first():
    close = Instrument("close", "Close", 1, 5, (Item("x", "X?"),), interval_days=(28, 42))
    # due 2 and 16 February; a response on 14 February is 12 days after the first
    # but only 2 before the second, so it is the second check-in
    schedule = due_dates(close, START, done=[date(2026, 2, 14)], today=date(2026, 2, 20))
    assert schedule == [(date(2026, 2, 2), "overdue"), (date(2026, 2, 16), "done")]


def test_an_instrument_without_a_schedule_is_never_due():
    assert due_dates(SAFE, START, done=[], today=date(2026, 6, 1)) == []


# -- Describing instruments ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scale_min": 5, "scale_max": 1}, "the scale must go up (got 5 to 1)"),
        ({"items": ()}, "at least one question"),
        ({"items": (Item("a", "A?"), Item("a", "Again?"))}, "question keys must be unique (a)"),
        ({"scoring": "median"}, "scoring must be 'mean' or 'sum' (got 'median')"),
        ({"min_answered": 0}, "a fraction above 0 and at most 1 (got 0)"),
        ({"min_answered": 1.5}, "a fraction above 0 and at most 1 (got 1.5)"),
        ({"interval_days": (91, 28)}, "each later than the one before"),
        ({"interval_days": (-7, 28)}, "whole numbers from 0 up"),
    ],
)
def test_a_badly_described_instrument_cannot_be_built(changes, message):
    fields = {"key": "k", "name": "Broken", "scale_min": 1, "scale_max": 5}
    fields["items"] = (Item("a", "A?"),)
    with pytest.raises(ValueError, match="Broken: ") as caught:
        Instrument(**{**fields, **changes})
    assert message in str(caught.value)


# -- The shipped instruments ---------------------------------------------------------------


@pytest.mark.parametrize("instrument", SHIPPED, ids=lambda i: i.key)
def test_each_shipped_instrument_is_well_formed(instrument):
    keys = [item.key for item in instrument.items]
    assert len(keys) == len(set(keys))
    assert all(item.text.endswith(("?", ".")) for item in instrument.items)
    assert instrument.scale_min < instrument.scale_max
    assert instrument.scoring == "mean"
    assert all(instrument.anchors)
    assert list(instrument.interval_days) == sorted(set(instrument.interval_days))


def test_shipped_instruments_have_distinct_keys():
    assert [i.key for i in SHIPPED] == ["distance-travelled", "trust-check-in"]


def test_distance_travelled_is_a_one_to_ten_rating_on_each_of_the_seven_pathways():
    seven = [key for key, _ in PATHWAYS if key != "other"]
    assert len(seven) == 7
    assert [item.key for item in DISTANCE_TRAVELLED.items] == seven
    assert [item.subscale for item in DISTANCE_TRAVELLED.items] == seven
    assert (DISTANCE_TRAVELLED.scale_min, DISTANCE_TRAVELLED.scale_max) == (1, 10)
    assert DISTANCE_TRAVELLED.anchors == ("Not at all", "Completely")
    assert DISTANCE_TRAVELLED.min_answered == 0.7
    assert DISTANCE_TRAVELLED.interval_days == (0, 91, 182, 273, 365)
    assert not any(item.reverse for item in DISTANCE_TRAVELLED.items)


def test_the_trust_check_in_has_ten_items_two_reversed_all_about_trust():
    assert len(TRUST_CHECK_IN.items) == 10
    assert [i.key for i in TRUST_CHECK_IN.items if i.reverse] == ["t6", "t9"]
    assert {i.subscale for i in TRUST_CHECK_IN.items} == {"trust"}
    assert (TRUST_CHECK_IN.scale_min, TRUST_CHECK_IN.scale_max) == (1, 5)
    assert TRUST_CHECK_IN.anchors == ("Not at all true", "Very true")
    assert TRUST_CHECK_IN.min_answered == 0.8
    assert TRUST_CHECK_IN.interval_days == (28, 91, 182)


def test_pathways_are_the_seven_resettlement_pathways_and_other():
    assert [key for key, _ in PATHWAYS] == [
        "accommodation",
        "education_skills_work",
        "finance_id",
        "health",
        "drugs_alcohol",
        "children_families_community",
        "attitudes_thinking_behaviour",
        "other",
    ]
    assert dict(PATHWAYS)["finance_id"] == "Finance and ID"
