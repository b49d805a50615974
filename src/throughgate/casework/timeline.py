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


CONTACTS_PER_PAGE = 50


def _non_contact_entries(case: Case) -> list[TimelineEntry]:
    """The referral, phase changes and closure: a handful per case, whatever its age."""
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
    return entries


def _contact_entry(contact: Any) -> TimelineEntry:
    return TimelineEntry(
        contact.occurred_at,
        "contact",
        f"{contact.get_mode_display()} with {contact.staff}"
        + ("" if contact.attendance != "did_not_attend" else " — did not happen"),
        contact.summary,
        contact,
        show_time=True,
    )


def _order(e: TimelineEntry) -> tuple[datetime, bool]:
    # Newest first; on the same day a contact (with a time) comes after the day's phase change.
    return (e.when, e.kind == "contact")


def build_timeline(case: Case) -> list[TimelineEntry]:
    """The whole timeline, newest first (the API and exports; the case page shows it a
    page at a time with `timeline_page`)."""
    entries = _non_contact_entries(case)
    contacts = case.contacts.select_related("staff").prefetch_related("family_members")
    entries += [_contact_entry(contact) for contact in contacts]
    entries.sort(key=_order, reverse=True)
    return entries


@dataclass
class TimelinePage:
    """One page of the timeline: `CONTACTS_PER_PAGE` contacts, newest first, with the
    referral and phase changes that fall among them (the oldest page also has those
    from before its oldest contact)."""

    entries: list[TimelineEntry]
    number: int
    num_pages: int
    contact_count: int
    first_contact: int  # the position of the page's first contact, counting from 1 (newest)
    last_contact: int

    @property
    def has_newer(self) -> bool:
        return self.number > 1

    @property
    def has_older(self) -> bool:
        return self.number < self.num_pages

    @property
    def newer(self) -> int:
        return self.number - 1

    @property
    def older(self) -> int:
        return self.number + 1


def page_number(asked: Any) -> int:
    """The page asked for in `?page=`; anything that is not a whole number above 0 is 1."""
    text = str(asked or "")
    return int(text) if text.isascii() and text.isdecimal() and 0 < len(text) < 7 else 1


def timeline_page(
    case: Case, number: int, contact_count: int, per_page: int = CONTACTS_PER_PAGE
) -> TimelinePage:
    """The timeline's page `number` (past the last page: the last page). Two queries for the
    contacts, whatever their number: the page's own and the one before them (which marks
    where the newer page ended)."""
    num_pages = max(1, -(-contact_count // per_page))
    number = max(1, min(number, num_pages))
    start = (number - 1) * per_page
    ordered = case.contacts.order_by("-occurred_at", "-id")
    rows = list(
        ordered.select_related("staff").prefetch_related("family_members")[
            max(0, start - 1) : start + per_page
        ]
    )
    newer_end = rows.pop(0) if start and rows else None
    contacts = [_contact_entry(c) for c in rows]
    upper = _order(_contact_entry(newer_end)) if newer_end else None
    lower = _order(contacts[-1]) if contacts and number < num_pages else None
    others = [
        e
        for e in _non_contact_entries(case)
        if (upper is None or _order(e) < upper) and (lower is None or _order(e) > lower)
    ]
    entries = sorted(contacts + others, key=_order, reverse=True)
    return TimelinePage(
        entries=entries,
        number=number,
        num_pages=num_pages,
        contact_count=contact_count,
        first_contact=start + 1 if contacts else 0,
        last_contact=start + len(contacts),
    )
