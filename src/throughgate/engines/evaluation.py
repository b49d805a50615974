"""Impact evaluation the Justice Data Lab way: participants against a matched comparison
group drawn from a pool. Pure: no Django.

The steps, as implemented here (each is tested in tests/engines/test_evaluation.py):

1. **Propensity model.** A logistic regression of taking part (participants 1, pool 0)
   on the numeric covariates plus one-hot dummies of the categorical columns (first level,
   in sorted order, dropped). It is fitted by Newton-Raphson (the same iteratively
   reweighted least squares statsmodels uses) in plain numpy, in blocks of rows, and
   agrees with `statsmodels` `Logit` to 1e-6. Why not statsmodels itself: at 2,000,000
   rows and 20 covariates `Logit.fit` took about 20 s and GLM-IRLS about 35 s and 5 GB of
   memory, against about a second and no copy of the data here. When the pool is large
   (at least 40 per participant and 80,000), Newton starts from a fit on a subsample:
   every participant and a fixed-seed random share of the pool (10 per participant, at
   least 20,000), its intercept corrected by the log of the share kept (the
   case-control "prior correction", King and Zeng 2001). That start is within sampling
   error of the answer, so three Newton passes over all the rows reach the full-data
   maximum-likelihood estimate, where the intercept-only start needs six; the subsample
   only chooses where Newton starts, not where it ends (if its fit fails, say because it
   drew none of a rare category's pool members, Newton starts cold). Newton stops when
   its steps shrink quadratically and the next one would be far below 1e-10, without a
   last pass over the data just to see it. The rank check (no constant column, no
   collinear columns) also looks at the subsample first: its cross-product is part of
   the full one, so full rank there proves full rank everywhere. The passes go through
   the rows in blocks, one thread per core, with BLAS held to one thread (see
   `_in_parts`), and add up the parts in a fixed order, so the result does not depend
   on the number of cores.
   Everything after the fit works on the *logit* of the score (the linear predictor),
   where distances are even.
   A categorical level held only by pool members has no finite estimate (its coefficient
   runs off to minus infinity): those pool members are left out of the fit and can never
   be matched, which is where the fit would take them in the limit. A level held only by
   participants puts them outside the pool's range, so they are trimmed (step 2).
2. **Common support.** Exact-match strata (e.g. gender and age band) are formed from the
   `exact` columns. A participant whose logit lies outside the [min, max] of the pool's
   logits *in their stratum*, or whose stratum has no pool members, is trimmed.
3. **Matching.** Within each stratum, the k nearest pool members on the logit, with
   replacement, found with `np.searchsorted` on the stratum's sorted logits (the k nearest
   of a point lie among the k neighbours on either side). A neighbour further than the
   caliper (`caliper` x the pooled SD of the logit, sqrt((var_t + var_p) / 2), Austin
   2011) is not a match; a participant with no match left is dropped. Each participant's
   weight of 1 is shared equally by their matches (1/k each, or 1/k_i when the caliper
   leaves only k_i of them); a pool member's weight is the sum over the participants it
   serves. Pool members with *identical* logits (common when covariates are categorical)
   share a match equally, so the answer does not depend on the order of rows in the file.
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

import functools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

OUTCOME_TYPES = ("binary", "count", "continuous")
Z_95 = 1.959963984540054  # the normal quantile for a two-sided 95% interval
# Rows per block in the passes over the model matrix: a block of 4,096 rows x 40 columns
# (1.3 MB) stays in cache between its uses, and its share of X'WX is one BLAS call.
_BLOCK = 4096
# Rows per part: the passes split the rows into parts of this size, worked on by one
# thread per core and added up in order, so the sums never depend on the thread count.
_PART = 8 * _BLOCK
_MAX_ITERATIONS = 50
_TOLERANCE = 1e-10  # Newton stops when no coefficient would move by more (relative)
# The warm start (see the module docstring, step 1): a subsample of every participant
# (the rarer class, in general) and this many of the other class per participant, at
# least _SUBSAMPLE_MIN, drawn with a fixed seed; used only when that is at most a quarter
# of the other class (else its own four or five Newton passes cost more than it saves).
_SUBSAMPLE_PER_RARE = 10
_SUBSAMPLE_MIN = 20_000
_SUBSAMPLE_SEED = 20_240_611
_SUBSAMPLE_TOLERANCE = 1e-4  # the subsample's own fit: far below its sampling error
_WARM_ITERATIONS = 15  # passes allowed from a warm start (or on the subsample)
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
    if series.dtype == np.float64:  # the common case, already checked by the file readers
        values = series.to_numpy()
        if np.isfinite(values).all():
            return values
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
    Hashing (pd.factorize) rather than sorting millions of strings keeps this fast; a
    categorical, text or whole-number column is hashed as it is and only its few distinct
    values are turned into text.
    """
    for frame, label in ((treated, labels[0]), (pool, labels[1])):
        missing = frame[column].isna().to_numpy()
        if missing.any():
            raise EvaluationRefused(
                f"{label} row {_first_bad(frame, missing)}, column {column}: is empty"
            )
    parts = [_factor(treated[column]), _factor(pool[column])]
    if any(part is None for part in parts):  # other types: as text, as they always were
        values = pd.concat([treated[column], pool[column]], ignore_index=True).astype(str)
        code, uniques = pd.factorize(values, sort=True)
        return code.astype(np.int64), [str(u) for u in uniques]
    names = np.concatenate([part[1] for part in parts if part is not None])
    uniques, level_of = np.unique(names, return_inverse=True)  # sorted, as text
    codes, offset = [], 0
    for part in parts:
        assert part is not None
        codes.append(level_of[offset : offset + len(part[1])][part[0]])
        offset += len(part[1])
    return np.concatenate(codes).astype(np.int64), [str(u) for u in uniques]


