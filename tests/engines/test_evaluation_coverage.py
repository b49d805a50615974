"""Repeated-draw coverage of the impact evaluation (engines.evaluation.evaluate).

Each draw simulates a fresh confounded population with a known effect on the treated,
runs the whole evaluation on it and records whether the 95% interval covers the truth.
Over many draws a 95% interval should cover about 95% of the time; an unmatched
comparison of the same data should not, because the design is confounded.

The design (one draw):

- 2,400 people; covariates `age` and `previous` (standard normal) and `offence`
  (acquisitive / drugs / violence, 50/30/20%).
- Taking part: logistic, logit = -2.0 + 0.7 age - 0.6 previous + 0.6 [violence]; about
  400 participants and a pool of about 2,000 (five times larger).
- Binary outcome: p0 = 0.15 + 0.7 expit(-0.2 - 0.8 age + 0.7 previous + 0.5 [drugs]
  - 0.4 [violence]), so 0.15 < p0 < 0.85, and a participant's probability is p0 - 0.07.
  p0 - 0.07 > 0.08 always, so nothing is clipped and the effect on *every* participant is
  exactly -0.07: the true ATT is -7 points. Older people with fewer previous offences
  both take part more and reoffend less, so the naive difference flatters the programme.
- Continuous outcome: 10 - 1.5 age + 1.2 previous + 0.8 [drugs] + N(0, 2^2), shifted by
  exactly -0.5 for participants: the true ATT is -0.5.

All seeds are fixed (one `numpy.random.Generator` per draw, seeded with (SEED, draw)), so
the test is deterministic; the binomial figures below say how likely a *correct* engine
would be to fail at some other seed, i.e. how robust the thresholds are to harmless
changes in the engine's floating-point details (such as a faster fit).

Observed with these seeds (k = 3, max_smd_after = 0.1): 341 to 445 participants per
draw; 3 of 200 draws refused for balance (SMD 0.102 to 0.121 on an offence dummy);
binary coverage 0.975 over the 197 accepted draws against 0.000 for the naive
difference; mean estimate -0.0736 (SD 0.0280, Monte-Carlo SE 0.0020; the naive mean is
-0.200); continuous coverage 0.988 over 160 accepted draws, mean -0.496 (Monte-Carlo SE
0.012). About 9 s on one core (200 + 160 evaluations of ~2,400 rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from throughgate.engines.evaluation import (
    EvaluationRefused,
    EvaluationSpec,
    difference,
    evaluate,
)

# statsmodels 0.14 uses pandas helpers that pandas 3 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated and will be removed")

SEED = 20_240_611
N_PEOPLE = 2_400
BINARY_DRAWS = 200
CONTINUOUS_DRAWS = 160
TRUE_BINARY_ATT = -0.07
TRUE_CONTINUOUS_ATT = -0.5
MIN_COVERAGE = 0.85
MAX_REFUSALS = 10  # 5% of the binary draws
# Spurious-failure probabilities at a true coverage of 0.95 (scipy.stats.binom):
#   binary:     P(Bin(200, 0.95) < 170) = 2.5e-8  (170 = 0.85 x 200)
#   continuous: P(Bin(160, 0.95) < 136) = 4.5e-7  (136 = 0.85 x 160)
# Both are < 1e-6; `test_the_thresholds_are_safe_for_a_correct_engine` recomputes them for
# the number of draws actually accepted (197 accepted binary draws: 6.2e-8). Even at a true
# coverage of 0.93 they stay below 2e-4. The mean-estimate checks allow 5 Monte-Carlo SEs:
# P(|Z| > 5) = 5.7e-7 for an unbiased estimator.

# Matching settings. k = 3 neighbours (with replacement) and the default caliper, 0.2 SD of
# the logit. The balance threshold stays at the engine's (and the Justice Data Lab's)
# default of 0.1: it is the one analysts use, so it is the one whose refusal rate matters.
# With about 400 participants the SMD after matching is itself noisy (sampling error of
# order sqrt(2 / 400) x the within-score spread of a covariate); with k = 1 that noise alone
# pushed 29 of 200 draws over 0.1, with k = 3 only 3 of 200, which is "rare". Loosening the
# threshold instead (to 0.25, say) would hide exactly the draws this test wants to count.
SPEC = EvaluationSpec(
    outcome="reoffended",
    outcome_type="binary",
    covariates=("age", "previous"),
    categorical=("offence",),
    k=3,
)
CONTINUOUS_SPEC = EvaluationSpec(
    outcome="score",
    outcome_type="continuous",
    covariates=SPEC.covariates,
    categorical=SPEC.categorical,
    k=SPEC.k,
)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def draw_population(draw: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One confounded population, split into participants and pool (see the docstring)."""
    rng = np.random.default_rng([SEED, draw])
    n = N_PEOPLE
    age = rng.normal(0, 1, n)
    previous = rng.normal(0, 1, n)
    offence = rng.choice(["acquisitive", "drugs", "violence"], n, p=[0.5, 0.3, 0.2])
    drugs, violence = offence == "drugs", offence == "violence"
    treated = rng.random(n) < _expit(-2.0 + 0.7 * age - 0.6 * previous + 0.6 * violence)
    p0 = 0.15 + 0.7 * _expit(-0.2 - 0.8 * age + 0.7 * previous + 0.5 * drugs - 0.4 * violence)
    p = np.where(treated, p0 + TRUE_BINARY_ATT, p0)
    assert p.min() > 0 and p.max() < 1  # no clipping: the effect is exactly -0.07 each
    mu = 10 - 1.5 * age + 1.2 * previous + 0.8 * drugs
    frame = pd.DataFrame({
        "age": age,
        "previous": previous,
        "offence": offence,
        "reoffended": (rng.random(n) < p).astype(int),
        "score": mu + np.where(treated, TRUE_CONTINUOUS_ATT, 0.0) + rng.normal(0, 2, n),
    })  # fmt: skip
    return frame[treated].reset_index(drop=True), frame[~treated].reset_index(drop=True)


