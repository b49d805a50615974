"""Financial-year quarters (April–March) and feedback score summaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from throughgate.engines.training import (
    TOO_FEW,
    days_outstanding,
    financial_year_label,
    financial_year_of,
    quarter_of,
    quarters,
    summarise_counts,
    summarise_scores,
    year_bounds,
)


def test_financial_year_runs_april_to_march():
    assert financial_year_of(date(2026, 3, 31)) == 2025
    assert financial_year_of(date(2026, 4, 1)) == 2026
    assert financial_year_of(date(2027, 1, 15)) == 2026
    assert year_bounds(2026) == (date(2026, 4, 1), date(2027, 3, 31))
    assert financial_year_label(2026) == "2026–27"
    assert financial_year_label(1999) == "1999–00"


def test_quarters_cover_the_year_without_gaps_or_overlaps():
    qs = quarters(2026)
    assert [q.number for q in qs] == [1, 2, 3, 4]
    assert qs[0].start == date(2026, 4, 1) and qs[-1].end == date(2027, 3, 31)
    for before, after in zip(qs, qs[1:], strict=False):
        assert after.start == before.end + timedelta(days=1)
    assert qs[3].label == "Q4 January–March 2027"
    assert qs[0].label == "Q1 April–June 2026"


@pytest.mark.parametrize(
    ("day", "year", "number"),
    [
        (date(2026, 4, 1), 2026, 1),
        (date(2026, 6, 30), 2026, 1),
        (date(2026, 7, 1), 2026, 2),
        (date(2026, 9, 30), 2026, 2),
        (date(2026, 10, 1), 2026, 3),
        (date(2026, 12, 31), 2026, 3),
        (date(2027, 1, 1), 2026, 4),
        (date(2027, 3, 31), 2026, 4),
        (date(2027, 4, 1), 2027, 1),
        (date(2024, 2, 29), 2023, 4),
    ],
)
def test_quarter_of_a_day_at_each_boundary(day, year, number):
    quarter = quarter_of(day)
    assert (quarter.year, quarter.number) == (year, number)
    assert day in quarter


def test_days_outstanding_counts_whole_days_and_never_goes_negative():
    assert days_outstanding(date(2026, 1, 1), date(2026, 1, 31)) == 30
    assert days_outstanding(date(2026, 1, 1), date(2026, 1, 1)) == 0
    assert days_outstanding(date(2026, 2, 1), date(2026, 1, 1)) == 0


def test_summary_gives_n_mean_and_distribution():
    summary = summarise_scores([5, 4, 4, 3, 5, 5])
    assert summary.n == 6
    assert summary.distribution == (0, 0, 1, 2, 3)
    assert summary.mean == pytest.approx(26 / 6)
    assert summary.mean_text == "4.3 out of 5"
    assert summary.rows == [(1, 0), (2, 0), (3, 1), (4, 2), (5, 3)]


def test_mean_of_fewer_than_the_minimum_says_too_few_responses():
    summary = summarise_scores([5, 1, 4, 4], minimum=5)
    assert summary.n == 4
    assert summary.mean is None and not summary.enough
    assert summary.mean_text == TOO_FEW == "too few responses to summarise"
    assert summary.distribution == (1, 0, 0, 2, 1)
    assert summarise_scores([5, 1, 4, 4, 3], minimum=5).mean == pytest.approx(3.4)


def test_no_responses_say_so():
    summary = summarise_counts([0, 0, 0, 0, 0])
    assert summary.n == 0 and summary.mean is None
    assert summary.mean_text == "no responses yet"


@pytest.mark.parametrize("bad", [0, 6, -1])
def test_a_score_outside_one_to_five_is_refused(bad):
    with pytest.raises(ValueError, match="from 1 to 5"):
        summarise_scores([3, bad])


def test_counts_must_be_five_and_not_negative():
    with pytest.raises(ValueError):
        summarise_counts([1, 2, 3])
    with pytest.raises(ValueError):
        summarise_counts([1, 2, 3, 4, -1])
