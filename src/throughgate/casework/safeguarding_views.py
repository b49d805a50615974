"""Pages for safeguarding concerns (raise, triage, act, MASH/NRM, close), the safeguarding
queue, a person's safeguarding chronology, and exploitation risk checks on a case.

Concern details go through `SafeguardingConcern.objects.visible_to` only (the lead(s),
the manager/admin and the raiser); everyone else gets 404, like a missing concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from throughgate.core import audit
from throughgate.core.access import get_visible_or_404
from throughgate.core.choices import LONDON_BOROUGHS
from throughgate.core.views import attach_errors, only_for
from throughgate.people.models import Person

from . import safeguarding
from .access import case_for_change
from .models import Contact
from .safeguarding_forms import (
    CloseConcernForm,
    ConcernActionForm,
    ConcernForm,
    MASHReferralForm,
    NRMReferralForm,
    RiskCheckForm,
    TriageForm,
)
from .safeguarding_models import (
    TRIAGE_WITHIN,
    ConcernStatus,
    MASHReferral,
    NRMReferral,
    SafeguardingConcern,
    leads_safeguarding,
)


def how_long(span: timedelta) -> str:
    """A plain duration: "3 hours", "1 day 5 hours", "under an hour"."""
    hours = int(span.total_seconds() // 3600)
    if hours < 1:
        return "under an hour"
    days, hours = divmod(hours, 24)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    return " ".join(parts)


def overdue_rows(user: Any) -> list[dict[str, Any]]:
    """The overdue panel's rows for the lead's and the manager's home pages."""
    now = timezone.now()
    return [
        {"concern": c, "overdue_by": how_long(c.overdue_by(now)), "due_at": c.triage_due_at}
        for c in safeguarding.overdue_concerns(user, now)
    ]


