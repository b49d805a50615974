"""Aggregate dashboard: numbers only, small counts suppressed, no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import ExtractYear
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from throughgate.accounts import roles
from throughgate.casework.models import (
    Case,
    ClosureReason,
    Phase,
    Referral,
    ReferralSource,
    ReferralStatus,
)
from throughgate.core.routers import on_replica
from throughgate.core.views import only_for
from throughgate.engines.disclosure import Cell, suppress_row, suppress_total

from .charts import bar_chart


@dataclass
class Figure:
    title: str
    chart_id: str
    labels: list[str]
    cells: list[Cell]
    total: Cell

    @property
    def chart(self) -> Any:
        return bar_chart(self.title, self.labels, [c.shown for c in self.cells], self.chart_id)

    @property
    def rows(self) -> list[tuple[str, Cell]]:
        return list(zip(self.labels, self.cells, strict=True))


def _figure(title: str, chart_id: str, counts: dict[str, int], labels: dict[str, str]) -> Figure:
    threshold = settings.SMALL_NUMBER_THRESHOLD
    keys = list(labels)
    values = [counts.get(k, 0) for k in keys]
    return Figure(
        title,
        chart_id,
        [labels[k] for k in keys],
        suppress_row(values, threshold),
        suppress_total(sum(values), threshold),
    )


def dashboard_figures() -> list[Figure]:
    """Organisation-wide figures. Computed in the database; nothing personal leaves it."""
    by_source = dict(Referral.objects.values_list("source_type").annotate(n=Count("id")).order_by())
    by_status = dict(Referral.objects.values_list("status").annotate(n=Count("id")).order_by())
    open_by_phase = dict(
        Case.objects.open().values_list("phase").annotate(n=Count("id")).order_by()
    )
    closed_by_reason = dict(
        Case.objects.filter(phase=Phase.CLOSED)
        .values_list("closure_reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_year = {
        str(year): n
        for year, n in Referral.objects.annotate(year=ExtractYear("referral_date"))
        .values_list("year")
        .annotate(n=Count("id"))
        .order_by("year")
    }
    open_phases = {p: label for p, label in Phase.choices if p != Phase.CLOSED}
    sources, statuses = dict(ReferralSource.choices), dict(ReferralStatus.choices)
    reasons = dict(ClosureReason.choices)
    return [
        _figure("Referrals by year", "referrals-by-year", by_year, {y: y for y in by_year}),
        _figure("Referrals by source", "referrals-by-source", by_source, sources),
        _figure("Referral decisions", "referral-decisions", by_status, statuses),
        _figure("Open cases by phase", "open-cases-by-phase", open_by_phase, open_phases),
        _figure("Closed cases by reason", "closures-by-reason", closed_by_reason, reasons),
    ]


@require_GET
@only_for(lambda u: roles.role_of(u) in (roles.Role.ADMIN, roles.Role.ANALYST))
@on_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reports/dashboard.html",
        {"figures": dashboard_figures(), "threshold": settings.SMALL_NUMBER_THRESHOLD},
    )
