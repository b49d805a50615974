"""The survey engine: counts, tallies and the Newcombe interval for the change."""

from __future__ import annotations

import pytest

from throughgate.engines import survey
from throughgate.engines.survey import Counts, change, newcombe_interval, tally


def test_change_is_after_minus_before_in_percentage_points():
    result = change(Counts(20, 5, 20, 15))
    assert result.before_pct == 25.0
    assert result.after_pct == 75.0
    assert result.difference == 50.0
    assert result.low is not None and result.high is not None
    assert result.low < 50.0 < result.high
    assert result.clear_change


def test_interval_matches_newcombes_published_example():
    # Newcombe (1998), Table II example (e): 56/70 vs 48/80, hybrid score interval
    # 0.0524 to 0.3339.
    low, high = newcombe_interval(56, 70, 48, 80)
    assert low == pytest.approx(0.0524, abs=5e-4)
    assert high == pytest.approx(0.3339, abs=5e-4)


def test_interval_at_the_edges_zero_and_n():
    # Nobody before, everybody after: a wide but proper interval inside [-100, 100].
    result = change(Counts(10, 0, 10, 10))
    assert result.difference == 100.0
    assert 0 < result.low < 100.0
    assert result.high == pytest.approx(100.0)
    # Everybody both times: no change, and an interval around zero (not a single point).
    same = change(Counts(12, 12, 12, 12))
    assert same.difference == 0.0
    assert same.low < 0 < same.high
    assert not same.clear_change
    # Nobody either time.
    none = change(Counts(8, 0, 8, 0))
    assert none.difference == 0.0 and none.low < 0 < none.high


def test_interval_is_symmetric_when_the_groups_swap():
    forward = newcombe_interval(7, 15, 3, 12)
    backward = newcombe_interval(3, 12, 7, 15)
    assert forward[0] == pytest.approx(-backward[1])
    assert forward[1] == pytest.approx(-backward[0])


def test_a_side_nobody_answered_gives_no_difference_or_interval():
    result = change(Counts(0, 0, 14, 9))
    assert result.before_pct is None
    assert result.after_pct == pytest.approx(100 * 9 / 14)
    assert result.difference is None and result.low is None and result.high is None
    assert not result.clear_change
    assert change(Counts()).counts.empty


def test_interval_needs_respondents_on_both_sides():
    with pytest.raises(ValueError):
        newcombe_interval(0, 0, 3, 10)


@pytest.mark.parametrize(
    "args", [(-1, 0, 0, 0), (5, 6, 0, 0), (0, 0, 3, 4), (0, 0, 3, -1)], ids=str
)
def test_impossible_counts_are_refused(args):
    with pytest.raises(ValueError):
        Counts(*args)


def test_counts_add_up():
    assert Counts(10, 2, 9, 5) + Counts(5, 1, 6, 6) == Counts(15, 3, 15, 11)


def test_tally_turns_answer_sheets_into_counts_and_skips_are_not_respondents():
    sheets = [
        (survey.BEFORE, {"q1": "yes", "q2": "no"}),
        (survey.BEFORE, {"q1": "no", "q2": "skip"}),
        (survey.AFTER, {"q1": "yes", "q2": "yes"}),
        (survey.AFTER, {"q1": "yes"}),  # q2 left blank
        (survey.AFTER, {"q9": "yes"}),  # a question no longer asked: ignored
    ]
    counts = tally(sheets, ["q1", "q2"])
    assert counts["q1"] == Counts(2, 1, 2, 2)
    assert counts["q2"] == Counts(1, 0, 1, 1)


def test_tally_refuses_unknown_stage_or_answer():
    with pytest.raises(ValueError):
        tally([("during", {"q1": "yes"})], ["q1"])
    with pytest.raises(ValueError):
        tally([("before", {"q1": "maybe"})], ["q1"])
