from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from throughgate.accounts import roles
from throughgate.core import audit
from throughgate.core.access import get_visible_or_404, is_editable, require_editable
from throughgate.core.views import attach_errors, only_for, paginate
from throughgate.custody.feeds import gate_meetings_for
from throughgate.custody.models import CustodyEpisode, ReleasePlan, first_days_follow_ups
from throughgate.mentors import actions as mentor_actions
from throughgate.mentors import views as mentor_views
from throughgate.people import actions as people_actions
from throughgate.people import linkage
from throughgate.people.forms import PersonForm
from throughgate.people.models import LANGUAGE_SUGGESTIONS, FoundBy, Person
from throughgate.people.search import possible_duplicates

from . import actions, support_views
from .access import case_for_change
from .forms import (
    AcceptReferralForm,
    AssignMentorForm,
    CaseFilterForm,
    CloseCaseForm,
    ContactForm,
    DeclineReferralForm,
    DuplicateChoiceForm,
    PhaseChangeForm,
    ReferralForm,
)
from .models import (
    Action,
    Case,
    Contact,
    MentorAssignment,
    NeedStatus,
    Phase,
    Referral,
    ReferralStatus,
)
from .risk import risk_grid
from .safeguarding import hidden_concern_count, safeguarding_leads
from .safeguarding_models import SafeguardingConcern, leads_safeguarding
from .safeguarding_views import overdue_rows
from .timeline import page_number, timeline_page

RELEASE_SOON_DAYS = 28


def _with_contact_and_release(cases: Any) -> Any:
    expected_release = CustodyEpisode.objects.filter(
        person_id=OuterRef("person_id"), released_on__isnull=True
    ).order_by("-received_on")
    return cases.select_related("person", "programme", "mentor").annotate(
        last_contact_at=Max("contacts__occurred_at"),
        expected_release=Subquery(expected_release.values("expected_release_date")[:1]),
    )


def _caseload_rows(cases: Any) -> list[dict[str, Any]]:
    today = timezone.localdate()
    rows = []
    for case in cases:
        last = timezone.localtime(case.last_contact_at).date() if case.last_contact_at else None
        due = case.next_contact_due(last)
        release = case.expected_release
        rows.append(
            {
                "case": case,
                "last_contact": last,
                "due": due,
                "overdue_days": (today - due).days if due < today else 0,
                "is_due": due <= today,
                "release": release,
                "release_soon": bool(
                    release and today <= release <= today + timedelta(days=RELEASE_SOON_DAYS)
                ),
            }
        )
    # The next thing to do on top: releases in the coming weeks, then most overdue.
    rows.sort(
        key=lambda r: (
            not r["release_soon"],
            r["release"] if r["release_soon"] else today,
            not r["is_due"],
            r["due"],
        )
    )
    return rows


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if roles.has_caseload(user):
        return redirect("casework:caseload")
    if roles.role_of(user) == roles.Role.ANALYST:
        return redirect("reports:dashboard")
    if roles.is_partner(user):
        return redirect("api:tokens")  # a partner organisation works through the API
    if roles.manages_cases(user):
        return redirect("casework:referral_queue")
    if leads_safeguarding(user):
        # The safeguarding lead starts on the concerns waiting for triage.
        return redirect("casework:safeguarding_queue")
    return redirect("casework:case_list")


def _first_days(user: Any, today: Any) -> list[dict[str, Any]]:
    """Day 1, day 3 and week 2 contacts after release that are not yet done."""
    order = {"overdue": 0, "due": 1, "upcoming": 2}
    rows = [
        {"case": case, "follow": follow}
        for case, follow in first_days_follow_ups(user, today)
        if follow.status in order
    ]
    rows.sort(key=lambda r: (order[r["follow"].status], r["follow"].due))
    return rows


