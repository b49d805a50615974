"""Every change to mentor records, conflicts and matches.

Each action validates, saves and writes its audit event in one transaction; views,
the demo seeder and tests call these, never .save() on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.casework import actions as casework_actions
from throughgate.casework.models import AssignedHow, Case, Phase, Referral
from throughgate.core import audit
from throughgate.core.actions import reject_unknown_fields, user_or_none
from throughgate.core.concurrency import check_version
from throughgate.core.models import AuditAction
from throughgate.custody.models import Establishment
from throughgate.engines import matching as engine
from throughgate.people.models import Person

from . import matching
from .models import (
    Conflict,
    DBSCheck,
    LicenceCondition,
    LicenceKind,
    LivedExperienceCategory,
    MatchBatch,
    MatchingNeeds,
    MatchProposal,
    MentorProfile,
    ProposalStatus,
    SecurityClearance,
    SupervisionSession,
    TrainingRecord,
)

PROFILE_FIELDS = [
    "languages", "boroughs_known", "boroughs_to_avoid", "capacity", "available",
    "unavailable_until", "availability_note",
]  # fmt: skip
PERSON_FIELDS = ["date_of_birth", "gender", "first_language", "borough"]


def _check_capacity(profile: MentorProfile) -> None:
    caseload = profile.active_caseload
    if profile.capacity < caseload:
        raise ValidationError(
            {
                "capacity": f"{profile.user} has {caseload} active mentees: capacity cannot be "
                f"below that. Move mentees to someone else first."
            }
        )


@transaction.atomic
def create_mentor_profile(
    actor: Any,
    user: Any,
    person_data: dict[str, Any],
    data: dict[str, Any],
    *,
    lived_experience: Iterable[LivedExperienceCategory] = (),
    custody_history: Iterable[Establishment] = (),
) -> MentorProfile:
    """A mentor is a user and a person: make the person record from the account's name."""
    reject_unknown_fields(person_data, PERSON_FIELDS)
    reject_unknown_fields(data, PROFILE_FIELDS)
    if user.role != roles.Role.MENTOR:
        raise ValidationError({"user": f"{user} is not a peer mentor account."})
    if MentorProfile.objects.filter(user=user).exists():
        raise ValidationError({"user": f"{user} already has a mentor profile."})
    person = Person(
        forename=user.first_name or user.username,
        surname=user.last_name or "(mentor)",
        created_by=user_or_none(actor),
        **person_data,
    )
    person.full_clean()
    person.save()
    audit.record(actor, AuditAction.CREATE, person, fields=["forename", "surname", *person_data])
    profile = MentorProfile(user=user, person=person, **data)
    profile.full_clean()
    _check_capacity(profile)
    profile.save()
    profile.lived_experience.set(lived_experience)
    profile.custody_history.set(custody_history)
    audit.record(
        actor, AuditAction.CREATE, profile,
        fields=[*data, "lived_experience", "custody_history"],
    )  # fmt: skip
    return profile


@transaction.atomic
def update_mentor_profile(
    actor: Any,
    profile: MentorProfile,
    data: dict[str, Any],
    *,
    lived_experience: Iterable[LivedExperienceCategory] | None = None,
    custody_history: Iterable[Establishment] | None = None,
    version: str | None = None,
) -> list[str]:
    """Change a mentor's profile; `version` is its version when the form was opened
    (core.concurrency). Everything happens in one transaction, so a stale version
    raised after the lists were set rolls them back too."""
    reject_unknown_fields(data, PROFILE_FIELDS)
    locked = MentorProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
    changed = [name for name, value in data.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, data[name])
    locked.full_clean()
    _check_capacity(locked)
    if lived_experience is not None:
        new = {c.pk for c in lived_experience}
        if new != set(locked.lived_experience.values_list("pk", flat=True)):
            locked.lived_experience.set(new)
            changed.append("lived_experience")
    if custody_history is not None:
        new_codes = {e.pk for e in custody_history}
        if new_codes != set(locked.custody_history.values_list("pk", flat=True)):
            locked.custody_history.set(new_codes)
            changed.append("custody_history")
    if changed:
        check_version(locked, version, actor)
        locked.save(update_fields=[f for f in changed if f in PROFILE_FIELDS] + ["updated_at"])
        audit.record(actor, AuditAction.UPDATE, locked, fields=changed)
    return changed


def _add_record(actor: Any, record: Any, fields: Iterable[str]) -> Any:
    record.recorded_by = user_or_none(actor)
    record.full_clean()
    record.save()
    audit.record(actor, AuditAction.CREATE, record, fields=fields)
    return record


