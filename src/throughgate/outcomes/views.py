"""The outcomes dashboard (aggregates, small numbers suppressed), impact evaluations, and
reoffending events on a person's record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from throughgate.accounts import roles
from throughgate.core import audit, reauth
from throughgate.core.access import get_visible_or_404, is_editable, require_editable
from throughgate.core.exports import csv_writer
from throughgate.core.forms import MAX_ID
from throughgate.core.models import AuditAction, Job
from throughgate.core.routers import on_replica
from throughgate.core.views import attach_errors, only_for
from throughgate.engines import reoffending as engine
from throughgate.engines.disclosure import HIDDEN, suppress_row
from throughgate.people.models import Person
from throughgate.reports import charts

from . import actions, evaluation, figures, jdl
from . import jobs as evaluation_jobs
from .cohort import GROUPINGS
from .forms import (
    BaselineForm,
    CohortFilterForm,
    EvaluationForm,
    JDLExportForm,
    ReoffendingEventForm,
)
from .models import EvaluationRun, NationalBaseline, ReoffendingEvent


def may_see_outcomes(user: Any) -> bool:
    return roles.role_of(user) in (roles.Role.ADMIN, roles.Role.ANALYST)


@dataclass
class Row:
    """One group's figures, with small numbers hidden: the counted people, the
    reoffenders and the rate are shown only when neither reoffenders nor
    non-reoffenders are a small number (else the rate would give them away)."""

    label: str
    measures: engine.Measures
    threshold: int

    @property
    def _cells(self) -> list[Any]:
        m = self.measures
        return suppress_row([m.n_reoffenders, m.n_mature - m.n_reoffenders], self.threshold)

    @property
    def hidden(self) -> bool:
        return any(c.suppressed for c in self._cells) or (
            0 < self.measures.n_mature < self.threshold
        )

    @property
    def counted(self) -> str:
        n = self.measures.n_mature
        return HIDDEN if 0 < n < self.threshold else f"{n:,}"

    @property
    def reoffenders(self) -> str:
        return HIDDEN if self.hidden else f"{self.measures.n_reoffenders:,}"

    @property
    def rate(self) -> str:
        m = self.measures
        if m.binary_rate is None:
            return "—"
        if self.hidden:
            return HIDDEN
        return f"{100 * m.binary_rate:.1f}%"

    @property
    def interval(self) -> str:
        m = self.measures
        if m.binary_rate is None or self.hidden:
            return ""
        return f"{100 * m.rate_ci_low:.1f}–{100 * m.rate_ci_high:.1f}%"  # type: ignore[operator]

    @property
    def not_yet(self) -> str:
        n = self.measures.n_immature
        return HIDDEN if 0 < n < self.threshold else f"{n:,}"


def _figures(request: HttpRequest, as_of: Any, group_by: str) -> tuple[Any, Any, dict[str, Any]]:
    """The overall and per-group measures, and what the page says about their age: a
    small cohort is measured now; a large one is read from the stored figures, and a
    recalculation is queued when there are none for this day yet."""
    if figures.is_small():
        overall, groups = figures.measure_live(as_of, group_by)
        return overall, groups, {"live": True}
    row = figures.stored(as_of, group_by)
    job = figures.pending()
    if row is None:
        if job is None or job.params.get("as_of") != as_of.isoformat():
            job = figures.recalculate(request.user, as_of)
        row = figures.latest(group_by)
    state = {"live": False, "row": row, "job": job, "asked_for": as_of}
    if row is None:
        return None, {}, state
    overall, groups = figures.figures_of(row)
    return overall, groups, state


@require_GET
@only_for(may_see_outcomes)
@on_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    form = CohortFilterForm(request.GET or None, user=request.user)
    group_by, as_of = "year", timezone.localdate()
    if form.is_valid():
        group_by = form.cleaned_data["group_by"]
        as_of = form.cleaned_data["as_of"] or as_of
    overall, groups, state = _figures(request, as_of, group_by)
    threshold = settings.SMALL_NUMBER_THRESHOLD
    if overall is None:  # nothing worked out yet: the page shows the job's progress
        return render(request, "outcomes/dashboard.html", {
            "form": form, "figures": state, "as_of": as_of, "threshold": threshold,
            "group_label": GROUPINGS[group_by], "rows": [],
            "baselines": NationalBaseline.objects.filter(active=True),
            "can_edit_baselines": roles.is_admin(request.user),
            "runs": EvaluationRun.objects.select_related("programme")[:5],
        })  # fmt: skip
    as_of = overall.as_of
    rows = [Row(label, m, threshold) for label, m in groups.items()]
    total = Row("All participants", overall, threshold)
    shown = [
        (r.label, r.measures.binary_rate) for r in rows if not r.hidden and r.measures.n_mature
    ]
    km = [(str(p.day), round(100 * p.survival, 1)) for p in overall.km]
    return render(
        request,
        "outcomes/dashboard.html",
        {
            "form": form,
            "rows": rows,
            "total": total,
            "overall": overall,
            "group_label": GROUPINGS[group_by],
            "as_of": as_of,
            "threshold": threshold,
            "baselines": NationalBaseline.objects.filter(active=True),
            "rate_chart": charts.bar_chart(
                f"Proven reoffending rate (%) by {GROUPINGS[group_by].lower()}",
                [label for label, _ in shown],
                [round(100 * rate) for _, rate in shown],
                "rate-chart",
            )
            if shown
            else None,
            "km_chart": charts.line_chart(
                "Per cent not proven to have reoffended, by days since the index date",
                km[:: max(1, len(km) // 12)] + km[-1:],
                y_min=0,
                y_max=100,
                tick_step=20,
                point_labels=False,
                chart_id="km-chart",
            )
            if len(km) > 1 and not total.hidden
            else None,
            "km_table": overall.km[:: max(1, len(overall.km) // 12)] if not total.hidden else [],
            "can_edit_baselines": roles.is_admin(request.user),
            "runs": EvaluationRun.objects.select_related("programme")[:5],
            "figures": state,
        },
    )


@require_POST
@only_for(roles.is_admin)
def recalculate(request: HttpRequest) -> HttpResponse:
    """Ade's "Recalculate now": queue the figures for today (or the day asked for)."""
    form = CohortFilterForm(request.POST, user=request.user)
    form.is_valid()  # a breakdown or day that is no good falls back to the defaults
    as_of = form.cleaned_data.get("as_of") or timezone.localdate()
    group_by = form.cleaned_data.get("group_by") or "year"
    figures.recalculate(request.user, as_of)
    messages.success(
        request, "The figures are being worked out again; this page shows how far it has got."
    )
    return redirect(
        reverse("outcomes:dashboard") + f"?group_by={group_by}&as_of={as_of.isoformat()}"
    )


