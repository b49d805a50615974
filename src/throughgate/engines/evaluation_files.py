"""Impact evaluation from files: participants and a comparison pool in, result out.
Pure: no Django.

Used by `throughgate evaluate` so an analyst can evaluate a programme from files exported
from anywhere, without the app or its database. Each file has one row per person and a
column for the outcome, each covariate, each categorical and each exact-match column;
other columns are ignored.

- CSV (UTF-8, as spreadsheets save "CSV UTF-8"): read with pandas' C parser, because a
  pool can have millions of rows. Only empty cells are missing values ("NA" is a
  category, not a gap). Blank lines are skipped. Problems name the file, the row as a
  spreadsheet shows it (the header is row 1) and the column:
  `pool.csv row 7, column age: "x" is not a number`.
- Parquet (`.parquet`, `.pq`; needs pyarrow): rows are counted from 1, as there is no
  header row.

Every cell the evaluation uses is checked here, so the engine's own checks (which name
rows by position) never fire on file input.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from throughgate.engines.evaluation import (
    Evaluation,
    EvaluationSpec,
    check_outcome,
    evaluate,
)

PARQUET_SUFFIXES = (".parquet", ".pq")
PROGRESS_OVER = 100_000  # pool rows above which a progress bar is worth showing
STEPS = (
    "reading the files",
    "fitting the propensity model",
    "matching",
    "checking balance",
    "estimating",
)


class EvaluationFileError(ValueError):
    """A problem with an input file, worded for the person who made the file."""


@dataclass(frozen=True)
class _Columns:
    numeric: tuple[str, ...]  # outcome and covariates
    text: tuple[str, ...]  # categorical and exact

    @classmethod
    def of(cls, spec: EvaluationSpec) -> _Columns:
        numeric = tuple(dict.fromkeys((spec.outcome, *spec.covariates)))
        text = tuple(c for c in dict.fromkeys((*spec.categorical, *spec.exact)) if c not in numeric)
        return cls(numeric, text)

    @property
    def all(self) -> tuple[str, ...]:
        return self.numeric + self.text


def read_table(path: str | Path, spec: EvaluationSpec) -> pd.DataFrame:
    """The spec's columns of one file, every cell checked; CSV or Parquet by suffix."""
    frame = _read_checked(path, spec)
    for column in _Columns.of(spec).text:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(str)
    return frame


def _read_checked(path: str | Path, spec: EvaluationSpec) -> pd.DataFrame:
    """As `read_table`, but a Parquet file's text columns stay categorical (the stripped
    text of each distinct value, and a code per row): the engine hashes a few codes
    instead of millions of strings. `evaluate_files` reads this way."""
    name = str(path)
    if Path(path).is_dir():
        raise EvaluationFileError(f"{name}: is a folder, not a file")
    if not Path(path).exists():
        raise EvaluationFileError(f"{name}: no such file")
    columns = _Columns.of(spec)
    row_of: Callable[[str | Path, int], int]
    if Path(path).suffix.lower() in PARQUET_SUFFIXES:
        frame = _read_parquet(path, columns)
        row_of = _parquet_row
    else:
        frame = _read_csv(path, columns)
        row_of = _csv_row
    _check_cells(frame, spec, columns, name, lambda position: row_of(path, position))
    return frame


# --- CSV --------------------------------------------------------------------------------


