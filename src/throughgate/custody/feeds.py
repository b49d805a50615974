"""A mentor's iCalendar feed: gate meetings and the first-days contacts after release.

Calendar apps copy events to phones and cloud accounts outside our control, so an
event carries no more than the young person's initials, the kind of meeting and
the place (a prison gate is not personal data).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from icalendar import Calendar, Event

from .models import ItemKind, PlanItem, first_days_follow_ups

GATE_MEETING_LENGTH = timedelta(hours=1)


def initials(person: Any) -> str:
    return f"{person.forename[:1]}.{person.surname[:1]}.".upper()


def gate_meetings_for(user: Any, since: date) -> Any:
    """Open gate-meeting items this user is to attend (named, or as the case's mentor)."""
    return (
        PlanItem.objects.outstanding()
        .filter(kind=ItemKind.GATE_MEETING, appointment_at__date__gte=since)
        .filter(Q(assignee=user) | Q(assignee__isnull=True, plan__case__mentor=user))
        .filter(plan__case__phase__in=["in_custody", "through_the_gate", "referred"])
        .select_related("plan__case__person", "plan__episode__establishment")
        .order_by("appointment_at")
    )


def calendar_for(user: Any, today: date) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Throughgate//Mentor calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Throughgate")
    stamp = timezone.now()
    for item in gate_meetings_for(user, today - timedelta(days=7)):
        event = Event()
        event.add("uid", f"gate-{item.pk}@throughgate")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.appointment_at)
        event.add("dtend", item.appointment_at + GATE_MEETING_LENGTH)
        event.add("summary", f"Gate meeting – {initials(item.plan.case.person)}")
        event.add("location", item.place or item.plan.episode.establishment.gate_address)
        cal.add_component(event)
    for case, follow in first_days_follow_ups(user, today):
        if follow.status == "done" or follow.due < today - timedelta(days=7):
            continue
        event = Event()
        event.add("uid", f"follow-{case.pk}-{follow.key}@throughgate")
        event.add("dtstamp", stamp)
        event.add("dtstart", follow.due)
        event.add("dtend", follow.due + timedelta(days=1))
        event.add("summary", f"{follow.label} contact after release – {initials(case.person)}")
        cal.add_component(event)
    return cal.to_ical()
