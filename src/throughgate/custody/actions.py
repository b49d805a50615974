"""Every change to custody records and release-day plans.

As in the other apps, each action validates, saves with update_fields and
writes its audit event in one transaction. Key-date changes also keep their own
history (KeyDateChange: which date, old and new value, who and why), recompute
the expected release date, move the release-day plan's due dates with it, and
move the person's open custody case into the phase the facts now say.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from throughgate.casework import actions as casework_actions
from throughgate.casework.models import Case, Phase, ProgrammeKind
from throughgate.core import audit
from throughgate.core.actions import reject_unknown_fields, user_or_none
from throughgate.core.concurrency import check_version
from throughgate.core.models import AuditAction
from throughgate.engines.release import ExpectedRelease, KeyDates, expected_release
from throughgate.people.models import Person

from .models import (
    KEY_DATES,
    OPEN_STATUSES,
    STANDARD_ITEMS,
    CalendarToken,
    CustodyEpisode,
    Establishment,
    ItemKind,
    ItemStatus,
    KeyDateChange,
    PlanItem,
    ReleasePlan,
    Transfer,
)

PLAN_ITEM_FIELDS = [
    "kind", "label", "owner", "owner_detail", "status", "due_date", "appointment_at", "place",
    "assignee", "notes",
]  # fmt: skip


def compute_expected_release(episode: CustodyEpisode) -> ExpectedRelease:
    dates = KeyDates(**{name: getattr(episode, name) for name in KEY_DATES})
    return expected_release(
        dates, sentence_type=episode.sentence_type, date_of_birth=episode.person.date_of_birth
    )


def _apply_expected(episode: CustodyEpisode) -> None:
    result = compute_expected_release(episode)
    episode.expected_release_date = result.date
    episode.expected_release_basis = result.basis
    episode.expected_release_note = result.explanation[:400]


def _open_custody_cases(person: Person) -> list[Case]:
    return list(
        Case.objects.open()
        .filter(person=person, programme__kind=ProgrammeKind.CUSTODY)
        .select_related("programme")
    )


def move_cases_to(actor: Any, person: Person, to_phase: str, on: date, note: str) -> None:
    """Put the person's open custody cases into `to_phase`, dated `on` (or the day of
    their last phase change, if that is later: history never runs backwards)."""
    from_phases = {
        Phase.IN_CUSTODY: {Phase.REFERRED, Phase.THROUGH_THE_GATE, Phase.COMMUNITY},
        Phase.THROUGH_THE_GATE: {Phase.REFERRED, Phase.IN_CUSTODY},
        Phase.COMMUNITY: {Phase.THROUGH_THE_GATE},
    }[to_phase]
    for case in _open_custody_cases(person):
        if case.phase not in from_phases or to_phase not in case.programme.phases:
            continue
        last = casework_actions.last_phase_date(case)
        casework_actions.change_phase(actor, case, to_phase, max(on, last), note)


def _record_date_changes(
    actor: Any, episode: CustodyEpisode, before: dict[str, date | None], reason: str
) -> list[str]:
    changed = [name for name, old in before.items() if getattr(episode, name) != old]
    KeyDateChange.objects.bulk_create(
        [
            KeyDateChange(
                episode=episode,
                field=name,
                old_value=before[name],
                new_value=getattr(episode, name),
                changed_by=user_or_none(actor),
                reason=reason,
            )
            for name in changed
        ]
    )
    return changed


@transaction.atomic
def start_custody_episode(
    actor: Any,
    person: Person,
    establishment: Establishment,
    received_on: date,
    *,
    sentence_type: str = "determinate",
    key_dates: dict[str, date | None] | None = None,
    reason: str = "",
) -> CustodyEpisode:
    key_dates = key_dates or {}
    reject_unknown_fields(key_dates, KEY_DATES)
    current = (
        CustodyEpisode.objects.select_for_update()
        .filter(person=person, released_on__isnull=True)
        .select_related("establishment")
        .first()
    )
    episode = CustodyEpisode(
        person=person,
        establishment=establishment,
        received_on=received_on,
        sentence_type=sentence_type,
        recorded_by=user_or_none(actor),
        **key_dates,
    )
    errors: dict[str, list[str]] = {}
    try:
        episode.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict
    if current is not None and "establishment" not in errors:
        # One person is in one prison at a time; a second open episode would also put
        # them on the release calendar twice.
        errors["establishment"] = [
            f"They are already in custody at {current.establishment} since "
            f"{current.received_on:%d/%m/%Y}; record a move to another prison or "
            "their release instead."
        ]
    if errors:
        raise ValidationError(errors)
    _apply_expected(episode)
    episode.save()
    before = {name: None for name in [*KEY_DATES, "expected_release_date"]}
    _record_date_changes(actor, episode, before, reason or "Custody recorded")
    audit.record(
        actor,
        AuditAction.CREATE,
        episode,
        fields=["establishment", "received_on", "sentence_type"]
        + [k for k, v in key_dates.items() if v],
    )
    move_cases_to(actor, person, Phase.IN_CUSTODY, received_on, f"In custody at {establishment}")
    return episode


def _shift_plans(episode: CustodyEpisode, days: int) -> int:
    """Move every open plan item's due date (and appointment) with the release date."""
    items = PlanItem.objects.filter(plan__episode=episode, status__in=OPEN_STATUSES)
    moved = 0
    for item in items.select_for_update():
        fields = []
        if item.due_date:
            item.due_date += timedelta(days=days)
            fields.append("due_date")
        if item.appointment_at:
            # Move the London wall-clock time, not the instant: a gate meeting at 08:30
            # stays at 08:30 when the move crosses a clock change.
            local = timezone.localtime(item.appointment_at).replace(tzinfo=None)
            item.appointment_at = timezone.make_aware(local + timedelta(days=days))
            fields.append("appointment_at")
        if fields:
            item.save(update_fields=[*fields, "updated_at"])
            moved += 1
    return moved


