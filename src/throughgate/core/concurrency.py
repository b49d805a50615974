"""Two people editing the same record: optimistic locking with a clear message.

A record's *version* is its `updated_at` (TimeStampedModel, `auto_now`) written as an
exact ISO string in UTC. An edit form carries, in a hidden `version` field, the version
of the record it showed (`VersionedFormMixin`). The action locks the row
(`select_for_update`), works out what the submission would change, and — only if it
would change something — calls `check_version()`, which raises `StaleRecord` (a
non-field `ValidationError`, code "stale") when the stored version is no longer the
one the form was opened with. The transaction rolls back: nothing is saved and
nothing is audited.

The message says who changed the record and when, from the latest UPDATE audit event
for it (or only when, if the trail does not say who: release dates moving a plan
item's due date, say). The view re-renders the form with everything the user typed
and the hidden version set to the record's *current* version
(`core.views.attach_errors` does this for every form), so saving again deliberately
keeps their values.

Rules, decided once here:

- `version=None` means "do not check": the importer, the demo seeder and tests that
  call actions directly. A form POST without a version (a page opened before this
  check existed) is not checked either.
- A stale submission that would change nothing is not a conflict: the record already
  says what the user wants. So a **double-click** — the same form posted twice — saves
  once; the second POST carries the old version but the same values, finds nothing to
  change and answers like any no-change save ("Nothing was changed."). A second POST
  whose values differ from what is now stored is stale, whoever made the first
  change (the message then says "You changed this record …", e.g. from another tab).
  A need update whose only news is a note adds history and overwrites nothing, so it
  is kept even when stale — except the very same note by the same person on the same
  day, which is the second click and is not recorded twice (casework.support).
- Only a stale refusal moves the form's version on. A POST refused for bad input keeps
  the version it came with, so the corrected save is still checked.
- The check compares versions for equality, never order, so clocks that differ
  between app servers cannot hide a change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils import timezone

from .models import AuditAction, AuditEvent

VERSION_FIELD = "version"
STALE = "stale"


def version_of(record: models.Model) -> str:
    """The record's version as the forms carry it: `updated_at` in UTC, to the microsecond."""
    stamp = getattr(record, "updated_at", None)
    if stamp is None:
        return ""
    return stamp.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(version: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(version)
    except ValueError:
        return None
    return parsed if timezone.is_aware(parsed) else None


class StaleRecord(ValidationError):
    """The record changed after the form was opened. `current_version` is what the form
    should carry now, so that saving again deliberately goes through."""

    def __init__(self, message: str, current_version: str):
        super().__init__(message, code=STALE)
        self.current_version = current_version


def _field_labels(record: models.Model, names: list[str]) -> list[str]:
    labels = []
    for name in names:
        try:
            field = record._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        labels.append(str(getattr(field, "verbose_name", None) or name.replace("_", " ")))
    return labels


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return f"{local:%H:%M}"
    return f"{local:%H:%M} on {local.day} {local:%B %Y}"


def latest_change(record: models.Model, since: datetime | None = None) -> AuditEvent | None:
    """The latest UPDATE audit event for `record`, if it was written after `since`."""
    events = AuditEvent.objects.filter(
        object_type=record._meta.label_lower,
        object_id=str(record.pk),
        action=AuditAction.UPDATE,
    ).select_related("actor")
    if since is not None:
        events = events.filter(at__gte=since)
    return events.order_by("-at", "-id").first()


def stale_message(record: models.Model, opened_version: str, actor: Any = None) -> str:
    event = latest_change(record, since=_parse(opened_version))
    keep = "Your changes are below but not saved: check the record, then save again to keep yours."
    if event is None:
        stamp = getattr(record, "updated_at", None)
        when = f" at {_when(stamp)}" if stamp else ""
        return f"This record was changed{when}, after you opened it. {keep}"
    actor_id = getattr(event, "actor_id", None)
    if actor_id is not None and actor_id == getattr(actor, "pk", None):
        who = "You"  # in another tab, or after going Back to a page already saved
    else:
        who = (str(event.actor) if event.actor else event.actor_username) or "Someone else"
    fields = _field_labels(record, list(event.fields or []))
    what = f" ({', '.join(fields)})" if fields else ""
    when = _when(event.at)
    return f"{who} changed this record{what} at {when}, after you opened it. {keep}"


def check_version(record: models.Model, opened_version: str | None, actor: Any = None) -> None:
    """Refuse the change if `record` (just locked with select_for_update) is no longer
    the version the form was opened with. Call it only when the change would alter the
    record (see the module docstring); `opened_version=None` checks nothing."""
    if opened_version is None:
        return
    current = version_of(record)
    if opened_version == current:
        return
    raise StaleRecord(stale_message(record, opened_version, actor), current)


class VersionedFormMixin:
    """For a ModelForm editing an existing record: adds a hidden `version` field holding
    the record's version when the form was shown.

    After validation `opened_version` holds it (None when the form sent none), and it
    is taken *out* of `cleaned_data`, so views passing cleaned_data on to an action do
    not trip `reject_unknown_fields`. A form for a new record (no pk) gets no field.
    """

    opened_version: str | None = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk is not None:
            form: Any = self
            form.fields[VERSION_FIELD] = forms.CharField(
                widget=forms.HiddenInput, required=False, initial=version_of(instance)
            )

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        cleaned = getattr(self, "cleaned_data", None)
        if cleaned is not None:
            self.opened_version = (cleaned.pop(VERSION_FIELD, "") or "").strip() or None

    def refresh_version(self, current: str) -> None:
        """Carry the record's current version from now on (after a stale POST)."""
        form: Any = self
        if VERSION_FIELD not in form.fields:
            return
        data = form.data.copy()  # a bound form's QueryDict is immutable
        data[form.add_prefix(VERSION_FIELD)] = current
        form.data = data
