"""Reading a CSV or XLSX file one row at a time, whatever its size.

Rows are numbered as a spreadsheet numbers them (the header is row 1, the first row of
data row 2), so "row 17" in a report is row 17 on the person's screen. Anything wrong
with the file as a whole (empty, not UTF-8, not a spreadsheet, no header row) is a
`FileProblem` with a message that says what to do.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

# Longest cell read: a contact summary is a few paragraphs, not a book; a longer cell is
# nearly always a broken quote that swallowed the rest of the file.
MAX_CELL = 10_000
# The csv module's own limit, above ours so that a long cell is reported on its row.
csv.field_size_limit(1_000_000)

SUFFIXES = (".csv", ".xlsx")
LOOKS_LIKE_DATA = re.compile(r"^[\d\s/:.\-+]+$")


class FileProblem(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""

    @property
    def message(self) -> str:
        return str(self.args[0])


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]  # (row number, cells)
    close: Any = field(default=lambda: None)
    estimated_rows: int = 0  # for progress: rows of data, roughly (lines, or the sheet's size)


def _check_headers(cells: list[Any]) -> list[str]:
    headers = ["" if c is None else str(c).strip() for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise FileProblem("The first row is empty: it must hold the column names.")
    named = [h for h in headers if h]
    data_like = [h for h in named if LOOKS_LIKE_DATA.match(h)]
    if data_like or any(isinstance(c, (date, datetime, int, float)) for c in cells if c != ""):
        example = (data_like or [str(next(c for c in cells if c not in (None, "")))])[0]
        raise FileProblem(
            f"The first row looks like data ({example[:40]!r}), not column names. "
            "Add a header row naming each column."
        )
    for position, header in enumerate(headers, start=1):
        if not header:
            raise FileProblem(f"Column {position} of the header row has no name.")
        if len(header) > 200:
            raise FileProblem(f"Column {position}'s name is longer than 200 characters.")
        if "\x00" in header:
            # Never meant, and PostgreSQL refuses it in text and JSON (found by the fuzzer).
            raise FileProblem(f"Column {position}'s name holds a NUL character (\\0).")
    seen: set[str] = set()
    for header in headers:
        if header.casefold() in seen:
            raise FileProblem(f"Two columns are called {header!r}; rename one of them.")
        seen.add(header.casefold())
    return headers


def open_table(path: str | Path, name: str = "") -> Table:
    """Open `path` (read as the kind its own name, `name`, says) for streaming."""
    suffix = Path(name or str(path)).suffix.lower()
    if suffix == ".csv":
        return _open_csv(Path(path))
    if suffix == ".xlsx":
        return _open_xlsx(Path(path))
    raise FileProblem("Choose a .csv or .xlsx file (an old .xls file: save it as .xlsx first).")


def _decode_problem(line: int) -> FileProblem:
    return FileProblem(
        f"Line {line} has characters that are not UTF-8 text. Save the file as "
        "'CSV UTF-8 (comma delimited)' and upload it again."
    )


def check_encoding(path: str | Path, name: str = "") -> None:
    """Read a CSV file through once as UTF-8 (fast: no parsing), so that an upload in
    another encoding is refused at once with the line to look at, not later in a check."""
    if Path(name or str(path)).suffix.lower() != ".csv":
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    with open(path, "rb") as raw:
        while block := raw.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise _decode_problem(lines + block.count(b"\n", 0, exc.start)) from None
            lines += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _decode_problem(lines) from None


def _count_lines(path: Path) -> int:
    lines = 0
    with open(path, "rb") as raw:
        while block := raw.read(1 << 20):
            lines += block.count(b"\n")
    return lines


def _first_bad_line(path: Path) -> int:
    try:
        check_encoding(path)
    except FileProblem as exc:
        found = re.search(r"Line (\d+)", exc.message)
        if found:
            return int(found.group(1))
    return 1


def _open_csv(path: Path) -> Table:
    # Decoded by the io module a block at a time (fast); when a block is not UTF-8, the
    # file is scanned again to name the first line that is not (`check_encoding`).
    handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by Table.close
    reader = csv.reader(handle)
    try:
        first = next(reader, None)
    except UnicodeDecodeError:
        handle.close()
        raise _decode_problem(_first_bad_line(path)) from None
    except csv.Error as exc:
        handle.close()
        raise FileProblem(f"Row 1 cannot be read as CSV ({exc}).") from None
    if first is None or not any(c.strip() for c in first):
        handle.close()
        raise FileProblem("The file is empty: it has no header row and no rows of data.")
    try:
        headers = _check_headers(first)
    except FileProblem:
        handle.close()
        raise

    def rows() -> Iterator[tuple[int, list[Any]]]:
        number = 1
        try:
            for cells in reader:
                number += 1
                if "".join(cells).strip():  # a row of empty cells is not a row
                    yield number, cells
        except UnicodeDecodeError:
            raise _decode_problem(_first_bad_line(path)) from None
        except csv.Error as exc:
            raise FileProblem(f"Row {number + 1} cannot be read as CSV ({exc}).") from None

    return Table(headers, rows(), handle.close, _count_lines(path) - 1)


def _open_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise FileProblem(
            "This is not an Excel .xlsx workbook (or it is damaged). Open it in your "
            "spreadsheet program and save it as .xlsx or CSV UTF-8."
        ) from None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        book.close()
        raise FileProblem("The workbook has no sheets.")
    values = sheet.iter_rows(values_only=True)
    first = next(values, None)
    if first is None or all(c in (None, "") for c in first):
        book.close()
        raise FileProblem("The first sheet is empty: it has no header row and no rows of data.")
    try:
        headers = _check_headers(list(first))
    except FileProblem:
        book.close()
        raise

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in enumerate(values, start=2):
            if any(c not in (None, "") for c in cells):
                yield number, list(cells)

    return Table(headers, rows(), book.close, max((sheet.max_row or 1) - 1, 0))
