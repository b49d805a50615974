"""Proven reoffending from spreadsheet files: CSV in, measures out. Pure: no Django.

Used by `throughgate reoffending` so an analyst can measure a cohort from files
exported from anywhere, without the app or its database.

- people: `person_id, index_date`; every other column is a grouping (age band, gender,
  programme...) reported separately in the readable summary.
- events: `person_id, offence_date, disposal_date, disposal_type` and optionally
  `custodial` (yes/no, blank = no). Disposal types are those of `engines.reoffending`
  ("Youth caution" is read as youth_caution).

Dates are YYYY-MM-DD, or DD/MM/YYYY as UK spreadsheets write them. Every problem is one
`ReoffendingFileError` naming the file, the row as a spreadsheet shows it (the header is
row 1) and the column, e.g. `events.csv row 3, column disposal_date: "31/02/2024" is not
a date`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from throughgate.engines.reoffending import (
    Event,
    InputError,
    Measures,
    Person,
    by_group,
    measure,
    validate_event,
)

PEOPLE_COLUMNS = ("person_id", "index_date")
EVENT_COLUMNS = ("person_id", "offence_date", "disposal_date", "disposal_type")
EVENT_OPTIONAL = ("custodial",)

_ISO = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_UK = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


class ReoffendingFileError(ValueError):
    """A problem with an input file, worded for the person who made the file."""


def parse_date(text: str) -> date:
    """YYYY-MM-DD or DD/MM/YYYY; ValueError with a message fit to show otherwise."""
    value = text.strip()
    if _ISO.fullmatch(value):
        year, month, day = (int(part) for part in value.split("-"))
    elif match := _UK.fullmatch(value):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(f'"{value}" is not a date (write YYYY-MM-DD or DD/MM/YYYY)')
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f'"{value}" is not a date') from None


@dataclass(frozen=True)
class _Row:
    file: str
    number: int  # as a spreadsheet shows it: the header is row 1
    cells: dict[str, str]

    def error(self, column: str, message: str) -> ReoffendingFileError:
        return ReoffendingFileError(f"{self.file} row {self.number}, column {column}: {message}")

    def text(self, column: str) -> str:
        return (self.cells.get(column) or "").strip()

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            raise self.error(column, "is empty")
        return value

    def date(self, column: str, required: bool = True) -> date | None:
        value = self.text(column)
        if not value:
            if required:
                raise self.error(column, "is empty")
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            raise self.error(column, str(exc)) from None


def _rows(
    path: str | Path,
    required: tuple[str, ...],
    optional: tuple[str, ...] | None,
    allow_no_rows: bool,
) -> Iterator[tuple[list[str], _Row]]:
    """(header, row) for each non-blank row; `optional=None` allows any other column."""
    name = str(path)
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except FileNotFoundError:
        raise ReoffendingFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ReoffendingFileError(f"{name}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise ReoffendingFileError(f"{name}: cannot be opened ({exc.strerror})") from None
    with handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or not any(h.strip() for h in header):
                raise ReoffendingFileError(
                    f"{name} is empty: the first row must name the columns ({', '.join(required)})"
                )
            columns = [h.strip() for h in header]
            seen: set[str] = set()
            for position, column in enumerate(columns, start=1):
                key = column.lower()
                if not column:
                    raise ReoffendingFileError(f"{name} row 1: column {position} has no name")
                if key in seen:
                    raise ReoffendingFileError(f"{name} row 1: column {column} appears twice")
                seen.add(key)
                if optional is not None and key not in required and key not in optional:
                    raise ReoffendingFileError(
                        f"{name} row 1: unknown column {column!r} (expected "
                        f"{', '.join(required)}; optional {', '.join(optional)})"
                    )
            missing = [c for c in required if c not in seen]
            if missing:
                raise ReoffendingFileError(
                    f"{name} row 1: missing column"
                    f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                )
            # Required and known columns are matched case-insensitively; group columns
            # keep the name the analyst gave them.
            keys = [c.lower() if c.lower() in required + (optional or ()) else c for c in columns]
            count = 0
            for number, cells in enumerate(reader, start=2):
                if not any(c.strip() for c in cells):
                    continue  # blank lines, often left at the end by spreadsheets
                if len(cells) > len(keys) and any(c.strip() for c in cells[len(keys) :]):
                    raise ReoffendingFileError(
                        f"{name} row {number}: more cells than the header has columns ({len(keys)})"
                    )
                count += 1
                yield keys, _Row(name, number, dict(zip(keys, cells, strict=False)))
            if count == 0 and not allow_no_rows:
                raise ReoffendingFileError(f"{name} has a header but no rows")
        except UnicodeDecodeError:
            raise ReoffendingFileError(
                f'{name} is not UTF-8 text: save it as "CSV UTF-8"'
            ) from None
        except csv.Error as exc:
            raise ReoffendingFileError(f"{name}: not a readable CSV file ({exc})") from None


def read_people(path: str | Path) -> list[Person]:
    people: list[Person] = []
    first_row: dict[str, int] = {}
    for keys, row in _rows(path, PEOPLE_COLUMNS, None, allow_no_rows=False):
        person_id = row.required("person_id")
        if person_id in first_row:
            raise row.error(
                "person_id", f'"{person_id}" is already used on row {first_row[person_id]}'
            )
        first_row[person_id] = row.number
        index = row.date("index_date")
        assert index is not None  # noqa: S101 - required=True never returns None
        groups = {k: row.text(k) for k in keys if k not in PEOPLE_COLUMNS}
        people.append(Person(person_id, index, groups))
    return people


def _disposal_type(row: _Row) -> str:
    return re.sub(r"[\s\-]+", "_", row.required("disposal_type").casefold())


def _custodial(row: _Row) -> bool:
    value = row.text("custodial").casefold()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise row.error("custodial", f'"{row.text("custodial")}" is not yes or no')


def read_events(path: str | Path, people: list[Person] | None = None) -> list[Event]:
    """Events, checked one by one; with `people`, every person_id must be among them."""
    known = {p.person_id for p in people} if people is not None else None
    events: list[Event] = []
    for _keys, row in _rows(path, EVENT_COLUMNS, EVENT_OPTIONAL, allow_no_rows=True):
        person_id = row.required("person_id")
        if known is not None and person_id not in known:
            raise row.error("person_id", f'"{person_id}" is not in the people file')
        event = Event(
            person_id=person_id,
            offence_date=row.date("offence_date", required=False),
            disposal_date=row.date("disposal_date", required=False),
            disposal_type=_disposal_type(row),
            custodial=_custodial(row),
        )
        try:
            validate_event(event)
        except InputError as exc:
            raise row.error(exc.field, exc.detail) from None
        events.append(event)
    return events


@dataclass(frozen=True)
class Report:
    overall: Measures
    groups: dict[str, dict[str, Measures]]  # column -> value -> measures


def reoffending_files(people: str | Path, events: str | Path, as_of: date) -> Report:
    """Read both files and measure the cohort, overall and by every extra people column."""
    cohort = read_people(people)
    event_list = read_events(events, cohort)
    columns = list(cohort[0].groups) if cohort else []
    return Report(
        overall=measure(cohort, event_list, as_of),
        groups={c: by_group(cohort, event_list, as_of, c) for c in columns},
    )


def result_to_json(measures: Measures) -> dict[str, Any]:
    return {
        "as_of": measures.as_of.isoformat(),
        "n_people": measures.n_people,
        "n_mature": measures.n_mature,
        "n_reoffenders": measures.n_reoffenders,
        "binary_rate": measures.binary_rate,
        "rate_ci_low": measures.rate_ci_low,
        "rate_ci_high": measures.rate_ci_high,
        "frequency_per_person": measures.frequency_per_person,
        "frequency_per_reoffender": measures.frequency_per_reoffender,
        "mean_days_to_first": measures.mean_days_to_first,
        "back_in_custody_rate": measures.back_in_custody_rate,
        "km": [
            {"day": p.day, "survival": p.survival, "ci_low": p.ci_low, "ci_high": p.ci_high}
            for p in measures.km
        ],
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, places: int = 2) -> str:
    return "–" if value is None else f"{value:.{places}f}"


def _survival_on(measures: Measures, day: int) -> float | None:
    value = None
    for point in measures.km:
        if point.day > day:
            break
        value = point.survival
    return value


def summary(report: Report) -> str:
    """A readable report for the terminal."""
    m = report.overall
    lines = [
        f"Proven reoffending as of {m.as_of.isoformat()}",
        "(offences in the 12 months after the index date, proven by a conviction or",
        " caution within a further 6 months; people count once 18 months have passed)",
        "",
        f"People: {m.n_people}; counted: {m.n_mature}; not yet 18 months on: {m.n_immature}",
    ]
    if not m.n_mature:
        lines.append("Nobody has completed the follow-up and waiting period yet.")
        return "\n".join(lines) + "\n"
    lines += [
        f"Reoffended: {m.n_reoffenders} of {m.n_mature} = {_pct(m.binary_rate)} "
        f"(95% CI {_pct(m.rate_ci_low)} to {_pct(m.rate_ci_high)})",
        f"Proven offences: {m.n_proven_offences}; {_num(m.frequency_per_person)} per person, "
        f"{_num(m.frequency_per_reoffender)} per reoffender",
        f"Mean days to first proven reoffence: {_num(m.mean_days_to_first, 1)}",
        f"Back in custody (recall or custodial sentence): {m.n_back_in_custody} = "
        f"{_pct(m.back_in_custody_rate)} (95% CI {_pct(m.back_in_custody_ci_low)} to "
        f"{_pct(m.back_in_custody_ci_high)})",
        f"Recalled or breached without a proven new offence: {m.recalls_without_new_offence}",
        "",
        "Not yet proven to have reoffended (Kaplan–Meier):",
    ]
    for day in (30, 91, 182, 273, 365):
        lines.append(f"  day {day:>3}: {_pct(_survival_on(m, day))}")
    for column, values in report.groups.items():
        lines += ["", f"By {column}:"]
        width = max(len(column), *(len(v) for v in values))
        lines.append(f"  {column:<{width}}  counted  reoffended  rate")
        for value, g in values.items():
            lines.append(
                f"  {value:<{width}}  {g.n_mature:>7}  {g.n_reoffenders:>10}  {_pct(g.binary_rate)}"
            )
    return "\n".join(lines) + "\n"