def _date_plans(episode: CustodyEpisode, release: date) -> None:
    """A plan started before any release date was known gets its standard due dates
    once one is (counted back from the release date, as when a plan starts)."""
    offsets = {kind: offset for kind, _owner, offset in STANDARD_ITEMS}
    items = PlanItem.objects.filter(
        plan__episode=episode, status__in=OPEN_STATUSES, due_date__isnull=True
    ).select_for_update()
    for item in items:
        if item.kind in offsets:
            item.due_date = release + timedelta(days=offsets[item.kind])
            item.save(update_fields=["due_date", "updated_at"])


@transaction.atomic
def update_key_dates(
    actor: Any,
    episode: CustodyEpisode,
    changes: dict[str, Any],
    reason: str,
    *,
    version: str | None = None,
) -> list[str]:
    """Change key dates (and the sentence type); returns the names that changed.

    A reason is required: release dates move for reasons coordinators must be able
    to see later (HDC approved, parole directed, added days, recall). `version` is the
    episode's version when the form was opened (core.concurrency).
    """
    allowed = {*KEY_DATES, "sentence_type"}
    reject_unknown_fields(changes, allowed)
    locked = CustodyEpisode.objects.select_for_update().select_related("person").get(pk=episode.pk)
    before = {name: getattr(locked, name) for name in allowed}
    for name, value in changes.items():
        setattr(locked, name, value)
    changed = [name for name in allowed if getattr(locked, name) != before[name]]
    if not changed:
        return []
    check_version(locked, version, actor)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the dates changed."})
    locked.full_clean()
    old_expected = locked.expected_release_date
    _apply_expected(locked)
    locked.save(
        update_fields=[
            *changed, "expected_release_date", "expected_release_basis",
            "expected_release_note", "updated_at",
        ]
    )  # fmt: skip
    history = {k: v for k, v in before.items() if k != "sentence_type"}
    history["expected_release_date"] = old_expected
    _record_date_changes(actor, locked, history, reason.strip())
    if old_expected and locked.expected_release_date:
        days = (locked.expected_release_date - old_expected).days
        if days:
            _shift_plans(locked, days)
    elif locked.expected_release_date:
        _date_plans(locked, locked.expected_release_date)
    audit.record(actor, AuditAction.UPDATE, locked, fields=changed, summary="key dates")
    for name in [*changed, "expected_release_date"]:
        setattr(episode, name, getattr(locked, name))
    return changed


@transaction.atomic
def record_transfer(
    actor: Any, episode: CustodyEpisode, to: Establishment, transferred_on: date
) -> Transfer:
    locked = CustodyEpisode.objects.select_for_update().get(pk=episode.pk)
    errors: dict[str, str] = {}
    if locked.released_on:
        errors["to_establishment"] = "They have been released; there is no transfer to record."
    elif to.pk == locked.establishment_id:
        errors["to_establishment"] = "They are already at this prison."
    elif not to.active:
        errors["to_establishment"] = "This prison is no longer open; choose a current one."
    last = locked.transfers.order_by("-transferred_on").first()
    earliest = last.transferred_on if last else locked.received_on
    if transferred_on > timezone.localdate():
        errors["transferred_on"] = "A transfer cannot be recorded for a future date."
    elif transferred_on < earliest:
        errors["transferred_on"] = f"This is before {earliest:%d/%m/%Y}, when they arrived there."
    if errors:
        raise ValidationError(errors)
    transfer = Transfer.objects.create(
        episode=locked,
        from_establishment=locked.establishment,
        to_establishment=to,
        transferred_on=transferred_on,
        recorded_by=user_or_none(actor),
    )
    locked.establishment = to
    locked.save(update_fields=["establishment", "updated_at"])
    # Gate meetings not yet held move to the new prison's gate.
    PlanItem.objects.filter(
        plan__episode=locked, kind=ItemKind.GATE_MEETING, status__in=OPEN_STATUSES
    ).update(place=to.gate_address, updated_at=timezone.now())
    audit.record(actor, AuditAction.CREATE, transfer, fields=["to_establishment", "transferred_on"])
    episode.establishment = to
    return transfer


