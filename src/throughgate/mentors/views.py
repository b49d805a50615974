from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from throughgate.accounts import roles
from throughgate.accounts.models import Team, User
from throughgate.casework.models import MentorAssignment
from throughgate.core import audit
from throughgate.core.access import get_visible_or_404, is_editable, require_editable
from throughgate.core.views import attach_errors, only_for, paginate
from throughgate.people.models import Person

from . import actions
from .forms import (
    ClearanceForm,
    ConflictForm,
    DBSCheckForm,
    EndConflictForm,
    LicenceConditionForm,
    MatchingNeedsForm,
    MentorChoiceForm,
    MentorProfileForm,
    NewMentorForm,
    SupervisionForm,
    TrainingForm,
)
from .matching import suggestions_for
from .models import (
    DBS_LEVELS_FOR_MATCHING,
    EXPIRY_WARNING_DAYS,
    Conflict,
    DBSCheck,
    LicenceCondition,
    MatchBatch,
    MatchingNeeds,
    MentorProfile,
    ProposalStatus,
    SecurityClearance,
    SupervisionSession,
    TrainingCourse,
    TrainingRecord,
    may_see_conflicts,
    supervision_interval,
)
from .readiness import (
    SUPERVISION_WARNING_DAYS,
    assess,
    caseload_of,
    with_readiness_records,
)


def _may_see_mentors(user: Any) -> bool:
    return roles.role_of(user) in (
        roles.Role.COORDINATOR,
        roles.Role.ADMIN,
        roles.Role.SAFEGUARDING_LEAD,
    )


def _status(request: HttpRequest, form: Any) -> int:
    return 400 if request.method == "POST" and form.errors else 200


def attention(user: Any) -> dict[str, int] | None:
    """How many of the user's mentors are not offered for new matches, and how many
    dated checks fall due within 30 days (or are overdue): for the coordinator's home.

    The same answer as `readiness.assess` for each mentor (tests/test_perf_referral_queue.py
    compares them), but read in one query of plain values: for each mentor the latest DBS
    check, the latest supervision, the latest record of each required course and the
    number of prison clearances about to expire, each found by a subquery. The
    coordinator's start page then costs the same for a team of 5 mentors or 500."""
    if not _may_see_mentors(user):
        return None
    today = timezone.localdate()
    warn = today + timedelta(days=EXPIRY_WARNING_DAYS)
    required = list(TrainingCourse.objects.filter(required_for_matching=True).order_by("pk"))
    dbs = DBSCheck.objects.filter(mentor=OuterRef("pk")).order_by("-issued_on", "-id")
    supervision = SupervisionSession.objects.filter(mentor=OuterRef("pk")).order_by(
        "-held_on", "-id"
    )
    # A clearance about to expire counts when it is the establishment's newest (an older
    # one is shadowed by it, as in `assess`), valid today and expiring within the window.
    newer = SecurityClearance.objects.filter(
        mentor=OuterRef("mentor"), establishment=OuterRef("establishment")
    ).filter(
        Q(expires_on__gt=OuterRef("expires_on"))
        | Q(expires_on=OuterRef("expires_on"), id__lt=OuterRef("id"))
    )
    expiring = (
        SecurityClearance.objects.filter(
            mentor=OuterRef("pk"),
            granted_on__lte=today,
            expires_on__gte=today,
            expires_on__lte=warn,
        )  # fmt: skip
        .exclude(Exists(newer))
        .values("mentor")
        .annotate(n=Count("id"))
        .values("n")
    )
    fields = {
        "dbs_level": Subquery(dbs.values("level")[:1]),
        "dbs_renewal": Subquery(dbs.values("renewal_due")[:1]),
        "supervised_on": Subquery(supervision.values("held_on")[:1]),
        "clearances_due": Coalesce(Subquery(expiring), 0),
    }
    for course in required:
        fields[f"course_{course.pk}"] = Subquery(
            TrainingRecord.objects.filter(mentor=OuterRef("pk"), course=course)
            .order_by("-completed_on", "-id")
            .values("completed_on")[:1]
        )
    rows = (
        MentorProfile.objects.visible_to(user)
        .annotate(**fields)
        .values("available", "unavailable_until", *fields)
    )
    supervision_due_by = today + timedelta(days=SUPERVISION_WARNING_DAYS)
    found = {"not_ready": 0, "due": 0}
    for row in rows:
        problem = not row["available"] or bool(
            row["unavailable_until"] and row["unavailable_until"] >= today
        )
        due = row["clearances_due"]
        if row["dbs_level"] is None:
            problem = True
        else:
            problem |= row["dbs_level"] not in DBS_LEVELS_FOR_MATCHING
            problem |= row["dbs_renewal"] < today
            due += row["dbs_renewal"] <= warn
        for course in required:
            completed = row[f"course_{course.pk}"]
            if completed is None:
                problem = True
                continue
            expires = TrainingRecord(course=course, completed_on=completed).expires_on
            if expires is not None:
                problem |= expires < today
                due += expires <= warn
        if row["supervised_on"] is None:
            problem = True
        else:
            next_due = row["supervised_on"] + supervision_interval()
            problem |= next_due < today
            due += next_due <= supervision_due_by
        found["not_ready"] += problem
        found["due"] += due
    return found if any(found.values()) else None


