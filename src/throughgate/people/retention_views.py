"""The retention page (Ade only): periods, legal holds, the latest runs, a dry-run
preview and "Purge now" (password again, then a background job).

Retention is the manager's job (DESIGN.md: Ade does configuration and retention), so
every page here answers 404 to everyone else, as for a page that does not exist.
Holds are fetched through LegalHold.objects.visible_to, runs through `_runs`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from throughgate.accounts import roles
from throughgate.core import reauth
from throughgate.core.access import get_visible_or_404
from throughgate.core.views import attach_errors, only_for

from . import retention
from .models import LegalHold, Person, PurgeRun, RetentionRule

YEARS_ERRORS = {
    "required": "Enter a whole number of years.",
    "invalid": "Enter a whole number of years, like 6.",
    "min_value": f"Enter a whole number from {retention.MIN_YEARS} to {retention.MAX_YEARS}.",
    "max_value": f"Enter a whole number from {retention.MIN_YEARS} to {retention.MAX_YEARS}.",
}


class PeriodsForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = retention.periods()
        for rule in retention.DEFAULT_YEARS:
            default = retention.DEFAULT_YEARS[rule]
            unit = "years of age" if rule == RetentionRule.SAFEGUARDING_AGE else "years"
            self.fields[rule] = forms.IntegerField(
                label=f"{RetentionRule(rule).label}: {retention.PERIOD_LABELS[rule].lower()}",
                min_value=retention.MIN_YEARS,
                max_value=retention.MAX_YEARS,
                initial=current[rule],
                help_text=f"Default {default}. Whole {unit}, 1 to 100.",
                error_messages=YEARS_ERRORS,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "short"}),
            )


class HoldForm(forms.Form):
    person = forms.IntegerField(
        label="Person's record number",
        min_value=1,
        help_text="The number in the address of their page (…/people/123/).",
        error_messages={
            "required": "Enter the record number of the person to hold.",
            "invalid": "Enter the record number, like 123.",
            "min_value": "Enter the record number, like 123.",
        },
    )
    reason = forms.CharField(
        label="Reason for the hold",
        max_length=retention.HOLD_REASON_MAX,
        help_text="Who asked and their reference, e.g. “Police request 2026-11, case ref "
        "01/2345/26”. Kept with the hold; not written to the audit trail.",
        error_messages={"required": "Say why the records must be kept."},
    )


def _runs() -> Any:
    return PurgeRun.objects.select_related("started_by")


def _page(
    request: HttpRequest,
    periods_form: PeriodsForm | None = None,
    hold_form: HoldForm | None = None,
    status: int = 200,
) -> HttpResponse:
    holds = LegalHold.objects.visible_to(request.user).select_related(
        "person", "placed_by", "lifted_by"
    )
    return render(
        request,
        "people/retention.html",
        {
            "periods_form": periods_form or PeriodsForm(),
            "hold_form": hold_form or HoldForm(),
            "active_holds": holds.active(),
            "lifted_holds": holds.filter(lifted_at__isnull=False)[:10],
            "runs": _runs()[:10],
            "errors": bool(
                (periods_form and periods_form.errors) or (hold_form and hold_form.errors)
            ),
        },
        status=status,
    )


@require_GET
@only_for(roles.is_admin)
def retention_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@only_for(roles.is_admin)
def retention_periods(request: HttpRequest) -> HttpResponse:
    form = PeriodsForm(request.POST)
    if form.is_valid():
        try:
            changed = retention.set_periods(request.user, form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(
                request,
                f"Saved {len(changed)} changed period(s)." if changed else "No period changed.",
            )
            return redirect("people:retention")
    return _page(request, periods_form=form, status=400)


@require_POST
@only_for(roles.is_admin)
def retention_hold_new(request: HttpRequest) -> HttpResponse:
    form = HoldForm(request.POST)
    if form.is_valid():
        person = Person.objects.visible_to(request.user).filter(pk=form.cleaned_data["person"])
        if not person.exists():
            form.add_error("person", "No person has this record number.")
        else:
            try:
                hold = retention.place_hold(request.user, person.get(), form.cleaned_data["reason"])
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                messages.success(request, f"Record {hold.person_id} is now on legal hold.")
                return redirect("people:retention")
    return _page(request, hold_form=form, status=400)


@require_POST
@only_for(roles.is_admin)
def retention_hold_lift(request: HttpRequest, pk: int) -> HttpResponse:
    hold = get_visible_or_404(LegalHold, request.user, pk=pk)
    try:
        retention.lift_hold(request.user, hold)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The legal hold on record {hold.person_id} was lifted.")
    return redirect("people:retention")


@require_POST
@only_for(roles.is_admin)
def retention_preview(request: HttpRequest) -> HttpResponse:
    """The dry run: what each rule finds due, with initials and dates (for Ade's eyes
    only: the PurgeRun it leaves holds counts, never names)."""
    report = retention.purge(request.user, dry_run=True)
    return render(request, "people/retention_preview.html", {"report": report})


@require_http_methods(["GET", "POST"])
@only_for(roles.is_admin)
def retention_purge(request: HttpRequest) -> HttpResponse:
    if (confirm := reauth.require_recent_password(request)) is not None:
        return confirm
    if request.method == "POST":
        job = retention.start_purge(request.user)
        messages.success(request, "The purge has started; this page shows its progress.")
        return redirect("job", pk=job.pk)
    return render(request, "people/retention_purge.html", {"report": retention.due_report()})


@require_GET
@only_for(roles.is_admin)
def retention_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = _runs().filter(pk=pk).first()
    if run is None:
        raise Http404("No purge run matches the given query.")
    rules = [
        {"label": RetentionRule(rule).label, **counts}
        for rule, counts in (run.counts or {}).items()
        if rule in RetentionRule.values
    ]
    return render(
        request,
        "people/retention_run.html",
        {"run": run, "rules": rules, "records": run.records.count()},
    )
