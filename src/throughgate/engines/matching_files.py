"""Mentor matching from spreadsheet files: CSV in, assignment out.

Used by `throughgate match` so that a coordinator or analyst can run a batch match
from files exported from anywhere, without the app or its database. Pure: no Django.

Every problem with a file is reported as one `MatchFileError` that names the file, the
row as a spreadsheet shows it (the header is row 1) and the column, for example
`mentors.csv row 4, column capacity: "six" is not a whole number`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from throughgate.engines.matching import (
    BatchResult,
    ConflictIndex,
    Mentor,
    YoungPerson,
    assign_batch,
)

LIST_SEPARATOR = ";"

MENTOR_COLUMNS = (
    "mentor_id",
    "capacity",
    "gender",
    "languages",
    "boroughs_known",
    "exclusion_boroughs",
    "lived_experience",
    "cleared_establishments",
)
MENTOR_OPTIONAL = (
    "name",
    "caseload",
    "age",
    "exclusion_postcodes",
    "avoid_boroughs",
    "custody_history",
    "non_associates",
    "ready",
    "not_ready_reasons",
)
YOUNG_COLUMNS = (
    "person_id",
    "gender",
    "mentor_gender_required",
    "borough",
    "language",
    "establishment",
    "lived_experience",
)
YOUNG_OPTIONAL = ("name", "age", "postcode", "current_mentor", "associates")
CONFLICT_COLUMNS = ("a_id", "b_id")

_YES = {"yes", "y", "true", "1", ""}
_NO = {"no", "n", "false", "0"}


class MatchFileError(ValueError):
    """A problem with an input file, worded for the person who made the file."""


@dataclass(frozen=True)
class _Row:
    file: str
    number: int  # as a spreadsheet shows it: the header is row 1
    cells: dict[str, str]

    def where(self, column: str | None = None) -> str:
        at = f"{self.file} row {self.number}"
        return f"{at}, column {column}" if column else at

    def error(self, column: str, message: str) -> MatchFileError:
        return MatchFileError(f"{self.where(column)}: {message}")

    def text(self, column: str) -> str:
        return (self.cells.get(column) or "").strip()

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            raise self.error(column, "is empty")
        return value

    def whole_number(self, column: str, default: int | None = None) -> int | None:
        """A non-negative whole number; `default` when blank (None: the cell is required)."""
        value = self.text(column)
        if not value:
            if default is None:
                raise self.error(column, "is empty")
            return default
        try:
            number = int(value)
        except ValueError:
            raise self.error(column, f'"{value}" is not a whole number') from None
        if number < 0:
            raise self.error(column, f"{number} must not be negative")
        return number

    def items(self, column: str) -> frozenset[str]:
        return frozenset(p.strip() for p in self.text(column).split(LIST_SEPARATOR) if p.strip())


def _rows(
    path: str | Path,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    allow_no_rows: bool = False,
) -> Iterator[_Row]:
    name = str(path)
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except FileNotFoundError:
        raise MatchFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise MatchFileError(f"{name}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise MatchFileError(f"{name}: cannot be opened ({exc.strerror})") from None
    with handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or not any(h.strip() for h in header):
                raise MatchFileError(
                    f"{name} is empty: the first row must name the columns ({', '.join(required)})"
                )
            columns = [h.strip().lower() for h in header]
            seen: set[str] = set()
            for column in columns:
                if column in seen:
                    raise MatchFileError(f"{name} row 1: column {column} appears twice")
                seen.add(column)
                if column and column not in required and column not in optional:
                    raise MatchFileError(
                        f"{name} row 1: unknown column {column!r} (expected "
                        f"{', '.join(required)}; optional {', '.join(optional)})"
                    )
            missing = [c for c in required if c not in seen]
            if missing:
                raise MatchFileError(
                    f"{name} row 1: missing column"
                    f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                )
            count = 0
            for number, cells in enumerate(reader, start=2):
                if not any(c.strip() for c in cells):
                    continue  # blank lines, often left at the end by spreadsheets
                if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
                    raise MatchFileError(
                        f"{name} row {number}: more cells than the header "
                        f"has columns ({len(columns)})"
                    )
                count += 1
                yield _Row(name, number, dict(zip(columns, cells, strict=False)))
            if count == 0 and not allow_no_rows:
                raise MatchFileError(f"{name} has a header but no rows")
        except UnicodeDecodeError:
            raise MatchFileError(f'{name} is not UTF-8 text: save it as "CSV UTF-8"') from None
        except csv.Error as exc:
            raise MatchFileError(f"{name}: not a readable CSV file ({exc})") from None


def _unique_ids(rows: list[tuple[_Row, Any]], column: str, get_id: Callable[[Any], str]) -> None:
    first: dict[str, int] = {}
    for row, item in rows:
        key = get_id(item)
        if key in first:
            raise row.error(column, f'"{key}" is already used on row {first[key]}')
        first[key] = row.number


def _ready(row: _Row) -> bool:
    value = row.text("ready").casefold()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise row.error("ready", f'"{row.text("ready")}" is not yes or no')


def read_mentors(path: str | Path) -> list[Mentor]:
    parsed: list[tuple[_Row, Mentor]] = []
    for row in _rows(path, MENTOR_COLUMNS, MENTOR_OPTIONAL):
        capacity = row.whole_number("capacity") or 0
        caseload = row.whole_number("caseload", 0) or 0
        if caseload > capacity:
            raise row.error("caseload", f"{caseload} is more than the capacity {capacity}")
        age = row.whole_number("age", -1)
        languages = row.items("languages") or frozenset({"English"})
        parsed.append(
            (
                row,
                Mentor(
                    id=row.required("mentor_id"),
                    capacity=capacity,
                    caseload=caseload,
                    name=row.text("name"),
                    gender=row.text("gender"),
                    age=None if age == -1 else age,
                    languages=languages,
                    boroughs_known=row.items("boroughs_known"),
                    exclusion_boroughs=row.items("exclusion_boroughs"),
                    exclusion_postcodes=row.items("exclusion_postcodes"),
                    avoid_boroughs=row.items("avoid_boroughs"),
                    non_associates=row.items("non_associates"),
                    lived_experience=row.items("lived_experience"),
                    custody_history=row.items("custody_history"),
                    cleared_establishments=row.items("cleared_establishments"),
                    ready=_ready(row),
                    not_ready_reasons=tuple(sorted(row.items("not_ready_reasons"))),
                ),
            )
        )
    _unique_ids(parsed, "mentor_id", lambda m: m.id)
    return [m for _, m in parsed]


def read_young_people(path: str | Path) -> list[YoungPerson]:
    parsed: list[tuple[_Row, YoungPerson]] = []
    for row in _rows(path, YOUNG_COLUMNS, YOUNG_OPTIONAL):
        age = row.whole_number("age", -1)
        parsed.append(
            (
                row,
                YoungPerson(
                    id=row.required("person_id"),
                    name=row.text("name"),
                    gender=row.text("gender"),
                    mentor_gender_required=row.text("mentor_gender_required"),
                    age=None if age == -1 else age,
                    borough=row.text("borough"),
                    postcode=row.text("postcode"),
                    language=row.text("language") or "English",
                    establishment=row.text("establishment"),
                    lived_experience=row.items("lived_experience"),
                    current_mentor=row.text("current_mentor") or None,
                    associates=row.items("associates"),
                ),
            )
        )
    _unique_ids(parsed, "person_id", lambda y: y.id)
    return [y for _, y in parsed]


def read_conflicts(path: str | Path) -> ConflictIndex:
    pairs = []
    for row in _rows(path, CONFLICT_COLUMNS, (), allow_no_rows=True):
        a, b = row.required("a_id"), row.required("b_id")
        if a == b:
            raise row.error("b_id", f"a conflict needs two different people: {a}")
        pairs.append((a, b))
    return ConflictIndex(pairs)


def match_files(
    mentors: str | Path, young_people: str | Path, conflicts: str | Path | None = None
) -> BatchResult:
    """Read the files and run the batch match."""
    mentor_list = read_mentors(mentors)
    young = read_young_people(young_people)
    index = read_conflicts(conflicts) if conflicts else ConflictIndex()
    return assign_batch(mentor_list, young, index)


def result_to_json(result: BatchResult) -> dict[str, Any]:
    return {
        "assignments": [
            {
                "person_id": a.person_id,
                "mentor_id": a.mentor_id,
                "cost": a.cost,
                "reasons": a.reasons,
            }
            for a in result.assignments
        ],
        "unassigned": [{"person_id": u.person_id, "reasons": u.reasons} for u in result.unassigned],
        "total_cost": result.total_cost,
    }


def summary(result: BatchResult) -> str:
    """A readable table for the terminal."""
    placed, waiting = len(result.assignments), len(result.unassigned)
    lines = [
        f"Assigned {placed} of {placed + waiting} young people; total cost {result.total_cost}.",
        "",
    ]
    if result.assignments:
        width_p = max(len("young person"), *(len(str(a.person_id)) for a in result.assignments))
        width_m = max(len("mentor"), *(len(str(a.mentor_id)) for a in result.assignments))
        lines.append(f"{'young person':<{width_p}}  {'mentor':<{width_m}}  {'cost':>4}  why")
        for a in result.assignments:
            lines.append(
                f"{a.person_id!s:<{width_p}}  {a.mentor_id!s:<{width_m}}  "
                f"{a.cost:>4}  {'; '.join(a.reasons)}"
            )
        lines.append("")
    if result.unassigned:
        lines.append(f"Not assigned ({waiting}):")
        for u in result.unassigned:
            lines.append(f"  {u.person_id}: {'; '.join(u.reasons)}")
    return "\n".join(lines).rstrip() + "\n"
