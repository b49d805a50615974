"""The case timeline: referral, phases, contacts and closure in one dated list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone

from .models import Case, ClosureReason, Phase


@dataclass
class TimelineEntry:
    when: datetime
    kind: str  # "referral", "phase", "contact", "closure"
    title: str
    detail: str = ""
    obj: Any = None
    show_time: bool = False


def _at_start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def build_timeline(case: Case) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    if case.referral_id:
        ref = case.referral
        entries.append(
            TimelineEntry(
                _at_start_of(ref.referral_date),
                "referral",
                f"Referred by {ref.get_source_type_display().lower()}"
                + (f" ({ref.referring_organisation})" if ref.referring_organisation else ""),
                ref.reasons,
                ref,
            )
        )
    for change in case.phase_changes.select_related("recorded_by"):
        if change.to_phase == Phase.CLOSED:
            title = f"Case closed: {dict(ClosureReason.choices).get(case.closure_reason, '')}"
            detail = case.closure_notes
            kind = "closure"
        else:
            title = (
                f"Moved to {change.get_to_phase_display().lower()}"
                if change.from_phase
                else f"Case opened ({change.get_to_phase_display().lower()})"
            )
            detail = change.note
            kind = "phase"
        by = f" — {change.recorded_by}" if change.recorded_by else ""
        # A closure ends its day: that day's contacts happened before it.
        when = (
            timezone.make_aware(datetime.combine(change.changed_on, time.max))
            if kind == "closure"
            else _at_start_of(change.changed_on)
        )
        entries.append(TimelineEntry(when, kind, title + by, detail, change))
    contacts = case.contacts.select_related("staff").prefetch_related("family_members")
    for contact in contacts:
        entries.append(
            TimelineEntry(
                contact.occurred_at,
                "contact",
                f"{contact.get_mode_display()} with {contact.staff}"
                + ("" if contact.attendance != "did_not_attend" else " — did not happen"),
                contact.summary,
                contact,
                show_time=True,
            )
        )
    # Newest first; on the same day a contact (with a time) comes after the day's phase change.
    entries.sort(key=lambda e: (e.when, e.kind == "contact"), reverse=True)
    return entries