def _factor(series: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, distinct values as text) for a categorical, text, whole-number or true/false
    column, with every distinct value used; None for other types."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        categories = series.cat.categories
        if not (pd.api.types.is_string_dtype(categories) or categories.dtype.kind in "iub"):
            return None
        used = np.bincount(codes, minlength=len(categories)) > 0
        text = np.asarray(categories[used].astype(str), dtype=object)
        return (codes if used.all() else (np.cumsum(used) - 1)[codes]), text
    text_dtype = pd.api.types.is_string_dtype(dtype) and dtype.kind != "O"  # not object
    if text_dtype or dtype.kind in "iub":
        codes, uniques = pd.factorize(series)
        return codes, np.asarray(pd.Index(uniques).astype(str), dtype=object)
    return None


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
    x: np.ndarray  # (n_treated + n_pool, 1 + p), column-major: constant, covariates, dummies
    names: list[str]  # of the columns after the constant
    usable: np.ndarray  # rows whose categories are shared by both groups


_Codes: TypeAlias = dict[str, tuple[np.ndarray, list[str]]]


def _design(
    treated: pd.DataFrame,
    pool: pd.DataFrame,
    spec: EvaluationSpec,
    labels: tuple[str, str],
    codes_of: _Codes | None = None,
) -> _Design:
    """The model matrix, filled one column at a time into a column-major array: each
    column is a contiguous write, and there is no intermediate frame or concatenation."""
    n_t, n_p = len(treated), len(pool)
    is_treated = np.r_[np.ones(n_t, bool), np.zeros(n_p, bool)]
    codes_of = {} if codes_of is None else codes_of
    codes: list[tuple[str, np.ndarray, list[str]]] = []
    for column in spec.categorical:
        if column not in codes_of:
            codes_of[column] = _codes(treated, pool, column, labels)
        codes.append((column, *codes_of[column]))
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
    names = list(spec.covariates)
    fills: list[Callable[[np.ndarray], object]] = [lambda out: out.fill(1.0)]
    for column in spec.covariates:
        values = (_numeric(treated, column, labels[0]), _numeric(pool, column, labels[1]))
        fills.append(lambda out, v=values: np.concatenate(v, out=out))
    for (column, code, level_names), kept in zip(codes, levels, strict=True):
        for level in kept[1:]:  # the first shared level is the reference
            fills.append(lambda out, c=code, v=level: np.equal(c, v, out=out, casting="unsafe"))
            names.append(f"{column}={level_names[level]}")
    x = np.empty((n_t + n_p, len(fills)), order="F")
    # Each column is one contiguous write; with several cores, several at once.
    pool_of_workers = _workers() if len(x) >= _PART else None
    if pool_of_workers is None:
        for j, fill in enumerate(fills):
            fill(x[:, j])
    else:
        list(pool_of_workers.map(lambda j: fills[j](x[:, j]), range(len(fills))))
    return _Design(x, names, usable)


