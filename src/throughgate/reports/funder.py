"""The funder / board report: the registry's figures for a period and programmes, with
small-number suppression applied once, here, before anything is shown or written.

The page, the PDF (WeasyPrint, from the same template and the same SVG charts), the CSV
and the XLSX all come from one `Report`, so what leaves the system in any of them has
been through `engines.disclosure.mark_table` / `mark_count`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from throughgate.casework.models import Programme
from throughgate.core.exports import csv_writer, spreadsheet_safe
from throughgate.engines.disclosure import COMPLEMENT_MARK, Mark, mark_count, mark_table, share

from .charts import bar_chart
from .figures import REGISTRY, Counts, Figure, Period

TITLE = "Funder and board report"


@dataclass
class Row:
    label: str
    count: Mark
    percent: str = ""


@dataclass
class Shown:
    """One figure as it may leave the system: suppressed, with its definition."""

    figure: Figure
    counts: Counts
    rows: list[Row]
    total: Row | None

    @property
    def key(self) -> str:
        return self.figure.key

    @property
    def chart(self) -> SafeString:
        return bar_chart(
            self.figure.title,
            [r.label for r in self.rows],
            [r.count.shown for r in self.rows],
            f"chart-{self.key}",
        )

    @property
    def has_percent(self) -> bool:
        return self.counts.percent


@dataclass
class Section:
    title: str
    figures: list[Shown] = field(default_factory=list)


@dataclass
class Report:
    period: Period
    programmes: list[str]
    threshold: int
    sections: list[Section]
    made_at: Any

    @property
    def figures(self) -> list[Shown]:
        return [f for s in self.sections for f in s.figures]

    @property
    def small_mark(self) -> str:
        return f"<{self.threshold}"

    @property
    def describe(self) -> str:
        """The period and programmes in words (for titles and the audit trail)."""
        return f"{self.period}; {', '.join(self.programmes) or 'no programme'}"


def present(figure: Figure, counts: Counts, threshold: int) -> Shown:
    """Apply small-number suppression to one figure's counts."""
    values = [n for _label, n in counts.rows]
    if counts.additive:
        table = mark_table(values, threshold)
        rows = [
            Row(label, mark, share(mark, table.total) if counts.percent else "")
            for (label, _n), mark in zip(counts.rows, table.cells, strict=True)
        ]
        total = Row(counts.total_label, table.total, "100%" if counts.percent else "")
        if counts.percent and table.total.value == 0:
            total.percent = "–"
        return Shown(figure, counts, rows, total)
    rows = [Row(label, mark_count(n, threshold)) for label, n in counts.rows]
    return Shown(figure, counts, rows, None)


def build(start: date, end: date, programmes: QuerySet[Programme]) -> Report:
    """Every registered figure for the period and programmes: a fixed number of queries."""
    period = Period(start, end)
    threshold = settings.SMALL_NUMBER_THRESHOLD
    programmes = programmes.order_by("name")
    sections: dict[str, Section] = {}
    for figure in REGISTRY:
        shown = present(figure, figure.compute(period, programmes), threshold)
        sections.setdefault(figure.section, Section(figure.section)).figures.append(shown)
    return Report(
        period,
        list(programmes.values_list("name", flat=True)),
        threshold,
        list(sections.values()),
        timezone.localtime(),
    )


def legend(threshold: int) -> list[tuple[str, str]]:
    return [
        (f"<{threshold}", f"A count from 1 to {threshold - 1}, hidden so that no young person "
                          "can be picked out."),
        (COMPLEMENT_MARK, "Hidden so that a small count cannot be worked out by subtracting "
                          "the other numbers from the total. A percentage is hidden when its "
                          "count or its total is."),
        ("0", "Zero is shown: it tells nothing about anyone."),
    ]  # fmt: skip


# --- Files ------------------------------------------------------------------------------

HEADER = ["Section", "Figure", "Row", "Count", "Per cent"]


def _cell(mark: Mark) -> int | str:
    """A shown count as a number (so spreadsheets can add it up); a hidden one as its
    marker text."""
    return mark.value if not mark.hidden else str(mark)


def table_rows(report: Report) -> list[list[Any]]:
    """The report as rows, for the CSV and the XLSX."""
    rows: list[list[Any]] = [
        [TITLE],
        ["Period", f"{report.period.start:%Y-%m-%d} to {report.period.end:%Y-%m-%d}"],
        ["Programmes", ", ".join(report.programmes)],
        ["Made", f"{report.made_at:%Y-%m-%d %H:%M}"],
        [],
        HEADER,
    ]
    for section in report.sections:
        for shown in section.figures:
            for row in [*shown.rows, *([shown.total] if shown.total else [])]:
                rows.append(
                    [section.title, shown.figure.title, row.label, _cell(row.count), row.percent]
                )
            for label, value in shown.counts.reference:
                rows.append([section.title, shown.figure.title, label, "", value])
            for note in shown.counts.notes:
                rows.append([section.title, shown.figure.title, note, "", ""])
    rows += [[], ["Key"], *[[mark, meaning] for mark, meaning in legend(report.threshold)]]
    rows += [[], ["Figure", "Definition"]]
    rows += [[f.figure.title, f.figure.definition] for f in report.figures]
    return rows


def as_csv(report: Report) -> str:
    handle = io.StringIO()
    csv_writer(handle).writerows(table_rows(report))
    return handle.getvalue()


def as_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Report"
    for row in table_rows(report):
        # Text cells go in as text, never as a formula (openpyxl treats "=..." as one).
        sheet.append([spreadsheet_safe(v) if isinstance(v, str) else v for v in row])
        if row == HEADER:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    for column, width in zip("ABCDE", (24, 44, 44, 12, 12), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    handle = io.BytesIO()
    book.save(handle)
    return handle.getvalue()


def as_pdf(report: Report) -> bytes:
    """The report as a PDF: the page's own template and charts, laid out for print."""
    from weasyprint import HTML

    html = render_to_string(
        "reports/funder_pdf.html",
        {"report": report, "legend": legend(report.threshold), "title": TITLE},
    )
    return HTML(string=html).write_pdf()


def file_name(report: Report, extension: str) -> str:
    return (
        f"funder-report-{report.period.start:%Y-%m-%d}-to-{report.period.end:%Y-%m-%d}.{extension}"
    )