def _csv_header(path: str | Path) -> list[str]:
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError:
        raise EvaluationFileError(f'{name} is not UTF-8 text: save it as "CSV UTF-8"') from None
    except csv.Error as exc:
        raise EvaluationFileError(f"{name}: not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise EvaluationFileError(f"{name}: cannot be opened ({exc.strerror})") from None
    if header is None or not any(h.strip() for h in header):
        raise EvaluationFileError(f"{name} is empty: the first row must name the columns")
    columns = [h.strip() for h in header]
    seen: set[str] = set()
    for position, column in enumerate(columns, start=1):
        if column in seen:
            raise EvaluationFileError(f"{name} row 1: column {column} appears twice")
        if column:
            seen.add(column)
        elif position < len(columns):  # a trailing empty header cell is harmless
            raise EvaluationFileError(f"{name} row 1: column {position} has no name")
    return columns


def _missing_columns(name: str, have: Sequence[str], want: Sequence[str], row: str) -> None:
    missing = [c for c in want if c not in have]
    if not missing:
        return
    hint = ""
    folded = {h.casefold(): h for h in have}
    close = [
        f"{c} (the file has {folded[c.casefold()]})" for c in missing if c.casefold() in folded
    ]  # noqa: E501
    if close:
        hint = "; check the capitals: " + ", ".join(close)
    raise EvaluationFileError(
        f"{name}{row}: no column{'s' if len(missing) > 1 else ''} {', '.join(missing)}{hint}"
    )


def _read_csv(path: str | Path, columns: _Columns) -> pd.DataFrame:
    name = str(path)
    header = _csv_header(path)
    _missing_columns(name, header, columns.all, " row 1")
    raw_names = {h.strip(): h for h in header}  # pandas keys columns by the raw header text
    try:
        frame = pd.read_csv(
            path,
            usecols=[raw_names[c] for c in columns.all],
            dtype={raw_names[c]: str for c in columns.text},
            keep_default_na=False,
            na_values={raw_names[c]: [""] for c in columns.all},
            encoding="utf-8-sig",
        )
    except UnicodeDecodeError:
        raise EvaluationFileError(f'{name} is not UTF-8 text: save it as "CSV UTF-8"') from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise EvaluationFileError(f"{name}: not a readable CSV file ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _csv_row(path: str | Path, position: int) -> int:
    """The spreadsheet row of the `position`-th data row pandas read (0-based).

    pandas skips blank lines without counting them, so on the (rare) error path the file
    is read again with the csv module to find the row a person would look at.
    """
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        seen = -1
        for number, cells in enumerate(reader, start=2):
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            seen += 1
            if seen == position:
                return number
    return position + 2  # pragma: no cover - pandas and csv agree on what a row is


# --- Parquet ----------------------------------------------------------------------------


def _read_parquet(path: str | Path, columns: _Columns) -> pd.DataFrame:
    name = str(path)
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - depends on the installation
        raise EvaluationFileError(
            f"{name}: reading Parquet needs pyarrow (pip install pyarrow), or save it as CSV"
        ) from None
    try:
        schema = pq.read_schema(path)
        _missing_columns(name, schema.names, columns.all, "")
        # Text columns are read as dictionaries (each distinct value once, and a code per
        # row), which pandas turns into categoricals, without making millions of strings.
        text = [
            c for c in columns.text
            if pa.types.is_string(schema.field(c).type)
            or pa.types.is_large_string(schema.field(c).type)
        ]  # fmt: skip
        table = pq.read_table(path, columns=list(columns.all), read_dictionary=text)
        frame = table.to_pandas(split_blocks=True, self_destruct=True)
        del table
        # Hand Arrow's freed buffers back to the system at once (its allocator would keep
        # them for seconds): the model matrix built next can then reuse those pages.
        pa.default_memory_pool().release_unused()
    except EvaluationFileError:
        raise
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise EvaluationFileError(f"{name}: not a readable Parquet file ({exc})") from None
    for column in columns.text:
        values = frame[column]
        if not isinstance(values.dtype, pd.CategoricalDtype):
            frame[column] = values.where(values.isna(), values.astype(str))
    return frame


def _parquet_row(_path: str | Path, position: int) -> int:
    return position + 1


# --- checks -----------------------------------------------------------------------------


def _check_cells(
    frame: pd.DataFrame,
    spec: EvaluationSpec,
    columns: _Columns,
    name: str,
    row_of: Callable[[int], int],
) -> None:
    def error(position: int, column: str, message: str) -> EvaluationFileError:
        return EvaluationFileError(f"{name} row {row_of(position)}, column {column}: {message}")

    for column in columns.numeric:
        series = frame[column]
        if series.dtype == bool:
            frame[column] = series.astype(float)
            continue
        if series.dtype == np.float64:  # as Parquet files and pandas usually give them
            values = series.to_numpy()
            converted = False
        else:
            values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            converted = True
        bad = ~np.isfinite(values)
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            cell = series.iloc[position]
            if pd.isna(cell):
                raise error(position, column, "is empty")
            raise error(position, column, f'"{str(cell).strip()}" is not a number')
        if column == spec.outcome:
            wrong = check_outcome(values, spec.outcome_type)
            if wrong.any():
                position = int(np.flatnonzero(wrong)[0])
                need = "0 or 1" if spec.outcome_type == "binary" else "a whole number, 0 or more"
                raise error(
                    position,
                    column,
                    f'"{str(series.iloc[position]).strip()}" is not {need} '
                    f"(the outcome is {spec.outcome_type})",
                )
        if converted:
            frame[column] = values
    for column in columns.text:
        text = frame[column]
        if isinstance(text.dtype, pd.CategoricalDtype):
            stripped, blank = _stripped_categories(text)
            if blank is not None:
                raise error(blank, column, "is empty")
            frame[column] = stripped
            continue
        empty = (text.isna() | (text.astype(str).str.strip() == "")).to_numpy()
        if empty.any():
            raise error(int(np.flatnonzero(empty)[0]), column, "is empty")
        frame[column] = text.astype(str).str.strip()


def _stripped_categories(text: pd.Series) -> tuple[pd.Categorical, int | None]:
    """A categorical column checked and stripped as the text it stands for, looking at each
    distinct value once: (the stripped column, the position of the first missing or blank
    row or None). Values equal once stripped become one category."""
    codes = text.cat.codes.to_numpy()
    categories = text.cat.categories
    text_categories = categories.dtype.kind != "O" and pd.api.types.is_string_dtype(categories)
    names = categories.tolist() if text_categories else categories.astype(str).tolist()
    labels = [name.strip() for name in names]
    if text_categories and labels == names and "" not in labels and codes.min(initial=0) >= 0:
        return text.array, None  # already clean: the usual case, with no pass over the rows
    unique, renumber = np.unique(np.array(labels, dtype=object), return_inverse=True)
    blank = np.r_[np.array(labels) == "", True][codes]  # the last entry is code -1: missing
    stripped = pd.Categorical.from_codes(
        np.where(blank, -1, renumber[codes]), categories=pd.Index(unique, dtype=str)
    )
    return stripped, int(np.flatnonzero(blank)[0]) if blank.any() else None


# --- the evaluation ---------------------------------------------------------------------


def evaluate_files(
    treated: str | Path, pool: str | Path, spec: EvaluationSpec, progress: bool | None = None
) -> Evaluation:
    """Read both files and evaluate. Raises `EvaluationFileError` or `EvaluationRefused`.

    `progress=None` shows a bar on stderr when it is a terminal and the pool is large.
    """
    from tqdm import tqdm  # type: ignore[import-untyped]

    treated_frame = _read_checked(treated, spec)
    pool_frame = _read_checked(pool, spec)
    show = sys.stderr.isatty() and len(pool_frame) > PROGRESS_OVER if progress is None else progress
    with tqdm(
        total=len(STEPS), initial=1, file=sys.stderr, disable=not show, leave=False, unit="step"
    ) as bar:

        def step(name: str) -> None:
            bar.set_description(name)
            bar.update(1 if bar.n < len(STEPS) else 0)

        return evaluate(
            treated_frame, pool_frame, spec, labels=(str(treated), str(pool)), progress=step
        )


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None  # JSON has no infinity


def result_to_json(result: Evaluation) -> dict[str, Any]:
    return {
        "estimate": result.estimate,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p_value": result.p_value,
        "n_treated": result.n_treated,
        "n_treated_matched": result.n_treated_matched,
        "n_comparison_matched": result.n_comparison_matched,
        "treated_mean": result.treated_mean,
        "comparison_mean": result.comparison_mean,
        "balance": [
            {
                "covariate": b.covariate,
                "smd_before": _finite(b.smd_before),
                "smd_after": _finite(b.smd_after),
            }
            for b in result.balance
        ],
        "n_trimmed": result.n_trimmed,
        "wording": result.wording,
    }


def _value(result: Evaluation, value: float) -> str:
    return f"{100 * value:.1f}%" if result.outcome_type == "binary" else f"{value:.3f}"


def summary(result: Evaluation) -> str:
    """A readable report for the terminal."""
    r = result
    gap = "percentage points" if r.outcome_type == "binary" else "per person"
    scale = 100 if r.outcome_type == "binary" else 1
    unusable = (
        f"; {r.n_pool_unusable} with a category no participant has" if r.n_pool_unusable else ""
    )
    lines = [
        f"Impact evaluation ({r.outcome_type} outcome), participants against a matched "
        "comparison group",
        "",
        f"Participants: {r.n_treated}; matched: {r.n_treated_matched} "
        f"({r.n_trimmed} outside the pool's range, {r.n_no_match} with nobody within the "
        "caliper)",
        f"Pool: {r.n_pool}; used as comparisons: {r.n_comparison_matched} "
        f"(effective size {r.effective_comparison_size:.0f}){unusable}",
        "",
        f"Participants:     {_value(r, r.treated_mean)}",
        f"Comparison group: {_value(r, r.comparison_mean)}",
        f"Difference:       {scale * r.estimate:+.{1 if scale == 100 else 3}f} {gap} "
        f"(95% CI {scale * r.ci_low:+.{1 if scale == 100 else 3}f} to "
        f"{scale * r.ci_high:+.{1 if scale == 100 else 3}f}; p = {_p(r.p_value)})",
        "",
        r.wording,
        "",
        "Balance (standardised mean differences; under 0.1 is good):",
    ]
    width = max([len("covariate"), *(len(b.covariate) for b in r.balance)])
    lines.append(f"  {'covariate':<{width}}  before   after")
    for b in r.balance:
        lines.append(f"  {b.covariate:<{width}}  {b.smd_before:+.3f}  {b.smd_after:+.3f}")
    return "\n".join(lines) + "\n"


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"
