"""Every change to reoffending events and national baselines (validated, audited)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from throughgate.accounts import roles
from throughgate.core import audit
from throughgate.core.actions import reject_unknown_fields, user_or_none
from throughgate.core.models import AuditAction
from throughgate.people.models import Person

from .models import NationalBaseline, ReoffendingEvent

EVENT_FIELDS = [
    "offence_date", "disposal_date", "disposal_type", "offence_group", "custodial", "source",
    "verified", "notes",
]  # fmt: skip
BASELINE_FIELDS = ["label", "period", "rate", "source", "active"]


def _check_verification(actor: Any, data: dict[str, Any]) -> None:
    """Only coordinators and managers mark an event verified against official records
    (the importer and the seeder, with no user, may)."""
    if data.get("verified") and getattr(actor, "pk", None) and not roles.manages_cases(actor):
        raise ValidationError({"verified": "Only a coordinator or manager can verify an event."})


@transaction.atomic
def record_event(actor: Any, person: Person, data: dict[str, Any]) -> ReoffendingEvent:
    reject_unknown_fields(data, EVENT_FIELDS)
    _check_verification(actor, data)
    event = ReoffendingEvent(person=person, recorded_by=user_or_none(actor), **data)
    event.full_clean()
    event.save()
    audit.record(actor, AuditAction.CREATE, event, fields=[k for k, v in data.items() if v])
    return event


@transaction.atomic
def update_event(actor: Any, event: ReoffendingEvent, data: dict[str, Any]) -> list[str]:
    reject_unknown_fields(data, EVENT_FIELDS)
    if data.get("verified") != event.verified:
        _check_verification(actor, data)
    locked = ReoffendingEvent.objects.select_for_update().select_related("person").get(pk=event.pk)
    changed = [k for k, v in data.items() if getattr(locked, k) != v]
    for key in changed:
        setattr(locked, key, data[key])
    if not changed:
        return []
    locked.full_clean()
    locked.save(update_fields=[*changed, "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=changed)
    return changed


@transaction.atomic
def save_baseline(
    actor: Any, data: dict[str, Any], baseline: NationalBaseline | None = None
) -> NationalBaseline:
    reject_unknown_fields(data, BASELINE_FIELDS)
    record = baseline or NationalBaseline()
    for key, value in data.items():
        setattr(record, key, value)
    record.full_clean()
    record.save()
    audit.record(actor, AuditAction.UPDATE if baseline else AuditAction.CREATE, record,
                 fields=list(data))  # fmt: skip
    return record
