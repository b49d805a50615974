"""A Justice Data Lab style report from one matched evaluation. Pure: no Django.

`engines.evaluation.evaluate` matches participants to a comparison group once, on the
headline outcome (one-year proven reoffending, 0 or 1). The Justice Data Lab reports
more measures for the *same* two groups, so this module reuses that matching (the
`treated_matched` flags and `comparison_weights`) for:

- the frequency of proven reoffences (column `offences`, a count), when both groups
  have it;
- the days to the first proven reoffence among those who reoffended (`days_to_first`),
  shown only when each group has at least `MIN_REOFFENDERS` (30) reoffenders, as the
  Justice Data Lab does;
- the time to first proven reoffence of both groups over the year, as survival curves.
  Everyone in an evaluation has a full year of follow-up (only mature people are
  evaluated), so nobody is censored before day 365 and the curve is simply the
  (weighted) share not yet proven to have reoffended by each day. For the comparison
  group the weights are the matching weights.
- a statement of significance in the Justice Data Lab's words.

Everything returned is plain numbers and words (JSON-ready), so the report can be stored
and shown again without the data it came from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from .evaluation import Evaluation, difference

REOFFENDED, OFFENCES, DAYS_TO_FIRST = "reoffended", "offences", "days_to_first"
MIN_REOFFENDERS = 30  # the Justice Data Lab shows days to first reoffence from 30 up
FOLLOW_UP_DAYS = 365
SIGNIFICANCE = 0.05


class ExtraColumnError(ValueError):
    """An optional outcome column (offences, days_to_first) has a bad cell."""


def check_extra_columns(
    frame: pd.DataFrame, label: str, row_of: Any = None, outcome: str = REOFFENDED
) -> pd.DataFrame:
    """Check the optional `offences` and `days_to_first` columns of a frame that also has
    the binary `outcome` (`reoffended`); returns the frame with them as numbers (NaN where
    blank).

    `row_of(position)` turns a 0-based position into the row number to name (default:
    position + 2, the spreadsheet row under a header).
    """
    row = row_of or (lambda position: position + 2)
    out = frame.copy()
    reoffended = pd.to_numeric(out[outcome], errors="coerce").to_numpy(dtype=float)
    if OFFENCES in out:
        values = pd.to_numeric(out[OFFENCES], errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(values) | (values < 0) | (values != np.floor(values))
        if bad.any():
            at = int(np.flatnonzero(bad)[0])
            raise ExtraColumnError(
                f"{label} row {row(at)}: {OFFENCES} must be a whole number of 0 or more, "
                f"not {frame[OFFENCES].iloc[at]!r}"
            )
        inconsistent = (values > 0) != (reoffended == 1)
        if inconsistent.any():
            at = int(np.flatnonzero(inconsistent)[0])
            raise ExtraColumnError(
                f"{label} row {row(at)}: {OFFENCES} is {values[at]:g} but {outcome} is "
                f"{reoffended[at]:g}; someone reoffended exactly when they have an offence"
            )
        out[OFFENCES] = values
    if DAYS_TO_FIRST in out:
        raw = out[DAYS_TO_FIRST]
        blank = raw.isna() | (raw.astype(str).str.strip() == "")
        values = pd.to_numeric(raw.where(~blank), errors="coerce").to_numpy(dtype=float)
        bad = (~blank.to_numpy()) & (
            np.isnan(values)
            | (values < 1)
            | (values > FOLLOW_UP_DAYS)
            | (values != np.floor(values))
        )
        if bad.any():
            at = int(np.flatnonzero(bad)[0])
            raise ExtraColumnError(
                f"{label} row {row(at)}: {DAYS_TO_FIRST} must be a whole number of days from "
                f"1 to {FOLLOW_UP_DAYS}, or blank for someone who did not reoffend, not "
                f"{frame[DAYS_TO_FIRST].iloc[at]!r}"
            )
        missing = (reoffended == 1) & np.isnan(values)
        extra = (reoffended == 0) & ~np.isnan(values)
        if missing.any() or extra.any():
            at = int(np.flatnonzero(missing | extra)[0])
            raise ExtraColumnError(
                f"{label} row {row(at)}: {DAYS_TO_FIRST} "
                + (
                    "is blank for someone who reoffended"
                    if missing[at]
                    else "is given for someone who did not reoffend"
                )
            )
        out[DAYS_TO_FIRST] = values
    return out


def read_extra_columns(
    path: str | Path, label: str, wanted: Sequence[str] = (OFFENCES, DAYS_TO_FIRST)
) -> pd.DataFrame:
    """The `wanted` columns a comparison file has (by default the optional `offences` and
    `days_to_first`), as text, row-aligned with what `evaluation_files.read_table` reads
    (when the file has none of them, the frame has no columns)."""
    from .evaluation_files import PARQUET_SUFFIXES, EvaluationFileError

    try:
        if Path(path).suffix.lower() in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            have = [c for c in wanted if c in pq.read_schema(path).names]
            frame = pq.read_table(path, columns=have).to_pandas() if have else pd.DataFrame()
        else:
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                usecols=lambda c: str(c).strip() in wanted,
            )  # fmt: skip
            frame.columns = [str(c).strip() for c in frame.columns]
    except Exception as exc:  # read_table has already read this file; be safe all the same
        raise EvaluationFileError(f"{label}: cannot read {' or '.join(wanted)} ({exc})") from None
    return frame


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def survival_curve(days_to_first: np.ndarray, weights: np.ndarray) -> list[list[float]]:
    """[[day, per cent not yet reoffended], ...]: day 0 at 100, then each day with a first
    reoffence. `days_to_first` is NaN for people who did not reoffend in the year."""
    days = np.asarray(days_to_first, dtype=float)
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    points = [[0.0, 100.0]]
    if total <= 0:
        return points
    event = ~np.isnan(days)
    if not event.any():
        points.append([float(FOLLOW_UP_DAYS), 100.0])
        return points
    order = np.argsort(days[event], kind="stable")
    d, wd = days[event][order], w[event][order]
    unique, start = np.unique(d, return_index=True)
    per_day = np.add.reduceat(wd, start)
    surviving = 100.0 * (1 - np.cumsum(per_day) / total)
    points += [[float(day), round(float(s), 2)] for day, s in zip(unique, surviving, strict=True)]
    if points[-1][0] < FOLLOW_UP_DAYS:
        points.append([float(FOLLOW_UP_DAYS), points[-1][1]])
    return points


def survival_at(curve: Sequence[Sequence[float]], day: float) -> float:
    """The step curve's value on `day`."""
    value = curve[0][1]
    for d, s in curve:
        if d > day:
            break
        value = s
    return value