@require_GET
@only_for(_may_see_mentors)
def mentor_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    profiles = list(with_readiness_records(MentorProfile.objects.visible_to(request.user)))
    required = list(TrainingCourse.objects.filter(required_for_matching=True))
    rows = []
    alerts = []
    for profile in profiles:
        r = assess(profile, today, required)
        rows.append({"profile": profile, "readiness": r, "caseload": caseload_of(profile)})
        alerts += [(a, profile) for a in r.alerts]
    alerts.sort(key=lambda pair: pair[0].due)
    without_profile = User.objects.filter(
        role=roles.Role.MENTOR, is_active=True, mentor_profile__isnull=True
    )
    if not roles.sees_everyone(request.user):
        without_profile = without_profile.filter(team_id=request.user.team_id)
    return render(
        request,
        "mentors/mentor_list.html",
        {
            "rows": rows,
            "alerts": alerts,
            "without_profile": without_profile if roles.manages_cases(request.user) else [],
            "ready_count": sum(r["readiness"].ready for r in rows),
        },
    )


@require_GET
def mentor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_visible_or_404(MentorProfile, request.user, pk=pk)
    (profile,) = with_readiness_records(MentorProfile.objects.filter(pk=profile.pk))
    audit.record_view(request.user, profile)
    return render(
        request,
        "mentors/mentor_detail.html",
        {
            "profile": profile,
            "readiness": assess(profile, timezone.localdate()),
            "caseload": caseload_of(profile),
            "can_edit": is_editable(profile, request.user),
            "today": timezone.localdate(),
        },
    )


@require_GET
@only_for(lambda u: roles.role_of(u) == roles.Role.MENTOR)
def my_profile(request: HttpRequest) -> HttpResponse:
    profile = MentorProfile.objects.filter(user=request.user).first()
    if profile is None:
        raise Http404("You have no mentor profile yet: ask your coordinator.")
    return redirect("mentors:detail", pk=profile.pk)


def _profile_data(form: Any) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in actions.PROFILE_FIELDS}


@require_http_methods(["GET", "POST"])
@only_for(roles.manages_cases)
def mentor_new(request: HttpRequest) -> HttpResponse:
    form = NewMentorForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            profile = actions.create_mentor_profile(
                request.user,
                data["user"],
                {name: data[name] for name in ("date_of_birth", "gender", "first_language")},
                _profile_data(form),
                lived_experience=data["lived_experience"],
                custody_history=data["custody_history"],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"Mentor profile created for {profile.user}.")
            return redirect("mentors:detail", pk=profile.pk)
    return render(
        request,
        "mentors/form.html",
        {"form": form, "title": "Add a mentor profile"},
        status=_status(request, form),
    )


def _editable_profile(request: HttpRequest, pk: int) -> MentorProfile:
    profile = get_visible_or_404(MentorProfile, request.user, pk=pk)
    require_editable(profile, request.user)
    return profile


