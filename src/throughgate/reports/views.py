"""Aggregate reports: the dashboard and the funder / board report. Numbers only, small
counts suppressed, no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.db.models.functions import ExtractYear
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from throughgate.accounts import roles
from throughgate.casework.models import (
    Case,
    ClosureReason,
    Phase,
    Referral,
    ReferralSource,
    ReferralStatus,
)
from throughgate.core import audit
from throughgate.core.access import get_visible_or_404
from throughgate.core.models import AuditAction
from throughgate.core.routers import on_replica, reading_from_replica
from throughgate.core.views import only_for
from throughgate.engines.disclosure import Cell, suppress_row, suppress_total

from . import funder, jobs
from .charts import bar_chart
from .forms import FunderReportForm, presets
from .models import FunderReportFile


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


def may_see_funder_report(user: Any) -> bool:
    """Ade (manager) and Fay (analyst): the same people as the dashboard. Everyone else
    gets 404, as for the dashboard. Aggregate figures only, small numbers suppressed."""
    return roles.role_of(user) in (roles.Role.ADMIN, roles.Role.ANALYST)


@require_GET
@only_for(may_see_funder_report)
@on_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reports/dashboard.html",
        {"figures": dashboard_figures(), "threshold": settings.SMALL_NUMBER_THRESHOLD},
    )


# --- Funder / board report -------------------------------------------------------------


def _report_or_form(request: HttpRequest) -> tuple[FunderReportForm, funder.Report | None]:
    form = FunderReportForm(request.GET)
    if form.is_bound and not form.is_valid():
        return form, None
    with reading_from_replica():
        return form, funder.build(*form.choices())


def _page(request: HttpRequest, form: FunderReportForm, report: Any, status: int = 200) -> Any:
    query = urlencode(form.query(), doseq=True) if report else ""
    return render(
        request,
        "reports/funder.html",
        {
            "form": form,
            "report": report,
            "legend": funder.legend(settings.SMALL_NUMBER_THRESHOLD),
            "presets": [
                (name, urlencode({"start": s.isoformat(), "end": e.isoformat()}))
                for name, s, e in presets(form.today)
            ],
            "query": query,
            "title": funder.TITLE,
            "params": form.query() if report else {},
        },
        status=status,
    )


@require_GET
@only_for(may_see_funder_report)
def funder_report(request: HttpRequest) -> HttpResponse:
    form, report = _report_or_form(request)
    return _page(request, form, report, 200 if report else 400)


def _download(request: HttpRequest, kind: str) -> HttpResponse:
    form, report = _report_or_form(request)
    if report is None:
        return _page(request, form, None, 400)
    if kind == "csv":
        body: Any = funder.as_csv(report)
        content_type = "text/csv; charset=utf-8"
    else:
        body = funder.as_xlsx(report)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit.record(
        request.user, AuditAction.EXPORT, object_type="reports.funder_report",
        summary=f"Funder report {kind.upper()}: {report.describe}",
    )  # fmt: skip
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{funder.file_name(report, kind)}"'
    return response


@require_GET
@only_for(may_see_funder_report)
def funder_csv(request: HttpRequest) -> HttpResponse:
    return _download(request, "csv")


@require_GET
@only_for(may_see_funder_report)
def funder_xlsx(request: HttpRequest) -> HttpResponse:
    return _download(request, "xlsx")


@require_POST
@only_for(may_see_funder_report)
def funder_pdf(request: HttpRequest) -> HttpResponse:
    """Start the PDF in the background; the job page shows progress, then the file."""
    form = FunderReportForm(request.POST)
    if form.is_bound and not form.is_valid():
        return _page(request, form, None, 400)
    start, end, programmes = form.choices()
    chosen = [p.pk for p in form.cleaned_data["programmes"]] if form.is_bound else []
    job = jobs.start(request.user, start, end, chosen)
    messages.success(request, "The PDF is being made. This page shows how far it has got.")
    return redirect("job", pk=job.pk)


@require_GET
@only_for(may_see_funder_report)
def funder_pdf_file(request: HttpRequest, pk: int) -> HttpResponse:
    kept = get_visible_or_404(FunderReportFile, request.user, pk=pk)
    response = HttpResponse(bytes(kept.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{kept.name}"'
    return response