@transaction.atomic
def add_licence_condition(
    actor: Any, profile: MentorProfile, data: dict[str, Any], named_people: Iterable[Person] = ()
) -> LicenceCondition:
    named = list(named_people)
    if profile.person_id in {p.pk for p in named}:
        raise ValidationError(
            {"named_people": "A mentor cannot be told not to associate with themselves."}
        )
    condition = LicenceCondition(mentor=profile, **data)
    condition.recorded_by = user_or_none(actor)
    condition.full_clean()
    if condition.kind == LicenceKind.NON_ASSOCIATION and not (named or condition.named_description):
        raise ValidationError({"named_people": "Name the people they must not associate with."})
    condition.save()
    condition.named_people.set(named)
    audit.record(actor, AuditAction.CREATE, condition, fields=[*data, "named_people"])
    return condition


@transaction.atomic
def end_licence_condition(
    actor: Any, condition: LicenceCondition, ends_on: date
) -> LicenceCondition:
    locked = LicenceCondition.objects.select_for_update().get(pk=condition.pk)
    locked.ends_on = ends_on
    locked.full_clean()
    locked.save(update_fields=["ends_on", "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=["ends_on"])
    return locked


@transaction.atomic
def add_dbs_check(actor: Any, profile: MentorProfile, data: dict[str, Any]) -> DBSCheck:
    return _add_record(actor, DBSCheck(mentor=profile, **data), data)


@transaction.atomic
def add_clearance(actor: Any, profile: MentorProfile, data: dict[str, Any]) -> SecurityClearance:
    return _add_record(actor, SecurityClearance(mentor=profile, **data), data)


@transaction.atomic
def add_training(actor: Any, profile: MentorProfile, data: dict[str, Any]) -> TrainingRecord:
    return _add_record(actor, TrainingRecord(mentor=profile, **data), data)


@transaction.atomic
def add_supervision(actor: Any, profile: MentorProfile, data: dict[str, Any]) -> SupervisionSession:
    supervisor = data.get("supervisor")
    if supervisor is not None and supervisor.pk == profile.user_id:
        raise ValidationError({"supervisor": "A mentor cannot supervise themselves."})
    return _add_record(actor, SupervisionSession(mentor=profile, **data), data)


# --- Conflicts ---------------------------------------------------------------------


@transaction.atomic
def record_conflict(actor: Any, first: Person, second: Person, data: dict[str, Any]) -> Conflict:
    reject_unknown_fields(data, ["kind", "source", "recorded_on", "details"])
    if first.pk == second.pk:
        raise ValidationError(
            {"person_b": "A conflict needs two different people: choose someone else."}
        )
    if data.get("recorded_on") and data["recorded_on"] > timezone.localdate():
        raise ValidationError({"recorded_on": "The date recorded cannot be in the future."})
    a, b = sorted([first, second], key=lambda p: p.pk)
    conflict = Conflict(person_a=a, person_b=b, recorded_by=user_or_none(actor), **data)
    try:
        conflict.full_clean()
        with transaction.atomic():
            conflict.save()
    except IntegrityError:
        raise ValidationError("This conflict is already recorded.") from None
    fields = ["person_a", "person_b", *data]
    # Written against both people, so each one's history shows it.
    audit.record(actor, AuditAction.CREATE, conflict, fields=fields)
    audit.record(actor, AuditAction.CREATE, conflict, fields=fields, person_id=b.pk)
    return conflict


@transaction.atomic
def end_conflict(actor: Any, conflict: Conflict, ended_on: date, reason: str) -> Conflict:
    locked = Conflict.objects.select_for_update().get(pk=conflict.pk)
    errors = {}
    if not locked.active:
        raise ValidationError("This conflict has already ended.")
    if not reason.strip():
        errors["ended_reason"] = "Say why the conflict no longer applies."
    if ended_on > timezone.localdate():
        errors["ended_on"] = "The end date cannot be in the future."
    elif ended_on < locked.recorded_on:
        errors["ended_on"] = "The end date is before the conflict was recorded."
    if errors:
        raise ValidationError(errors)
    locked.active = False
    locked.ended_on = ended_on
    locked.ended_reason = reason.strip()
    locked.save(update_fields=["active", "ended_on", "ended_reason", "updated_at"])
    fields = ["active", "ended_on", "ended_reason"]
    audit.record(actor, AuditAction.UPDATE, locked, fields=fields)
    audit.record(actor, AuditAction.UPDATE, locked, fields=fields, person_id=locked.person_b_id)
    return locked


@transaction.atomic
def set_matching_needs(
    actor: Any,
    person: Person,
    experiences: Iterable[LivedExperienceCategory],
    mentor_gender_required: str,
) -> MatchingNeeds:
    needs, created = MatchingNeeds.objects.get_or_create(person=person)
    changed = []
    if needs.mentor_gender_required != mentor_gender_required:
        needs.mentor_gender_required = mentor_gender_required
        needs.full_clean()
        needs.save(update_fields=["mentor_gender_required", "updated_at"])
        changed.append("mentor_gender_required")
    new = {c.pk for c in experiences}
    if new != set(needs.experiences.values_list("pk", flat=True)):
        needs.experiences.set(new)
        changed.append("experiences")
    if changed or created:
        audit.record(
            actor, AuditAction.CREATE if created else AuditAction.UPDATE, needs, fields=changed
        )
    return needs


# --- Matching ----------------------------------------------------------------------


def _describe(exclusions: Sequence[Any]) -> str:
    return "; ".join(e.reason for e in exclusions)


@transaction.atomic
def check_choice(
    person: Person, team_id: int, mentor_user: Any, override_reason: str, today: date
) -> dict[str, Any]:
    """Validate a coordinator's choice of mentor against the engine's hard constraints and
    ranking. Returns how the choice is to be recorded on the case.

    Called inside the caller's transaction: the mentor's profile row is locked first, so
    two coordinators cannot both give away a mentor's last place."""
    MentorProfile.objects.select_for_update().filter(user=mentor_user).first()
    suggestions = matching.suggestions_for(person, team_id, today, k=None)
    profile = getattr(mentor_user, "mentor_profile", None)
    if profile is None or profile.person_id not in suggestions.pool.profiles:
        raise ValidationError({"mentor": f"{mentor_user} is not a mentor of this team."})
    mentor_id = profile.person_id
    for excluded in suggestions.result.excluded:
        if excluded.mentor_id == mentor_id:
            raise ValidationError(
                {"mentor": f"{mentor_user} cannot be matched: {_describe(excluded.exclusions)}."}
            )
    rank = suggestions.rank_of(mentor_id)
    if rank == 1:
        chosen = suggestions.result.suggestions[0]
        return {
            "how": AssignedHow.SUGGESTED,
            "rank": 1,
            "cost": chosen.cost,
            "reasons": chosen.reasons,
        }
    if not override_reason.strip():
        raise ValidationError(
            {
                "override_reason": "You chose someone other than the first suggestion: "
                "say why, so the decision can be understood later."
            }
        )
    chosen = suggestions.result.suggestions[rank - 1]
    return {
        "how": AssignedHow.OVERRIDE,
        "rank": rank,
        "cost": chosen.cost,
        "reasons": chosen.reasons,
        "override_reason": override_reason.strip(),
    }


@transaction.atomic
def choose_mentor(actor: Any, case: Case, mentor_user: Any, override_reason: str = "") -> Case:
    """Give an open case the chosen mentor, refused if any hard constraint forbids it."""
    how = check_choice(
        case.person, case.team_id, mentor_user, override_reason, timezone.localdate()
    )
    return casework_actions.assign_mentor(actor, case, mentor_user, **how)


@transaction.atomic
def accept_referral_with_mentor(
    actor: Any,
    referral: Referral,
    mentor_user: Any,
    *,
    override_reason: str = "",
    matched: bool = True,
    **accept: Any,
) -> Case:
    """Accept the referral and give it its mentor in one step: all or nothing. On a
    programme with matching (`matched`), the choice is checked against the safety rules
    and recorded with its rank and reasons; otherwise the worker is simply assigned."""
    how = None
    if mentor_user is not None and matched:
        how = check_choice(
            referral.person, referral.team_id, mentor_user, override_reason, timezone.localdate()
        )
    if how is None:
        return casework_actions.accept_referral(actor, referral, mentor=mentor_user, **accept)
    case = casework_actions.accept_referral(actor, referral, **accept)
    return casework_actions.assign_mentor(actor, case, mentor_user, **how)


def waiting_cases(team_id: int) -> Any:
    """Open cases of the team with no mentor yet, oldest first."""
    return (
        Case.objects.open()
        .filter(team_id=team_id, mentor__isnull=True)
        .exclude(phase=Phase.CLOSED)
        .select_related("person")
        .order_by("opened_on", "id")
    )


@transaction.atomic
def propose_matches(actor: Any, team_id: int) -> MatchBatch:
    """Run the batch optimum over everyone waiting in the team and store its proposals."""
    today = timezone.localdate()
    cases = list(waiting_cases(team_id))
    pool = matching.mentor_pool(team_id, today)
    young = matching.young_people([c.person for c in cases], today)
    conflicts = matching.conflicts_for([c.person_id for c in cases])
    result = engine.assign_batch(pool.mentors, young, conflicts)
    batch = MatchBatch.objects.create(
        team_id=team_id, created_by=user_or_none(actor), total_cost=result.total_cost
    )
    case_of = {c.person_id: c for c in cases}
    proposals = [
        MatchProposal(
            batch=batch,
            case=case_of[a.person_id],
            mentor=pool.user_of(a.mentor_id),
            cost=a.cost,
            reasons=list(a.reasons),
        )
        for a in result.assignments
    ] + [
        MatchProposal(
            batch=batch,
            case=case_of[u.person_id],
            reasons=list(u.reasons),
            status=ProposalStatus.NO_MATCH,
        )
        for u in result.unassigned
    ]
    MatchProposal.objects.bulk_create(proposals)
    audit.record(
        actor,
        AuditAction.CREATE,
        batch,
        summary=f"{len(result.assignments)} proposed, {len(result.unassigned)} without a match",
    )
    return batch


MAX_ID = 2**63 - 1  # DEFAULT_AUTO_FIELD is BigAutoField


@transaction.atomic
def accept_proposals(actor: Any, batch: MatchBatch, proposal_ids: Iterable[int]) -> list[Case]:
    """Accept the chosen proposals. Each is checked again against today's records (a
    conflict or an expired clearance since the batch ran refuses it) — all or none."""
    wanted = set(proposal_ids)
    # An id past the largest a BigAutoField holds is no proposal; SQLite cannot even
    # look one up (OverflowError), so it is left out here and refused below.
    possible = [pk for pk in wanted if 0 < pk <= MAX_ID]
    proposals = list(
        batch.proposals.select_for_update(of=("self",))
        .filter(pk__in=possible, status=ProposalStatus.PROPOSED)
        .select_related("case__person", "mentor")
    )
    if not proposals or len(proposals) != len(wanted):
        raise ValidationError("Choose proposals from this batch that are still open.")
    today = timezone.localdate()
    # Lock the mentors before counting their places (see check_choice), then read the
    # team, the young people and their conflicts once; places and mentees taken by the
    # proposals accepted so far are added as we go.
    MentorProfile.objects.select_for_update().filter(
        user__in=[p.mentor_id for p in proposals]
    ).count()
    pool = matching.mentor_pool(batch.team_id, today)
    by_person = {m.id: m for m in pool.mentors}
    young = dict(
        zip(
            [p.case.person_id for p in proposals],
            matching.young_people([p.case.person for p in proposals], today),
            strict=True,
        )
    )
    conflicts = matching.conflicts_for(list(young))
    taken: dict[int, list[int]] = {}
    done = []
    problems = []
    for proposal in proposals:
        case = proposal.case
        if not case.is_open or case.mentor_id is not None:
            problems.append(f"{case.person}: the case has changed since the batch ran.")
            continue
        profile = getattr(proposal.mentor, "mentor_profile", None)
        mentor = by_person.get(profile.person_id) if profile else None
        if mentor is None:
            problems.append(
                f"{case.person} with {proposal.mentor}: no longer a mentor of this team."
            )
            continue
        given = taken.setdefault(mentor.id, [])
        mentor = replace(
            mentor,
            caseload=mentor.caseload + len(given),
            current_mentees=mentor.current_mentees | frozenset(given),
        )
        reasons = engine.exclusions(mentor, young[case.person_id], conflicts)
        if reasons:
            problems.append(f"{case.person} with {proposal.mentor}: {_describe(reasons)}.")
            continue
        given.append(case.person_id)
        casework_actions.assign_mentor(
            actor, case, proposal.mentor, how=AssignedHow.BATCH, cost=proposal.cost,
            reasons=proposal.reasons,
        )  # fmt: skip
        proposal.status = ProposalStatus.ACCEPTED
        proposal.decided_by = user_or_none(actor)
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["status", "decided_by", "decided_at"])
        done.append(case)
    if problems:
        raise ValidationError(problems)
    return done


@transaction.atomic
def mark_assignment_seen(actor: Any, assignment: Any) -> None:
    if assignment.mentor_id != actor.pk or assignment.seen_by_mentor_at is not None:
        return
    assignment.seen_by_mentor_at = timezone.now()
    assignment.save(update_fields=["seen_by_mentor_at"])
    audit.record(actor, AuditAction.UPDATE, assignment, fields=["seen_by_mentor_at"])