def statement(estimate: float, p_value: float, measure: str) -> str:
    """What the difference means, in the Justice Data Lab's manner."""
    if p_value < SIGNIFICANCE and estimate != 0:
        direction = "reduces" if estimate < 0 else "increases"
        return (
            f"This analysis gives significant evidence that taking part {direction} the "
            f"{measure} ({_p(p_value)}): a difference this large would be unlikely "
            "if the programme made no difference."
        )
    return (
        f"This analysis gives no significant evidence that taking part changes the "
        f"{measure} ({_p(p_value)}). That does not show the programme has no effect: "
        "the groups may be too small to detect one."
    )


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _difference_json(result: Any, *, n_treated: int, n_comparison: int) -> dict[str, Any]:
    return {
        "treated_mean": result.treated_mean,
        "comparison_mean": result.comparison_mean,
        "estimate": result.estimate,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p_value": result.p_value,
        "significant": bool(result.p_value < SIGNIFICANCE),
        "n_treated": n_treated,
        "n_comparison": n_comparison,
    }


def report(treated: pd.DataFrame, pool: pd.DataFrame, result: Evaluation) -> dict[str, Any]:
    """The whole report as plain data. `treated` and `pool` are the frames `result` was
    computed from (row-aligned), with `reoffended` and, where known, `offences` and
    `days_to_first` (checked with `check_extra_columns`)."""
    matched = np.asarray(result.treated_matched, dtype=bool)
    weight = np.asarray(result.comparison_weights, dtype=float)
    used = np.flatnonzero(weight)
    t_rows = np.flatnonzero(matched)
    out: dict[str, Any] = {
        "sizes": {
            "n_treated": result.n_treated,
            "n_treated_matched": result.n_treated_matched,
            "n_trimmed": result.n_trimmed,
            "n_no_match": result.n_no_match,
            "n_pool": result.n_pool,
            "n_pool_unusable": result.n_pool_unusable,
            "n_comparison_matched": result.n_comparison_matched,
            "effective_comparison_size": result.effective_comparison_size,
        },
        "headline": {
            "treated_mean": result.treated_mean,
            "comparison_mean": result.comparison_mean,
            "estimate": result.estimate,
            "ci_low": result.ci_low,
            "ci_high": result.ci_high,
            "p_value": result.p_value,
            "significant": bool(result.p_value < SIGNIFICANCE),
            "wording": result.wording,
            "statement": statement(
                result.estimate, result.p_value, "one-year proven reoffending rate"
            ),
        },
        "balance": [
            {
                "covariate": b.covariate,
                "smd_before": _finite(b.smd_before),
                "smd_after": _finite(b.smd_after),
            }
            for b in result.balance
        ],  # fmt: skip
        "caliper_logit": result.caliper_logit,
    }

    if OFFENCES in treated and OFFENCES in pool:
        freq = difference(
            treated[OFFENCES].to_numpy(float)[t_rows],
            pool[OFFENCES].to_numpy(float)[used],
            weight[used],
            "count",
        )
        out["frequency"] = _difference_json(freq, n_treated=len(t_rows), n_comparison=len(used)) | {
            "statement": statement(
                freq.estimate, freq.p_value, "number of proven reoffences per person"
            )
        }
    else:
        out["frequency"] = {"not_shown": "The comparison pool has no offences column."}

    if DAYS_TO_FIRST in treated and DAYS_TO_FIRST in pool:
        t_days = treated[DAYS_TO_FIRST].to_numpy(float)
        p_days = pool[DAYS_TO_FIRST].to_numpy(float)
        t_re = t_rows[~np.isnan(t_days[t_rows])]
        p_re = used[~np.isnan(p_days[used])]
        if len(t_re) >= MIN_REOFFENDERS and len(p_re) >= MIN_REOFFENDERS:
            days = difference(t_days[t_re], p_days[p_re], weight[p_re], "continuous")
            out["days_to_first"] = _difference_json(
                days, n_treated=len(t_re), n_comparison=len(p_re)
            ) | {"statement": statement(
                days.estimate, days.p_value, "time to first proven reoffence"
            )}  # fmt: skip
        else:
            out["days_to_first"] = {
                "not_shown": (
                    f"Shown only when each group has at least {MIN_REOFFENDERS} reoffenders "
                    f"(participants {len(t_re)}, comparison group {len(p_re)})."
                )
            }
        out["survival"] = {
            "treated": survival_curve(t_days[t_rows], np.ones(len(t_rows))),
            "comparison": survival_curve(p_days[used], weight[used]),
        }
    else:
        out["days_to_first"] = {"not_shown": "The comparison pool has no days_to_first column."}
        out["survival"] = None
    return out


