"""Every meaningful change to referrals, cases and contacts.

Each action validates, locks what it changes, saves with update_fields and
writes its audit event in the same transaction (Zulip's do_* pattern). Views,
the importer and the demo seeder call these, never .save() on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.core import audit
from throughgate.core.actions import reject_unknown_fields, user_or_none
from throughgate.core.models import AuditAction
from throughgate.people.models import FamilyMember, Person

from .models import (
    AccommodationOutcome,
    AssignedHow,
    Case,
    ClosureReason,
    Contact,
    DeclineReason,
    ETEOutcome,
    MentorAssignment,
    Phase,
    PhaseChange,
    Programme,
    Referral,
    ReferralStatus,
)

REFERRAL_FIELDS = [
    "source_type", "referring_organisation", "referrer_name", "referrer_contact",
    "referral_date", "reasons", "consent_recorded",
]  # fmt: skip
CONTACT_FIELDS = [
    "occurred_at", "mode", "attendance", "non_attendance_reason", "duration_minutes",
    "summary", "concerns", "next_steps",
]  # fmt: skip


@transaction.atomic
def create_referral(
    actor: Any, person: Person, programme: Programme, data: dict[str, Any]
) -> Referral:
    reject_unknown_fields(data, REFERRAL_FIELDS)
    referral = Referral(
        person=person,
        programme=programme,
        team=programme.team,
        received_by=user_or_none(actor),
        **data,
    )
    referral.full_clean()
    referral.save()
    audit.record(actor, AuditAction.CREATE, referral, fields=[k for k, v in data.items() if v])
    return referral


def validate_caseworker(user: Any, field: str = "mentor") -> None:
    """Only an active mentor or worker may be given a mentee or a gate meeting."""
    if user is not None and not roles.is_active_caseworker(user):
        raise ValidationError({field: f"{user} is not an active mentor or worker."})


@transaction.atomic
def accept_referral(
    actor: Any,
    referral: Referral,
    *,
    mentor: Any = None,
    opened_on: date | None = None,
    initial_phase: str = Phase.REFERRED,
    note: str = "",
    consent_recorded: bool = False,
) -> Case:
    """Open a case from a pending referral. `consent_recorded=True` records consent given
    since the referral was made (it is needed to accept)."""
    referral = (
        Referral.objects.select_for_update()
        .select_related("programme", "person")
        .get(pk=referral.pk)
    )
    if referral.status != ReferralStatus.PENDING:
        raise ValidationError(f"This referral was already {referral.get_status_display().lower()}.")
    consent_now = consent_recorded and not referral.consent_recorded
    if consent_now:
        referral.consent_recorded = True
    if not referral.consent_recorded:
        raise ValidationError(
            {"consent_recorded": "Record the young person's consent before accepting."}
        )
    opened_on = opened_on or timezone.localdate()
    programme = referral.programme
    errors: dict[str, str] = {}
    if opened_on > timezone.localdate():
        errors["opened_on"] = "A case cannot open on a future date."
    elif opened_on < referral.referral_date:
        errors["opened_on"] = "A case cannot open before the referral was made."
    if initial_phase not in programme.phases or initial_phase == Phase.CLOSED:
        errors["initial_phase"] = f"Choose a phase of {programme}."
    if errors:
        raise ValidationError(errors)
    validate_caseworker(mentor)
    case = Case.objects.create(
        person=referral.person,
        programme=programme,
        team=referral.team,
        referral=referral,
        phase=initial_phase,
        phase_since=opened_on,
        opened_on=opened_on,
        mentor=mentor,
        coordinator=user_or_none(actor) if roles.is_coordinator(actor) else None,
    )
    PhaseChange.objects.create(
        case=case,
        from_phase="",
        to_phase=initial_phase,
        changed_on=opened_on,
        recorded_by=user_or_none(actor),
        note=note or "Referral accepted",
    )
    referral.status = ReferralStatus.ACCEPTED
    referral.decided_by = user_or_none(actor)
    referral.decided_at = timezone.now()
    referral.decision_notes = note
    referral.save(
        update_fields=[
            "status", "decided_by", "decided_at", "decision_notes", "consent_recorded",
            "updated_at",
        ]
    )  # fmt: skip
    audit.record(
        actor,
        AuditAction.UPDATE,
        referral,
        fields=["status", "consent_recorded"] if consent_now else ["status"],
        summary="accepted",
    )
    audit.record(
        actor,
        AuditAction.CREATE,
        case,
        fields=["phase", "mentor", "opened_on"] if mentor else ["phase", "opened_on"],
    )
    if mentor is not None:
        _start_assignment(actor, case, mentor, opened_on, how=AssignedHow.DIRECT)
    return case


@transaction.atomic
def decline_referral(actor: Any, referral: Referral, reason: str, notes: str = "") -> Referral:
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status != ReferralStatus.PENDING:
        raise ValidationError(f"This referral was already {referral.get_status_display().lower()}.")
    if reason not in DeclineReason.values:
        raise ValidationError({"decline_reason": "Choose a reason for declining."})
    if reason == DeclineReason.OTHER and not notes.strip():
        raise ValidationError({"decision_notes": "Explain the reason when you choose 'Other'."})
    referral.status = ReferralStatus.DECLINED
    referral.decline_reason = reason
    referral.decision_notes = notes.strip()
    referral.decided_by = user_or_none(actor)
    referral.decided_at = timezone.now()
    referral.save(
        update_fields=[
            "status", "decline_reason", "decision_notes", "decided_by", "decided_at", "updated_at",
        ]
    )  # fmt: skip
    audit.record(
        actor,
        AuditAction.UPDATE,
        referral,
        fields=["status", "decline_reason", "decision_notes"],
        summary=f"declined: {reason}",
    )
    return referral


def _lock_open_case(case: Case) -> Case:
    locked = Case.objects.select_for_update().select_related("programme").get(pk=case.pk)
    if not locked.is_open:
        raise ValidationError("This case is closed.")
    return locked


def _start_assignment(actor: Any, case: Case, mentor: Any, started_on: date, **how: Any) -> None:
    """End the case's current mentor period (if any) and start this mentor's."""
    MentorAssignment.objects.filter(case=case, ended_on__isnull=True).update(ended_on=started_on)
    if mentor is not None:
        assignment = MentorAssignment.objects.create(
            case=case, mentor=mentor, started_on=started_on, assigned_by=user_or_none(actor), **how
        )
        audit.record(actor, AuditAction.CREATE, assignment, fields=["mentor", *how])


@transaction.atomic
def assign_mentor(
    actor: Any,
    case: Case,
    mentor: Any,
    *,
    how: str = AssignedHow.DIRECT,
    rank: int | None = None,
    cost: int | None = None,
    reasons: Sequence[str] = (),
    override_reason: str = "",
) -> Case:
    """Give the case a mentor (or none), keeping the previous mentor's period in the
    case's history. Safety checks on the pairing belong to the caller (mentors.actions),
    which knows the conflicts, clearances and licence conditions."""
    locked = _lock_open_case(case)
    validate_caseworker(mentor)
    if locked.mentor_id == getattr(mentor, "pk", None):
        return locked
    locked.mentor = mentor
    locked.save(update_fields=["mentor", "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=["mentor"])
    details = {"how": how, "rank": rank, "cost": cost, "reasons": list(reasons)}
    if override_reason:
        details["override_reason"] = override_reason
    _start_assignment(actor, locked, mentor, timezone.localdate(), **details)
    case.mentor = mentor
    return locked


def last_phase_date(case: Case) -> date:
    """The day of the case's latest phase change (its opening day if none)."""
    last = case.phase_changes.order_by("-changed_on").values_list("changed_on", flat=True).first()
    return last or case.opened_on


