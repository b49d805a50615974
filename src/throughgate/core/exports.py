"""CSV files that leave the system, safe to open in a spreadsheet.

A cell that begins with =, +, -, @, a tab or a carriage return is read by Excel, Calc and
Sheets as a formula, so a name typed as `=HYPERLINK(...)` could run when a manager opens
an export. `csv_writer` writes such a cell with a leading apostrophe, which spreadsheets
show as text (the OWASP advice for CSV injection). Numbers are written as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, handle: Any) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: Any) -> _SafeWriter:
    """Like `csv.writer(handle)`, with every text cell made spreadsheet-safe."""
    return _SafeWriter(handle)