def _strata(
    treated: pd.DataFrame,
    pool: pd.DataFrame,
    spec: EvaluationSpec,
    labels: tuple[str, str],
    codes_of: _Codes | None = None,
) -> np.ndarray:
    """One integer per row (participants first) naming its exact-match stratum."""
    n = len(treated) + len(pool)
    stratum = np.zeros(n, dtype=np.int64)
    codes_of = {} if codes_of is None else codes_of
    for column in spec.exact:
        if column not in codes_of:
            codes_of[column] = _codes(treated, pool, column, labels)
        code, uniques = codes_of[column]
        stratum = stratum * len(uniques) + code
        stratum = pd.factorize(stratum)[0].astype(np.int64)  # keep the product small
    return stratum


def _take_rows(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """x[rows] for a 2-D array, kept column-major and gathered column by column (numpy's
    own fancy indexing of a column-major array walks it row by row, several times slower)."""
    out = np.empty((len(rows), x.shape[1]), order="F")
    for j in range(x.shape[1]):
        np.take(x[:, j], rows, out=out[:, j])
    return out


# --- passes over the rows ---------------------------------------------------------------

_T = TypeVar("_T")


def _in_parts(n: int, work: Callable[[int, int], _T]) -> list[_T]:
    """work(start, stop) for consecutive row ranges of _PART rows, results in row order.

    With more than one core the parts go to one thread per core, with BLAS held to one
    thread (threadpoolctl) while they run. numpy and BLAS release the GIL while they
    compute, so the threads run side by side. BLAS's own threads are no help here: a
    40 x 40 product from 4,096 rows is too small to share, and on a 2-core machine with
    anything else running they spin waiting for each other, which made a single pass over
    2,000,000 rows take 5 to 10 s instead of 0.3 s.
    """
    ranges = [(start, min(start + _PART, n)) for start in range(0, n, _PART)]
    pool = _workers()
    with _blas_controller().limit(limits=1, user_api="blas"):
        if pool is None or len(ranges) < 2:
            return [work(start, stop) for start, stop in ranges]
        return list(pool.map(lambda r: work(*r), ranges))


@functools.cache
def _workers() -> ThreadPoolExecutor | None:
    """One thread per core, started once and kept (idle threads cost nothing), or None
    on one core."""
    cores = _cores()
    return (
        ThreadPoolExecutor(cores, thread_name_prefix="throughgate-evaluation")
        if cores > 1
        else None
    )


@functools.cache
def _blas_controller() -> Any:
    """The BLAS libraries loaded in this process (found once: looking costs milliseconds)."""
    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

    return ThreadpoolController()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# --- propensity -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Subsample:
    """Every row of the rarer class and a fixed-seed random share of the other's."""

    rows: np.ndarray  # sorted row positions
    intercept_shift: float  # add to the subsample fit's intercept to start the full fit


def _subsample(treated: np.ndarray) -> _Subsample | None:
    """The warm start's rows, or None when the data are too small for it to pay.

    Keeping every row of the rare class and a share f of the other changes a logistic
    model's odds by f and nothing else, so the intercept fitted on the subsample is off by
    log f and the slopes are not (King and Zeng 2001, "prior correction"). The draw uses a
    fixed seed, so the same data always give the same start.
    """
    y = np.asarray(treated)
    n = len(y)
    ones = int(np.count_nonzero(y))
    rare_is_one = ones <= n - ones
    rare = ones if rare_is_one else n - ones
    common = n - rare
    want = max(_SUBSAMPLE_PER_RARE * rare, _SUBSAMPLE_MIN)
    if rare == 0 or 4 * want > common:  # the subsample's own fit would cost too much
        return None
    draw = np.random.default_rng(_SUBSAMPLE_SEED).random(n) < want / common
    keep = draw | ((y != 0) if rare_is_one else (y == 0))
    rows = np.flatnonzero(keep)
    shift = math.log((len(rows) - rare) / common)
    return _Subsample(rows, shift if rare_is_one else -shift)


def _check_rank(x: np.ndarray, names: list[str], x_sample: np.ndarray | None = None) -> None:
    """Refuse columns the model cannot separate: one value for all, or collinear.

    With a subsample, its rows are looked at first: they are part of the data, so a column
    that varies there varies everywhere, and since X'X is the subsample's cross-product
    plus the other rows' (both positive semi-definite), full rank there is full rank
    everywhere. Only a subsample that fails sends the check to every row, which finds the
    problem and names the columns.
    """
    if x_sample is not None and _full_rank(x_sample) is None:
        return
    problem = _full_rank(x)
    if problem is not None:
        raise EvaluationRefused(problem(names))


def _full_rank(x: np.ndarray) -> Callable[[list[str]], str] | None:
    """None when no column of x (after the constant) is constant and none is collinear;
    otherwise a function giving the refusal, given the column names."""
    same = np.flatnonzero(x[:, 1:].min(axis=0) == x[:, 1:].max(axis=0))
    if len(same):
        return lambda names: f"{names[same[0]]} has the same value for everyone: leave it out"
    gram = np.zeros((x.shape[1], x.shape[1]))
    for part in _in_parts(len(x), functools.partial(_gram, x)):
        gram += part
    scale = np.sqrt(np.diag(gram))
    values, vectors = np.linalg.eigh(gram / np.outer(scale, scale))
    if values[0] >= _SMALLEST_EIGENVALUE:
        return None
    loads = np.abs(vectors[1:, 0])
    involved = np.flatnonzero(loads > 0.05 * loads.max())
    return lambda names: (
        "these columns are collinear (one can be worked out from the others): "
        + ", ".join(names[j] for j in involved)
    )


def _gram(x: np.ndarray, first: int, last: int) -> np.ndarray:
    gram = np.zeros((x.shape[1], x.shape[1]))
    for start in range(first, last, _BLOCK):
        block = x[start : min(start + _BLOCK, last)]
        gram += block.T @ block
    return gram


def fit_propensity(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Logistic-regression coefficients of `treated` (0/1) on `x` (with its constant column).

    Newton-Raphson in blocks of rows, so that no copy of `x` is made, from a warm start
    fitted on a subsample when the data are large (see `_subsample`) and otherwise from the
    intercept-only fit; stops when no coefficient moves by more than 1e-10 (relative), or
    when the last steps shrink quadratically and the next would be far below that. Refuses
    when the fit does not converge (a covariate predicts taking part perfectly).
    """
    y = np.asarray(treated, dtype=float)
    sample = _subsample(y)
    return _fit(x, y, sample, None if sample is None else _take_rows(x, sample.rows))


def _fit(
    x: np.ndarray, y: np.ndarray, sample: _Subsample | None, x_sample: np.ndarray | None
) -> np.ndarray:
    """`fit_propensity`, given the subsample and its rows of x (gathered once, as the
    rank check looks at them too)."""
    beta = None
    if sample is not None and x_sample is not None and np.all(x[:, 0] == 1):
        y_sample = y[sample.rows]
        warm = _newton(
            x_sample, y_sample, _cold_start(x.shape[1], y_sample),
            _SUBSAMPLE_TOLERANCE, _WARM_ITERATIONS,
        )  # fmt: skip
        if warm is not None:
            warm[0] += sample.intercept_shift
            beta = _newton(x, y, warm, _TOLERANCE, _WARM_ITERATIONS)
        # A subsample can miss the few pool members of a rare category and fail where the
        # data do not; then, or if Newton wanders from the warm start, start cold.
    if beta is None:
        beta = _newton(x, y, _cold_start(x.shape[1], y), _TOLERANCE, _MAX_ITERATIONS)
    if beta is None:
        raise EvaluationRefused(
            "the propensity model did not converge: a covariate (or a combination) predicts "
            "taking part almost perfectly, so there is no comparable pool to match against"
        )
    return beta


def _cold_start(p: int, y: np.ndarray) -> np.ndarray:
    """The intercept-only fit: log-odds of the share taking part, every slope 0."""
    beta = np.zeros(p)
    share = float(y.mean()) if len(y) else 0.5
    if 0 < share < 1:
        beta[0] = math.log(share / (1 - share))
    return beta


def _newton(
    x: np.ndarray, y: np.ndarray, beta: np.ndarray, tolerance: float, iterations: int
) -> np.ndarray | None:
    """Newton-Raphson from `beta`; None if it has not converged within `iterations` passes.

    Near the answer Newton's steps shrink quadratically, s_k = c s_(k-1)^2, so after a step
    the one to come (and the error left) is about c s_k^2, with c measured from the last two
    steps. When that is a hundredth of the tolerance or less the fit stops, rather than
    making one more pass over every row to see a step of 1e-15. While the steps still
    shrink slowly (far from the answer, or a flat likelihood) c comes out large and the
    loop goes on.
    """
    previous = math.inf
    for _ in range(iterations):
        hessian, score = _newton_pass(x, y, beta)
        try:
            step = np.linalg.solve(hessian, score)
        except np.linalg.LinAlgError:
            return None
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            return None
        size = float(np.max(np.abs(step)))
        limit = tolerance * max(1.0, float(np.max(np.abs(beta))))
        if size <= limit:
            return beta
        if size < 1e-3 and size < previous and size**3 / previous**2 <= limit / 100:
            return beta
        previous = size
    return None


def _newton_pass(x: np.ndarray, y: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The log-likelihood's Hessian (negated: X'WX) and score X'(y - p) at beta, one pass."""
    p = x.shape[1]

    def part(first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        hessian = np.zeros((p, p))
        score = np.zeros(p)
        for start in range(first, last, _BLOCK):
            stop = min(start + _BLOCK, last)
            block = x[start:stop]
            eta = block @ beta
            # With e = exp(-|eta|) (never overflows): p = 1 / (1 + e) for eta >= 0 and
            # e / (1 + e) otherwise, and p (1 - p) = e / (1 + e)^2 either way.
            e = np.exp(-np.abs(eta))
            q = 1.0 / (1.0 + e)
            score += (y[start:stop] - np.where(eta >= 0, q, e * q)) @ block
            scaled = block * (np.sqrt(e) * q)[:, None]  # rows times sqrt(p (1 - p))
            hessian += scaled.T @ scaled  # numpy hands A'A to BLAS syrk
        return hessian, score

    hessian, score = np.zeros((p, p)), np.zeros(p)
    for part_hessian, part_score in _in_parts(len(x), part):
        hessian += part_hessian
        score += part_score
    return hessian, score


def _logit(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    out = np.empty(len(x))

    def part(first: int, last: int) -> None:
        for start in range(first, last, _BLOCK):
            stop = min(start + _BLOCK, last)
            np.matmul(x[start:stop], beta, out=out[start:stop])

    _in_parts(len(x), part)
    return out


# --- matching ---------------------------------------------------------------------------


def pooled_sd(treated_values: np.ndarray, pool_values: np.ndarray) -> float:
    """sqrt((var_t + var_p) / 2), sample variances; the yardstick of the caliper and SMDs."""
    return math.sqrt((_var(treated_values) + _var(pool_values)) / 2)


def _var(values: np.ndarray) -> Any:
    """Sample variance (n - 1) by column; 0 for fewer than two values."""
    return _mean_var(values)[1]


def _mean_var(values: np.ndarray) -> tuple[Any, Any]:
    """Column means and sample variances (n - 1; 0 below two rows), in one pass of blocks.

    The sums are taken about the first row (the "shifted data" algorithm), so they lose no
    accuracy to a large mean, and a column with one value for all has exactly that mean
    and a variance of exactly 0. Blocks keep a 2,000,000-row pool from needing a
    full-size temporary.
    """
    n = len(values)
    if n == 0:
        return np.zeros(values.shape[1:]), np.zeros(values.shape[1:])
    shift = np.array(values[0], dtype=float)

    def part(first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        total = np.zeros(values.shape[1:])
        squares = np.zeros(values.shape[1:])
        for start in range(first, last, _BLOCK):
            deviation = values[start : min(start + _BLOCK, last)] - shift
            total += deviation.sum(axis=0)
            squares += np.einsum("i...,i...->...", deviation, deviation)
        return total, squares

    total = np.zeros(values.shape[1:])
    squares = np.zeros(values.shape[1:])
    for part_total, part_squares in _in_parts(n, part):
        total += part_total
        squares += part_squares
    mean = shift + total / n
    if n < 2:
        return mean, np.zeros(values.shape[1:])
    return mean, np.maximum(squares - total * total / n, 0.0) / (n - 1)


def _groups(stratum: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows grouped by stratum: (order, strata, starts). order[starts[i]:starts[i + 1]] are
    the rows of strata[i] (sorted), in row order."""
    stratum = np.asarray(stratum)
    key = stratum
    small = len(stratum) and stratum.dtype.kind in "iu" and 0 <= stratum.min()
    if small and stratum.max() < 1 << 15:
        key = stratum.astype(np.int16)  # numpy sorts 16-bit keys by radix: one linear pass
    order = np.argsort(key, kind="stable")
    ordered = stratum[order]
    starts = np.r_[0, np.flatnonzero(ordered[1:] != ordered[:-1]) + 1] if len(order) else order
    return order, ordered[starts], starts


def _ends(order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Where each of `_groups`' groups ends (none when there are no rows at all)."""
    return np.r_[starts[1:], len(order)] if len(order) else starts


def common_support(
    treated_logit: np.ndarray,
    treated_stratum: np.ndarray,
    pool_logit: np.ndarray,
    pool_stratum: np.ndarray,
) -> np.ndarray:
    """True for each participant inside the pool's [min, max] logit in their stratum."""
    treated_logit = np.asarray(treated_logit, dtype=float)
    order, strata, starts = _groups(pool_stratum)
    if not len(order):
        return np.zeros(len(treated_logit), bool)
    values = np.asarray(pool_logit, dtype=float)[order]
    low, high = np.fmin.reduceat(values, starts), np.fmax.reduceat(values, starts)
    where = np.minimum(np.searchsorted(strata, treated_stratum), len(strata) - 1)
    found = strata[where] == treated_stratum
    lo = np.where(found, low[where], np.inf)
    hi = np.where(found, high[where], -np.inf)
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

    Each stratum's pool logits are sorted as values (no argsort of the pool): a match is a
    value, and its weight goes in equal shares to every pool member holding that value,
    found by hashing. So tied members share, and nothing depends on row order. The pair
    recorded for a match names the first such member.
    """
    treated_logit = np.asarray(treated_logit, dtype=float)
    pool_logit = np.asarray(pool_logit, dtype=float)
    n_t, n_p = len(treated_logit), len(pool_logit)
    weight = np.zeros(n_p)
    matched = np.zeros(n_t, bool)
    pairs_t: list[np.ndarray] = []
    pairs_p: list[np.ndarray] = []
    live = ~np.isnan(treated_logit)
    pool_order, pool_strata, pool_starts = _groups(pool_stratum)
    pool_ends = _ends(pool_order, pool_starts)
    t_order, t_strata, t_starts = _groups(np.asarray(treated_stratum)[live])
    t_ends = _ends(t_order, t_starts)
    live_rows = np.flatnonzero(live)
    offsets = np.arange(-k, k)
    for stratum, t_lo, t_hi in zip(t_strata, t_starts, t_ends, strict=True):
        at = int(np.searchsorted(pool_strata, stratum))
        if at == len(pool_strata) or pool_strata[at] != stratum:
            continue
        members = pool_order[pool_starts[at] : pool_ends[at]]  # in row order
        logits = pool_logit[members]
        values = np.sort(logits)
        who = live_rows[t_order[t_lo:t_hi]]
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
        if not len(rows):
            continue
        # Identical values form a tie block [start, end) of the sorted values; the block's
        # total weight is shared by its members.
        start = np.searchsorted(values, values[chosen[rows, cols]], side="left")
        blocks, block_of = np.unique(start, return_inverse=True)
        totals = np.bincount(block_of, weights=1.0 / per_treated[rows])
        picked = values[blocks]  # distinct and sorted
        lengths = np.searchsorted(values, picked, side="right") - blocks
        slot = pd.Index(picked).get_indexer(logits)  # a hash lookup per member
        holds = slot >= 0
        holders, slot = members[holds], slot[holds]
        weight[holders] += (totals / lengths)[slot]
        first = holders[np.unique(slot, return_index=True)[1]]  # first holder in row order
        pairs_t.append(who[rows])
        pairs_p.append(first[block_of])
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
    mean_c_after = pool_weight[used] @ _take_rows(x_pool, used) / pool_weight[used].sum()
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
        # scipy.special, not scipy.stats: the same functions, a fraction of the import time;
        # and only here, so that a binary outcome does not pay for the import at all.
        from scipy.special import stdtr, stdtrit  # type: ignore[import-untyped]

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
    codes_of: _Codes = {}  # a column both categorical and exact is coded once
    design = _design(t_frame, p_frame, spec, labels, codes_of)
    stratum = _strata(t_frame, p_frame, spec, labels, codes_of)

    step("fitting the propensity model")
    is_treated = np.r_[np.ones(n_t), np.zeros(n_p)]
    rows = np.flatnonzero(design.usable)
    x_fit = design.x if len(rows) == len(design.x) else _take_rows(design.x, rows)
    y_fit = is_treated[rows]
    sample = _subsample(y_fit)  # one draw for the rank check and the warm start
    x_sample = None if sample is None else _take_rows(x_fit, sample.rows)
    _check_rank(x_fit, design.names, x_sample)
    beta = _fit(x_fit, y_fit, sample, x_sample)
    del x_sample
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