@require_GET
@only_for(roles.has_caseload)
def caseload(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    cases = _with_contact_and_release(Case.objects.visible_to(request.user).open())
    rows = _caseload_rows(cases)
    gate_meetings = list(
        gate_meetings_for(request.user, today).filter(
            appointment_at__date__lte=today + timedelta(days=RELEASE_SOON_DAYS)
        )
    )
    return render(
        request,
        "casework/caseload.html",
        {
            "rows": rows,
            "due_count": sum(r["is_due"] for r in rows),
            "release_count": sum(r["release_soon"] for r in rows),
            "release_days": RELEASE_SOON_DAYS,
            "gate_meetings": gate_meetings,
            "first_days": _first_days(request.user, today),
            "today": today,
            "overdue_actions": Action.objects.filter(
                case__in=Case.objects.visible_to(request.user).open(),
                done_on__isnull=True,
                due_on__lte=today,
            )
            .select_related("case__person")
            .order_by("due_on", "id"),
            "new_mentees": MentorAssignment.objects.filter(
                mentor=request.user, ended_on__isnull=True, seen_by_mentor_at__isnull=True
            ).select_related("case__person", "assigned_by"),
        },
    )


QUEUE_WINDOW = 20  # cases due a contact shown on each page of the referral queue


def _due_order(user: Any) -> list[int]:
    """The ids of the user's team's open cases that are due a contact, most urgent
    first, in the order `_caseload_rows` gives (releases in the coming weeks, then the
    longest overdue). Read as plain values, one query, with the last contact and the
    expected release found through their indexes for each case, so a team of hundreds
    of cases and millions of contacts costs milliseconds; only the cases shown are then
    loaded as objects."""
    today = timezone.localdate()
    latest = Contact.objects.filter(case_id=OuterRef("pk")).order_by("-occurred_at")
    expected_release = CustodyEpisode.objects.filter(
        person_id=OuterRef("person_id"), released_on__isnull=True
    ).order_by("-received_on")
    rows = (
        Case.objects.visible_to(user)
        .open()
        .annotate(
            last=Subquery(latest.values("occurred_at")[:1]),
            release=Subquery(expected_release.values("expected_release_date")[:1]),
        )
        .values_list("pk", "opened_on", "programme__contact_interval_days", "last", "release")
    )
    keyed = []
    for pk, opened_on, interval, last, release in rows:
        start = timezone.localtime(last).date() if last else opened_on
        due = start + timedelta(days=interval)
        if due > today:
            continue
        soon = bool(release and today <= release <= today + timedelta(days=RELEASE_SOON_DAYS))
        keyed.append((not soon, release if soon else today, due, pk))
    keyed.sort()
    return [key[-1] for key in keyed]


def _rows_of(ids: list[int]) -> list[dict[str, Any]]:
    """Caseload rows for these cases, in the order of `ids`."""
    rows = {r["case"].pk: r for r in _caseload_rows(_with_contact_and_release(
        Case.objects.filter(pk__in=ids)))}  # fmt: skip
    return [rows[pk] for pk in ids if pk in rows]


@require_GET
@only_for(roles.manages_cases)
def referral_queue(request: HttpRequest) -> HttpResponse:
    visible = Referral.objects.visible_to(request.user).select_related(
        "person", "programme", "received_by"
    )
    pending = visible.filter(status=ReferralStatus.PENDING).order_by("referral_date", "id")
    recent = visible.exclude(status=ReferralStatus.PENDING).order_by("-decided_at", "-id")[:20]
    team_cases = Case.objects.visible_to(request.user).open()
    # The cases due a contact, QUEUE_WINDOW at a time: the most urgent first, and the
    # rest a page further (?due_page=2), so the page stays small whatever the team's size.
    due_page = Paginator(_due_order(request.user), QUEUE_WINDOW).get_page(
        request.GET.get("due_page")
    )
    unassigned = team_cases.filter(mentor__isnull=True).select_related("person", "programme")
    return render(
        request,
        "casework/referral_queue.html",
        {
            "pending": pending,
            "recent": recent,
            "today": timezone.localdate(),
            "due_rows": _rows_of(list(due_page.object_list)),
            "due_page": due_page,
            "due_count": due_page.paginator.count,
            "unassigned": unassigned[:25],
            "mentor_attention": mentor_views.attention(request.user),
            # Safeguarding concerns past their triage deadline (the manager's escalation).
            "overdue_concerns": overdue_rows(request.user),
        },
    )


def _referral_data(form: ReferralForm) -> dict[str, Any]:
    return {k: v for k, v in form.cleaned_data.items() if k != "programme"}


@require_http_methods(["GET", "POST"])
@only_for(roles.manages_cases)
def referral_new(request: HttpRequest) -> HttpResponse:
    """Enter a referral, for a new person or (with ?person=) someone already known.

    A new person is checked against every record first; when they look like
    someone known, the coordinator chooses before anything is saved.
    """
    existing: Person | None = None
    person_pk = request.GET.get("person") or request.POST.get("existing_person")
    if person_pk:
        existing = get_visible_or_404(Person, request.user, pk=person_pk)
    referral_form = ReferralForm(request.POST or None, user=request.user, prefix="referral")
    person_form = None if existing else PersonForm(request.POST or None, prefix="person")
    duplicates: list[Any] = []
    choice_form = None
    if request.method == "POST":
        forms_valid = referral_form.is_valid() and (person_form is None or person_form.is_valid())
        if forms_valid and person_form is not None:
            data = person_form.cleaned_data
            duplicates = possible_duplicates(
                request.user,
                data["forename"],
                data["surname"],
                data["date_of_birth"],
                [data.get("prison_number", ""), data.get("pnc_id", ""), data.get("crn", "")],
            )
            if duplicates:
                # The question is asked once without complaint; a second save that
                # leaves it unanswered gets an error on it.
                answered = "duplicate_choice" in request.POST or "duplicates_shown" in request.POST
                choice_form = DuplicateChoiceForm(
                    request.POST if answered else None,
                    choices=[(str(d.person.pk), str(d.person)) for d in duplicates if d.visible],
                )
                if not choice_form.is_valid():
                    forms_valid = False
                elif choice_form.cleaned_data["duplicate_choice"] != DuplicateChoiceForm.NEW:
                    existing = get_visible_or_404(
                        Person, request.user, pk=choice_form.cleaned_data["duplicate_choice"]
                    )
        if forms_valid:
            try:
                with transaction.atomic():
                    person = existing or people_actions.create_person(
                        request.user, person_form.cleaned_data
                    )
                    if existing is None:
                        linkage.review_later(request.user, [person.pk], FoundBy.INTAKE)
                    referral = actions.create_referral(
                        request.user,
                        person,
                        referral_form.cleaned_data["programme"],
                        _referral_data(referral_form),
                    )
            except ValidationError as exc:
                # Each message once, on the form holding its field (a bad referral date
                # is not a problem with the young person's details).
                others = [person_form] if person_form is not None else []
                attach_errors(referral_form, exc, *others)
            else:
                messages.success(request, f"Referral of {person} recorded.")
                return redirect("casework:referral_detail", pk=referral.pk)
    # Invalid input answers 400, as in every form view; the duplicate question on
    # its own (no choice made yet) is not an error.
    invalid = any(f is not None and f.errors for f in (referral_form, person_form, choice_form))
    return render(
        request,
        "casework/referral_form.html",
        {
            "referral_form": referral_form,
            "person_form": person_form,
            "existing": existing,
            "duplicates": duplicates,
            "hidden_duplicates": sum(not d.visible for d in duplicates),
            "choice_form": choice_form,
            "languages": LANGUAGE_SUGGESTIONS,
        },
        status=400 if invalid else 200,
    )


def _referral_page(
    request: HttpRequest, referral: Referral, accept_form: Any = None, decline_form: Any = None
) -> dict[str, Any]:
    can_triage = referral.status == ReferralStatus.PENDING and is_editable(referral, request.user)
    context: dict[str, Any] = {
        "referral": referral,
        "can_triage": can_triage,
        "case": getattr(referral, "case", None)
        if referral.status == ReferralStatus.ACCEPTED
        else None,
    }
    if can_triage:
        context["accept_form"] = accept_form or AcceptReferralForm(
            referral=referral, prefix="accept"
        )
        context["decline_form"] = decline_form or DeclineReferralForm(prefix="decline")
        if referral.programme.uses_mentor_matching:
            context.update(
                mentor_views.mentor_choice(
                    request, referral.person, referral.team_id, allow_none=True
                )
            )
    return context


@require_GET
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_visible_or_404(Referral, request.user, pk=pk)
    audit.record_view(request.user, referral)
    return render(request, "casework/referral_detail.html", _referral_page(request, referral))


@require_POST
def referral_accept(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_visible_or_404(Referral, request.user, pk=pk)
    require_editable(referral, request.user)
    form = AcceptReferralForm(request.POST, referral=referral, prefix="accept")
    context = _referral_page(request, referral, accept_form=form)
    if not context["can_triage"]:
        raise PermissionDenied("This referral has already been decided.")
    match_form = context.get("match_form")
    if form.is_valid() and (match_form is None or match_form.is_valid()):
        if match_form is None:
            mentor, override_reason = form.cleaned_data["mentor"], ""
        else:
            mentor = match_form.cleaned_data["chosen"]
            override_reason = match_form.cleaned_data["override_reason"]
        try:
            case = mentor_actions.accept_referral_with_mentor(
                request.user,
                referral,
                mentor,
                override_reason=override_reason,
                matched=match_form is not None,
                opened_on=form.cleaned_data["opened_on"],
                initial_phase=form.cleaned_data["initial_phase"],
                note=form.cleaned_data["note"],
                consent_recorded=form.cleaned_data.get("consent_recorded", False),
            )
        except ValidationError as exc:
            attach_errors(form, exc, *([match_form] if match_form else []))
        else:
            messages.success(request, f"Referral accepted: a case is open for {referral.person}.")
            return redirect("casework:case_detail", pk=case.pk)
    return render(request, "casework/referral_detail.html", context, status=400)


@require_POST
def referral_decline(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_visible_or_404(Referral, request.user, pk=pk)
    require_editable(referral, request.user)
    form = DeclineReferralForm(request.POST, prefix="decline")
    if form.is_valid():
        try:
            actions.decline_referral(
                request.user,
                referral,
                form.cleaned_data["decline_reason"],
                form.cleaned_data["decision_notes"],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"Referral of {referral.person} declined.")
            return redirect("casework:referral_queue")
    return render(
        request,
        "casework/referral_detail.html",
        {
            "referral": referral,
            "can_triage": True,
            "accept_form": AcceptReferralForm(referral=referral, prefix="accept"),
            "decline_form": form,
        },
        status=400,
    )


@require_GET
@only_for(lambda u: roles.sees_personal_data(u) and not roles.has_caseload(u))
def case_list(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET or None)
    cases = Case.objects.visible_to(request.user)
    status = "open"
    if form.is_valid():
        data = form.cleaned_data
        status = data["status"] or "open"
        if data["q"]:
            words = data["q"].split()
            for word in words:
                cases = cases.filter(
                    Q(person__forename__icontains=word)
                    | Q(person__surname__icontains=word)
                    | Q(person__preferred_name__icontains=word)
                )
        if data["programme"]:
            cases = cases.filter(programme=data["programme"])
        if data["phase"]:
            cases = cases.filter(phase=data["phase"])
        if data["mentor"]:
            cases = cases.filter(mentor=data["mentor"])
    if status == "open":
        cases = cases.open()
    elif status == "closed":
        cases = cases.filter(phase=Phase.CLOSED)
    cases = _with_contact_and_release(cases).order_by("person__surname", "person__forename", "id")
    page = paginate(request, cases)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "casework/case_list.html",
        {
            "form": form,
            "page": page,
            "total": page.paginator.count,
            "querystring": query.urlencode(),
        },
    )


@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_visible_or_404(Case, request.user, pk=pk)
    audit.record_view(request.user, case)
    user = request.user
    contact_count = case.contacts.count()
    # The latest contacts, CONTACTS_PER_PAGE at a time (?page=2 for older ones): a case
    # with years of contacts opens as fast as a new one.
    timeline = timeline_page(case, page_number(request.GET.get("page")), contact_count)
    return render(
        request,
        "casework/case_detail.html",
        {
            "case": case,
            "timeline": timeline.entries,
            "timeline_page": timeline,
            "can_log": case.is_open and is_editable(case, user),
            "can_manage": case.is_open and Case.objects.manageable_by(user).filter(pk=pk).exists(),
            "contact_count": contact_count,
            "family": case.person.family_members.all(),
            "custody": CustodyEpisode.objects.filter(person=case.person)
            .select_related("establishment")
            .first(),
            "has_plan": ReleasePlan.objects.filter(case=case).exists(),
            "history": case.mentor_assignments.select_related("mentor", "assigned_by"),
            "figures": support_views.progress_figures(case),
            "risk": risk_grid(case),
            **_safeguarding_summary(user, case),
            **_support_counts(case),
        },
    )


def _safeguarding_summary(user: Any, case: Case) -> dict[str, Any]:
    """What the case page says about safeguarding: the concerns this user may read, and
    only the number of those they may not (with whom to ask)."""
    return {
        "concerns": SafeguardingConcern.objects.visible_to(user)
        .filter(person_id=case.person_id)
        .order_by("-raised_at")[:10],
        "hidden_concerns": hidden_concern_count(user, case.person),
        "safeguarding_leads": safeguarding_leads(),
    }


def _support_counts(case: Case) -> dict[str, int]:
    today = timezone.localdate()
    counts = case.actions.filter(done_on__isnull=True).aggregate(
        open_actions=Count("id"), overdue_actions=Count("id", filter=Q(due_on__lt=today))
    )
    counts["open_needs"] = case.needs.filter(
        status__in=[NeedStatus.NOT_STARTED, NeedStatus.IN_PROGRESS]
    ).count()
    return counts


@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_change(request, pk, manage=False)
    form = ContactForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in actions.CONTACT_FIELDS}
        try:
            actions.log_contact(
                request.user,
                case,
                data,
                family_members=form.cleaned_data.get("family_members") or [],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Contact logged.")
            return redirect("casework:case_detail", pk=case.pk)
    return render(
        request,
        "casework/contact_form.html",
        {"case": case, "form": form},
        status=400 if form.errors else 200,
    )


def _case_change_view(
    request: HttpRequest,
    pk: int,
    form_class: Any,
    template_title: str,
    apply: Any,
) -> HttpResponse:
    case = case_for_change(request, pk, manage=True)
    form = form_class(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            message = apply(case, form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect("casework:case_detail", pk=case.pk)
    return render(
        request,
        "casework/case_change_form.html",
        {"case": case, "form": form, "title": template_title},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def case_phase(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(case: Case, data: dict[str, Any]) -> str:
        actions.change_phase(request.user, case, data["to_phase"], data["changed_on"], data["note"])
        return f"Case moved to {case.get_phase_display().lower()}."

    return _case_change_view(request, pk, PhaseChangeForm, "Change phase", apply)


@require_http_methods(["GET", "POST"])
def case_mentor(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_change(request, pk, manage=True)
    if case.programme.uses_mentor_matching:
        context = mentor_views.mentor_choice(request, case.person, case.team_id, allow_none=False)
        form = context["match_form"]
    else:
        form = AssignMentorForm(request.POST or None, case=case)
        context = {}
    if request.method == "POST" and form.is_valid():
        try:
            if context:
                mentor_actions.choose_mentor(
                    request.user,
                    case,
                    form.cleaned_data["chosen"],
                    form.cleaned_data["override_reason"],
                )
            else:
                actions.assign_mentor(request.user, case, form.cleaned_data["mentor"])
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{case.mentor} is now the mentor.")
            return redirect("casework:case_detail", pk=case.pk)
    history = case.mentor_assignments.select_related("mentor", "assigned_by")
    return render(
        request,
        "casework/case_mentor.html",
        {"case": case, "form": form, "history": history, **context},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(case: Case, data: dict[str, Any]) -> str:
        actions.close_case(
            request.user, case, data["closure_reason"], data["closed_on"], data["closure_notes"],
            accommodation=data["closure_accommodation"], ete=data["closure_ete"],
        )  # fmt: skip
        return "Case closed."

    return _case_change_view(request, pk, CloseCaseForm, "Close the case", apply)
