"""Impact evaluation the Justice Data Lab way: participants against a matched comparison
group drawn from a pool. Pure: no Django.

The steps, as implemented here (each is tested in tests/engines/test_evaluation.py):

1. **Propensity model.** A logistic regression of taking part (participants 1, pool 0)
   on the numeric covariates plus one-hot dummies of the categorical columns (first level,
   in sorted order, dropped). It is fitted by Newton-Raphson (the same iteratively
   reweighted least squares statsmodels uses) in plain numpy, in chunks of rows, and
   agrees with `statsmodels` `Logit` to 1e-6. Why not statsmodels itself: at 2,000,000
   rows and 20 covariates `Logit.fit` took about 20 s and GLM-IRLS about 35 s and 5 GB of
   memory, against a few seconds and no copy of the data here. Everything after the fit
   works on the *logit* of the score (the linear predictor), where distances are even.
   A categorical level held only by pool members has no finite estimate (its coefficient
   runs off to minus infinity): those pool members are left out of the fit and can never
   be matched, which is where the fit would take them in the limit. A level held only by
   participants puts them outside the pool's range, so they are trimmed (step 2).
2. **Common support.** Exact-match strata (e.g. gender and age band) are formed from the
   `exact` columns. A participant whose logit lies outside the [min, max] of the pool's
   logits *in their stratum*, or whose stratum has no pool members, is trimmed.
3. **Matching.** Within each stratum, the k nearest pool members on the logit, with
   replacement, found with `np.searchsorted` on the sorted pool (the k nearest of a point
   lie among the k neighbours on either side). A neighbour further than the caliper
   (`caliper` x the pooled SD of the logit, sqrt((var_t + var_p) / 2), Austin 2011) is
   not a match; a participant with no match left is dropped. Each participant's weight
   of 1 is shared equally by their matches (1/k each, or 1/k_i when the caliper leaves
   only k_i of them); a pool member's weight is the sum over the participants it serves.
   Pool members with *identical* logits (common when covariates are categorical) share a
   match equally, so the answer does not depend on the order of rows in the file.
4. **Balance.** The standardised mean difference of every covariate and dummy,
   (mean_t - mean_c) / sqrt((var_t + var_c) / 2), before matching (all participants vs
   the whole pool) and after (matched participants vs the weighted comparison group).
   Both use the *before-matching* variances (sample variances, n - 1) in the
   denominator, so a change in the SMD is a change in the means and not in the yardstick.
   Any |SMD| after matching over `max_smd_after` (0.1 by default) is a refusal. Rows with
   a category the other group lacks (see 1) are left out of the table on both sides.
5. **Estimate.** The matched participants' mean outcome minus the weighted comparison
   mean. The comparison mean's variance uses the weights through Kish's effective sample
   size, n_eff = (sum w)^2 / sum w^2: var = s_w^2 / n_eff, where s_w^2 is the weighted
   (reliability-weights) variance. Re-used pool members therefore count for less, as
   they should. JDL reports weight its comparison group in a similar way.
   - binary: a two-sample z-test for the difference in proportions, each group's variance
     p(1 - p) / n (n_eff for the comparison group);
   - count and continuous: a Welch t-test, with Welch-Satterthwaite degrees of freedom
     using n_eff for the comparison group. With equal weights both reduce to the
     textbook tests.
   The standard error treats the matched comparison group as fixed; it does not add the
   uncertainty of estimating the propensity score (Abadie-Imbens), which with a pool many
   times the size of the participant group is small.

Refusals raise `EvaluationRefused` with a reason fit to show an analyst: fewer than
`min_treated` participants (before or after trimming and matching), poor balance after
matching (naming the covariate and its SMD), an empty pool, unknown or unusable columns,
and outcome values that do not fit the outcome type.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

OUTCOME_TYPES = ("binary", "count", "continuous")
Z_95 = 1.959963984540054  # the normal quantile for a two-sided 95% interval
_CHUNK = 1 << 17  # rows per block in the fit: bounds the temporaries to ~20 MB
_MAX_ITERATIONS = 50
_SMALLEST_EIGENVALUE = 1e-10  # of the scaled cross-product: below it, columns are collinear

Frame: TypeAlias = pd.DataFrame | Mapping[str, Sequence[Any] | np.ndarray]
Progress: TypeAlias = Callable[[str], None]


class EvaluationRefused(ValueError):
    """The data cannot support an honest evaluation; `reason` says why in plain words."""

    def __init__(self, reason: str, balance: list[Balance] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.balance = balance or []  # the balance table when that was the reason


@dataclass(frozen=True)
class EvaluationSpec:
    outcome: str
    outcome_type: str = "binary"
    covariates: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    k: int = 1
    caliper: float = 0.2
    min_treated: int = 60
    max_smd_after: float = 0.1
    # For the wording: what happens (binary: "would reoffend within a year") or what is
    # counted or measured ("proven offences"); blank: made from the outcome's name.
    phrase: str = ""

    def __post_init__(self) -> None:
        # Bad settings are the caller's mistake, not the data's: ValueError, not a refusal.
        if self.outcome_type not in OUTCOME_TYPES:
            raise ValueError(
                f"outcome_type {self.outcome_type!r} is not one of {', '.join(OUTCOME_TYPES)}"
            )
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"k must be a whole number of at least 1, not {self.k!r}")
        if not self.caliper > 0:
            raise ValueError(f"caliper must be above 0, not {self.caliper!r}")
        if not self.max_smd_after > 0:
            raise ValueError(f"max_smd_after must be above 0, not {self.max_smd_after!r}")
        if self.min_treated < 1:
            raise ValueError(f"min_treated must be at least 1, not {self.min_treated!r}")
        if not self.covariates and not self.categorical:
            raise ValueError("name at least one covariate or categorical column to match on")
        model = (*self.covariates, *self.categorical)
        if len(set(model)) != len(model):
            raise ValueError("a column is listed twice among the covariates and categoricals")
        if self.outcome in model or self.outcome in self.exact:
            raise ValueError(f"the outcome {self.outcome} cannot also be matched on")


@dataclass(frozen=True)
class Balance:
    covariate: str  # a numeric column, or "column=level" for a dummy
    smd_before: float
    smd_after: float


@dataclass(frozen=True)
class Evaluation:
    estimate: float  # treated mean minus comparison mean
    ci_low: float
    ci_high: float
    p_value: float
    n_treated: int
    n_treated_matched: int
    n_comparison_matched: int  # distinct pool members with a weight above 0
    n_trimmed: int  # participants outside the pool's range in their stratum
    treated_mean: float
    comparison_mean: float
    balance: list[Balance]
    outcome_type: str
    wording: str
    n_pool: int = 0
    n_pool_unusable: int = 0  # pool members with a category no participant has
    n_no_match: int = 0  # participants with no pool member within the caliper
    effective_comparison_size: float = 0.0  # Kish: (sum w)^2 / sum w^2
    caliper_logit: float = 0.0  # the caliper on the logit scale
    coefficients: dict[str, float] = field(default_factory=dict)
    # Row-aligned with the inputs, for exports; left out of comparisons and repr.
    treated_matched: np.ndarray = field(default_factory=lambda: np.zeros(0, bool), repr=False,
                                        compare=False)  # fmt: skip
    comparison_weights: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False,
                                           compare=False)  # fmt: skip


@dataclass(frozen=True)
class Matching:
    """Who matched whom. Pairs are the chosen neighbours (before tied pool members share)."""

    treated_matched: np.ndarray  # bool, one per participant
    pool_weight: np.ndarray  # float, one per pool member; sums to the number matched
    pairs_treated: np.ndarray  # participant index of each chosen pair
    pairs_pool: np.ndarray  # pool index of each chosen pair


@dataclass(frozen=True)
class Difference:
    treated_mean: float
    comparison_mean: float
    estimate: float
    standard_error: float
    ci_low: float
    ci_high: float
    p_value: float
    effective_comparison_size: float


# --- input ------------------------------------------------------------------------------


def _frame(data: Frame) -> pd.DataFrame:
    return data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))


def _first_bad(frame: pd.DataFrame, bad: np.ndarray) -> object:
    return frame.index[int(np.flatnonzero(bad)[0])]


def _numeric(frame: pd.DataFrame, column: str, label: str) -> np.ndarray:
    series = frame[column]
    if series.dtype == bool:
        return series.to_numpy(dtype=float)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        cell = series.iloc[position]
        detail = "is empty" if pd.isna(cell) else f"{cell!r} is not a number"
        raise EvaluationRefused(f"{label} row {frame.index[position]}, column {column}: {detail}")
    return values


def _codes(
    treated: pd.DataFrame, pool: pd.DataFrame, column: str, labels: tuple[str, str]
) -> tuple[np.ndarray, list[str]]:
    """Integer codes (participants first) for a category column, levels in sorted order.

    Values are compared as text, so 1 in one frame and "1" in the other are one level.
    Hashing (pd.factorize) rather than sorting millions of strings keeps this fast.
    """
    for frame, label in ((treated, labels[0]), (pool, labels[1])):
        missing = frame[column].isna().to_numpy()
        if missing.any():
            raise EvaluationRefused(
                f"{label} row {_first_bad(frame, missing)}, column {column}: is empty"
            )
    values = pd.concat([treated[column], pool[column]], ignore_index=True).astype(str)
    code, uniques = pd.factorize(values, sort=True)
    return code.astype(np.int64), [str(u) for u in uniques]


def _check_columns(frame: pd.DataFrame, spec: EvaluationSpec, label: str) -> None:
    wanted = dict.fromkeys((spec.outcome, *spec.covariates, *spec.categorical, *spec.exact))
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise EvaluationRefused(
            f"{label} has no column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )


def check_outcome(values: np.ndarray, outcome_type: str) -> np.ndarray:
    """Positions of values that do not fit the outcome type (bool mask)."""
    if outcome_type == "binary":
        return (values != 0) & (values != 1)
    if outcome_type == "count":
        return (values < 0) | (values != np.floor(values))
    return np.zeros(len(values), dtype=bool)


def _outcome(frame: pd.DataFrame, spec: EvaluationSpec, label: str) -> np.ndarray:
    values = _numeric(frame, spec.outcome, label)
    bad = check_outcome(values, spec.outcome_type)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        need = "0 or 1" if spec.outcome_type == "binary" else "a whole number, 0 or more"
        raise EvaluationRefused(
            f"{label} row {frame.index[position]}, column {spec.outcome}: "
            f"{values[position]:g} is not {need} (the outcome is {spec.outcome_type})"
        )
    return values


# --- design -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    x: np.ndarray  # (n_treated + n_pool, 1 + p): constant, covariates, dummies
    names: list[str]  # of the columns after the constant
    usable: np.ndarray  # rows whose categories are shared by both groups


def _design(
    treated: pd.DataFrame, pool: pd.DataFrame, spec: EvaluationSpec, labels: tuple[str, str]
) -> _Design:
    n_t, n_p = len(treated), len(pool)
    is_treated = np.r_[np.ones(n_t, bool), np.zeros(n_p, bool)]
    codes: list[tuple[str, np.ndarray, list[str]]] = []
    for column in spec.categorical:
        codes.append((column, *_codes(treated, pool, column, labels)))
    usable = np.ones(n_t + n_p, bool)
    levels: list[list[int]] = []
    # Drop levels held by one group only, then look again: dropping rows can empty a level
    # of another column.
    for _ in range(10):
        changed = False
        levels = []
        for _column, code, level_names in codes:
            in_t = np.bincount(code[usable & is_treated], minlength=len(level_names)) > 0
            in_p = np.bincount(code[usable & ~is_treated], minlength=len(level_names)) > 0
            one_sided = ~(in_t & in_p) & (in_t | in_p)
            if one_sided.any():
                usable &= ~one_sided[code]
                changed = True
            levels.append([i for i in range(len(level_names)) if in_t[i] and in_p[i]])
        if not changed:
            break
    p = len(spec.covariates) + sum(max(len(lv) - 1, 0) for lv in levels)
    x = np.empty((n_t + n_p, 1 + p))
    x[:, 0] = 1.0
    names: list[str] = []
    for column in spec.covariates:
        x[:n_t, 1 + len(names)] = _numeric(treated, column, labels[0])
        x[n_t:, 1 + len(names)] = _numeric(pool, column, labels[1])
        names.append(column)
    for (column, code, level_names), kept in zip(codes, levels, strict=True):
        for level in kept[1:]:  # the first shared level is the reference
            x[:, 1 + len(names)] = code == level
            names.append(f"{column}={level_names[level]}")
    return _Design(x, names, usable)


def _strata(
    treated: pd.DataFrame, pool: pd.DataFrame, spec: EvaluationSpec, labels: tuple[str, str]
) -> np.ndarray:
    """One integer per row (participants first) naming its exact-match stratum."""
    n = len(treated) + len(pool)
    stratum = np.zeros(n, dtype=np.int64)
    for column in spec.exact:
        code, uniques = _codes(treated, pool, column, labels)
        stratum = stratum * len(uniques) + code
        stratum = pd.factorize(stratum)[0].astype(np.int64)  # keep the product small
    return stratum


# --- propensity -------------------------------------------------------------------------


def _check_rank(x: np.ndarray, names: list[str]) -> None:
    """Refuse columns the model cannot separate: one value for all, or collinear."""
    same = x[:, 1:].min(axis=0) == x[:, 1:].max(axis=0)
    if same.any():
        name = names[int(np.flatnonzero(same)[0])]
        raise EvaluationRefused(f"{name} has the same value for everyone: leave it out")
    gram = np.zeros((x.shape[1], x.shape[1]))
    for start in range(0, len(x), _CHUNK):
        block = x[start : start + _CHUNK]
        gram += block.T @ block
    scale = np.sqrt(np.diag(gram))
    values, vectors = np.linalg.eigh(gram / np.outer(scale, scale))
    if values[0] < _SMALLEST_EIGENVALUE:
        loads = np.abs(vectors[1:, 0])
        involved = [names[j] for j in np.flatnonzero(loads > 0.05 * loads.max())]
        raise EvaluationRefused(
            "these columns are collinear (one can be worked out from the others): "
            + ", ".join(involved)
        )


def fit_propensity(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Logistic-regression coefficients of `treated` (0/1) on `x` (with its constant column).

    Newton-Raphson from the intercept-only start, in blocks of rows so that no copy of `x`
    is made; stops when no coefficient moves by more than 1e-10. Refuses when the fit does
    not converge (a covariate predicts taking part perfectly).
    """
    y = np.asarray(treated, dtype=float)
    n, p = x.shape
    share = y.mean()
    beta = np.zeros(p)
    beta[0] = math.log(share / (1 - share))
    for _ in range(_MAX_ITERATIONS):
        hessian = np.zeros((p, p))
        score = np.zeros(p)
        for start in range(0, n, _CHUNK):
            block, yb = x[start : start + _CHUNK], y[start : start + _CHUNK]
            prob = _expit(block @ beta)
            score += block.T @ (yb - prob)
            hessian += block.T @ (block * (prob * (1 - prob))[:, None])
        try:
            step = np.linalg.solve(hessian, score)
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            break
        if np.max(np.abs(step)) < 1e-10 * max(1.0, float(np.max(np.abs(beta)))):
            return beta
    raise EvaluationRefused(
        "the propensity model did not converge: a covariate (or a combination) predicts "
        "taking part almost perfectly, so there is no comparable pool to match against"
    )