@transaction.atomic
def change_phase(actor: Any, case: Case, to_phase: str, changed_on: date, note: str = "") -> Case:
    locked = _lock_open_case(case)
    errors: dict[str, str] = {}
    if to_phase == Phase.CLOSED:
        errors["to_phase"] = "Use 'Close case' to close a case, so the reason is recorded."
    elif to_phase not in locked.programme.phases:
        errors["to_phase"] = f"{to_phase!r} is not a phase of {locked.programme}."
    elif to_phase == locked.phase:
        errors["to_phase"] = "The case is already in this phase."
    if changed_on > timezone.localdate():
        errors["changed_on"] = "The date of a phase change cannot be in the future."
    elif changed_on < last_phase_date(locked):
        errors["changed_on"] = (
            f"This is before the last change of phase on {last_phase_date(locked):%d/%m/%Y}."
        )
    if errors:
        raise ValidationError(errors)
    PhaseChange.objects.create(
        case=locked,
        from_phase=locked.phase,
        to_phase=to_phase,
        changed_on=changed_on,
        recorded_by=user_or_none(actor),
        note=note.strip()[:300],
    )
    locked.phase = to_phase
    locked.phase_since = changed_on
    locked.save(update_fields=["phase", "phase_since", "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=["phase"], summary=f"phase: {to_phase}")
    case.phase, case.phase_since = locked.phase, locked.phase_since
    return locked


@transaction.atomic
def close_case(
    actor: Any,
    case: Case,
    reason: str,
    closed_on: date,
    notes: str = "",
    *,
    accommodation: str = "",
    ete: str = "",
) -> Case:
    """Close the case with its reason and, for reports, where the young person is living
    and whether they are in education, training or work (blank: not recorded)."""
    locked = _lock_open_case(case)
    errors: dict[str, str] = {}
    if accommodation and accommodation not in AccommodationOutcome.values:
        errors["closure_accommodation"] = "Choose where they are living."
    if ete and ete not in ETEOutcome.values:
        errors["closure_ete"] = "Choose their education, training or work."
    if reason not in ClosureReason.values:
        errors["closure_reason"] = "Choose why the case is closing."
    elif reason == ClosureReason.OTHER and not notes.strip():
        errors["closure_notes"] = "Explain the reason when you choose 'Other'."
    if closed_on > timezone.localdate():
        errors["closed_on"] = "A case cannot be closed on a future date."
    elif closed_on < last_phase_date(locked):
        errors["closed_on"] = (
            f"This is before the last change of phase on {last_phase_date(locked):%d/%m/%Y}."
        )
    else:
        last_contact = locked.contacts.order_by("-occurred_at").first()
        if last_contact and timezone.localtime(last_contact.occurred_at).date() > closed_on:
            errors["closed_on"] = (
                "A contact is logged after this date; close the case on or after "
                f"{timezone.localtime(last_contact.occurred_at):%d/%m/%Y}."
            )
    if errors:
        raise ValidationError(errors)
    PhaseChange.objects.create(
        case=locked,
        from_phase=locked.phase,
        to_phase=Phase.CLOSED,
        changed_on=closed_on,
        recorded_by=user_or_none(actor),
        note=dict(ClosureReason.choices)[reason],
    )
    locked.phase = Phase.CLOSED
    locked.phase_since = closed_on
    locked.closed_on = closed_on
    locked.closure_reason = reason
    locked.closure_notes = notes.strip()
    locked.closure_accommodation = accommodation
    locked.closure_ete = ete
    locked.save(
        update_fields=[
            "phase", "phase_since", "closed_on", "closure_reason", "closure_notes",
            "closure_accommodation", "closure_ete", "updated_at",
        ]
    )  # fmt: skip
    audit.record(
        actor,
        AuditAction.UPDATE,
        locked,
        fields=["phase", "closed_on", "closure_reason"]
        + (["closure_notes"] if notes else [])
        + [f for f, v in (("closure_accommodation", accommodation), ("closure_ete", ete)) if v],
        summary=f"closed: {reason}",
    )
    MentorAssignment.objects.filter(case=locked, ended_on__isnull=True).update(ended_on=closed_on)
    return locked


@transaction.atomic
def log_contact(
    actor: Any,
    case: Case,
    data: dict[str, Any],
    *,
    staff: Any = None,
    family_members: Iterable[FamilyMember] = (),
) -> Contact:
    reject_unknown_fields(data, CONTACT_FIELDS)
    locked = _lock_open_case(case)
    family = list(family_members)
    foreign = [m for m in family if m.person_id != locked.person_id]
    if foreign:
        raise ValidationError({"family_members": "Choose only this young person's family."})
    contact = Contact(case=locked, staff=staff or actor, logged_by=user_or_none(actor), **data)
    if isinstance(contact.occurred_at, datetime) and timezone.is_naive(contact.occurred_at):
        contact.occurred_at = timezone.make_aware(contact.occurred_at)
    contact.full_clean()
    contact.save()
    if family:
        contact.family_members.set(family)
    audit.record(
        actor,
        AuditAction.CREATE,
        contact,
        person_id=locked.person_id,
        fields=[k for k, v in data.items() if v not in ("", None)]
        + (["family_members"] if family else []),
    )
    settle_into_community(actor, locked, contact)
    return contact


SETTLED_AFTER_DAYS = 14  # the week-2 follow-up after release


def settle_into_community(actor: Any, case: Case, contact: Contact) -> None:
    """A case leaves 'through the gate' for 'in the community' when the young person is
    seen two weeks or more after release (the week-2 follow-up)."""
    if case.phase != Phase.THROUGH_THE_GATE or contact.attendance == "did_not_attend":
        return
    if Phase.COMMUNITY not in case.programme.phases:
        return
    from throughgate.custody.models import CustodyEpisode  # custody builds on casework

    released = (
        CustodyEpisode.objects.filter(person_id=case.person_id, released_on__isnull=False)
        .order_by("-released_on")
        .values_list("released_on", flat=True)
        .first()
    )
    seen_on = timezone.localtime(contact.occurred_at).date()
    if released and seen_on >= released + timedelta(days=SETTLED_AFTER_DAYS):
        change_phase(
            actor, case, Phase.COMMUNITY, max(seen_on, last_phase_date(case)),
            "Seen two weeks after release",
        )  # fmt: skip
