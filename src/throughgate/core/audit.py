"""Writing the audit trail.

`record()` is the only way to write an event. Change actions call it inside
their own transaction so the change and its event commit or roll back
together; views call `record_view()` when a person or case is shown.
The request middleware sets the current IP address and path once per request
so callers need not pass them around.

Every event joins a hash chain (`engines.audit_chain`): `append()` numbers it and
hashes it together with the previous event's hash, holding the chain lock until the
surrounding transaction ends, so two writers can never claim the same place.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, router, transaction
from django.utils import timezone

from throughgate.engines.audit_chain import GENESIS_HASH, HASHED_FIELDS, event_hash

from .models import AuditAction, AuditEvent

# The key of the PostgreSQL advisory lock that serialises writers of the audit chain
# (any fixed 64-bit number no other code uses; these are the bytes of "tgaudit").
CHAIN_LOCK_KEY = 0x74676175646974


@dataclass(frozen=True)
class RequestInfo:
    ip_address: str | None
    path: str


_current_request: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "throughgate_audit_request", default=None
)


def set_request_info(info: RequestInfo | None) -> contextvars.Token:
    return _current_request.set(info)


def reset_request_info(token: contextvars.Token) -> None:
    _current_request.reset(token)


def object_type_of(obj: models.Model | type[models.Model]) -> str:
    return obj._meta.label_lower


def person_id_of(obj: Any) -> int | None:
    """Models say whose data they hold through an `audit_person_id` attribute."""
    return getattr(obj, "audit_person_id", None)


def record(
    actor: Any,
    action: AuditAction | str,
    obj: models.Model | None = None,
    *,
    fields: Iterable[str] = (),
    summary: str = "",
    object_type: str = "",
    object_id: str | int = "",
    person_id: int | None = None,
) -> AuditEvent:
    info = _current_request.get()
    if obj is not None:
        object_type = object_type or object_type_of(obj)
        object_id = object_id or obj.pk
        person_id = person_id if person_id is not None else person_id_of(obj)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        actor=actor if authenticated else None,
        actor_username=getattr(actor, "username", "") if authenticated else "",
        action=str(action),
        object_type=object_type,
        object_id=str(object_id or ""),
        person_id=person_id,
        fields=sorted(set(fields)),
        summary=summary[:200],
        ip_address=info.ip_address if info else None,
        path=info.path[:300] if info else "",
    )
    append([event])
    return event


def record_view(actor: Any, obj: models.Model, summary: str = "") -> AuditEvent:
    return record(actor, AuditAction.VIEW, obj, summary=summary)


def _lock_chain(using: str) -> None:
    """Make this transaction the chain's only writer until it commits or rolls back.

    PostgreSQL: a transaction-level advisory lock, so a second writer waits here before
    it reads the last event. SQLite: nothing to do; the database runs transactions with
    BEGIN IMMEDIATE (settings.py), so writers are already one at a time.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def _as_stored(event: AuditEvent) -> None:
    """Put each hashed value in the form the database will give back, so the hash
    computed now is the hash recomputed on reading (an int object id becomes "12", an
    IPv6 address its short form, a naive time an aware one)."""
    if timezone.is_naive(event.at):
        event.at = timezone.make_aware(event.at)
    for name in ("actor_username", "action", "object_type", "object_id", "person_id",
                 "summary", "path"):  # fmt: skip
        setattr(event, name, _field(name).to_python(getattr(event, name)))
    event.ip_address = _field("ip_address").to_python(event.ip_address) or None


def _field(name: str) -> models.Field:
    field = AuditEvent._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def append(
    events: list[AuditEvent], using: str | None = None, batch_size: int | None = None
) -> list[AuditEvent]:
    """Number, hash and save new events at the end of the chain, in the order given.

    Runs inside the caller's transaction when there is one (no savepoint: if this
    fails, the caller's change must not commit without its event), and holds the chain
    lock from the read of the last event to the end of that transaction.
    """
    if not events:
        return events
    using = using or router.db_for_write(AuditEvent)
    with transaction.atomic(using=using, savepoint=False):
        _lock_chain(using)
        last = AuditEvent.objects.using(using).order_by("-seq").values_list("seq", "hash").first()
        seq, prev = last or (0, GENESIS_HASH)
        for event in events:
            if not event._state.adding or event.seq is not None:
                raise ValueError(f"audit event {event.pk} is already in the chain")
            _as_stored(event)
            seq += 1
            event.seq, event.prev_hash = seq, prev
            event.hash = prev = event_hash(chain_content(event), prev)
        # The plain manager: AuditEvent.objects.bulk_create comes back here.
        return AuditEvent._base_manager.using(using).bulk_create(events, batch_size=batch_size)


def chain_content(event: AuditEvent) -> dict[str, Any]:
    """What the hash covers, read off a model instance."""
    return {name: getattr(event, name) for name in HASHED_FIELDS}
