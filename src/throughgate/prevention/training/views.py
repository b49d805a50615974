"""Training and consultancy pages: for the prevention facilitators who deliver it and the
manager; the analyst sees the quarterly summary only; everyone else gets 404."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from throughgate.core import audit
from throughgate.core.access import get_visible_or_404, require_editable
from throughgate.core.exports import csv_writer
from throughgate.core.routers import on_replica
from throughgate.core.views import attach_errors, only_for, paginate
from throughgate.engines.training import (
    financial_year_label,
    financial_year_of,
    summarise_counts,
    year_bounds,
)
from throughgate.reports.charts import bar_chart, paired_bars

from . import actions
from .forms import (
    AttendanceForm,
    CourseFilterForm,
    CourseForm,
    DelegateForm,
    DelegatesForm,
    FeedbackForm,
    InvoiceForm,
    SummaryForm,
    financial_years,
    trainer_choices,
)
from .models import (
    QUESTIONS,
    Attendance,
    Course,
    Delegate,
    Feedback,
    manages_training,
    records_invoices,
    sees_training_summary,
    status_q,
)
from .summary import csv_rows, first_course_date, year_summary


def _status(request: HttpRequest, form: Any) -> int:
    return 400 if request.method == "POST" and form.errors else 200


def _clients() -> list[str]:
    """Client names already used, offered as suggestions so one client has one spelling."""
    return list(Course.objects.order_by("client").values_list("client", flat=True).distinct())


def _editable_course(request: HttpRequest, pk: int) -> Course:
    course = get_visible_or_404(Course, request.user, pk=pk)
    require_editable(course, request.user)
    return course


# --- Courses ----------------------------------------------------------------------


@require_GET
@only_for(manages_training)
def course_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    years = financial_years(first_course_date())
    form = CourseFilterForm(request.GET or None, years=years)
    courses = (
        Course.objects.visible_to(request.user)
        .annotate(
            booked=Count("delegates", filter=~Q(delegates__attendance=Attendance.CANCELLED)),
            attended=Count("delegates", filter=Q(delegates__attendance=Attendance.ATTENDED)),
        )
        .order_by("-start_date", "-id")
    )
    # Each filter that is valid applies; a bad one is shown by its field and left out.
    form.is_valid()
    chosen = getattr(form, "cleaned_data", {})
    if year := chosen.get("year"):
        first, last = year_bounds(year)
        courses = courses.filter(start_date__lte=last, end_date__gte=first)
    if audience := chosen.get("audience"):
        courses = courses.filter(audience=audience)
    if kind := chosen.get("kind"):
        courses = courses.filter(kind=kind)
    if status := chosen.get("status"):
        courses = courses.filter(status_q(status, today))
    page = paginate(request, courses)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "training/course_list.html",
        {
            "form": form,
            "page": page,
            "rows": [(c, c.status_label(today)) for c in page],
            "query": query.urlencode(),
            "may_invoice": records_invoices(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@only_for(manages_training)
def course_new(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {"kind": "course", "sessions": 1, "fee": "0.00"}
    if trainer_choices().filter(pk=request.user.pk).exists():
        initial["trainers"] = [request.user.pk]
    form = CourseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            course = actions.create_course(
                request.user, form.course_data(), form.cleaned_data["trainers"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{course.get_kind_display()} added.")
            return redirect("training:course_detail", pk=course.pk)
    return render(
        request,
        "training/form.html",
        {"form": form, "title": "Add a course or engagement", "clients": _clients()},
        status=_status(request, form),
    )


def _feedback_summaries(course: Course) -> list[dict[str, Any]]:
    """n, mean and distribution for each question: one query per question."""
    out = []
    for name, label in QUESTIONS:
        counts = [0] * 5
        for score, n in (
            Feedback.objects.filter(course=course, **{f"{name}__isnull": False})
            .values_list(name)
            .annotate(n=Count("id"))
            .order_by()
        ):
            if 1 <= score <= 5:
                counts[score - 1] = n
        out.append({"name": name, "label": label, "summary": summarise_counts(counts)})
    return out


@require_GET
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_visible_or_404(Course, request.user, pk=pk)
    audit.record_view(request.user, course)
    today = timezone.localdate()
    delegates = list(course.delegates.all())
    counts = {value: 0 for value in Attendance.values}
    for delegate in delegates:
        counts[delegate.attendance] += 1
    return render(
        request,
        "training/course_detail.html",
        {
            "course": course,
            "status": course.status_label(today),
            "trainers": list(course.trainers.all()),
            "delegates": delegates,
            "attendance_counts": [(Attendance(v).label, n) for v, n in counts.items() if n],
            "feedback": _feedback_summaries(course),
            "comments": [f for f in course.feedback.all() if f.comments.strip()],
            "may_invoice": records_invoices(request.user),
            "started": course.start_date <= today,
        },
    )


@require_http_methods(["GET", "POST"])
def course_edit(request: HttpRequest, pk: int) -> HttpResponse:
    course = _editable_course(request, pk)
    form = CourseForm(
        request.POST or None,
        instance=course,
        initial={"trainers": list(course.trainers.values_list("pk", flat=True))},
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = actions.update_course(
                request.user,
                course,
                form.course_data(),
                form.cleaned_data["trainers"],
                version=form.opened_version,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Saved." if changed else "Nothing was changed.")
            return redirect("training:course_detail", pk=course.pk)
    return render(
        request,
        "training/form.html",
        {"form": form, "course": course, "title": "Change the course", "clients": _clients()},
        status=_status(request, form),
    )


@require_http_methods(["GET", "POST"])
def invoice(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_visible_or_404(Course, request.user, pk=pk)
    if not records_invoices(request.user):
        raise PermissionDenied("Only the manager records invoices and payments.")
    form = InvoiceForm(request.POST or None, instance=course)
    if request.method == "POST" and form.is_valid():
        try:
            changed = actions.record_invoice(
                request.user, course, dict(form.cleaned_data), version=form.opened_version
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Invoice saved." if changed else "Nothing was changed.")
            return redirect("training:course_detail", pk=course.pk)
    return render(
        request,
        "training/form.html",
        {"form": form, "course": course, "title": "Invoice and payment"},
        status=_status(request, form),
    )


# --- Delegates and feedback ---------------------------------------------------------


@require_http_methods(["GET", "POST"])
def delegates_add(request: HttpRequest, pk: int) -> HttpResponse:
    course = _editable_course(request, pk)
    form = DelegatesForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = actions.add_delegates(
                request.user,
                course,
                form.cleaned_data["delegates"],
                form.cleaned_data["attendance"],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{len(made)} delegate{'s' if len(made) != 1 else ''} added.")
            return redirect("training:course_detail", pk=course.pk)
    return render(
        request,
        "training/delegates_add.html",
        {"form": form, "course": course, "delegates": list(course.delegates.all())},
        status=_status(request, form),
    )


@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    course = _editable_course(request, pk)
    delegates = list(course.delegates.all())
    form = AttendanceForm(request.POST or None, delegates=delegates)
    if request.method == "POST" and form.is_valid():
        try:
            changed = actions.record_attendance(request.user, course, form.marks())
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(
                request, f"Register saved: {changed} change{'s' if changed != 1 else ''}."
            )
            return redirect("training:course_detail", pk=course.pk)
    return render(
        request,
        "training/attendance.html",
        {"form": form, "course": course, "delegates": delegates},
        status=_status(request, form),
    )


@require_http_methods(["GET", "POST"])
def delegate_edit(request: HttpRequest, pk: int) -> HttpResponse:
    delegate = get_visible_or_404(Delegate, request.user, pk=pk)
    require_editable(delegate, request.user)
    form = DelegateForm(request.POST or None, instance=delegate)
    if request.method == "POST" and form.is_valid():
        try:
            changed = actions.update_delegate(
                request.user, delegate, dict(form.cleaned_data), version=form.opened_version
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Saved." if changed else "Nothing was changed.")
            return redirect("training:course_detail", pk=delegate.course_id)
    return render(
        request,
        "training/form.html",
        {"form": form, "course": delegate.course, "title": f"Change {delegate.name}"},
        status=_status(request, form),
    )


@require_http_methods(["GET", "POST"])
def feedback_new(request: HttpRequest, pk: int) -> HttpResponse:
    course = _editable_course(request, pk)
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_feedback(request.user, course, dict(form.cleaned_data))
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            n = course.feedback.count()
            messages.success(request, f"Feedback saved ({n} response{'s' if n != 1 else ''}).")
            if "another" in request.POST:
                return redirect("training:feedback_new", pk=course.pk)
            return redirect("training:course_detail", pk=course.pk)
    return render(
        request,
        "training/feedback_form.html",
        {"form": form, "course": course, "responses": course.feedback.count()},
        status=_status(request, form),
    )


# --- The quarterly summary ----------------------------------------------------------


@require_GET
@only_for(sees_training_summary)
@on_replica
def summary(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    years = financial_years(first_course_date())
    year = financial_year_of(today)
    form = SummaryForm(request.GET or None, years=years, initial={"year": year})
    if form.is_valid() and form.cleaned_data.get("year"):
        year = form.cleaned_data["year"]
    analyst = not manages_training(request.user)
    figures = year_summary(
        year, today, suppress=analyst, with_outstanding=records_invoices(request.user)
    )
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"training-summary-{financial_year_label(year)}.csv".replace("–", "-")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        csv_writer(response).writerows(csv_rows(figures))
        return response
    income = paired_bars(
        f"Fees invoiced and paid by quarter, {figures.label} (£)",
        [f"Q{r.quarter.number}" for r in figures.rows if r.quarter],
        [round(r.invoiced) for r in figures.rows],
        [round(r.paid) for r in figures.rows],
        scale_max=max([round(max(r.invoiced, r.paid)) for r in figures.rows] + [1]),
        legend=("Invoiced", "Paid"),
        chart_id="training-income",
    )
    trained = bar_chart(
        f"Delegates trained by quarter, {figures.label}",
        [f"Q{r.quarter.number}" for r in figures.rows if r.quarter],
        [r.delegates_cell.shown for r in figures.rows if r.delegates_cell],
        chart_id="training-delegates",
    )
    query = request.GET.copy()
    query["format"] = "csv"
    query["year"] = str(year)
    return render(
        request,
        "training/summary.html",
        {
            "form": form,
            "figures": figures,
            "income_chart": income,
            "trained_chart": trained,
            "csv_url": f"{reverse('training:summary')}?{query.urlencode()}",
            "threshold": settings.SMALL_NUMBER_THRESHOLD,
            "analyst": analyst,
            "staff": manages_training(request.user),
            "is_this_year": year == financial_year_of(today),
            "today": today,
        },
    )
