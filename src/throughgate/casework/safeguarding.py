"""Every change to safeguarding concerns and exploitation risk checks (actions), and the
queries the pages share (the overdue list, what someone may know of hidden concerns).

Each action validates, locks what it changes, saves and writes its audit event in the
same transaction, as casework.actions does. Views, the demo seeder and tests call these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.core import audit
from throughgate.core.access import get_visible_or_404
from throughgate.core.actions import reject_unknown_fields, user_or_none
from throughgate.core.concurrency import check_version
from throughgate.core.models import AuditAction
from throughgate.people.models import Person

from .models import Case
from .safeguarding_models import (
    ConcernAction,
    ConcernDecision,
    ConcernStatus,
    MASHReferral,
    NRMReferral,
    RiskCheck,
    RiskIndicator,
    SafeguardingConcern,
    TriageDecision,
    leads_safeguarding,
)

CONCERN_FIELDS = [
    "observed_at", "what_happened", "at_risk", "at_risk_name", "category",
    "immediate_action", "immediate_danger",
]  # fmt: skip
MASH_FIELDS = ["referred_on", "local_authority", "reference", "outcome", "outcome_on", "notes"]
NRM_FIELDS = [
    "referred_on", "first_responder", "reference", "reasonable_grounds",
    "reasonable_grounds_on", "conclusive_grounds", "conclusive_grounds_on", "notes",
]  # fmt: skip
ACTION_FIELDS = ["taken_on", "description", "taken_by"]


def _changed(record: Any, data: dict[str, Any]) -> list[str]:
    return [name for name, value in data.items() if getattr(record, name) != value]


@transaction.atomic
def raise_concern(actor: Any, person: Person, data: dict[str, Any]) -> SafeguardingConcern:
    """Anyone who can see the young person raises a concern; it waits for triage by the
    safeguarding lead, due within TRIAGE_WITHIN."""
    reject_unknown_fields(data, CONCERN_FIELDS)
    data = dict(data)
    for name in ("what_happened", "immediate_action", "at_risk_name"):
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()
    concern = SafeguardingConcern(person=person, raised_by=user_or_none(actor), **data)
    if isinstance(concern.observed_at, datetime) and timezone.is_naive(concern.observed_at):
        concern.observed_at = timezone.make_aware(concern.observed_at)
    concern.raised_at = timezone.now()
    concern.full_clean()
    concern.save()
    audit.record(
        actor,
        AuditAction.CREATE,
        concern,
        fields=[k for k, v in data.items() if v not in ("", None, False)],
        summary="safeguarding concern raised",
    )
    return concern


def _lock(concern: SafeguardingConcern, *, open_only: bool = True) -> SafeguardingConcern:
    locked = SafeguardingConcern.objects.select_for_update().get(pk=concern.pk)
    if open_only and locked.status == ConcernStatus.CLOSED:
        raise ValidationError("This concern is closed.")
    return locked


@transaction.atomic
def triage_concern(
    actor: Any, concern: SafeguardingConcern, decision: str, rationale: str
) -> ConcernDecision:
    """Record the lead's decision and why. The first decision triages the concern (it
    stops being due); a later one revises it and stays in the history."""
    locked = _lock(concern)
    errors: dict[str, str] = {}
    if decision not in TriageDecision.values:
        errors["decision"] = "Choose a decision."
    if not rationale.strip():
        errors["rationale"] = "Say why: the rationale is part of the safeguarding record."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    row = ConcernDecision.objects.create(
        concern=locked, decision=decision, rationale=rationale.strip(), decided_at=now,
        recorded_by=user_or_none(actor),
    )  # fmt: skip
    fields = ["decision"]
    if locked.status == ConcernStatus.AWAITING_TRIAGE:
        locked.status = ConcernStatus.OPEN
        locked.triaged_at = now
        locked.triaged_by = user_or_none(actor)
        fields += ["status", "triaged_at", "triaged_by"]
    locked.decision = decision
    locked.save(update_fields=[*fields, "updated_at"])
    audit.record(actor, AuditAction.CREATE, row, fields=["decision", "rationale"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=fields, summary=f"triage: {decision}")
    concern.refresh_from_db()
    return row


@transaction.atomic
def add_concern_action(
    actor: Any, concern: SafeguardingConcern, data: dict[str, Any]
) -> ConcernAction:
    reject_unknown_fields(data, ACTION_FIELDS)
    locked = _lock(concern)
    errors: dict[str, str] = {}
    taken_on = data.get("taken_on")
    description = (data.get("description") or "").strip()
    taken_by = (data.get("taken_by") or "").strip() or (str(actor) if user_or_none(actor) else "")
    if not isinstance(taken_on, date):
        errors["taken_on"] = "Give the date it was done."
    elif taken_on > timezone.localdate():
        errors["taken_on"] = "The date cannot be in the future: record what has been done."
    elif taken_on < timezone.localtime(locked.raised_at).date():
        errors["taken_on"] = (
            f"This is before the concern was raised ({locked.raised_local:%d/%m/%Y})."
        )
    if not description:
        errors["description"] = "Say what was done."
    if not taken_by:
        errors["taken_by"] = "Say who did it."
    if errors:
        raise ValidationError(errors)
    row = ConcernAction(
        concern=locked, taken_on=taken_on, description=description, taken_by=taken_by[:200],
        recorded_by=user_or_none(actor),
    )  # fmt: skip
    row.full_clean()
    row.save()
    audit.record(actor, AuditAction.CREATE, row, fields=["taken_on", "description", "taken_by"])
    return row


def _save_referral(
    actor: Any,
    concern: SafeguardingConcern,
    model: type[MASHReferral] | type[NRMReferral],
    allowed: list[str],
    data: dict[str, Any],
    version: str | None,
) -> Any:
    reject_unknown_fields(data, allowed)
    locked = _lock(concern)
    existing = model.objects.select_for_update().filter(concern=locked).first()
    data = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if existing is None:
        record = model(concern=locked, recorded_by=user_or_none(actor), **data)
        record.full_clean()
        record.save()
        audit.record(actor, AuditAction.CREATE, record, fields=[k for k, v in data.items() if v])
        return record
    changed = _changed(existing, data)
    if not changed:
        return existing
    check_version(existing, version, actor)
    for name in changed:
        setattr(existing, name, data[name])
    existing.full_clean()
    existing.save(update_fields=[*changed, "updated_at"])
    audit.record(actor, AuditAction.UPDATE, existing, fields=changed)
    return existing


@transaction.atomic
def record_mash_referral(
    actor: Any, concern: SafeguardingConcern, data: dict[str, Any], version: str | None = None
) -> MASHReferral:
    """Record (or update) the concern's referral to the local authority's MASH."""
    return _save_referral(actor, concern, MASHReferral, MASH_FIELDS, data, version)


@transaction.atomic
def record_nrm_referral(
    actor: Any, concern: SafeguardingConcern, data: dict[str, Any], version: str | None = None
) -> NRMReferral:
    """Record (or update) the NRM referral made by the local authority as first responder,
    with the reasonable- and conclusive-grounds decisions as they arrive."""
    return _save_referral(actor, concern, NRMReferral, NRM_FIELDS, data, version)


@transaction.atomic
def close_concern(actor: Any, concern: SafeguardingConcern, outcome: str) -> SafeguardingConcern:
    locked = _lock(concern)
    if locked.status == ConcernStatus.AWAITING_TRIAGE:
        raise ValidationError({"outcome": "Record a triage decision before closing the concern."})
    if not outcome.strip():
        raise ValidationError({"outcome": "Say what the outcome was."})
    locked.status = ConcernStatus.CLOSED
    locked.outcome = outcome.strip()
    locked.closed_at = timezone.now()
    locked.closed_by = user_or_none(actor)
    locked.save(update_fields=["status", "outcome", "closed_at", "closed_by", "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=["status", "outcome"], summary="closed")
    concern.refresh_from_db()
    return locked


@transaction.atomic
def record_risk_check(
    actor: Any,
    case: Case,
    checked_on: date,
    indicators: Iterable[RiskIndicator],
    notes: str = "",
) -> RiskCheck:
    """A dated check of the child criminal exploitation risk indicators present."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if not locked.is_open:
        raise ValidationError("This case is closed.")
    chosen = list(indicators)
    retired = [i for i in chosen if not i.active]
    if retired:
        raise ValidationError({"indicators": f"{retired[0]} is no longer in use."})
    check = RiskCheck(
        case=locked, checked_on=checked_on, notes=notes.strip(), recorded_by=user_or_none(actor)
    )
    check.full_clean()
    check.save()
    check.indicators.set(chosen)
    audit.record(
        actor,
        AuditAction.CREATE,
        check,
        person_id=locked.person_id,
        fields=["checked_on", "indicators"] + (["notes"] if check.notes else []),
        summary=f"{len(chosen)} indicator(s) present",
    )
    return check


