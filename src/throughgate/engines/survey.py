"""Pre/post workshop surveys: from anonymous answers to "how many more said yes".

Pure computation, no Django. A workshop survey asks the same yes/no questions before
and after the session. Answers are anonymous and the two sittings are not linked
(nobody knows which "after" sheet belongs to which "before" sheet, and not everyone
answers both), so the before and after groups are treated as two independent samples:
the change is the difference of two proportions, after minus before, with a 95%
interval by Newcombe's hybrid score method (Newcombe 1998, method 10), which behaves
well with the small classes and the 0% and 100% answers workshops produce, where the
simple Wald interval collapses to a single point. The statistics are statsmodels'
`confint_proportions_2indep(..., method="newcomb")`.

Independence is conservative here: had the sheets been paired, the interval would be
narrower, never wider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

YES, NO, SKIP = "yes", "no", "skip"
ANSWERS = (YES, NO, SKIP)
BEFORE, AFTER = "before", "after"
STAGES = (BEFORE, AFTER)


@dataclass(frozen=True)
class Counts:
    """One question's answers: respondents and "yes" answers, before and after."""

    before_respondents: int = 0
    before_yes: int = 0
    after_respondents: int = 0
    after_yes: int = 0

    def __post_init__(self) -> None:
        for name in ("before", "after"):
            n, yes = getattr(self, f"{name}_respondents"), getattr(self, f"{name}_yes")
            if n < 0 or yes < 0:
                raise ValueError(f"{name}: counts cannot be negative")
            if yes > n:
                raise ValueError(f"{name}: more said yes ({yes}) than answered ({n})")

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.before_respondents + other.before_respondents,
            self.before_yes + other.before_yes,
            self.after_respondents + other.after_respondents,
            self.after_yes + other.after_yes,
        )

    @property
    def empty(self) -> bool:
        return self.before_respondents == 0 and self.after_respondents == 0


@dataclass(frozen=True)
class Change:
    """Percentages before and after, the difference in percentage points, and its 95%
    interval. A side nobody answered has no percentage (None); with either side empty
    there is no difference and no interval."""

    counts: Counts
    before_pct: float | None
    after_pct: float | None
    difference: float | None  # percentage points, after minus before
    low: float | None
    high: float | None

    @property
    def clear_change(self) -> bool:
        """The interval leaves out zero: the change is unlikely to be chance alone."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def _pct(yes: int, n: int) -> float | None:
    return 100.0 * yes / n if n else None


def newcombe_interval(
    yes_after: int, n_after: int, yes_before: int, n_before: int, alpha: float = 0.05
) -> tuple[float, float]:
    """The (1 - alpha) interval for p_after - p_before as proportions (-1..1). Both
    groups must have answered (n > 0)."""
    if n_after <= 0 or n_before <= 0:
        raise ValueError("both groups need at least one respondent")
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(
        yes_after, n_after, yes_before, n_before, method="newcomb", compare="diff", alpha=alpha
    )
    # Clamp the last floating-point wobble: a difference of proportions lies in [-1, 1].
    return max(-1.0, float(low)), min(1.0, float(high))


def change(counts: Counts, alpha: float = 0.05) -> Change:
    before = _pct(counts.before_yes, counts.before_respondents)
    after = _pct(counts.after_yes, counts.after_respondents)
    if before is None or after is None:
        return Change(counts, before, after, None, None, None)
    low, high = newcombe_interval(
        counts.after_yes,
        counts.after_respondents,
        counts.before_yes,
        counts.before_respondents,
        alpha,
    )
    return Change(counts, before, after, after - before, 100.0 * low, 100.0 * high)


def tally(
    sheets: Iterable[tuple[str, Mapping[str, str]]], questions: Iterable[str]
) -> dict[str, Counts]:
    """Turn individual anonymous answer sheets — (stage, {question key: yes/no/skip}) —
    into counts per question. A skipped or missing answer is not a respondent for that
    question; an unknown stage or answer is a programming error (ValueError)."""
    keys = list(questions)
    totals = {k: [0, 0, 0, 0] for k in keys}
    for stage, answers in sheets:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        offset = 0 if stage == BEFORE else 2
        for key, answer in answers.items():
            if answer not in ANSWERS:
                raise ValueError(f"unknown answer {answer!r}")
            if key not in totals or answer == SKIP:
                continue
            totals[key][offset] += 1
            totals[key][offset + 1] += answer == YES
    return {k: Counts(*v) for k, v in totals.items()}