def covers(low: float, high: float, truth: float) -> bool:
    return low <= truth <= high


@dataclass
class Draws:
    n_treated: list[int]
    n_pool: list[int]
    estimates: list[float]  # accepted draws only
    covered: list[bool]  # accepted draws only
    naive_estimates: list[float]  # every draw
    naive_covered: list[bool]  # every draw
    max_smd_before: list[float]  # every draw, refused ones from the refusal's table
    max_smd_after: list[float]
    refusals: list[str]
    continuous_estimates: list[float]
    continuous_covered: list[bool]
    continuous_refusals: list[str]


@pytest.fixture(scope="module")
def draws() -> Draws:
    out = Draws([], [], [], [], [], [], [], [], [], [], [], [])
    for draw in range(BINARY_DRAWS):
        treated, pool = draw_population(draw)
        out.n_treated.append(len(treated))
        out.n_pool.append(len(pool))
        # The naive comparison: everyone against the whole pool, the same z interval.
        naive = difference(
            treated["reoffended"].to_numpy(),
            pool["reoffended"].to_numpy(),
            np.ones(len(pool)),
            "binary",
        )
        out.naive_estimates.append(naive.estimate)
        out.naive_covered.append(covers(naive.ci_low, naive.ci_high, TRUE_BINARY_ATT))
        try:
            result = evaluate(treated, pool, SPEC)
        except EvaluationRefused as refused:
            out.refusals.append(f"draw {draw}: {refused.reason}")
            balance, accepted = refused.balance, False
        else:
            out.estimates.append(result.estimate)
            out.covered.append(covers(result.ci_low, result.ci_high, TRUE_BINARY_ATT))
            balance, accepted = result.balance, True
        assert balance, f"draw {draw}: no balance table"
        out.max_smd_before.append(max(abs(b.smd_before) for b in balance))
        out.max_smd_after.append(max(abs(b.smd_after) for b in balance))
        # The continuous outcome, on the first CONTINUOUS_DRAWS accepted draws. Matching
        # and balance do not depend on the outcome, so a draw accepted for the binary
        # outcome must be accepted for the continuous one too (a refusal here is a bug).
        done = len(out.continuous_estimates) + len(out.continuous_refusals)
        if accepted and done < CONTINUOUS_DRAWS:
            try:
                result = evaluate(treated, pool, CONTINUOUS_SPEC)
            except EvaluationRefused as refused:
                out.continuous_refusals.append(f"draw {draw}: {refused.reason}")
            else:
                out.continuous_estimates.append(result.estimate)
                out.continuous_covered.append(
                    covers(result.ci_low, result.ci_high, TRUE_CONTINUOUS_ATT)
                )
    return out


