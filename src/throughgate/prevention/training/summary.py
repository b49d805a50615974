"""The summary of delivery and income by quarter of a financial year (April–March).

Everything is counted and summed in the database, grouped by quarter, so the number of
queries does not grow with the number of courses. The rules:

- a course or engagement is *delivered* in the quarter of its last day, once that day
  has come, unless it was cancelled;
- delegates *trained* are those marked attended on a delivered course, in the same
  quarter, by the course's audience;
- fees count as *invoiced* in the quarter of the invoice date and *paid* in the
  quarter of the payment date (so one course can be invoiced in Q3 and paid in Q4);
- feedback counts in the quarter its course was delivered.

For the analyst, delegate counts go through small-number suppression
(engines.disclosure) and a feedback mean from fewer than five responses is withheld.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, IntegerField, QuerySet, Sum, Value, When

from throughgate.engines.disclosure import Cell, suppress_row, suppress_total
from throughgate.engines.training import (
    FEEDBACK_MINIMUM,
    Quarter,
    ScoreSummary,
    days_outstanding,
    financial_year_label,
    quarters,
    summarise_counts,
    year_bounds,
)

from .models import Attendance, Audience, Course, CourseKind, Delegate, Feedback

AUDIENCES = list(Audience)


def _quarter_case(field_name: str, year: int) -> Case:
    """1..4 for a date in financial year `year` (the queryset is already limited to it)."""
    return Case(
        *[When(**{f"{field_name}__lte": q.end}, then=Value(q.number)) for q in quarters(year)],
        output_field=IntegerField(),
    )


def _by_quarter(queryset: QuerySet, field_name: str, year: int, *group: str, **aggregate: Any):
    return (
        queryset.annotate(quarter=_quarter_case(field_name, year))
        .values("quarter", *group)
        .annotate(**aggregate)
        .order_by()
    )


@dataclass
class QuarterRow:
    quarter: Quarter | None  # None for the year's total
    courses: int = 0
    consultancy: int = 0
    delegates: dict[str, int] = field(default_factory=lambda: {a.value: 0 for a in AUDIENCES})
    invoiced: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")
    feedback_counts: list[int] = field(default_factory=lambda: [0] * 5)
    # Filled in by `present`:
    delegates_cell: Cell | None = None
    audience_cells: list[Cell] = field(default_factory=list)
    feedback: ScoreSummary | None = None

    @property
    def label(self) -> str:
        return self.quarter.label if self.quarter else "Whole year"

    @property
    def delegates_total(self) -> int:
        return sum(self.delegates.values())


@dataclass
class Outstanding:
    course: Course
    days: int


@dataclass
class YearSummary:
    year: int
    label: str
    rows: list[QuarterRow]  # Q1..Q4
    total: QuarterRow
    suppressed: bool  # small numbers hidden (the analyst's view)
    audience_cells: list[Cell]  # delegates trained over the year, by audience
    audience_total: Cell
    outstanding: list[Outstanding] | None = None  # manager only

    @property
    def audiences(self) -> list[tuple[str, str]]:
        return [(a.value, str(a.label)) for a in AUDIENCES]

    @property
    def audience_pairs(self) -> list[tuple[str, Cell]]:
        return [(str(a.label), c) for a, c in zip(AUDIENCES, self.audience_cells, strict=True)]

    @property
    def outstanding_total(self) -> Decimal:
        return sum((o.course.fee for o in self.outstanding or []), Decimal("0.00"))


def year_summary(year: int, today: date, *, suppress: bool, with_outstanding: bool) -> YearSummary:
    first, last = year_bounds(year)
    delivered_until = min(last, today)
    rows = {q.number: QuarterRow(q) for q in quarters(year)}

    delivered = Course.objects.filter(cancelled=False, end_date__range=(first, delivered_until))
    for r in _by_quarter(delivered, "end_date", year, "kind", n=Count("id")):
        row = rows[r["quarter"]]
        if r["kind"] == CourseKind.CONSULTANCY:
            row.consultancy += r["n"]
        else:
            row.courses += r["n"]

    trained = Delegate.objects.filter(
        attendance=Attendance.ATTENDED,
        course__cancelled=False,
        course__end_date__range=(first, delivered_until),
    )
    for r in _by_quarter(trained, "course__end_date", year, "course__audience", n=Count("id")):
        rows[r["quarter"]].delegates[r["course__audience"]] += r["n"]

    invoiced = Course.objects.filter(invoiced_on__range=(first, last))
    for r in _by_quarter(invoiced, "invoiced_on", year, total=Sum("fee")):
        rows[r["quarter"]].invoiced = r["total"] or Decimal("0.00")
    paid = Course.objects.filter(paid_on__range=(first, last))
    for r in _by_quarter(paid, "paid_on", year, total=Sum("fee")):
        rows[r["quarter"]].paid = r["total"] or Decimal("0.00")

    feedback = Feedback.objects.filter(
        course__cancelled=False, course__end_date__range=(first, delivered_until)
    )
    for r in _by_quarter(feedback, "course__end_date", year, "overall", n=Count("id")):
        if 1 <= r["overall"] <= 5:
            rows[r["quarter"]].feedback_counts[r["overall"] - 1] += r["n"]

    ordered = [rows[n] for n in sorted(rows)]
    total = QuarterRow(None)
    for row in ordered:
        total.courses += row.courses
        total.consultancy += row.consultancy
        for key, n in row.delegates.items():
            total.delegates[key] += n
        total.invoiced += row.invoiced
        total.paid += row.paid
        pairs = zip(total.feedback_counts, row.feedback_counts, strict=True)
        total.feedback_counts = [a + b for a, b in pairs]
    summary = _present(year, ordered, total, suppress)
    if with_outstanding:
        summary.outstanding = [
            Outstanding(course, days_outstanding(course.invoiced_on, today))
            for course in Course.objects.filter(
                invoiced_on__isnull=False, paid_on__isnull=True
            ).order_by("invoiced_on", "id")
        ]
    return summary


def _present(year: int, rows: list[QuarterRow], total: QuarterRow, suppress: bool) -> YearSummary:
    """Cells as shown: suppressed for the analyst, plain otherwise."""
    threshold = settings.SMALL_NUMBER_THRESHOLD if suppress else 0
    minimum = FEEDBACK_MINIMUM if suppress else 1
    quarter_cells = suppress_row([r.delegates_total for r in rows], threshold)
    for row, cell in zip(rows, quarter_cells, strict=True):
        row.delegates_cell = cell
    total.delegates_cell = suppress_total(total.delegates_total, threshold)
    audience_cells = suppress_row([total.delegates[a.value] for a in AUDIENCES], threshold)
    if not suppress:
        for row in [*rows, total]:
            row.audience_cells = suppress_row([row.delegates[a.value] for a in AUDIENCES], 0)
    for row in [*rows, total]:
        row.feedback = summarise_counts(row.feedback_counts, minimum)
    return YearSummary(
        year=year,
        label=financial_year_label(year),
        rows=rows,
        total=total,
        suppressed=suppress,
        audience_cells=audience_cells,
        audience_total=total.delegates_cell,
    )


def first_course_date() -> date | None:
    return Course.objects.order_by("start_date").values_list("start_date", flat=True).first()


def csv_rows(summary: YearSummary) -> list[list[Any]]:
    """The summary as a spreadsheet: a header row, then one row per quarter and the total."""
    header = [
        "Financial year", "Quarter", "From", "To", "Courses delivered",
        "Consultancy engagements delivered", "Delegates trained",
    ]  # fmt: skip
    if not summary.suppressed:
        header += [f"Delegates trained: {label}" for _k, label in summary.audiences]
    header += ["Fees invoiced (£)", "Fees paid (£)", "Feedback responses", "Mean overall score"]
    out: list[list[Any]] = [header]
    for row in [*summary.rows, summary.total]:
        q = row.quarter
        line: list[Any] = [
            summary.label,
            f"Q{q.number}" if q else "Whole year",
            q.start.isoformat() if q else year_bounds(summary.year)[0].isoformat(),
            q.end.isoformat() if q else year_bounds(summary.year)[1].isoformat(),
            row.courses,
            row.consultancy,
            str(row.delegates_cell),
        ]
        if not summary.suppressed:
            line += [str(c) for c in row.audience_cells]
        fb = row.feedback
        assert fb is not None
        responses: Any = fb.n if (fb.enough or not summary.suppressed) else ""
        mean = f"{fb.mean:.2f}" if fb.mean is not None else fb.mean_text
        line += [f"{row.invoiced:.2f}", f"{row.paid:.2f}", responses, mean]
        out.append(line)
    return out
