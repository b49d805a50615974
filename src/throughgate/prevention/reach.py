"""The reach dashboard's figures, computed in the database.

"Children reached" counts each child once where we know a group was seen before:
a workshop marked as a repeat session with a group already counted this academic
year adds to *attendances* but not to children reached. Where nobody said so, a
workshop's headcount is counted as new children — the only honest default with
anonymous counts, and the page says so.

Every figure is one aggregate query (values + annotate), so the number of queries
does not grow with the number of workshops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, ExtractMonth

from throughgate.core.choices import LONDON_BOROUGHS
from throughgate.engines import survey as engine
from throughgate.engines.disclosure import Cell, suppress_row, suppress_total
from throughgate.reports.charts import bar_chart, paired_bars

from .models import (
    DEFAULT_REACH_TARGET,
    ReachTarget,
    SurveyResult,
    Workshop,
    academic_year_bounds,
    academic_year_label,
)

# September first: the order of the months in an academic year.
ACADEMIC_MONTHS = [9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8]
MONTH_NAMES = {
    1: "Jan", 2: "Feb", 3: "Mar", 4: "Apr", 5: "May", 6: "Jun",
    7: "Jul", 8: "Aug", 9: "Sep", 10: "Oct", 11: "Nov", 12: "Dec",
}  # fmt: skip
NEW_CHILDREN = Coalesce(Sum("headcount", filter=Q(repeat_group=False)), 0)
ATTENDANCES = Coalesce(Sum("headcount"), 0)


@dataclass
class Breakdown:
    title: str
    chart_id: str
    heading: str  # the first column's heading
    labels: list[str]
    reached: list[Cell]
    attendances: list[Cell]
    workshops: list[Cell]
    note: str = ""

    @property
    def chart(self) -> Any:
        return bar_chart(
            f"Children reached by {self.heading.lower()}",
            self.labels,
            [c.shown for c in self.reached],
            self.chart_id,
        )

    @property
    def rows(self) -> list[tuple[str, Cell, Cell, Cell]]:
        return list(zip(self.labels, self.reached, self.attendances, self.workshops, strict=True))


@dataclass
class SurveyRow:
    topic: str
    question: str
    change: engine.Change | None  # None: suppressed for this viewer


@dataclass
class Reach:
    year: int
    exact: bool
    threshold: int
    target: int
    reached: Cell
    attendances: Cell
    workshops: int
    breakdowns: list[Breakdown] = field(default_factory=list)
    survey: list[SurveyRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return academic_year_label(self.year)

    @property
    def percent(self) -> float | None:
        if self.reached.suppressed or not self.target:
            return None
        return 100.0 * self.reached.value / self.target

    @property
    def progress_value(self) -> int:
        return min(self.reached.value, self.target) if not self.reached.suppressed else 0

    @property
    def survey_chart(self) -> Any:
        rows = [r for r in self.survey if r.change is not None and r.change.difference is not None]
        if not rows:
            return ""
        return paired_bars(
            "Percentage who said yes, before and after",
            [f"{r.topic}: {r.question[:40]}" for r in rows],
            [round(r.change.before_pct) for r in rows],  # type: ignore[arg-type,union-attr]
            [round(r.change.after_pct) for r in rows],  # type: ignore[arg-type,union-attr]
            scale_max=100,
            legend=("Before", "After"),
            chart_id="survey-change",
        )


def target_for(year: int) -> int:
    found = ReachTarget.objects.filter(academic_year=year).values_list("target", flat=True).first()
    return found or DEFAULT_REACH_TARGET


def _cells(values: list[int], exact: bool, threshold: int) -> list[Cell]:
    if exact:
        return [Cell(v, False, threshold) for v in values]
    return suppress_row(values, threshold)


def _breakdown(
    title: str, chart_id: str, heading: str, rows: list[tuple[str, int, int, int]],
    exact: bool, threshold: int, note: str = "",
) -> Breakdown:  # fmt: skip
    labels = [r[0] for r in rows]
    return Breakdown(
        title, chart_id, heading, labels,
        _cells([r[1] for r in rows], exact, threshold),
        _cells([r[2] for r in rows], exact, threshold),
        _cells([r[3] for r in rows], exact, threshold),
        note,
    )  # fmt: skip


def _grouped(workshops: Any, key: str) -> list[tuple[Any, int, int, int]]:
    return list(
        workshops.values_list(key)
        .annotate(
            reached=NEW_CHILDREN,
            attended=ATTENDANCES,
            n=Count("id", distinct=True),
        )
        .order_by(key)
    )


def reach_for(year: int, exact: bool) -> Reach:
    """The dashboard for one academic year. `exact` is False for the analyst: every
    count then goes through small-number suppression (engines.disclosure)."""
    threshold = settings.SMALL_NUMBER_THRESHOLD
    workshops = Workshop.objects.filter(academic_year=year)
    totals = workshops.aggregate(reached=NEW_CHILDREN, attended=ATTENDANCES, n=Count("id"))

    def total(value: int) -> Cell:
        return Cell(value, False, threshold) if exact else suppress_total(value, threshold)

    by_borough = {b: (r, a, n) for b, r, a, n in _grouped(workshops, "venue__borough")}
    borough_order = [b for b in [*LONDON_BOROUGHS, "Outside London"] if b in by_borough]
    by_school = _grouped(workshops, "venue__name")
    by_topic = _grouped(workshops, "topics__name")
    by_month = {
        m: (r, a, n)
        for m, r, a, n in workshops.annotate(month=ExtractMonth("held_on"))
        .values_list("month")
        .annotate(reached=NEW_CHILDREN, attended=ATTENDANCES, n=Count("id", distinct=True))
        .order_by("month")
    }
    start, _end = academic_year_bounds(year)
    breakdowns = [
        _breakdown(
            "By borough", "reach-borough", "Borough",
            [(b, *by_borough[b]) for b in borough_order], exact, threshold,
        ),
        _breakdown(
            "By school or venue", "reach-school", "School or venue",
            [(name, r, a, n) for name, r, a, n in by_school], exact, threshold,
        ),
        _breakdown(
            "By topic", "reach-topic", "Topic",
            [(name or "No topic", r, a, n) for name, r, a, n in by_topic], exact, threshold,
            note="A workshop on two topics counts under each, so these rows can add up to "
            "more than the total.",
        ),
        _breakdown(
            "By month", "reach-month", "Month",
            [
                (
                    f"{MONTH_NAMES[m]} {start.year if m >= 9 else start.year + 1}",
                    *by_month.get(m, (0, 0, 0)),
                )
                for m in ACADEMIC_MONTHS
            ],
            exact, threshold,
        ),
    ]  # fmt: skip
    return Reach(
        year=year,
        exact=exact,
        threshold=threshold,
        target=target_for(year),
        reached=total(totals["reached"]),
        attendances=total(totals["attended"]),
        workshops=totals["n"],
        breakdowns=breakdowns,
        survey=survey_for(year, exact, threshold),
    )


def survey_for(year: int, exact: bool, threshold: int) -> list[SurveyRow]:
    """Each question's answers summed over the year's workshops on each topic, with the
    change and its interval. For the analyst, a row with fewer than `threshold`
    respondents before or after is hidden whole."""
    rows = (
        SurveyResult.objects.filter(workshop__academic_year=year)
        .values_list("workshop__topics__name", "question__text")
        .annotate(
            bn=Sum("before_respondents"),
            by=Sum("before_yes"),
            an=Sum("after_respondents"),
            ay=Sum("after_yes"),
        )
        .order_by("workshop__topics__name", "question__order", "question__text")
    )
    found = []
    for topic, question, bn, by, an, ay in rows:
        counts = engine.Counts(bn or 0, by or 0, an or 0, ay or 0)
        answered = (counts.before_respondents, counts.after_respondents)
        hidden = not exact and any(0 < n < threshold for n in answered)
        shown = None if hidden else engine.change(counts)
        found.append(SurveyRow(topic or "No topic", question, shown))
    return found


def survey_changes(results: Any) -> list[tuple[Any, engine.Change]]:
    """One workshop's survey: each question with its change and interval."""
    return [
        (
            r.question,
            engine.change(
                engine.Counts(r.before_respondents, r.before_yes, r.after_respondents, r.after_yes)
            ),
        )
        for r in results
    ]


def csv_rows(reach: Reach) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["Academic year", reach.label],
        ["Children reached", str(reach.reached)],
        ["Attendances", str(reach.attendances)],
        ["Target", reach.target],
        [],
    ]
    for b in reach.breakdowns:
        rows.append([b.heading, "Children reached", "Attendances", "Workshops"])
        rows += [[label, str(r), str(a), str(w)] for label, r, a, w in b.rows]
        rows.append([])
    return rows