def _expit(eta: np.ndarray) -> np.ndarray:
    out = np.empty_like(eta)
    positive = eta >= 0
    out[positive] = 1 / (1 + np.exp(-eta[positive]))
    e = np.exp(eta[~positive])
    out[~positive] = e / (1 + e)
    return out


def _logit(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    out = np.empty(len(x))
    for start in range(0, len(x), _CHUNK):
        out[start : start + _CHUNK] = x[start : start + _CHUNK] @ beta
    return out


# --- matching ---------------------------------------------------------------------------


def pooled_sd(treated_values: np.ndarray, pool_values: np.ndarray) -> float:
    """sqrt((var_t + var_p) / 2), sample variances; the yardstick of the caliper and SMDs."""
    return math.sqrt((_var(treated_values) + _var(pool_values)) / 2)


def _var(values: np.ndarray) -> Any:
    """Sample variance (n - 1) by column; 0 for fewer than two values."""
    return _mean_var(values)[1]


def _mean_var(values: np.ndarray) -> tuple[Any, Any]:
    """Column means and sample variances (n - 1; 0 below two rows), in blocks of rows.

    Two passes (mean, then squared deviations) for accuracy; blocks so that a 2,000,000-row
    pool needs no full-size temporary.
    """
    n = len(values)
    total = np.zeros(values.shape[1:])
    for start in range(0, n, _CHUNK):
        total += values[start : start + _CHUNK].sum(axis=0)
    mean = total / max(n, 1)
    if n < 2:
        return mean, np.zeros(values.shape[1:])
    squares = np.zeros(values.shape[1:])
    for start in range(0, n, _CHUNK):
        squares += ((values[start : start + _CHUNK] - mean) ** 2).sum(axis=0)
    return mean, squares / (n - 1)


def common_support(
    treated_logit: np.ndarray,
    treated_stratum: np.ndarray,
    pool_logit: np.ndarray,
    pool_stratum: np.ndarray,
) -> np.ndarray:
    """True for each participant inside the pool's [min, max] logit in their stratum."""
    frame = pd.DataFrame({"s": pool_stratum, "v": pool_logit}).groupby("s")["v"]
    low, high = frame.min(), frame.max()
    lo = low.reindex(treated_stratum).to_numpy(dtype=float, na_value=np.inf)
    hi = high.reindex(treated_stratum).to_numpy(dtype=float, na_value=-np.inf)
    return (treated_logit >= lo) & (treated_logit <= hi)


def match(
    treated_logit: np.ndarray,
    treated_stratum: np.ndarray,
    pool_logit: np.ndarray,
    pool_stratum: np.ndarray,
    k: int,
    caliper: float,
) -> Matching:
    """k nearest pool members on the logit, with replacement, within stratum and caliper.

    `caliper` is on the logit scale (already multiplied by the SD). Participants with a
    NaN logit (trimmed) are skipped.
    """
    n_t, n_p = len(treated_logit), len(pool_logit)
    weight = np.zeros(n_p)
    matched = np.zeros(n_t, bool)
    pairs_t: list[np.ndarray] = []
    pairs_p: list[np.ndarray] = []
    pool_order = np.lexsort((pool_logit, pool_stratum))
    sorted_strata = pool_stratum[pool_order]
    strata = np.unique(treated_stratum[~np.isnan(treated_logit)])
    bounds_lo = np.searchsorted(sorted_strata, strata, side="left")
    bounds_hi = np.searchsorted(sorted_strata, strata, side="right")
    offsets = np.arange(-k, k)
    for stratum, lo, hi in zip(strata, bounds_lo, bounds_hi, strict=True):
        who = np.flatnonzero((treated_stratum == stratum) & ~np.isnan(treated_logit))
        if hi == lo or not len(who):
            continue
        members = pool_order[lo:hi]
        values = pool_logit[members]  # sorted
        x = treated_logit[who]
        # The k nearest of x lie among the k sorted values either side of its slot.
        window = np.searchsorted(values, x)[:, None] + offsets
        inside = (window >= 0) & (window < len(values))
        window = np.clip(window, 0, len(values) - 1)
        distance = np.where(inside, np.abs(values[window] - x[:, None]), np.inf)
        nearest = np.argsort(distance, axis=1, kind="stable")[:, :k]
        chosen = np.take_along_axis(window, nearest, axis=1)
        ok = np.take_along_axis(distance, nearest, axis=1) <= caliper
        per_treated = ok.sum(axis=1)
        matched[who] = per_treated > 0
        rows, cols = np.nonzero(ok)
        picks = chosen[rows, cols]
        # Pool members with identical logits (a tie block [start, end)) share each pick
        # equally, so which of them sorts first does not matter.
        start = np.searchsorted(values, values[picks], side="left")
        blocks, block_of = np.unique(start, return_inverse=True)
        totals = np.bincount(block_of, weights=1.0 / per_treated[rows])
        ends = np.searchsorted(values, values[blocks], side="right")
        lengths = ends - blocks
        # Every position of every picked block, built without a Python loop.
        first = np.repeat(blocks - np.cumsum(lengths) + lengths, lengths)
        positions = np.arange(lengths.sum()) + first
        weight[members[positions]] += np.repeat(totals / lengths, lengths)
        pairs_t.append(who[rows])
        pairs_p.append(members[picks])
    return Matching(
        treated_matched=matched,
        pool_weight=weight,
        pairs_treated=np.concatenate(pairs_t) if pairs_t else np.zeros(0, int),
        pairs_pool=np.concatenate(pairs_p) if pairs_p else np.zeros(0, int),
    )


# --- balance ----------------------------------------------------------------------------


def standardised_differences(
    names: Sequence[str],
    x_treated: np.ndarray,
    x_pool: np.ndarray,
    treated_matched: np.ndarray,
    pool_weight: np.ndarray,
) -> list[Balance]:
    """SMDs before (all vs whole pool) and after (matched vs weighted), per column.

    Both use sqrt((var_t + var_p) / 2) of the data *before* matching as the denominator
    (sample variances). A column with no spread in either group has SMD 0 when the means
    agree and infinity when they do not.
    """
    x_treated = np.asarray(x_treated, dtype=float).reshape(len(x_treated), -1)
    x_pool = np.asarray(x_pool, dtype=float).reshape(len(x_pool), -1)
    mean_t, var_t = _mean_var(x_treated)
    mean_p, var_p = _mean_var(x_pool)
    sd = np.sqrt((var_t + var_p) / 2)
    used = np.flatnonzero(pool_weight)
    mean_c_after = pool_weight[used] @ x_pool[used] / pool_weight[used].sum()
    mean_t_after = x_treated[treated_matched].mean(axis=0)
    before = _standardise(mean_t - mean_p, sd)
    after = _standardise(mean_t_after - mean_c_after, sd)
    return [
        Balance(name, float(b), float(a)) for name, b, a in zip(names, before, after, strict=True)
    ]


def _standardise(difference: np.ndarray, sd: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = difference / sd
    out[sd == 0] = np.where(np.abs(difference[sd == 0]) < 1e-12, 0.0, np.inf)
    return out


# --- estimate ---------------------------------------------------------------------------


def difference(
    treated_outcome: np.ndarray,
    comparison_outcome: np.ndarray,
    comparison_weight: np.ndarray,
    outcome_type: str,
) -> Difference:
    """Treated mean minus weighted comparison mean, with a 95% interval and p-value.

    See the module docstring for the variance; binary outcomes get a z-test, counts and
    continuous outcomes a Welch t-test.
    """
    # scipy.special, not scipy.stats: the same functions, a fraction of the import time.
    from scipy.special import stdtr, stdtrit  # type: ignore[import-untyped]

    y_t = np.asarray(treated_outcome, dtype=float)
    y_c = np.asarray(comparison_outcome, dtype=float)
    w = np.asarray(comparison_weight, dtype=float)
    n_t, v1, v2 = len(y_t), w.sum(), (w * w).sum()
    n_eff = v1 * v1 / v2
    mean_t, mean_c = float(y_t.mean()), float(w @ y_c / v1)
    if outcome_type == "binary":
        var_t = mean_t * (1 - mean_t) / n_t
        var_c = mean_c * (1 - mean_c) / n_eff
    else:
        s2_t = float(y_t.var(ddof=1))
        # Reliability-weights variance: with equal weights, the usual n - 1 sample variance.
        s2_c = float(w @ (y_c - mean_c) ** 2 / (v1 - v2 / v1)) if n_eff > 1 else 0.0
        var_t, var_c = s2_t / n_t, s2_c / n_eff
    estimate = mean_t - mean_c
    se = math.sqrt(var_t + var_c)
    if se == 0:
        p_value = 1.0 if estimate == 0 else 0.0
        low = high = estimate
    elif outcome_type == "binary":
        p_value = math.erfc(abs(estimate) / se / math.sqrt(2))  # two-sided normal
        low, high = estimate - Z_95 * se, estimate + Z_95 * se
    else:
        df = (var_t + var_c) ** 2 / (var_t**2 / (n_t - 1) + var_c**2 / max(n_eff - 1, 1e-12))
        p_value = float(2 * stdtr(df, -abs(estimate) / se))
        half = float(stdtrit(df, 0.975)) * se
        low, high = estimate - half, estimate + half
    return Difference(mean_t, mean_c, estimate, se, low, high, p_value, n_eff)


def for_100_people(
    outcome_type: str,
    treated_mean: float,
    comparison_mean: float,
    ci_low: float,
    ci_high: float,
    phrase: str,
) -> str:
    """The result in plain words, for 100 typical people (per person for continuous).

    `phrase` is what happens for a binary outcome ("would reoffend within a year") and
    what is counted or measured otherwise ("proven offences", "wellbeing score"):

    - binary: "Of 100 typical participants, 28 would reoffend within a year, compared
      with 35 of 100 similar people who did not take part (a difference of 7, between 2
      and 12)."
    - count: "100 typical participants would have 120 proven offences between them,
      compared with 150 for 100 similar people who did not take part (...)."
    - continuous: "A typical participant would have a wellbeing score of 6.20, compared
      with 5.80 for similar people who did not take part (...)."

    When the interval includes no difference, the words say it could go either way.
    """
    continuous = outcome_type == "continuous"
    scale = 1 if continuous else 100

    def num(value: float) -> str:
        return f"{abs(value) * scale:.{2 if continuous else 0}f}"

    estimate = treated_mean - comparison_mean
    less, more = ("lower", "higher") if continuous else ("fewer", "more")
    if ci_low > 0 or ci_high < 0:
        near, far = sorted((abs(ci_low), abs(ci_high)))
        gap = f"a difference of {num(estimate)}, between {num(near)} and {num(far)}"
    elif ci_low == ci_high:
        gap = "no difference"
    else:
        gap = (
            f"a difference of {num(estimate)} {less if estimate < 0 else more}, somewhere "
            f"between {num(ci_low)} {less} and {num(ci_high)} {more}"
        )
    if outcome_type == "binary":
        return (
            f"Of 100 typical participants, {num(treated_mean)} {phrase}, compared with "
            f"{num(comparison_mean)} of 100 similar people who did not take part ({gap})."
        )
    if outcome_type == "count":
        return (
            f"100 typical participants would have {num(treated_mean)} {phrase} between them, "
            f"compared with {num(comparison_mean)} for 100 similar people who did not take "
            f"part ({gap})."
        )
    return (
        f"A typical participant would have a {phrase} of {num(treated_mean)}, compared with "
        f"{num(comparison_mean)} for similar people who did not take part ({gap})."
    )


def _phrase(spec: EvaluationSpec) -> str:
    if spec.phrase:
        return spec.phrase
    name = spec.outcome.replace("_", " ")
    return f"would have {name}" if spec.outcome_type == "binary" else name


# --- the evaluation ---------------------------------------------------------------------


def evaluate(
    treated: Frame,
    pool: Frame,
    spec: EvaluationSpec,
    labels: tuple[str, str] = ("treated", "pool"),
    progress: Progress | None = None,
) -> Evaluation:
    """Match the participants in `treated` to people from `pool` and compare outcomes.

    `treated` and `pool` are DataFrames (or mappings of column name to array) holding the
    spec's columns; problems name a row by the frame's index label and the group by
    `labels`, so a caller reading files can pass file names and spreadsheet row numbers.
    `progress`, if given, is called with the name of each step as it starts.
    """
    step = progress or (lambda _name: None)
    t_frame, p_frame = _frame(treated), _frame(pool)
    if len(p_frame) == 0:
        raise EvaluationRefused(f"{labels[1]} has nobody in it: there is no one to compare with")
    _check_columns(t_frame, spec, labels[0])
    _check_columns(p_frame, spec, labels[1])
    n_t, n_p = len(t_frame), len(p_frame)
    if n_t < spec.min_treated:
        raise EvaluationRefused(
            f"only {n_t} participants; at least {spec.min_treated} are needed for a "
            "comparison to mean anything"
        )
    y_t = _outcome(t_frame, spec, labels[0])
    y_p = _outcome(p_frame, spec, labels[1])
    design = _design(t_frame, p_frame, spec, labels)
    stratum = _strata(t_frame, p_frame, spec, labels)

    step("fitting the propensity model")
    is_treated = np.r_[np.ones(n_t), np.zeros(n_p)]
    rows = np.flatnonzero(design.usable)
    x_fit = design.x if len(rows) == len(design.x) else design.x[rows]
    _check_rank(x_fit, design.names)
    beta = fit_propensity(x_fit, is_treated[rows])
    logit = np.full(n_t + n_p, np.nan)
    logit[rows] = _logit(x_fit, beta)
    del x_fit
    logit_t, logit_p = logit[:n_t], logit[n_t:]
    usable_p = design.usable[n_t:]
    caliper = spec.caliper * pooled_sd(logit_t[~np.isnan(logit_t)], logit_p[usable_p])

    step("matching")
    support = design.usable[:n_t] & common_support(
        logit_t, stratum[:n_t], logit_p[usable_p], stratum[n_t:][usable_p]
    )
    n_trimmed = int(n_t - support.sum())
    pool_logit = np.where(usable_p, logit_p, np.inf)  # unusable pool members never match
    matching = match(
        np.where(support, logit_t, np.nan), stratum[:n_t], pool_logit, stratum[n_t:],
        spec.k, caliper,
    )  # fmt: skip
    n_matched = int(matching.treated_matched.sum())
    if n_matched < spec.min_treated:
        raise EvaluationRefused(
            f"only {n_matched} of {n_t} participants could be matched ({n_trimmed} outside "
            f"the pool's range, {n_t - n_trimmed - n_matched} with nobody within the "
            f"caliper); at least {spec.min_treated} are needed"
        )

    step("checking balance")
    # Rows with a category the other group lacks have no dummy for it; leaving them out
    # keeps them from passing as the reference level.
    usable_t = design.usable[:n_t]
    x_t, x_p = design.x[:n_t, 1:], design.x[n_t:, 1:]  # views: no copy of the pool
    balance = standardised_differences(
        design.names,
        x_t if usable_t.all() else x_t[usable_t],
        x_p if usable_p.all() else x_p[usable_p],
        matching.treated_matched[usable_t], matching.pool_weight[usable_p],
    )  # fmt: skip
    poor = sorted(
        (b for b in balance if not abs(b.smd_after) <= spec.max_smd_after),
        key=lambda b: -abs(b.smd_after),
    )
    if poor:
        listed = "; ".join(f"{b.covariate} {b.smd_after:+.3f}" for b in poor[:5])
        raise EvaluationRefused(
            f"poor balance after matching: standardised difference over "
            f"{spec.max_smd_after:g} for {listed}"
            + (f" and {len(poor) - 5} more" if len(poor) > 5 else ""),
            balance=balance,
        )

    step("estimating")
    used = np.flatnonzero(matching.pool_weight)
    result = difference(
        y_t[matching.treated_matched], y_p[used], matching.pool_weight[used], spec.outcome_type
    )
    return Evaluation(
        estimate=result.estimate,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        p_value=result.p_value,
        n_treated=n_t,
        n_treated_matched=n_matched,
        n_comparison_matched=len(used),
        n_trimmed=n_trimmed,
        treated_mean=result.treated_mean,
        comparison_mean=result.comparison_mean,
        balance=balance,
        outcome_type=spec.outcome_type,
        wording=for_100_people(
            spec.outcome_type,
            result.treated_mean,
            result.comparison_mean,
            result.ci_low,
            result.ci_high,
            _phrase(spec),
        ),  # fmt: skip
        n_pool=n_p,
        n_pool_unusable=int((~usable_p).sum()),
        n_no_match=n_t - n_trimmed - n_matched,
        effective_comparison_size=float(result.effective_comparison_size),
        caliper_logit=caliper,
        coefficients=dict(zip(["const", *design.names], map(float, beta), strict=True)),
        treated_matched=matching.treated_matched,
        comparison_weights=matching.pool_weight,
    )