@transaction.atomic
def record_release(actor: Any, episode: CustodyEpisode, released_on: date) -> CustodyEpisode:
    locked = CustodyEpisode.objects.select_for_update().select_related("person").get(pk=episode.pk)
    if locked.released_on:
        raise ValidationError({"released_on": "A release is already recorded."})
    locked.released_on = released_on
    locked.full_clean()
    locked.save(update_fields=["released_on", "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=["released_on"])
    move_cases_to(
        actor, locked.person, Phase.THROUGH_THE_GATE, released_on,
        f"Released from {locked.establishment}",
    )  # fmt: skip
    from throughgate.outcomes import figures  # a release is an index date for the measures

    figures.data_changed()
    episode.released_on = released_on
    return locked


@transaction.atomic
def create_release_plan(actor: Any, case: Case, episode: CustodyEpisode) -> ReleasePlan:
    if episode.person_id != case.person_id:
        raise ValidationError("This custody episode is not this young person's.")
    if ReleasePlan.objects.filter(case=case, episode=episode).exists():
        raise ValidationError("This case already has a release-day plan for this custody.")
    plan = ReleasePlan.objects.create(case=case, episode=episode)
    release = episode.expected_release_date
    items = []
    for kind, owner, offset in STANDARD_ITEMS:
        gate = kind == ItemKind.GATE_MEETING
        items.append(
            PlanItem(
                plan=plan,
                kind=kind,
                owner=owner,
                due_date=release + timedelta(days=offset) if release else None,
                place=episode.establishment.gate_address if gate else "",
                assignee=case.mentor if gate else None,
            )
        )
    PlanItem.objects.bulk_create(items)
    audit.record(actor, AuditAction.CREATE, plan, fields=["items"])
    return plan


@transaction.atomic
def update_plan_item(
    actor: Any, item: PlanItem, data: dict[str, Any], *, version: str | None = None
) -> list[str]:
    """Change one item of a release-day plan; `version` as in core.concurrency."""
    reject_unknown_fields(data, PLAN_ITEM_FIELDS)
    locked = PlanItem.objects.select_for_update().select_related("plan__case").get(pk=item.pk)
    before = {name: getattr(locked, name) for name in PLAN_ITEM_FIELDS}
    for name, value in data.items():
        setattr(locked, name, value)
    if isinstance(locked.appointment_at, datetime) and timezone.is_naive(locked.appointment_at):
        locked.appointment_at = timezone.make_aware(locked.appointment_at)
    locked.full_clean()
    casework_actions.validate_caseworker(locked.assignee, "assignee")
    changed = [name for name in PLAN_ITEM_FIELDS if getattr(locked, name) != before[name]]
    if not changed:
        return []
    check_version(locked, version, actor)
    if "status" in changed:
        locked.completed_on = timezone.localdate() if locked.status == ItemStatus.DONE else None
        changed.append("completed_on")
    locked.save(update_fields=[*changed, "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=changed, summary=locked.kind)
    return changed


@transaction.atomic
def add_plan_item(actor: Any, plan: ReleasePlan, data: dict[str, Any]) -> PlanItem:
    reject_unknown_fields(data, PLAN_ITEM_FIELDS)
    item = PlanItem(plan=plan, **{"kind": ItemKind.OTHER, **data})
    item.full_clean()
    casework_actions.validate_caseworker(item.assignee, "assignee")
    item.save()
    audit.record(actor, AuditAction.CREATE, item, fields=[k for k, v in data.items() if v])
    return item


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_calendar_token(actor: Any) -> str:
    """A new private feed link for `actor`; any earlier link stops working."""
    now = timezone.now()
    CalendarToken.objects.filter(user=actor, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    calendar = CalendarToken.objects.create(user=actor, token_hash=_hash(token))
    audit.record(actor, AuditAction.CREATE, calendar, summary="calendar link")
    return token


@transaction.atomic
def revoke_calendar_tokens(actor: Any) -> int:
    count = CalendarToken.objects.filter(user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        audit.record(actor, AuditAction.DELETE, object_type="custody.calendartoken",
                     summary="calendar link revoked")  # fmt: skip
    return count


def user_for_calendar_token(token: str) -> Any:
    calendar = (
        CalendarToken.objects.active()
        .select_related("user")
        .filter(token_hash=_hash(token), user__is_active=True)
        .first()
    )
    if calendar is None:
        return None
    CalendarToken.objects.filter(pk=calendar.pk).update(last_used_at=timezone.now())
    return calendar.user
