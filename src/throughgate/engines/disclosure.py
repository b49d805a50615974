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


# --- Funder report tables: "<5" for small counts, "[c]" for their complements ------------
#
# The funder report (reports.funder) marks a small count as "<5" (what funders and boards
# are used to reading) and a cell hidden only to protect one as "[c]". Because "<5" says a
# hidden count lies between 1 and threshold-1, plain "never exactly one hidden cell" is not
# enough: a total of 8 over two "<5" cells gives both away (4 + 4). So complementary cells
# are added until no hidden cell's value is pinned down by the visible total, the visible
# cells and what the markers say (`pinned_cells`); when no cell is left to hide, the
# total is hidden instead.

SMALL_MARK = "<{threshold}"
COMPLEMENT_MARK = HIDDEN  # "[c]"


@dataclass(frozen=True)
class Mark:
    """One count as it may leave the system: the value, and whether and why it is hidden."""

    value: int
    hidden: str  # "": shown; "small": 1..threshold-1; "complement": hidden to protect one
    threshold: int

    def __str__(self) -> str:
        if self.hidden == "small":
            return SMALL_MARK.format(threshold=self.threshold)
        if self.hidden == "complement":
            return COMPLEMENT_MARK
        return f"{self.value:,}"

    @property
    def shown(self) -> int | None:
        return None if self.hidden else self.value

    def bounds(self) -> tuple[int, float]:
        """What a reader knows of the value: exact when shown; 1..threshold-1 for "<5";
        at least the threshold for "[c]" (a complementary cell is never small or zero)."""
        if self.hidden == "small":
            return 1, self.threshold - 1
        if self.hidden == "complement":
            return self.threshold, float("inf")
        return self.value, self.value


@dataclass(frozen=True)
class MarkedTable:
    cells: tuple[Mark, ...]
    total: Mark


def mark_count(value: int, threshold: int) -> Mark:
    """A count on its own (no total beside it): hidden when 1..threshold-1."""
    if value < 0:
        raise ValueError(f"a count cannot be negative ({value})")
    return Mark(value, "small" if 0 < value < threshold else "", threshold)


def pinned_cells(cells: Sequence[Mark], total: Mark) -> list[int]:
    """The hidden cells whose value a reader can work out exactly from a visible total,
    the visible cells and the range each marker gives (interval reasoning)."""
    if total.hidden:
        return []
    hidden = [i for i, c in enumerate(cells) if c.hidden]
    if not hidden:
        return []
    rest = total.value - sum(c.value for c in cells if not c.hidden)
    pinned = []
    for i in hidden:
        others = [cells[j].bounds() for j in hidden if j != i]
        low_i, high_i = cells[i].bounds()
        low = max(low_i, rest - sum(h for _l, h in others))
        high = min(high_i, rest - sum(lo for lo, _h in others))
        if low == high:
            pinned.append(i)
    return pinned


def mark_table(values: Sequence[int], threshold: int) -> MarkedTable:
    """Suppress the cells of one breakdown and its total (their sum: the cells must not
    overlap, or the subtraction below would be wrong).

    Primary: every cell (and the total) from 1 to threshold-1 is "<5". Secondary: while
    some hidden cell could be worked out from the visible total, the smallest visible
    non-zero cell is hidden as "[c]"; with none left, the total is hidden too. Zero is
    always shown: it gives nothing away about anyone."""
    if any(v < 0 for v in values):
        raise ValueError("a count cannot be negative")
    cells = [mark_count(v, threshold) for v in values]
    whole = mark_count(sum(values), threshold)
    while pinned_cells(cells, whole):
        candidates = [i for i, c in enumerate(cells) if not c.hidden and c.value > 0]
        if not candidates:
            whole = Mark(whole.value, "complement", threshold)
            break
        j = min(candidates, key=lambda i: (cells[i].value, i))
        cells[j] = Mark(cells[j].value, "complement", threshold)
    return MarkedTable(tuple(cells), whole)


def share(part: Mark, whole: Mark) -> str:
    """A percentage for the page: hidden ("[c]") when its count or its base is hidden, a
    dash when the base is zero."""
    if part.hidden or whole.hidden:
        return COMPLEMENT_MARK
    if whole.value == 0:
        return "–"
    return f"{round(100 * part.value / whole.value)}%"
