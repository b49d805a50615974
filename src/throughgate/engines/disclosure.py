"""Small-number suppression for aggregate figures shown to people without
access to personal data (analysts, funders).

A count below the threshold could identify a young person ("the one girl from
Bexley released in March"), so it is hidden; zero is safe to show. Where a
total is given beside hidden cells, the next-smallest cell is hidden too so the
small one cannot be recovered by subtraction. Every hidden cell shows the same
neutral marker, "[c]" (the ONS convention for confidential), because marking
only the small one "<5" would both mislabel the other and say which is which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HIDDEN = "[c]"


@dataclass(frozen=True)
class Cell:
    value: int
    suppressed: bool
    threshold: int

    def __str__(self) -> str:
        return HIDDEN if self.suppressed else f"{self.value:,}"

    @property
    def shown(self) -> int | None:
        return None if self.suppressed else self.value


def suppress_row(values: Sequence[int], threshold: int) -> list[Cell]:
    """Primary suppression of 1..threshold-1, then complementary suppression so that
    a row with a visible total never has exactly one hidden cell."""
    cells = [Cell(v, 0 < v < threshold, threshold) for v in values]
    hidden = [i for i, c in enumerate(cells) if c.suppressed]
    if len(hidden) == 1:
        candidates = [i for i, c in enumerate(cells) if not c.suppressed and c.value > 0]
        if candidates:
            j = min(candidates, key=lambda i: cells[i].value)
            cells[j] = Cell(cells[j].value, True, threshold)
    return cells


def suppress_total(total: int, threshold: int) -> Cell:
    return Cell(total, 0 < total < threshold, threshold)
