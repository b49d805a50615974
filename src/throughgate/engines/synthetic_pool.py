"""A synthetic national comparison pool in the layout an impact evaluation reads (see
`outcomes.evaluation` and docs/methodology.md). Pure: no Django.

For demonstrations and tests only: the people are invented, and their chance of
reoffending is made up from their history so that the numbers look like published
proven reoffending figures for young people released from custody (around 40% within a
year, higher with more previous offences and custody, lower with age). Nothing here is
evidence about anyone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

COLUMNS = (
    "person_id", "age_at_index", "prior_offences", "prior_custody", "sentence_days",
    "index_year", "gender", "ethnic_group", "age_band", "reoffended", "offences",
    "days_to_first",
)  # fmt: skip
GENDERS = {"male": 0.91, "female": 0.08, "not_stated": 0.01}
ETHNIC_GROUPS = {
    "white": 0.5, "black": 0.22, "mixed": 0.12, "asian": 0.1, "other": 0.05, "not_stated": 0.01,
}  # fmt: skip


def _age_band(age: np.ndarray) -> np.ndarray:
    return np.select(
        [age <= 17, age <= 20, age <= 24], ["10-17", "18-20", "21-24"], default="25+"
    ).astype(object)


def _pick(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    p = np.array(list(shares.values()))
    return rng.choice(np.array(list(shares), dtype=object), size=n, p=p / p.sum())


def synthetic_pool(
    n: int, seed: int = 0, *, years: tuple[int, int] = (2021, 2025), custody: bool = True
) -> pd.DataFrame:
    """`n` invented people released from custody (or, with `custody=False`, children
    starting community support) with the evaluation's covariates and outcomes."""
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    rng = np.random.default_rng(seed)
    if custody:
        age = np.clip(np.round(rng.gamma(6.0, 1.0, n) + 14.5), 15, 35).astype(int)
        prior_custody = rng.choice([0, 1, 2, 3], size=n, p=[0.62, 0.24, 0.1, 0.04])
        prior_offences = 1 + prior_custody + rng.negative_binomial(2, 0.45, n)
        sentence_days = np.clip(np.round(rng.lognormal(5.35, 0.45, n)), 21, 1500).astype(int)
    else:
        age = rng.integers(10, 18, n)
        prior_custody = np.zeros(n, int)
        prior_offences = rng.choice([0, 1, 2], size=n, p=[0.75, 0.18, 0.07])
        sentence_days = np.zeros(n, int)
    gender = _pick(rng, GENDERS, n)
    male = (gender == "male").astype(float)
    eta = (
        -0.75
        + 0.16 * (prior_offences - 3)
        + 0.3 * prior_custody
        - 0.06 * (age - 19)
        + 0.35 * male
        + 0.0006 * (sentence_days - 200)
    )
    if not custody:
        eta -= 1.0
    reoffended = rng.random(n) < 1 / (1 + np.exp(-eta))
    offences = np.where(reoffended, 1 + rng.poisson(0.9, n), 0)
    # Skewed early, as in published survival curves: about half within four months.
    days = np.where(reoffended, 1 + np.floor(364 * rng.random(n) ** 1.6), np.nan)
    return pd.DataFrame(
        {
            "person_id": np.arange(1, n + 1),
            "age_at_index": age,
            "prior_offences": prior_offences,
            "prior_custody": prior_custody,
            "sentence_days": sentence_days,
            "index_year": rng.integers(years[0], years[1] + 1, n),
            "gender": gender,
            "ethnic_group": _pick(rng, ETHNIC_GROUPS, n),
            "age_band": _age_band(age),
            "reoffended": reoffended.astype(int),
            "offences": offences,
            "days_to_first": days,
        },
        columns=list(COLUMNS),
    )