@require_http_methods(["GET", "POST"])
@only_for(roles.is_admin)
def baselines(request: HttpRequest) -> HttpResponse:
    """The national baselines table; `?baseline=<id>` changes one, without it adds one."""
    asked = (request.POST or request.GET).get("baseline", "")
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    baseline = NationalBaseline.objects.filter(pk=int(asked)).first() if asked.isdecimal() else None
    form = BaselineForm(request.POST or None, instance=baseline)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_baseline(
                request.user, {f: form.cleaned_data[f] for f in actions.BASELINE_FIELDS}, baseline
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "National baseline saved.")
            return redirect("outcomes:dashboard")
    return render(
        request,
        "outcomes/baselines.html",
        {
            "form": form,
            "baseline": baseline,
            "baselines": NationalBaseline.objects.all(),
            "title": f"Change: {baseline.label}" if baseline else "Add a national baseline",
        },
        status=400 if form.errors else 200,
    )


def _event_data(form: Any) -> dict[str, Any]:
    return {f: form.cleaned_data[f] for f in actions.EVENT_FIELDS if f in form.cleaned_data}


@require_http_methods(["GET", "POST"])
def event_new(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = get_visible_or_404(Person, request.user, pk=person_pk)
    require_editable(person, request.user)
    form = ReoffendingEventForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_event(request.user, person, _event_data(form))
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Reoffending event recorded.")
            return redirect("people:detail", pk=person.pk)
    return render(
        request,
        "outcomes/form.html",
        {"form": form, "person": person, "title": "Record a reoffending event"},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_visible_or_404(ReoffendingEvent, request.user, pk=pk)
    if not is_editable(event, request.user):
        raise PermissionDenied("You can see this record but not change it.")
    form = ReoffendingEventForm(request.POST or None, instance=event, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_event(
                request.user, event, _event_data(form), version=form.opened_version
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Reoffending event saved.")
            return redirect("people:detail", pk=event.person_id)
    return render(
        request,
        "outcomes/form.html",
        {"form": form, "person": event.person, "title": "Change a reoffending event"},
        status=400 if form.errors else 200,
    )


@require_GET
@only_for(roles.is_admin)
def jdl_export(request: HttpRequest) -> HttpResponse:
    """Check, then download (`download=1`), the Justice Data Lab submission. The
    download is personal data leaving the system, so it is audited."""
    form = JDLExportForm(request.GET or None)
    submission = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        submission = jdl.build(data["programme"], data["index_from"], data["index_to"])
        if request.GET.get("download") and submission.ready:
            if (confirm := reauth.require_recent_password(request)) is not None:
                return confirm
            audit.record(
                request.user, AuditAction.EXPORT, object_type="outcomes.jdl",
                summary=f"JDL submission: {len(submission.rows)} people, {data['programme']}",
            )  # fmt: skip
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="jdl-submission.csv"'
            writer = csv_writer(response)
            writer.writerow(jdl.COLUMNS)
            writer.writerows(submission.rows)
            return response
    return render(
        request,
        "outcomes/jdl.html",
        {"form": form, "submission": submission, "minimum": jdl.MINIMUM},
        status=400 if form.errors else 200,
    )


# --- impact evaluation -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@only_for(may_see_outcomes)
def evaluation_new(request: HttpRequest) -> HttpResponse:
    """Run an impact evaluation: the programme's participants against a matched group from
    its own referred-but-not-supported people or an uploaded file."""
    initial = {}
    earlier = request.GET.get("from_job", "")
    if earlier.isascii() and earlier.isdecimal() and 0 < int(earlier) <= MAX_ID:
        job = Job.objects.visible_to(request.user).filter(kind="evaluation", pk=earlier).first()
        initial = evaluation_jobs.initial_from(job) if job else {}
    form = EvaluationForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        job = evaluation_jobs.start(request.user, form.cleaned_data)
        return redirect("job", pk=job.pk)
    return render(
        request,
        "outcomes/evaluation_new.html",
        {
            "form": form,
            "numeric": evaluation.NUMERIC,
            "categorical": evaluation.CATEGORICAL,
            "outcome_columns": evaluation.OUTCOMES,
            "minimum": settings.EVALUATION_MIN_PARTICIPANTS,
            "runs": EvaluationRun.objects.select_related("programme", "run_by")[:10],
        },
        status=400 if form.errors else 200,
    )


CHECKPOINT_DAYS = (30, 90, 180, 270, 365)
MEASURES = (  # report key, name, how a value reads, how a difference reads
    ("headline", "One-year proven reoffending rate",
     lambda v: f"{100 * v:.1f}%", lambda v: f"{100 * v:+.1f} points"),
    ("frequency", "Proven reoffences per person",
     lambda v: f"{v:.2f}", lambda v: f"{v:+.2f}"),
    ("days_to_first", "Days to first proven reoffence (reoffenders)",
     lambda v: f"{v:.0f}", lambda v: f"{v:+.0f} days"),
)  # fmt: skip


def covariate_label(name: str) -> str:
    """ "prior_offences" -> "Proven offences before the index date"; a dummy
    "ethnic_group=black" -> "Ethnic group: black"."""
    column, _, level = name.partition("=")
    label = {**evaluation.NUMERIC, **evaluation.CATEGORICAL}.get(column, column)
    if level:
        return f"{label.split(' (')[0]}: {level.replace('_', ' ')}"
    return label.split(" (")[0]


def _measure_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's measures as the table shows them, each value already worded."""
    rows = []
    for key, name, value, diff in MEASURES:
        section = report.get(key) or {}
        if "estimate" not in section:
            rows.append({"name": name, "not_shown": section.get("not_shown", "Not available.")})
            continue
        p = section["p_value"]
        rows.append(
            {
                "name": name,
                "treated": value(section["treated_mean"]),
                "comparison": value(section["comparison_mean"]),
                "difference": diff(section["estimate"]),
                "interval": f"{diff(section['ci_low'])} to {diff(section['ci_high'])}",
                "p_value": "< 0.001" if p < 0.001 else f"{p:.3f}",
                "significant": "Yes" if section["significant"] else "No",
                "statement": section.get("statement", ""),
            }
        )
    return rows


def _survival_chart(survival: dict[str, list[list[float]]]) -> Any:
    lowest = min(s for curve in survival.values() for _day, s in curve)
    return charts.step_chart(
        "Per cent not proven to have reoffended, by days since the index date",
        [("Participants", survival["treated"]),
         ("Matched comparison group", survival["comparison"])],
        x_max=365,
        y_min=max(0, 10 * int((lowest - 5) // 10)),
        y_max=100,
        x_label="Days since the index date",
        chart_id="survival-chart",
    )  # fmt: skip


@require_GET
@only_for(may_see_outcomes)
def evaluation_report(request: HttpRequest, pk: int) -> HttpResponse:
    """A stored evaluation, laid out like a Justice Data Lab report."""
    from throughgate.engines.evaluation_report import survival_at

    run = get_object_or_404(EvaluationRun.objects.select_related("programme", "run_by"), pk=pk)
    report = run.report
    balance = [{**b, "label": covariate_label(b["covariate"])} for b in report.get("balance", [])]
    threshold = run.parameters.get("max_smd_after", 0.1)
    survival = report.get("survival")
    return render(
        request,
        "outcomes/evaluation.html",
        {
            "run": run,
            "sizes": report.get("sizes", {}),
            "headline": report.get("headline", {}),
            "measures": _measure_rows(report),
            "matched_on": [covariate_label(c) for c in run.parameters.get("covariates", [])],
            "exact_on": [covariate_label(c) for c in run.parameters.get("exact", [])],
            "balance": balance,
            "threshold": threshold,
            "love_plot": charts.love_plot(
                "Balance: how far apart the groups are on each covariate (absolute "
                "standardised mean difference), before and after matching",
                [(b["label"], b["smd_before"], b["smd_after"]) for b in balance],
                threshold=threshold,
                chart_id="love-plot",
            )
            if balance
            else None,
            "survival_chart": _survival_chart(survival) if survival else None,
            "checkpoints": [
                (
                    day,
                    survival_at(survival["treated"], day),
                    survival_at(survival["comparison"], day),
                )
                for day in CHECKPOINT_DAYS
            ]  # fmt: skip
            if survival
            else [],
        },
    )
