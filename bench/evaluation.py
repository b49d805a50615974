"""Benchmark: impact evaluation by propensity-score matching (issue 6).

    .venv/bin/python bench/evaluation.py [--sizes 500x50000,5000x500000,20000x2000000] [--seed 6]

For each size (participants x pool) the script writes a synthetic but realistic pair of
Parquet files (not timed) with a known true effect, then one process run compares:

- ours: `evaluate_files` end to end (read the Parquet files, check every cell, fit the
  propensity model, common support, match within gender x age band, balance, estimate
  with a 95% interval), 1:1 and 1:5;
- the typical recipe a user would write: pandas `read_parquet`, `get_dummies`,
  scikit-learn `LogisticRegression` (lbfgs, no penalty, tol 1e-8, after
  `StandardScaler`), then per
  exact stratum `NearestNeighbors(n_neighbors=k)` on the logit with the same common
  support, caliper (0.2 x pooled SD of the logit) and 1/k weights, the same
  difference of means and the same SMD balance table. Its estimate must agree with ours
  within `--tolerance` (1 percentage point): the fits and tie-breaking differ slightly;
- psmpy (`PsmPy.logistic_ps(balance=False)` + `kdtree_matched`, 1:1 without
  replacement, no exact strata: it has none), at the sizes where it finishes within
  `--psmpy-timeout` seconds and a 12 GiB address-space limit.

The data: ~21 covariates (16 numeric, 5 categorical of which gender and age band are
also the exact strata). Taking part depends on the covariates (the programme takes in
higher-risk people), and so does reoffending, so the raw difference is confounded. Each
participant's chance of reoffending is their untreated chance minus 7 points, with the
untreated chance kept inside [0.12, 0.88], so the true effect on the treated is exactly
-7 percentage points.

Each run is in its own spawned child process, so its peak RSS is its own (interpreter
and imports included). Exit status 1 if ours and the recipe disagree, or ours fails.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import queue as queue_module
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

TRUE_EFFECT = -0.07
CALIPER = 0.2
# Balance is computed and reported (max |SMD| after, below the table), but the refusal
# threshold is relaxed from 0.1: at 500 participants 1:1, chance alone gives each of the
# 37 columns an SMD of about 0.06 SD, so one of them over 0.1 is likely, and the run
# would stop before the estimate this benchmark compares.
MAX_SMD_AFTER = 0.25
OUTCOME = "reoffended"
NUMERIC = (
    "age", "prior_offences", "prior_custodial", "prior_cautions", "years_since_first",
    "sentence_months", "ogrs3", "employed", "accommodation_need", "substance_misuse",
    "mental_health", "care_experience", "education_level", "days_custody_last_year",
    "offence_severity", "time_at_risk_days",
)  # fmt: skip
CATEGORICAL = ("region", "offence_group", "ethnicity", "gender", "age_band")
EXACT = ("gender", "age_band")
REGIONS = ["London", "North East", "North West", "Yorkshire", "Midlands", "South West",
           "South East", "Wales"]  # fmt: skip
OFFENCES = ["violence", "theft", "drugs", "burglary", "public order", "other"]
ETHNICITIES = ["White", "Black", "Asian", "Mixed", "Other"]
BANDS = np.array([18, 21, 25, 30, 40])
BAND_NAMES = np.array(["18-20", "21-24", "25-29", "30-39", "40+"])


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _people(rng, n):
    """n people: a dict of columns, the treatment linear predictor (without intercept)
    and the untreated probability of reoffending."""
    z = rng.standard_normal(n)  # latent risk, drives most covariates
    age = rng.uniform(18, 60, n)
    cols = {
        "age": np.round(age, 1),
        "prior_offences": rng.poisson(np.exp(1.0 + 0.5 * z)).astype(float),
        "prior_custodial": rng.poisson(np.exp(-0.5 + 0.6 * z)).astype(float),
        "prior_cautions": rng.poisson(np.exp(0.2 + 0.3 * z)).astype(float),
        "years_since_first": np.round(np.minimum(rng.gamma(2, 3, n), age - 10), 1),
        "sentence_months": np.round(rng.gamma(2, 4, n), 1),
        "ogrs3": np.round(100 * _expit(-0.3 + 0.9 * z + 0.5 * rng.standard_normal(n)), 1),
        "employed": (rng.random(n) < _expit(0.3 - 0.5 * z)).astype(float),
        "accommodation_need": (rng.random(n) < _expit(-1 + 0.4 * z)).astype(float),
        "substance_misuse": (rng.random(n) < _expit(-0.8 + 0.5 * z)).astype(float),
        "mental_health": (rng.random(n) < 0.3).astype(float),
        "care_experience": (rng.random(n) < _expit(-1.5 + 0.3 * z)).astype(float),
        "education_level": rng.integers(0, 5, n).astype(float),
        "days_custody_last_year": np.round(rng.gamma(0.5, 40, n)),
        "offence_severity": np.round(rng.standard_normal(n) + 0.3 * z, 2),
        "time_at_risk_days": np.round(rng.uniform(300, 365, n)),
        "region": rng.choice(np.array(REGIONS), n, p=[.2, .08, .14, .12, .16, .08, .14, .08]),
        "offence_group": rng.choice(np.array(OFFENCES), n, p=[.25, .25, .15, .1, .15, .1]),
        "ethnicity": rng.choice(np.array(ETHNICITIES), n, p=[.7, .1, .1, .06, .04]),
        "gender": np.where(rng.random(n) < 0.85, "male", "female"),
        "age_band": BAND_NAMES[np.searchsorted(BANDS, age, side="right") - 1],
    }  # fmt: skip
    ogrs = (cols["ogrs3"] - 50) / 20
    prior = np.log1p(cols["prior_offences"]) - 1.2
    young = (35 - age) / 10
    treat = (0.5 * ogrs + 0.3 * prior + 0.25 * young + 0.3 * cols["substance_misuse"]
             - 0.3 * cols["employed"] + 0.2 * cols["accommodation_need"]
             + 0.3 * (cols["region"] == "London") - 0.2 * (cols["offence_group"] == "other")
             + 0.2 * (cols["gender"] == "female")
             + 0.15 * (cols["ethnicity"] == "Black"))  # fmt: skip
    risk = (0.7 * ogrs + 0.3 * prior + 0.3 * young + 0.25 * cols["substance_misuse"]
            - 0.3 * cols["employed"] + 0.25 * cols["accommodation_need"]
            + 0.2 * (cols["offence_group"] == "theft") - 0.2 * (cols["gender"] == "female")
            + 0.1 * cols["mental_health"] - 0.1)  # fmt: skip
    p0 = 0.12 + 0.76 * _expit(risk)  # inside [0.12, 0.88]: minus 7 points never clips
    return cols, treat, p0


def make_files(n_treated, n_pool, seed, folder):
    """Write treated.parquet and pool.parquet; return naive difference and the paths."""
    import pandas as pd

    rng = np.random.default_rng([seed, n_treated, n_pool])
    n = int((n_treated + n_pool) * 1.25)
    cols, treat, p0 = _people(rng, n)
    # Intercept so that about 1.2 x the wanted share take part; then the first n_treated
    # participants and first n_pool others are kept.
    want = 1.2 * n_treated / (n_treated + n_pool)
    lo, hi = -20.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _expit(mid + treat).mean() < want else (lo, mid)
    took = rng.random(n) < _expit(lo + treat)
    t_rows = np.flatnonzero(took)[:n_treated]
    p_rows = np.flatnonzero(~took)[:n_pool]
    assert len(t_rows) == n_treated and len(p_rows) == n_pool, "not enough people drawn"
    y = (rng.random(n) < p0 + np.where(took, TRUE_EFFECT, 0.0)).astype(float)
    frame = pd.DataFrame(cols)
    frame[OUTCOME] = y
    paths = Path(folder) / "treated.parquet", Path(folder) / "pool.parquet"
    frame.iloc[t_rows].reset_index(drop=True).to_parquet(paths[0], index=False)
    frame.iloc[p_rows].reset_index(drop=True).to_parquet(paths[1], index=False)
    naive = y[t_rows].mean() - y[p_rows].mean()
    sample_att = float(TRUE_EFFECT)  # exact: no clipping, see _people
    return paths, float(naive), sample_att


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def repeats(pool_size) -> int:
    # Small runs take well under a second: report the median of several.
    return 5 if pool_size <= 100_000 else 3 if pool_size <= 500_000 else 1


def spec(k):
    from throughgate.engines.evaluation import EvaluationSpec

    return EvaluationSpec(outcome=OUTCOME, outcome_type="binary", covariates=NUMERIC,
                          categorical=CATEGORICAL, exact=EXACT, k=k, caliper=CALIPER,
                          max_smd_after=MAX_SMD_AFTER)  # fmt: skip


def run_ours(paths, k, n_pool, out):
    from throughgate.engines.evaluation_files import evaluate_files

    s = spec(k)
    times = []
    for _ in range(repeats(n_pool)):
        t0 = time.perf_counter()
        result = evaluate_files(*paths, s, progress=False)
        times.append(time.perf_counter() - t0)
    out.put({
        "seconds": statistics.median(times), "peak_mib": _rss_mib(),
        "estimate": result.estimate, "ci": (result.ci_low, result.ci_high),
        "matched": result.n_treated_matched, "trimmed": result.n_trimmed,
        "max_smd": max(abs(b.smd_after) for b in result.balance),
    })  # fmt: skip


def recipe(paths, k):
    """What a careful user would write with pandas and scikit-learn."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import StandardScaler

    t = pd.read_parquet(paths[0])
    p = pd.read_parquet(paths[1])
    df = pd.concat([t.assign(treated=1), p.assign(treated=0)], ignore_index=True)
    x = pd.get_dummies(df[list(NUMERIC + CATEGORICAL)], columns=list(CATEGORICAL),
                       drop_first=True, dtype=float)  # fmt: skip
    scaled = StandardScaler().fit_transform(x)
    # tol 1e-8: at the default 1e-4 lbfgs stops after ~10 iterations with logits off by
    # ~0.2 (about the caliper), because sklearn averages the loss over 50,000+ rows.
    model = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=10_000, tol=1e-8)
    model.fit(scaled, df["treated"])
    logit = model.decision_function(scaled)
    treated = df["treated"].to_numpy() == 1
    caliper = CALIPER * math.sqrt((logit[treated].var(ddof=1) + logit[~treated].var(ddof=1)) / 2)
    weight = np.zeros(len(df))
    matched = np.zeros(len(df), bool)
    for _key, rows in df.groupby(list(EXACT)).indices.items():
        t_rows, p_rows = rows[treated[rows]], rows[~treated[rows]]
        if not len(t_rows) or not len(p_rows):
            continue
        lo, hi = logit[p_rows].min(), logit[p_rows].max()
        t_rows = t_rows[(logit[t_rows] >= lo) & (logit[t_rows] <= hi)]  # common support
        if not len(t_rows):
            continue
        nn = NearestNeighbors(n_neighbors=min(k, len(p_rows))).fit(logit[p_rows, None])
        distance, index = nn.kneighbors(logit[t_rows, None])
        ok = distance <= caliper
        n_ok = ok.sum(axis=1)
        matched[t_rows[n_ok > 0]] = True
        np.add.at(weight, p_rows[index[ok]], np.repeat(1.0 / n_ok[n_ok > 0], n_ok[n_ok > 0]))
    y = df[OUTCOME].to_numpy()
    estimate = y[matched].mean() - np.average(y, weights=weight)
    values = x.to_numpy()
    sd = np.sqrt((values[treated].var(axis=0, ddof=1) + values[~treated].var(axis=0, ddof=1)) / 2)
    after = values[matched].mean(axis=0) - np.average(values, axis=0, weights=weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        smd = np.abs(np.where(sd > 0, after / sd, 0.0))
    return float(estimate), int(matched.sum()), float(smd.max())


def run_recipe(paths, k, n_pool, out):
    import pandas  # noqa: F401 - imports outside the timing, as for ours
    import sklearn.linear_model  # noqa: F401
    import sklearn.neighbors  # noqa: F401

    times = []
    for _ in range(repeats(n_pool)):
        t0 = time.perf_counter()
        estimate, matched, max_smd = recipe(paths, k)
        times.append(time.perf_counter() - t0)
    out.put({"seconds": statistics.median(times), "peak_mib": _rss_mib(),
             "estimate": estimate, "matched": matched, "max_smd": max_smd})  # fmt: skip


def run_psmpy(paths, k, n_pool, out):
    import warnings

    import pandas as pd
    from psmpy import PsmPy

    # Fail with MemoryError rather than take the machine down.
    limit = 12 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    t = pd.read_parquet(paths[0])
    p = pd.read_parquet(paths[1])
    df = pd.concat([t.assign(treated=1), p.assign(treated=0)], ignore_index=True)
    df = pd.get_dummies(df, columns=list(CATEGORICAL), drop_first=True, dtype=float)
    df["id"] = np.arange(len(df))
    psm = PsmPy(df, treatment="treated", indx="id", exclude=[OUTCOME])
    psm.logistic_ps(balance=False)
    psm.kdtree_matched(matcher="propensity_logit", replacement=False, caliper=None)
    pairs = psm.matched_ids
    y = df.set_index("id")[OUTCOME]
    estimate = y.loc[pairs["id"]].mean() - y.loc[pairs["matched_ID"].astype(int)].mean()
    out.put({"seconds": time.perf_counter() - t0, "peak_mib": _rss_mib(),
             "estimate": float(estimate)})  # fmt: skip


def in_child(target, paths, k, n_pool, timeout=None):
    """Run in a spawned process; None if it failed or ran out of time."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    process = ctx.Process(target=target, args=(paths, k, n_pool, out))
    process.start()
    deadline = time.monotonic() + (timeout or 24 * 3600)
    result = None
    while result is None and time.monotonic() < deadline:
        try:
            result = out.get(timeout=1)
        except queue_module.Empty:
            if not process.is_alive():  # died without an answer (e.g. killed for memory)
                break
    if process.is_alive() and result is None:
        process.kill()
    process.join()
    if result is None:
        over = time.monotonic() >= deadline
        result = {"failed": f"over {timeout:.0f} s" if over else f"exit code {process.exitcode}"}
    return result


def secs(t: float) -> str:
    return f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"


def cell(r) -> str:
    return f"{secs(r['seconds'])}, {r['peak_mib']:.0f} MiB"


def pp(x: float) -> str:
    return f"{100 * x:+.2f}"


def versions() -> str:
    from importlib.metadata import version

    names = ["numpy", "pandas", "pyarrow", "scikit-learn", "psmpy"]
    return ", ".join(f"{n} {version(n)}" for n in names)


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip() + ", "
                break
    except OSError:
        pass
    return (f"{model}{os.cpu_count()} cores ({platform.machine()}), {memory:.0f} GiB RAM, "
            f"Python {platform.python_version()}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500x50000,5000x500000,20000x2000000",
                        help="comma-separated TREATEDxPOOL sizes")  # fmt: skip
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--tolerance", type=float, default=0.01,
                        help="ours vs the recipe, as a proportion (default 0.01)")  # fmt: skip
    parser.add_argument("--psmpy-timeout", type=float, default=300)
    parser.add_argument("--no-psmpy", action="store_true")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in s.lower().split("x")) for s in args.sizes.split(",")]
    largest = max(sizes, key=lambda s: s[1])

    print(f"{machine()}; seed {args.seed}")
    print(f"{versions()}\n")
    print(
        "| participants × pool | ours 1:1: time, peak RSS | ours 1:5: time, peak RSS "
        "| recipe 1:1 (1:5): time, peak RSS | speed-up 1:1 (1:5) | psmpy 1:1 "
        "| estimate, pp: ours / recipe, 1:1; 1:5 (true) | ours' 95% CI covers true? "
        "| budget |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    failures, notes = 0, []
    for n_t, n_p in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-evaluation-") as folder:
            paths, naive, _true = make_files(n_t, n_p, args.seed, folder)
            ours = {k: in_child(run_ours, paths, k, n_p) for k in (1, 5)}
            ref = {k: in_child(run_recipe, paths, k, n_p) for k in (1, 5)}
            psm = (
                {"failed": "skipped"} if args.no_psmpy
                else in_child(run_psmpy, paths, 1, n_p, timeout=args.psmpy_timeout)
            )  # fmt: skip
        if any("failed" in r for r in (*ours.values(), *ref.values())):
            failures += 1
            print(f"| {n_t:,} × {n_p:,} | failed: ours {ours}, recipe {ref} |||||||", flush=True)
            continue
        agree = all(abs(ours[k]["estimate"] - ref[k]["estimate"]) <= args.tolerance
                    for k in (1, 5))  # fmt: skip
        failures += not agree
        speed = {k: ref[k]["seconds"] / ours[k]["seconds"] for k in (1, 5)}
        covers = [ours[k]["ci"][0] <= TRUE_EFFECT <= ours[k]["ci"][1] for k in (1, 5)]
        budget = []
        if (n_t, n_p) == largest:
            slowest = max(ours[k]["seconds"] for k in (1, 5))
            heaviest = max(ours[k]["peak_mib"] for k in (1, 5))
            budget.append("< 5 s " + ("✓" if slowest < 5 else "✗"))
            budget.append("< 3 GiB " + ("✓" if heaviest < 3072 else "✗"))
        budget.append("≥ 5× " + ("✓" if min(speed.values()) >= 5 else "✗"))
        psm_cell = (
            f"did not finish ({psm['failed']})" if "failed" in psm
            else f"{cell(psm)}, est. {pp(psm['estimate'])}"
        )  # fmt: skip
        print(
            f"| {n_t:,} × {n_p:,} | {cell(ours[1])} | {cell(ours[5])} "
            f"| {cell(ref[1])} ({cell(ref[5])}) | {speed[1]:.1f}× ({speed[5]:.1f}×) "
            f"| {psm_cell} "
            f"| {pp(ours[1]['estimate'])} / {pp(ref[1]['estimate'])}; "
            f"{pp(ours[5]['estimate'])} / {pp(ref[5]['estimate'])} ({pp(TRUE_EFFECT)})"
            f"{'' if agree else ' MISMATCH'} "
            f"| 1:1 {'✓' if covers[0] else '✗'} [{pp(ours[1]['ci'][0])}, "
            f"{pp(ours[1]['ci'][1])}]; 1:5 {'✓' if covers[1] else '✗'} "
            f"[{pp(ours[5]['ci'][0])}, {pp(ours[5]['ci'][1])}] "
            f"| {'; '.join(budget)} |",
            flush=True,
        )
        notes.append(
            f"- {n_t:,} × {n_p:,}: raw difference {pp(naive)} pp; matched 1:1 "
            f"{ours[1]['matched']:,} (recipe {ref[1]['matched']:,}), trimmed "
            f"{ours[1]['trimmed']}; max |SMD| after, 1:1 {ours[1]['max_smd']:.3f} "
            f"(recipe {ref[1]['max_smd']:.3f}), 1:5 {ours[5]['max_smd']:.3f} "
            f"(recipe {ref[5]['max_smd']:.3f})"
        )
    print("\n" + "\n".join(notes))
    if failures:
        print(f"\nFAILED or MISMATCH at {failures} size(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
