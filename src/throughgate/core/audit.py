"""Writing the audit trail.

`record()` is the only way to write an event. Change actions call it inside
their own transaction so the change and its event commit or roll back
together; views call `record_view()` when a person or case is shown.
The request middleware sets the current IP address and path once per request
so callers need not pass them around.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

from .models import AuditAction, AuditEvent


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
    return AuditEvent.objects.create(
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


def record_view(actor: Any, obj: models.Model, summary: str = "") -> AuditEvent:
    return record(actor, AuditAction.VIEW, obj, summary=summary)