# --- from files (throughgate evaluate) ---------------------------------------------------


def report_files(
    treated_path: str | Path, pool_path: str | Path, outcome: str, result: Evaluation
) -> dict[str, Any]:
    """The report for an evaluation `evaluate_files` made of a binary reoffending
    `outcome`, from the files' `offences` and `days_to_first` columns where both have
    them (the report says which measures it could not show)."""
    from .evaluation_files import EvaluationFileError

    frames = []
    for path in (treated_path, pool_path):
        frame = read_extra_columns(path, str(path), (outcome, OFFENCES, DAYS_TO_FIRST))
        try:
            frames.append(check_extra_columns(frame, str(path), outcome=outcome))
        except ExtraColumnError as exc:
            raise EvaluationFileError(str(exc)) from None
    return report(frames[0], frames[1], result)


def report_text(out: dict[str, Any]) -> str:
    """The report's further measures and survival table, for the terminal (the headline
    and balance are in `evaluation_files.summary`)."""
    lines = ["", "Further measures, same matched groups (Justice Data Lab layout):"]
    for key, name, scale, unit in (
        ("frequency", "Proven reoffences per person", 1, ""),
        ("days_to_first", "Days to first proven reoffence (reoffenders)", 1, " days"),
    ):
        section = out.get(key) or {}
        if "estimate" not in section:
            lines.append(f"  {name}: not shown. {section.get('not_shown', '')}".rstrip())
            continue
        lines.append(
            f"  {name}: participants {section['treated_mean'] * scale:.2f}, comparison "
            f"{section['comparison_mean'] * scale:.2f}, difference "
            f"{section['estimate'] * scale:+.2f}{unit} (95% CI {section['ci_low'] * scale:+.2f}"
            f" to {section['ci_high'] * scale:+.2f}; {_p(section['p_value'])})"
        )
    survival = out.get("survival")
    if survival:
        lines += ["", "Per cent not proven to have reoffended, by day:",
                  "  day  participants  comparison"]  # fmt: skip
        for day in (30, 90, 180, 270, 365):
            lines.append(
                f"  {day:>3}  {survival_at(survival['treated'], day):>11.1f}%  "
                f"{survival_at(survival['comparison'], day):>9.1f}%"
            )
    lines.append("")
    lines.append(out["headline"]["statement"])
    return "\n".join(lines) + "\n"