@require_GET
@only_for(leads_safeguarding)
def safeguarding_queue(request: HttpRequest) -> HttpResponse:
    """The safeguarding lead's start page: concerns waiting for triage (overdue first),
    then open ones, then the most recently closed."""
    now = timezone.now()
    concerns = SafeguardingConcern.objects.visible_to(request.user).select_related(
        "person", "raised_by"
    )
    waiting = [
        {"concern": c, "overdue": c.is_overdue(now), "overdue_by": how_long(c.overdue_by(now)),
         "due_in": how_long(c.triage_due_at - now) if c.triage_due_at > now else ""}
        for c in concerns.awaiting_triage().order_by("raised_at", "id")
    ]  # fmt: skip
    waiting.sort(key=lambda r: not r["overdue"])  # stable: oldest first within each
    return render(
        request,
        "casework/safeguarding_queue.html",
        {
            "waiting": waiting,
            "overdue_count": sum(r["overdue"] for r in waiting),
            "open": concerns.filter(status=ConcernStatus.OPEN).order_by("raised_at", "id"),
            "closed": concerns.filter(status=ConcernStatus.CLOSED).order_by("-closed_at")[:20],
            "triage_hours": int(TRIAGE_WITHIN.total_seconds() // 3600),
        },
    )


@require_http_methods(["GET", "POST"])
def concern_new(request: HttpRequest, person_pk: int) -> HttpResponse:
    """Anyone who can see the young person may raise a concern about them."""
    person = get_visible_or_404(Person, request.user, pk=person_pk)
    form = ConcernForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in safeguarding.CONCERN_FIELDS}
        try:
            concern = safeguarding.raise_concern(request.user, person, data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            leads = ", ".join(str(u) for u in safeguarding.safeguarding_leads())
            if concern.immediate_danger:
                messages.error(
                    request,
                    "Concern sent. A child is in immediate danger: call 999 now if you have "
                    f"not, then phone the safeguarding lead{f' ({leads})' if leads else ''}.",
                )
            else:
                messages.success(
                    request, "Concern sent to the safeguarding lead. They will triage it "
                    "within 24 hours.",
                )  # fmt: skip
            return redirect("casework:concern_detail", pk=concern.pk)
    return render(
        request,
        "casework/concern_form.html",
        {"person": person, "form": form, "leads": safeguarding.safeguarding_leads()},
        status=400 if form.errors else 200,
    )


def _concern_context(request: HttpRequest, concern: SafeguardingConcern) -> dict[str, Any]:
    now = timezone.now()
    return {
        "concern": concern,
        "person": concern.person,
        "can_act": SafeguardingConcern.objects.editable_by(request.user)
        .filter(pk=concern.pk)
        .exists(),
        "decisions": concern.decisions.select_related("recorded_by"),
        "actions": concern.actions.select_related("recorded_by"),
        "mash": MASHReferral.objects.filter(concern=concern).first(),
        "nrm": NRMReferral.objects.filter(concern=concern).first(),
        "overdue": concern.is_overdue(now),
        "overdue_by": how_long(concern.overdue_by(now)),
        "leads": safeguarding.safeguarding_leads(),
    }


@require_GET
def concern_detail(request: HttpRequest, pk: int) -> HttpResponse:
    concern = get_visible_or_404(SafeguardingConcern, request.user, pk=pk)
    audit.record_view(request.user, concern)
    return render(request, "casework/concern_detail.html", _concern_context(request, concern))


def _concern_form_page(
    request: HttpRequest,
    concern: SafeguardingConcern,
    form: Any,
    title: str,
    apply: Any,
    done: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            apply()
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("casework:concern_detail", pk=concern.pk)
    audit.record_view(request.user, concern)  # the form pages show the concern too
    return render(
        request,
        "casework/concern_change_form.html",
        {"concern": concern, "person": concern.person, "form": form, "title": title,
         **(extra or {})},
        status=400 if form.errors else 200,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def concern_triage(request: HttpRequest, pk: int) -> HttpResponse:
    concern = safeguarding.concern_for_change(request, pk)
    form = TriageForm(request.POST or None)
    title = "Triage the concern" if not concern.triaged_at else "Record a new decision"
    return _concern_form_page(
        request, concern, form, title,
        lambda: safeguarding.triage_concern(
            request.user, concern, form.cleaned_data["decision"], form.cleaned_data["rationale"]
        ),
        "Decision recorded.",
        {"show_summary": True},
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def concern_action_new(request: HttpRequest, pk: int) -> HttpResponse:
    concern = safeguarding.concern_for_change(request, pk)
    form = ConcernActionForm(request.POST or None, actor=request.user)
    return _concern_form_page(
        request, concern, form, "Record an action",
        lambda: safeguarding.add_concern_action(
            request.user, concern, {k: form.cleaned_data[k] for k in safeguarding.ACTION_FIELDS}
        ),
        "Action recorded.",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def concern_mash(request: HttpRequest, pk: int) -> HttpResponse:
    concern = safeguarding.concern_for_change(request, pk)
    record = MASHReferral.objects.filter(concern=concern).first()
    form = MASHReferralForm(request.POST or None, instance=record)
    return _concern_form_page(
        request, concern, form, "MASH referral",
        lambda: safeguarding.record_mash_referral(
            request.user, concern, {k: form.cleaned_data[k] for k in safeguarding.MASH_FIELDS},
            version=form.opened_version,
        ),
        "MASH referral saved.",
        {"local_authorities": LONDON_BOROUGHS},
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def concern_nrm(request: HttpRequest, pk: int) -> HttpResponse:
    concern = safeguarding.concern_for_change(request, pk)
    record = NRMReferral.objects.filter(concern=concern).first()
    form = NRMReferralForm(request.POST or None, instance=record)
    return _concern_form_page(
        request, concern, form, "NRM referral (via the local authority)",
        lambda: safeguarding.record_nrm_referral(
            request.user, concern, {k: form.cleaned_data[k] for k in safeguarding.NRM_FIELDS},
            version=form.opened_version,
        ),
        "NRM referral saved.",
        {"nrm_hint": True},
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def concern_close(request: HttpRequest, pk: int) -> HttpResponse:
    concern = safeguarding.concern_for_change(request, pk)
    form = CloseConcernForm(request.POST or None)
    return _concern_form_page(
        request, concern, form, "Close the concern",
        lambda: safeguarding.close_concern(request.user, concern, form.cleaned_data["outcome"]),
        "Concern closed.",
    )  # fmt: skip


# --- The chronology ---------------------------------------------------------------------


@dataclass
class Entry:
    when: datetime | date
    kind: str
    title: str
    detail: str = ""
    concern: SafeguardingConcern | None = None
    by: str = ""

    @property
    def sort_key(self) -> datetime:
        if isinstance(self.when, datetime):
            return self.when
        return timezone.make_aware(datetime.combine(self.when, time(12, 0)))

    @property
    def show_time(self) -> bool:
        return isinstance(self.when, datetime)


def chronology_entries(user: Any, person: Person) -> list[Entry]:
    """Everything safeguarding about `person` this user may read, oldest first: their
    concerns (the lead and the admin: all; anyone else: the ones they raised), triage
    decisions, actions, MASH and NRM events; for the lead and the admin also the contacts
    whose notes recorded a concern."""
    concerns = list(
        SafeguardingConcern.objects.visible_to(user)
        .filter(person=person)
        .select_related("raised_by", "closed_by")
        .prefetch_related("decisions__recorded_by", "actions")
    )
    entries: list[Entry] = []
    for c in concerns:
        entries.append(Entry(
            c.observed_at, "concern", f"Concern: {c.get_category_display()}",
            c.what_happened, c, str(c.raised_by or ""),
        ))  # fmt: skip
        for d in c.decisions.all():
            entries.append(Entry(
                d.decided_at, "decision", f"Triage decision: {d.get_decision_display()}",
                d.rationale, c, str(d.recorded_by or ""),
            ))  # fmt: skip
        for a in c.actions.all():
            entries.append(Entry(a.taken_on, "action", "Action", a.description, c, a.taken_by))
        mash = MASHReferral.objects.filter(concern=c).first()
        if mash:
            ref = f" (ref. {mash.reference})" if mash.reference else ""
            entries.append(
                Entry(
                    mash.referred_on, "mash", f"MASH referral to {mash.local_authority}{ref}", "", c
                )
            )
            if mash.outcome and mash.outcome_on:
                entries.append(
                    Entry(
                        mash.outcome_on,
                        "mash",
                        f"MASH outcome: {mash.get_outcome_display()}",
                        mash.notes,
                        c,
                    )
                )
        nrm = NRMReferral.objects.filter(concern=c).first()
        if nrm:
            entries.append(
                Entry(nrm.referred_on, "nrm", f"NRM referral by {nrm.first_responder}", "", c)
            )
            if nrm.reasonable_grounds and nrm.reasonable_grounds_on:
                entries.append(Entry(
                    nrm.reasonable_grounds_on, "nrm",
                    f"NRM reasonable grounds decision: {nrm.get_reasonable_grounds_display()}",
                    "", c,
                ))  # fmt: skip
            if nrm.conclusive_grounds and nrm.conclusive_grounds_on:
                entries.append(Entry(
                    nrm.conclusive_grounds_on, "nrm",
                    f"NRM conclusive grounds decision: {nrm.get_conclusive_grounds_display()}",
                    "", c,
                ))  # fmt: skip
        if c.closed_at:
            entries.append(Entry(c.closed_at, "closed", "Concern closed", c.outcome, c,
                                 str(c.closed_by or "")))  # fmt: skip
    if leads_safeguarding(user):
        for contact in (
            Contact.objects.visible_to(user)
            .filter(case__person=person)
            .exclude(concerns="")
            .select_related("staff")
        ):
            entries.append(Entry(contact.occurred_at, "contact",
                                 "Concern noted at a contact", contact.concerns, None,
                                 str(contact.staff)))  # fmt: skip
    entries.sort(key=lambda e: e.sort_key)
    return entries


@require_GET
def safeguarding_chronology(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = get_visible_or_404(Person, request.user, pk=person_pk)
    entries = chronology_entries(request.user, person)
    seen = {e.concern.pk: e.concern for e in entries if e.concern is not None}
    for concern in seen.values():
        audit.record_view(request.user, concern, summary="safeguarding chronology")
    return render(
        request,
        "casework/safeguarding_chronology.html",
        {
            "person": person,
            "entries": entries,
            "full": leads_safeguarding(request.user),
            "hidden": safeguarding.hidden_concern_count(request.user, person),
            "leads": safeguarding.safeguarding_leads(),
            "printed_at": timezone.localtime(),
        },
    )


# --- Exploitation risk checks on a case ---------------------------------------------------


@require_http_methods(["GET", "POST"])
def risk_check_new(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_change(request, pk)
    form = RiskCheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            safeguarding.record_risk_check(
                request.user, case, data["checked_on"], data["indicators"], data["notes"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Risk check recorded.")
            return redirect("casework:case_detail", pk=case.pk)
    return render(
        request,
        "casework/case_change_form.html",
        {"case": case, "form": form, "title": "Exploitation risk check"},
        status=400 if form.errors else 200,
    )