@require_http_methods(["GET", "POST"])
def mentor_edit(request: HttpRequest, pk: int) -> HttpResponse:
    profile = _editable_profile(request, pk)
    form = MentorProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            changed = actions.update_mentor_profile(
                request.user,
                profile,
                _profile_data(form),
                lived_experience=form.cleaned_data["lived_experience"],
                custody_history=form.cleaned_data["custody_history"],
                version=form.opened_version,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Profile saved." if changed else "Nothing was changed.")
            return redirect("mentors:detail", pk=profile.pk)
    return render(
        request,
        "mentors/form.html",
        {"form": form, "profile": profile, "title": "Change mentor profile"},
        status=_status(request, form),
    )


def _named_people(user: Any) -> Any:
    """People a mentor's non-association condition can name: those this user can see."""
    return Person.objects.visible_to(user).order_by("surname", "forename")


RECORDS: dict[str, tuple[str, Any, Any]] = {
    "licence": ("Add a licence condition", LicenceConditionForm, actions.add_licence_condition),
    "dbs": ("Record a DBS check", DBSCheckForm, actions.add_dbs_check),
    "clearance": ("Record a prison security clearance", ClearanceForm, actions.add_clearance),
    "training": ("Record training", TrainingForm, actions.add_training),
    "supervision": ("Record a supervision session", SupervisionForm, actions.add_supervision),
}


@require_http_methods(["GET", "POST"])
def record_new(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    if kind not in RECORDS:
        raise Http404("No such record")
    profile = _editable_profile(request, pk)
    title, form_class, action = RECORDS[kind]
    extra: dict[str, Any] = {}
    if kind == "licence":
        extra["people"] = _named_people(request.user)
    if kind == "supervision":
        extra["actor"] = request.user
    form = form_class(request.POST or None, **extra)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "named_people"}
        try:
            if kind == "licence":
                action(request.user, profile, data, form.cleaned_data["named_people"])
            else:
                action(request.user, profile, data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("mentors:detail", pk=profile.pk)
    return render(
        request,
        "mentors/form.html",
        {"form": form, "profile": profile, "title": title},
        status=_status(request, form),
    )


@require_POST
def licence_end(request: HttpRequest, pk: int) -> HttpResponse:
    condition = get_visible_or_404(LicenceCondition, request.user, pk=pk)
    require_editable(condition, request.user)
    try:
        actions.end_licence_condition(request.user, condition, timezone.localdate())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Licence condition ended today.")
    return redirect("mentors:detail", pk=condition.mentor_id)


# --- Conflicts ---------------------------------------------------------------------


def _conflict_people(user: Any) -> Any:
    """People a conflict can be recorded between: young people this user can see and
    the mentors of their team."""
    mentors = MentorProfile.objects.visible_to(user).values("person_id")
    return Person.objects.filter(
        Q(pk__in=Person.objects.visible_to(user).values("pk")) | Q(pk__in=mentors)
    ).order_by("surname", "forename")


@require_GET
@only_for(may_see_conflicts)
def conflict_list(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "active")
    conflicts = Conflict.objects.visible_to(request.user).select_related(
        "person_a__mentor_profile", "person_b__mentor_profile", "recorded_by"
    )
    if show != "all":
        conflicts = conflicts.active()
    page = paginate(request, conflicts)
    audit.record(
        request.user, audit.AuditAction.VIEW, object_type="mentors.conflict", summary="register"
    )
    return render(request, "mentors/conflict_list.html", {"page": page, "show": show})


@require_http_methods(["GET", "POST"])
@only_for(roles.manages_cases)
def conflict_new(request: HttpRequest) -> HttpResponse:
    people = _conflict_people(request.user)
    initial = {}
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if request.GET.get("person", "").isdecimal():
        initial["person_a"] = int(request.GET["person"])
    form = ConflictForm(request.POST or None, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_conflict(
                request.user,
                data["person_a"],
                data["person_b"],
                {k: data[k] for k in ("kind", "source", "recorded_on", "details")},
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Conflict recorded.")
            return redirect("mentors:conflicts")
    return render(
        request,
        "mentors/form.html",
        {"form": form, "title": "Record a conflict", "back": "mentors:conflicts"},
        status=_status(request, form),
    )


@require_http_methods(["GET", "POST"])
def conflict_end(request: HttpRequest, pk: int) -> HttpResponse:
    conflict = get_visible_or_404(Conflict, request.user, pk=pk)
    require_editable(conflict, request.user)
    form = EndConflictForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.end_conflict(
                request.user,
                conflict,
                form.cleaned_data["ended_on"],
                form.cleaned_data["ended_reason"],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Conflict ended.")
            return redirect("mentors:conflicts")
    return render(
        request,
        "mentors/form.html",
        {"form": form, "title": f"End the conflict: {conflict}", "back": "mentors:conflicts"},
        status=_status(request, form),
    )


# --- Matching needs, batch matching and the mentor's notice -------------------------


@require_http_methods(["GET", "POST"])
def matching_needs(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = get_visible_or_404(Person, request.user, pk=person_pk)
    if not (roles.manages_cases(request.user) and is_editable(person, request.user)):
        raise PermissionDenied("Only the coordinator can change what matching knows.")
    needs = MatchingNeeds.objects.filter(person=person).first()
    initial = (
        {
            "experiences": list(needs.experiences.all()),
            "mentor_gender_required": needs.mentor_gender_required,
        }
        if needs
        else {}
    )
    form = MatchingNeedsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        actions.set_matching_needs(
            request.user,
            person,
            form.cleaned_data["experiences"],
            form.cleaned_data["mentor_gender_required"],
        )
        messages.success(request, "Saved: suggestions now take this into account.")
        next_url = request.GET.get("next", "")
        # A path of this site only: redirect() takes a bare word ("1") for a URL name.
        if next_url.startswith("/") and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}
        ):
            return redirect(next_url)
        return redirect("people:detail", pk=person.pk)
    return render(
        request,
        "mentors/form.html",
        {"form": form, "title": "What matching should know", "person": person},
        status=_status(request, form),
    )


def _team_id(request: HttpRequest) -> int:
    """A coordinator matches for their own team; a manager picks one (the first by name
    unless the page asks for another)."""
    if not roles.is_admin(request.user):
        if request.user.team_id is None:
            raise Http404("You are not in a team.")
        return request.user.team_id
    asked = request.POST.get("team") or request.GET.get("team") or ""
    teams = Team.objects.order_by("name")
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    team = teams.filter(pk=int(asked)).first() if asked.isdecimal() else teams.first()
    if team is None:
        raise Http404("There are no teams yet.")
    return team.pk


@require_http_methods(["GET", "POST"])
@only_for(roles.manages_cases)
def batch(request: HttpRequest) -> HttpResponse:
    team_id = _team_id(request)
    if request.method == "POST":
        made = actions.propose_matches(request.user, team_id)
        return redirect("mentors:batch_detail", pk=made.pk)
    waiting = actions.waiting_cases(team_id)
    return render(
        request,
        "mentors/batch.html",
        {
            "team_id": team_id,
            "teams": Team.objects.order_by("name") if roles.is_admin(request.user) else [],
            "page": paginate(request, waiting),
            "recent": MatchBatch.objects.visible_to(request.user).filter(team_id=team_id)[:5],
        },
    )


@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    made = get_visible_or_404(MatchBatch, request.user, pk=pk)
    proposals = made.proposals.select_related("case__person", "mentor")
    audit.record_view(request.user, made)
    return render(
        request,
        "mentors/batch_detail.html",
        {
            "batch": made,
            "proposed": [p for p in proposals if p.status == ProposalStatus.PROPOSED],
            "no_match": [p for p in proposals if p.status == ProposalStatus.NO_MATCH],
            "decided": [
                p
                for p in proposals
                if p.status in (ProposalStatus.ACCEPTED, ProposalStatus.REJECTED)
            ],
        },
    )


@require_POST
def batch_accept(request: HttpRequest, pk: int) -> HttpResponse:
    made = get_visible_or_404(MatchBatch, request.user, pk=pk)
    require_editable(made, request.user)
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    ids = [int(v) for v in request.POST.getlist("proposal") if v.isdecimal()]
    try:
        cases = actions.accept_proposals(request.user, made, ids)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{len(cases)} match{'es' if len(cases) != 1 else ''} made.")
    return redirect("mentors:batch_detail", pk=made.pk)


@require_POST
def assignment_seen(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_visible_or_404(MentorAssignment, request.user, pk=pk)
    if assignment.mentor_id != request.user.pk:
        raise PermissionDenied("Only the mentor can mark their new mentee as seen.")
    actions.mark_assignment_seen(request.user, assignment)
    return redirect("casework:caseload")


# --- Used by the referral and case pages --------------------------------------------


def mentor_choice(
    request: HttpRequest, person: Person, team_id: int, *, allow_none: bool
) -> dict[str, Any]:
    """The suggestions for this young person and the form to choose among them, as
    template context for `mentors/choose_mentor.html`."""
    suggestions = suggestions_for(person, team_id, timezone.localdate())
    rows = [
        {"user_pk": suggestions.pool.user_of(s.mentor_id).pk, "mentor_name": s.mentor_name,
         "reasons": s.reasons}
        for s in suggestions.result.suggestions
    ]  # fmt: skip
    form = MentorChoiceForm(
        request.POST if request.method == "POST" else None,
        prefix="match",
        suggestions=suggestions,
        team_id=team_id,
        allow_none=allow_none,
    )
    return {
        "match_form": form,
        "suggestions": suggestions,
        "choice_rows": rows,
        "allow_none": allow_none,
    }