def _summary(d: Draws) -> str:
    return (
        f"binary coverage {np.mean(d.covered):.3f} of {len(d.covered)}, naive "
        f"{np.mean(d.naive_covered):.3f}, mean {np.mean(d.estimates):.4f}, refusals "
        f"{len(d.refusals)}; continuous coverage {np.mean(d.continuous_covered):.3f} of "
        f"{len(d.continuous_covered)}, mean {np.mean(d.continuous_estimates):.4f}"
    )


def test_the_design_is_the_one_described(draws):
    # A few hundred participants, a pool about five times larger, in every draw.
    assert 300 <= min(draws.n_treated) and max(draws.n_treated) <= 500
    assert min(p / t for p, t in zip(draws.n_pool, draws.n_treated, strict=True)) > 3.5


def test_the_thresholds_are_safe_for_a_correct_engine(draws):
    # If the engine's intervals truly covered 95% of the time, how likely is a failure?
    for n in (len(draws.covered), len(draws.continuous_covered)):
        needed = math.ceil(MIN_COVERAGE * n)
        assert binom.cdf(needed - 1, n, 0.95) < 1e-6, n


def test_refusals_for_poor_balance_are_rare(draws):
    # Every refusal must be a balance refusal (never too few matched, never a failed fit),
    # and there must be few of them: they are counted here, not silently dropped.
    assert all("poor balance" in r for r in draws.refusals), draws.refusals
    assert len(draws.refusals) <= MAX_REFUSALS, draws.refusals
    assert len(draws.estimates) + len(draws.refusals) == BINARY_DRAWS
    # Balance does not depend on the outcome: draws accepted for one outcome are accepted
    # for the other.
    assert draws.continuous_refusals == []
    assert len(draws.continuous_covered) == CONTINUOUS_DRAWS


def test_the_95_percent_interval_covers_the_true_effect_in_most_draws(draws):
    coverage = float(np.mean(draws.covered))
    assert coverage >= MIN_COVERAGE, _summary(draws)


def test_the_naive_difference_rarely_covers_the_truth_so_the_confounding_is_real(draws):
    naive = float(np.mean(draws.naive_covered))
    assert naive <= 0.2, _summary(draws)
    assert naive <= float(np.mean(draws.covered)) - 0.5, _summary(draws)
    # The naive estimate is biased towards a larger benefit, by several points.
    assert np.mean(draws.naive_estimates) < TRUE_BINARY_ATT - 0.05, _summary(draws)


def test_the_mean_estimate_is_within_five_monte_carlo_standard_errors_of_the_truth(draws):
    estimates = np.asarray(draws.estimates)
    mcse = estimates.std(ddof=1) / math.sqrt(len(estimates))
    # The check must have teeth: about 0.028 / sqrt(197) = 0.002, a tolerance of 0.01.
    assert mcse < 0.003, mcse
    assert abs(estimates.mean() - TRUE_BINARY_ATT) <= 5 * mcse, _summary(draws)
    # ... and the naive estimates would fail it by a wide margin.
    assert abs(np.mean(draws.naive_estimates) - TRUE_BINARY_ATT) > 10 * mcse


def test_matching_improves_the_worst_balance_in_every_draw(draws):
    worse = [
        (draw, before, after)
        for draw, (before, after) in enumerate(
            zip(draws.max_smd_before, draws.max_smd_after, strict=True)
        )
        if not after < before
    ]
    assert worse == []
    assert min(draws.max_smd_before) > 0.3  # the design is really unbalanced before


def test_a_continuous_outcome_gets_a_welch_interval_that_covers_its_effect(draws):
    # The Welch interval treats the matched groups as independent samples, so the part of
    # the outcome's spread explained by the matched covariates inflates it: expect
    # coverage above 95% here (0.99 observed), which is conservative, not wrong.
    coverage = float(np.mean(draws.continuous_covered))
    assert coverage >= MIN_COVERAGE, _summary(draws)
    estimates = np.asarray(draws.continuous_estimates)
    mcse = estimates.std(ddof=1) / math.sqrt(len(estimates))
    assert mcse < 0.02, mcse
    assert abs(estimates.mean() - TRUE_CONTINUOUS_ATT) <= 5 * mcse, _summary(draws)
