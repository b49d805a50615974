"""Training and consultancy figures: financial-year quarters and feedback score summaries.

Pure computation, no Django: dates and numbers in, dataclasses out.

The charity reports income by **financial year, April to March** (UK charity practice:
most charities' accounting year follows the government's). Financial year 2026 is
1 April 2026 to 31 March 2027, written "2026–27"; its quarters are Q1 April–June,
Q2 July–September, Q3 October–December and Q4 January–March (of the next calendar year).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

FIRST_MONTH = 4  # April
SCORES = (1, 2, 3, 4, 5)
# The least number of feedback responses whose mean an analyst is shown: with fewer,
# one unhappy delegate is easy to pick out, and the mean says little anyway.
FEEDBACK_MINIMUM = 5
TOO_FEW = "too few responses to summarise"

_QUARTER_MONTHS = ("April–June", "July–September", "October–December", "January–March")


@dataclass(frozen=True)
class Quarter:
    year: int  # the financial year it belongs to (the calendar year of its April)
    number: int  # 1..4
    start: date
    end: date  # the last day, inclusive

    @property
    def label(self) -> str:
        """e.g. "Q1 April–June 2026", "Q4 January–March 2027"."""
        return f"Q{self.number} {_QUARTER_MONTHS[self.number - 1]} {self.start.year}"

    @property
    def short_label(self) -> str:
        return f"Q{self.number} {self.start:%b}–{self.end:%b %Y}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def financial_year_of(day: date) -> int:
    """The financial year (by the calendar year of its April) that `day` falls in."""
    return day.year if day.month >= FIRST_MONTH else day.year - 1


def financial_year_label(year: int) -> str:
    """2026 -> "2026–27"."""
    return f"{year}–{(year + 1) % 100:02d}"


def year_bounds(year: int) -> tuple[date, date]:
    """The first and last day of financial year `year` (1 April to 31 March)."""
    return date(year, FIRST_MONTH, 1), date(year + 1, FIRST_MONTH - 1, 31)


def quarters(year: int) -> list[Quarter]:
    """The four quarters of financial year `year`, in order."""
    starts = [date(year, 4, 1), date(year, 7, 1), date(year, 10, 1), date(year + 1, 1, 1)]
    ends = [date(year, 6, 30), date(year, 9, 30), date(year, 12, 31), date(year + 1, 3, 31)]
    return [Quarter(year, i + 1, s, e) for i, (s, e) in enumerate(zip(starts, ends, strict=True))]


def quarter_of(day: date) -> Quarter:
    """The quarter `day` falls in."""
    for quarter in quarters(financial_year_of(day)):
        if day in quarter:
            return quarter
    raise AssertionError("every day falls in a quarter")  # pragma: no cover


def days_outstanding(invoiced_on: date, today: date) -> int:
    """Whole days since the invoice was sent (0 on the day itself)."""
    return max((today - invoiced_on).days, 0)


@dataclass(frozen=True)
class ScoreSummary:
    """Responses to one feedback question on the 1–5 scale."""

    n: int
    distribution: tuple[int, int, int, int, int]  # how many gave 1, 2, 3, 4, 5
    mean: float | None  # None when there are fewer responses than the minimum
    minimum: int

    @property
    def enough(self) -> bool:
        return self.mean is not None

    @property
    def mean_text(self) -> str:
        if self.n == 0:
            return "no responses yet"
        if self.mean is None:
            return TOO_FEW
        return f"{self.mean:.1f} out of 5"

    @property
    def rows(self) -> list[tuple[int, int]]:
        """(score, how many) for 1..5: what a table or chart of the distribution shows."""
        return list(zip(SCORES, self.distribution, strict=True))


def summarise_counts(counts: Sequence[int], minimum: int = 1) -> ScoreSummary:
    """Summarise how many responses gave each score 1..5 (`counts[0]` is how many gave 1).

    The mean is withheld (None) when fewer than `minimum` responded."""
    if len(counts) != len(SCORES):
        raise ValueError("give one count for each score from 1 to 5")
    if any(c < 0 for c in counts):
        raise ValueError("a count cannot be negative")
    n = sum(counts)
    total = sum(score * count for score, count in zip(SCORES, counts, strict=True))
    mean = total / n if n and n >= max(minimum, 1) else None
    return ScoreSummary(n, tuple(counts), mean, minimum)  # type: ignore[arg-type]


def summarise_scores(scores: Sequence[int], minimum: int = 1) -> ScoreSummary:
    """Summarise individual scores (each 1..5)."""
    counts = [0] * len(SCORES)
    for score in scores:
        if score not in SCORES:
            raise ValueError(f"a score must be from 1 to 5, not {score!r}")
        counts[score - 1] += 1
    return summarise_counts(counts, minimum)
