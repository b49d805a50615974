"""Pages for holistic support: the support plan of a case and what hangs off it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from throughgate.accounts import roles
from throughgate.core import audit
from throughgate.core.access import get_visible_or_404, is_editable, require_editable
from throughgate.core.views import attach_errors, only_for
from throughgate.engines import instruments as engine
from throughgate.reports import charts

from . import support
from .access import case_for_change
from .models import (
    Action,
    Agency,
    BankApplication,
    Case,
    IDApplication,
    InstrumentDefinition,
    Need,
    NeedStatus,
    OnwardReferral,
    Pathway,
)
from .support_forms import (
    ActionForm,
    AgencyForm,
    BankApplicationForm,
    ConsentForm,
    IDApplicationForm,
    InstrumentResponseForm,
    NeedsAssessmentForm,
    NeedUpdateForm,
    OnwardReferralForm,
    OnwardStatusForm,
)


def _editable_child(request: HttpRequest, model: Any, pk: int) -> Any:
    record = get_visible_or_404(model, request.user, pk=pk)
    require_editable(record, request.user)
    if not record.case.is_open:
        raise PermissionDenied("This case is closed.")
    return record


def _form_page(
    request: HttpRequest,
    case: Case,
    form: Any,
    title: str,
    save: Callable[[], Any],
    done: str,
    template: str = "casework/support_form.html",
    **extra: Any,
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            save()
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("casework:support_plan", pk=case.pk)
    return render(
        request,
        template,
        {"case": case, "form": form, "title": title, **extra},
        status=400 if form.errors else 200,
    )


# --- Figures for the case page and the support plan ---------------------------------------


def _responses(case: Case) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for response in case.instrument_responses.select_related("instrument").order_by(
        "completed_on", "id"
    ):
        found.setdefault(response.instrument.key, []).append(response)
    return found


def progress_figures(case: Case) -> dict[str, Any]:
    """Distance travelled per pathway (first and latest self-rating) and the trust trend,
    each as a chart and a table of its numbers. Two queries whatever the history."""
    responses = _responses(case)
    figures: dict[str, Any] = {}
    distance = responses.get(engine.DISTANCE_TRAVELLED.key, [])
    if distance:
        latest = distance[-1]
        first = distance[0] if len(distance) > 1 else None  # one rating: nothing to compare
        rows = []
        for pathway, label in Pathway.choices:
            before = first.answers.get(pathway) if first else None
            after = latest.answers.get(pathway)
            if before is None and after is None:
                continue
            change = after - before if before is not None and after is not None else None
            rows.append({"label": label, "first": before, "latest": after, "change": change})
        figures["distance"] = {
            "first": first,
            "latest": latest,
            "rows": rows,
            "chart": charts.paired_bars(
                "Distance travelled: self-rating per pathway, first and latest",
                [r["label"] for r in rows],
                [r["first"] for r in rows],
                [r["latest"] for r in rows],
                scale_max=engine.DISTANCE_TRAVELLED.scale_max,
                legend=(
                    f"{first.completed_on:%d/%m/%Y}" if first else "",
                    f"{latest.completed_on:%d/%m/%Y}",
                ),
                chart_id="distance-chart",
            ),
        }
    trust = responses.get(engine.TRUST_CHECK_IN.key, [])
    if trust:
        points = [(f"{r.completed_on:%d/%m/%Y}", r.total) for r in trust]
        figures["trust"] = {
            "rows": trust,
            "chart": charts.line_chart(
                "Trust check-in: mean score over time",
                points,
                y_min=engine.TRUST_CHECK_IN.scale_min,
                y_max=engine.TRUST_CHECK_IN.scale_max,
                chart_id="trust-chart",
            ),
        }
    return figures


def _schedules(case: Case, responses: dict[str, list[Any]]) -> list[dict[str, Any]]:
    today = timezone.localdate()
    rows = []
    for definition in InstrumentDefinition.objects.filter(active=True).prefetch_related("items"):
        instrument = support.as_engine(definition)
        done = [r.completed_on for r in responses.get(definition.key, [])]
        rows.append(
            {
                "definition": definition,
                "due": engine.due_dates(instrument, case.opened_on, done, today),
                "count": len(done),
            }
        )
    return rows


@require_GET
def support_plan(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_visible_or_404(Case, request.user, pk=pk)
    audit.record_view(request.user, case, summary="support plan")
    today = timezone.localdate()
    needs = list(case.needs.all())
    actions = list(case.actions.select_related("need"))
    responses = _responses(case)
    return render(
        request,
        "casework/support_plan.html",
        {
            "case": case,
            "person": case.person,
            "can_edit": case.is_open and is_editable(case, request.user),
            "needs": needs,
            "open_actions": [a for a in actions if a.done_on is None],
            "done_actions": [a for a in actions if a.done_on is not None],
            "today": today,
            "id_applications": case.id_applications.all(),
            "bank_applications": case.bank_applications.all(),
            "onward": case.onward_referrals.select_related("agency", "need"),
            "schedules": _schedules(case, responses),
            "figures": progress_figures(case),
            "needs_met": sum(n.status == NeedStatus.MET for n in needs),
        },
    )


@require_http_methods(["GET", "POST"])
def needs_assess(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_change(request, pk)
    form = NeedsAssessmentForm(request.POST or None, case=case)
    return _form_page(
        request, case, form, "Needs assessment",
        lambda: support.assess_needs(request.user, case, form.rows(), form.cleaned_data["on"]),
        "Needs assessment saved.", template="casework/needs_form.html",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def need_update(request: HttpRequest, pk: int) -> HttpResponse:
    need = _editable_child(request, Need, pk)
    form = NeedUpdateForm(request.POST or None, instance=need)

    def save() -> None:
        data = {f: form.cleaned_data[f] for f in support.NEED_FIELDS}
        support.update_need(
            request.user, need, data, form.cleaned_data["note"], form.cleaned_data["on"],
            version=form.opened_version,
        )  # fmt: skip

    return _form_page(
        request, need.case, form, f"Update: {need.get_pathway_display()}", save, "Need updated.",
        history=need.updates.select_related("recorded_by"),
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def action_new(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_change(request, pk)
    form = ActionForm(request.POST or None, case=case)
    return _form_page(
        request, case, form, "Add an action",
        lambda: support.add_action(
            request.user, case, {f: form.cleaned_data[f] for f in support.ACTION_FIELDS}
        ),
        "Action added.",
    )  # fmt: skip


@require_POST
def action_done(request: HttpRequest, pk: int) -> HttpResponse:
    action = _editable_child(request, Action, pk)
    try:
        support.complete_action(request.user, action, timezone.localdate())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Done: {action.description}")
    if request.POST.get("next") == "caseload":  # ticked off from the mentor's home page
        return redirect("casework:caseload")
    return redirect("casework:support_plan", pk=action.case_id)


def _application_page(
    request: HttpRequest, case: Case, form_class: Any, save: Any, title: str, record: Any = None
) -> HttpResponse:
    form = form_class(request.POST or None, instance=record)
    return _form_page(
        request, case, form, title,
        lambda: save(request.user, case, {f: form.cleaned_data[f] for f in form.Meta.fields},
                     record, version=form.opened_version),
        "Saved.",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def id_new(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_change(request, pk)
    return _application_page(
        request, case, IDApplicationForm, support.save_id_application, "Apply for ID"
    )


@require_http_methods(["GET", "POST"])
def id_edit(request: HttpRequest, pk: int) -> HttpResponse:
    record = _editable_child(request, IDApplication, pk)
    return _application_page(
        request, record.case, IDApplicationForm, support.save_id_application,
        f"ID: {record.get_id_type_display()}", record,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def bank_new(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_change(request, pk)
    return _application_page(
        request, case, BankApplicationForm, support.save_bank_application, "Open a bank account"
    )


@require_http_methods(["GET", "POST"])
def bank_edit(request: HttpRequest, pk: int) -> HttpResponse:
    record = _editable_child(request, BankApplication, pk)
    return _application_page(
        request, record.case, BankApplicationForm, support.save_bank_application,
        f"Bank account: {record.bank}", record,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def onward_new(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_change(request, pk)
    form = OnwardReferralForm(request.POST or None, case=case)
    return _form_page(
        request, case, form, "Refer on to an agency",
        lambda: support.create_onward_referral(
            request.user, case, {f: form.cleaned_data[f] for f in support.ONWARD_FIELDS}
        ),
        "Onward referral recorded. Send it once it is ready.",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def onward_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An onward referral and the next step in its loop: sent, accepted or declined,
    completed, or withdrawn; consent first if it was not given."""
    referral = _editable_child(request, OnwardReferral, pk)
    status_form = OnwardStatusForm(
        request.POST if "status" in request.POST else None, referral=referral
    )
    consent_form = ConsentForm(request.POST if "consent_on" in request.POST else None)
    form = status_form if "status" in request.POST else consent_form
    if request.method == "POST" and form.is_valid():
        try:
            if form is status_form:
                data = status_form.cleaned_data
                support.change_onward_status(
                    request.user, referral, data["status"], data["on"], data["outcome"]
                )
            else:
                support.record_consent(
                    request.user, referral, consent_form.cleaned_data["consent_on"]
                )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Onward referral updated.")
            return redirect("casework:support_plan", pk=referral.case_id)
    return render(
        request,
        "casework/onward_detail.html",
        {
            "case": referral.case,
            "referral": referral,
            "status_form": status_form,
            "consent_form": consent_form,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def instrument_new(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    case = case_for_change(request, pk)
    definition = InstrumentDefinition.objects.filter(key=key, active=True).first()
    if definition is None:
        raise Http404("No such questionnaire")
    form = InstrumentResponseForm(request.POST or None, definition=definition)
    return _form_page(
        request, case, form, definition.name,
        lambda: support.record_instrument_response(
            request.user, case, definition, form.cleaned_data["completed_on"], form.answers()
        ),
        f"{definition.name} recorded.", template="casework/instrument_form.html",
        definition=definition,
    )  # fmt: skip


# --- The agency directory -------------------------------------------------------------------


def _uses_agencies(user: Any) -> bool:
    return roles.sees_personal_data(user)


@require_GET
@only_for(_uses_agencies)
def agency_list(request: HttpRequest) -> HttpResponse:
    agencies = Agency.objects.filter(active=True).annotate(
        open_referrals=Count("referrals", filter=Q(referrals__status__in=["sent", "accepted"])),
        last_referral=Max("referrals__created_at"),
    )
    return render(
        request,
        "casework/agency_list.html",
        {"agencies": agencies, "can_add": roles.manages_cases(request.user)},
    )


@require_http_methods(["GET", "POST"])
@only_for(roles.manages_cases)
def agency_new(request: HttpRequest) -> HttpResponse:
    form = AgencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            support.add_agency(
                request.user, {f: form.cleaned_data[f] for f in support.AGENCY_FIELDS}
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Agency added to the directory.")
            return redirect("casework:agency_list")
    return render(
        request,
        "casework/agency_form.html",
        {"form": form, "title": "Add an agency"},
        status=400 if form.errors else 200,
    )