# --- Doors and queries the pages share ------------------------------------------------


def concern_for_change(request: HttpRequest, pk: int) -> SafeguardingConcern:
    """The concern `pk`, if this user may act on it: 404 if they cannot see it, 403 if
    they can (they raised it) but may not triage or act."""
    concern = get_visible_or_404(SafeguardingConcern, request.user, pk=pk)
    if not SafeguardingConcern.objects.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied("Only the safeguarding lead or a manager can act on a concern.")
    return concern


def overdue_concerns(user: Any, now: datetime | None = None) -> list[SafeguardingConcern]:
    """Concerns this user leads on that are past their triage deadline, oldest first."""
    if not leads_safeguarding(user):
        return []
    now = now or timezone.now()
    return list(
        SafeguardingConcern.objects.visible_to(user)
        .overdue(now)
        .select_related("person", "raised_by")
        .order_by("raised_at", "id")
    )


def safeguarding_leads() -> list[Any]:
    """Who to ask about a concern you cannot see: the active safeguarding lead(s)."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, role=roles.Role.SAFEGUARDING_LEAD)
        .order_by("first_name", "last_name", "id")
    )


def hidden_concern_count(user: Any, person: Person) -> int:
    """How many concerns about `person` exist that this user may not read (they learn
    only that they exist and whom to ask: never the category, the text or who raised it)."""
    if not roles.sees_personal_data(user):
        return 0
    every = SafeguardingConcern.objects.filter(person=person)
    return (
        every.count()
        - every.filter(pk__in=SafeguardingConcern.objects.visible_to(user).values("pk")).count()
    )
