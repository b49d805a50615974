"""The release calendar: who is due out in the coming weeks and what is still missing.

Built in a fixed number of queries whatever the number of releases (one for the
episodes with their person, prison and open case annotated, one for the cases'
mentors, one for the plan items, one for the mentors' prison clearances), so the page
stays quick at regional scale.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from throughgate.casework.models import Case, ProgrammeKind
from throughgate.people.models import Person

from .models import CustodyEpisode, ItemKind, ItemStatus, KeyDateChange, PlanItem

RECENT_CHANGE_DAYS = 14


@dataclass
class Flag:
    code: str
    label: str


@dataclass
class ReleaseRow:
    episode: CustodyEpisode
    case: Case | None
    days_to_go: int
    plan_id: int | None = None
    outstanding: int = 0
    gate: PlanItem | None = None
    flags: list[Flag] = field(default_factory=list)

    @property
    def person(self) -> Any:
        return self.episode.person


def _open_case(person_ref: Any) -> Any:
    return (
        Case.objects.open()
        .filter(person_id=person_ref, programme__kind=ProgrammeKind.CUSTODY)
        .order_by("-opened_on", "-id")
        .values("pk")[:1]
    )


def release_rows(
    user: Any,
    *,
    weeks: int = 12,
    establishment: Any = None,
    mentor: Any = None,
    borough: str = "",
    flagged_only: bool = False,
    today: date | None = None,
) -> list[ReleaseRow]:
    today = today or timezone.localdate()
    changed_since = timezone.now() - timedelta(days=RECENT_CHANGE_DAYS)
    # The episodes in the window first (through their index), then the scope checked for
    # each one's person: the same rule as `CustodyEpisode.objects.visible_to` (the person
    # is visible), but asked per person (EXISTS on the primary key) rather than as "every
    # visible person", which walks the whole person table for a coordinator.
    episodes = (
        CustodyEpisode.objects.current()
        .filter(expected_release_date__range=(today, today + timedelta(weeks=weeks)))
        .filter(Exists(Person.objects.visible_to(user).filter(pk=OuterRef("person_id"))))
        .select_related("person", "establishment")
        .annotate(
            case_id=Subquery(_open_case(OuterRef("person_id"))),
            changed_recently=Exists(
                KeyDateChange.objects.filter(
                    episode_id=OuterRef("pk"),
                    field="expected_release_date",
                    old_value__isnull=False,
                    changed_at__gte=changed_since,
                )
            ),
        )
        .order_by("expected_release_date", "person__surname", "id")
    )
    if establishment is not None:
        episodes = episodes.filter(establishment=establishment)
    if borough:
        episodes = episodes.filter(person__borough=borough)
    if mentor is not None:
        episodes = episodes.filter(
            Exists(Case.objects.open().filter(person_id=OuterRef("person_id"), mentor=mentor))
        )
    episodes = list(episodes)
    cases = Case.objects.select_related("mentor", "programme").in_bulk(
        [e.case_id for e in episodes if e.case_id]
    )
    items_by_plan: dict[tuple[int, int], list[PlanItem]] = defaultdict(list)
    plan_ids: dict[tuple[int, int], int] = {}
    items = PlanItem.objects.filter(
        plan__case_id__in=list(cases), plan__episode_id__in=[e.pk for e in episodes]
    ).select_related("plan", "assignee")
    for item in items:
        key = (item.plan.case_id, item.plan.episode_id)
        items_by_plan[key].append(item)
        plan_ids[key] = item.plan_id
    # Mentor vetting lives in the mentors app, which builds on this one: asked by name.
    clearance = apps.get_model("mentors", "SecurityClearance")
    cleared = set(
        clearance.objects.filter(
            mentor__user_id__in={c.mentor_id for c in cases.values() if c.mentor_id},
            establishment_id__in={e.establishment_id for e in episodes},
            granted_on__lte=today,
            expires_on__gte=today,
        ).values_list("mentor__user_id", "establishment_id")
    )

    rows = []
    for episode in episodes:
        case = cases.get(episode.case_id) if episode.case_id else None
        row = ReleaseRow(episode, case, (episode.expected_release_date - today).days)
        plan_items = items_by_plan.get((case.pk, episode.pk), []) if case else []
        row.plan_id = plan_ids.get((case.pk, episode.pk)) if case else None
        # An arranged gate meeting (time and who meets them) can only be held on the day:
        # before then it is not "still to do", or no release could ever be all set.
        row.outstanding = sum(
            i.is_open
            and not (i.kind == ItemKind.GATE_MEETING and i.appointment_at and i.assignee_id)
            for i in plan_items
        )
        by_kind = {i.kind: i for i in plan_items}
        row.gate = by_kind.get(ItemKind.GATE_MEETING)
        if case is None:
            row.flags.append(Flag("no_case", "No open custody case"))
        elif case.mentor_id is None:
            row.flags.append(Flag("no_mentor", "No mentor assigned"))
        elif (
            case.programme.uses_mentor_matching
            and (case.mentor_id, episode.establishment_id) not in cleared
        ):
            row.flags.append(
                Flag("mentor_not_cleared", f"Mentor not cleared for {episode.establishment}")
            )
        if case is not None and row.plan_id is None:
            row.flags.append(Flag("no_plan", "No release-day plan"))
        accommodation = by_kind.get(ItemKind.ACCOMMODATION)
        if accommodation is None or accommodation.status not in (
            ItemStatus.DONE,
            ItemStatus.NOT_NEEDED,
        ):
            row.flags.append(Flag("no_accommodation", "No accommodation for release night"))
        gate = row.gate
        if gate is None or (
            gate.status != ItemStatus.NOT_NEEDED
            and (gate.appointment_at is None or gate.assignee_id is None)
        ):
            row.flags.append(Flag("gate_not_arranged", "Gate meeting not arranged"))
        if row.outstanding:
            plural = "" if row.outstanding == 1 else "s"
            row.flags.append(
                Flag("outstanding", f"{row.outstanding} checklist item{plural} outstanding")
            )
        if episode.changed_recently:
            row.flags.append(Flag("date_changed", "Release date changed recently"))
        if not flagged_only or row.flags:
            rows.append(row)
    return rows
