"""Actions for holistic support: needs by resettlement pathway, the action plan, ID and
bank applications, onward referrals to agencies, and assessment instruments.

Like casework.actions, each validates, saves and writes its audit event in one
transaction; views, the demo seeder and the importer call these.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from throughgate.core import audit
from throughgate.core.actions import reject_unknown_fields, user_or_none
from throughgate.core.concurrency import check_version, version_of
from throughgate.core.models import AuditAction
from throughgate.engines import instruments as engine

from .models import (
    Action,
    Agency,
    BankApplication,
    Case,
    IDApplication,
    InstrumentDefinition,
    InstrumentItem,
    InstrumentResponse,
    Need,
    NeedStatus,
    NeedUpdate,
    OnwardReferral,
    OnwardStatus,
    Pathway,
    Priority,
    Responsible,
)

NEED_FIELDS = ["status", "priority", "responsible", "summary"]
ACTION_FIELDS = ["need", "description", "owner", "due_on"]
ID_FIELDS = ["id_type", "status", "submitted_on", "cost", "paid_by", "received_on", "notes"]
BANK_FIELDS = ["bank", "outcome", "submitted_on", "response_on", "notes"]
ONWARD_FIELDS = ["agency", "need", "reason", "consent_recorded", "consent_on"]
AGENCY_FIELDS = ["name", "kind", "borough", "phone", "email", "address", "notes"]


def _not_future(day: date | None, field: str) -> None:
    if day and day > timezone.localdate():
        raise ValidationError({field: "This date cannot be in the future."})


def _open_case(case: Case) -> Case:
    if not case.is_open:
        raise ValidationError("This case is closed.")
    return case


def _check_choice(value: str, choices: Any, field: str, label: str) -> None:
    if value not in choices.values:
        raise ValidationError({field: f"Choose {label}."})


# --- Needs ---------------------------------------------------------------------------


def _apply_need(
    actor: Any, need: Need, data: Mapping[str, Any], on: date, note: str, created: bool
) -> list[str]:
    changed = [f for f in NEED_FIELDS if f in data and getattr(need, f) != data[f]]
    for field in changed:
        setattr(need, field, data[field])
    if created or "status" in changed:
        need.status_since = on
    if not (created or changed or note):
        return []
    need.recorded_by = user_or_none(actor)
    need.full_clean()
    need.save()
    NeedUpdate.objects.create(
        need=need, on=on, status=need.status, priority=need.priority,
        responsible=need.responsible, note=note, recorded_by=user_or_none(actor),
    )  # fmt: skip
    audit.record(actor, AuditAction.CREATE if created else AuditAction.UPDATE, need,
                 fields=changed or ["note"], summary=need.get_pathway_display())  # fmt: skip
    return changed or ["note"]


@transaction.atomic
def assess_needs(
    actor: Any, case: Case, rows: Mapping[str, Mapping[str, Any]], on: date | None = None
) -> list[Need]:
    """Record (or revisit) the needs assessment: one row per pathway given. A pathway
    left "not started" with nothing written is not recorded at all."""
    _open_case(case)
    on = on or timezone.localdate()
    _not_future(on, "on")
    errors: dict[str, str] = {}
    for pathway, data in rows.items():
        reject_unknown_fields(data, NEED_FIELDS)
        if pathway not in Pathway.values:
            errors[pathway] = "Not a resettlement pathway."
            continue
        for field, choices, label in (
            ("status", NeedStatus, "a status"),
            ("priority", Priority, "a priority"),
            ("responsible", Responsible, "who is responsible"),
        ):
            if field in data and data[field] not in choices.values:
                errors[f"{pathway}-{field}"] = f"Choose {label}."
    if errors:
        raise ValidationError(errors)
    existing = {n.pathway: n for n in Need.objects.select_for_update().filter(case=case)}
    saved = []
    for pathway, data in rows.items():
        need = existing.get(pathway)
        if need is None:
            if data.get("status", NeedStatus.NOT_STARTED) == NeedStatus.NOT_STARTED and not (
                data.get("summary", "").strip()
            ):
                continue
            need = Need(case=case, pathway=pathway, status_since=on)
            _apply_need(actor, need, data, on, "", created=True)
        else:
            _apply_need(actor, need, data, on, "", created=False)
        saved.append(need)
    return saved


@transaction.atomic
def update_need(
    actor: Any,
    need: Need,
    data: Mapping[str, Any],
    note: str,
    on: date,
    *,
    version: str | None = None,
) -> Need:
    """Change a need and add to its history. `version` is the need's version when the
    form was opened (core.concurrency). A note alone overwrites nothing, so it is kept
    even if the need changed meanwhile — unless it is the very update this user just
    made from the same form (a double-click), which is not written twice."""
    reject_unknown_fields(data, NEED_FIELDS)
    locked = Need.objects.select_for_update().select_related("case").get(pk=need.pk)
    _open_case(locked.case)
    _not_future(on, "on")
    last = locked.updates.order_by("-on").values_list("on", flat=True).first()
    if last and on < last:
        raise ValidationError(
            {"on": f"The last update was on {last:%d/%m/%Y}; date this one on or after it."}
        )
    if any(f in data and getattr(locked, f) != data[f] for f in NEED_FIELDS):
        check_version(locked, version, actor)
    elif version is not None and version != version_of(locked):
        latest = locked.updates.order_by("-id").first()
        if latest and (latest.on, latest.note, latest.recorded_by_id) == (
            on,
            note.strip(),
            getattr(user_or_none(actor), "pk", None),
        ):
            return locked
    _apply_need(actor, locked, data, on, note.strip(), created=False)
    return locked


# --- Action plan -----------------------------------------------------------------------


@transaction.atomic
def add_action(actor: Any, case: Case, data: Mapping[str, Any]) -> Action:
    reject_unknown_fields(data, ACTION_FIELDS)
    _open_case(case)
    need = data.get("need")
    if need is not None and need.case_id != case.pk:
        raise ValidationError({"need": "Choose one of this case's needs."})
    action = Action(case=case, recorded_by=user_or_none(actor), **data)
    action.full_clean()
    if action.due_on < case.opened_on:
        raise ValidationError({"due_on": "The due date is before the case began."})
    action.save()
    audit.record(actor, AuditAction.CREATE, action, fields=[k for k, v in data.items() if v])
    return action


@transaction.atomic
def complete_action(actor: Any, action: Action, done_on: date) -> Action:
    locked = Action.objects.select_for_update().select_related("case").get(pk=action.pk)
    _open_case(locked.case)
    if locked.done_on is not None:
        raise ValidationError(f"This action was already done on {locked.done_on:%d/%m/%Y}.")
    _not_future(done_on, "done_on")
    if done_on < locked.created_at.date():
        raise ValidationError({"done_on": "It cannot be done before it was planned."})
    locked.done_on = done_on
    locked.save(update_fields=["done_on", "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=["done_on"])
    return locked


# --- ID and bank --------------------------------------------------------------------------


def _save_application(actor: Any, record: Any, data: Mapping[str, Any], created: bool) -> Any:
    changed = [k for k, v in data.items() if getattr(record, k) != v] if not created else []
    for key, value in data.items():
        setattr(record, key, value)
    record.recorded_by = user_or_none(actor)
    record.full_clean()
    record.save()
    fields = [k for k, v in data.items() if v not in (None, "")] if created else changed
    audit.record(
        actor, AuditAction.CREATE if created else AuditAction.UPDATE, record, fields=fields
    )
    return record


def _changes_application(
    actor: Any, locked: Any, data: Mapping[str, Any], version: str | None
) -> bool:
    """Whether saving `data` would change the application; refused if it would and the
    application changed since the form was opened (core.concurrency)."""
    if not any(getattr(locked, k) != v for k, v in data.items()):
        return False
    check_version(locked, version, actor)
    return True


@transaction.atomic
def save_id_application(
    actor: Any,
    case: Case,
    data: Mapping[str, Any],
    application: IDApplication | None = None,
    *,
    version: str | None = None,
) -> IDApplication:
    reject_unknown_fields(data, ID_FIELDS)
    _open_case(case)
    if application is None:
        return _save_application(actor, IDApplication(case=case), data, created=True)
    locked = IDApplication.objects.select_for_update().get(pk=application.pk, case=case)
    if not _changes_application(actor, locked, data, version):
        return locked  # nothing to save or audit (e.g. the second click of a double-click)
    return _save_application(actor, locked, data, created=False)


@transaction.atomic
def save_bank_application(
    actor: Any,
    case: Case,
    data: Mapping[str, Any],
    application: BankApplication | None = None,
    *,
    version: str | None = None,
) -> BankApplication:
    reject_unknown_fields(data, BANK_FIELDS)
    _open_case(case)
    if application is None:
        return _save_application(actor, BankApplication(case=case), data, created=True)
    locked = BankApplication.objects.select_for_update().get(pk=application.pk, case=case)
    if not _changes_application(actor, locked, data, version):
        return locked  # nothing to save or audit (e.g. the second click of a double-click)
    return _save_application(actor, locked, data, created=False)


# --- Agencies and onward referrals -----------------------------------------------------


@transaction.atomic
def add_agency(actor: Any, data: Mapping[str, Any]) -> Agency:
    reject_unknown_fields(data, AGENCY_FIELDS)
    agency = Agency(**data)
    agency.full_clean()
    agency.save()
    audit.record(actor, AuditAction.CREATE, agency, fields=[k for k, v in data.items() if v])
    return agency


@transaction.atomic
def create_onward_referral(actor: Any, case: Case, data: Mapping[str, Any]) -> OnwardReferral:
    reject_unknown_fields(data, ONWARD_FIELDS)
    _open_case(case)
    referral = OnwardReferral(case=case, recorded_by=user_or_none(actor), **data)
    errors: dict[str, str] = {}
    if referral.need is not None and referral.need.case_id != case.pk:
        errors["need"] = "Choose one of this case's needs."
    if not referral.agency.active:
        errors["agency"] = "This agency is no longer in the directory."
    if referral.consent_recorded and referral.consent_on is None:
        errors["consent_on"] = "Give the date the young person agreed."
    if not referral.consent_recorded:
        referral.consent_on = None
    if referral.consent_on and referral.consent_on > timezone.localdate():
        errors["consent_on"] = "This date cannot be in the future."
    if errors:
        raise ValidationError(errors)
    referral.full_clean()
    referral.save()
    audit.record(actor, AuditAction.CREATE, referral, fields=[k for k, v in data.items() if v])
    return referral


@transaction.atomic
def record_consent(actor: Any, referral: OnwardReferral, consent_on: date) -> OnwardReferral:
    locked = OnwardReferral.objects.select_for_update().get(pk=referral.pk)
    _not_future(consent_on, "consent_on")
    locked.consent_recorded, locked.consent_on = True, consent_on
    locked.save(update_fields=["consent_recorded", "consent_on", "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=["consent_recorded", "consent_on"])
    return locked


@transaction.atomic
def change_onward_status(
    actor: Any, referral: OnwardReferral, to_status: str, on: date, outcome: str = ""
) -> OnwardReferral:
    """Move the referral on (sent → accepted / declined → completed, or withdrawn), dated.
    It cannot be sent without the young person's recorded consent."""
    locked = OnwardReferral.objects.select_for_update().select_related("case").get(pk=referral.pk)
    _open_case(locked.case)
    allowed = [s for s, _label in locked.next_statuses]
    if to_status not in allowed:
        raise ValidationError(
            {"status": f"A referral that is {locked.get_status_display().lower()} cannot become "
                       f"{dict(OnwardStatus.choices).get(to_status, to_status).lower()}."}
        )  # fmt: skip
    if to_status == OnwardStatus.SENT and not locked.consent_recorded:
        raise ValidationError(
            {"status": "Record the young person's consent before sending the referral."}
        )
    _not_future(on, "on")
    previous = {
        OnwardStatus.SENT: locked.consent_on,
        OnwardStatus.ACCEPTED: locked.sent_on,
        OnwardStatus.DECLINED: locked.sent_on,
        OnwardStatus.COMPLETED: locked.accepted_on,
    }.get(OnwardStatus(to_status))
    if previous and on < previous:
        raise ValidationError({"on": f"This is before the previous step on {previous:%d/%m/%Y}."})
    if to_status == OnwardStatus.DECLINED and not outcome.strip():
        raise ValidationError({"outcome": "Say why the agency declined."})
    date_field = f"{to_status}_on"
    locked.status = to_status
    setattr(locked, date_field, on)
    fields = ["status", date_field]
    if outcome.strip():
        locked.outcome = outcome.strip()
        fields.append("outcome")
    locked.save(update_fields=[*fields, "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=fields, summary=to_status)
    return locked


# --- Instruments ------------------------------------------------------------------------


def as_engine(definition: InstrumentDefinition) -> engine.Instrument:
    items = definition.items.all()
    return engine.Instrument(
        key=definition.key,
        name=definition.name,
        scale_min=definition.scale_min,
        scale_max=definition.scale_max,
        items=tuple(
            engine.Item(i.key, i.text, reverse=i.reverse, subscale=i.subscale) for i in items
        ),
        scoring=definition.scoring,
        min_answered=definition.min_answered,
        interval_days=tuple(definition.interval_days),
        anchors=(definition.anchor_low, definition.anchor_high),
    )


@transaction.atomic
def record_instrument_response(
    actor: Any,
    case: Case,
    definition: InstrumentDefinition,
    completed_on: date,
    answers: Mapping[str, int | None],
) -> InstrumentResponse:
    """Score and keep one completed questionnaire. Errors are keyed `item-<key>`."""
    _open_case(case)
    instrument = as_engine(definition)
    errors = {
        f"item-{key}": message for key, message in engine.validate(instrument, answers).items()
    }
    if completed_on > timezone.localdate():
        errors["completed_on"] = "This date cannot be in the future."
    elif completed_on < case.opened_on:
        errors["completed_on"] = f"This is before the case began on {case.opened_on:%d/%m/%Y}."
    if errors:
        raise ValidationError(errors)
    result = engine.score(instrument, answers)
    if result.answered == 0:
        raise ValidationError("Answer at least one question.")
    response = InstrumentResponse.objects.create(
        case=case,
        instrument=definition,
        completed_on=completed_on,
        answers={k: v for k, v in answers.items() if v is not None},
        total=result.total,
        subscales=result.subscales,
        recorded_by=user_or_none(actor),
    )
    audit.record(actor, AuditAction.CREATE, response, fields=["answers"], summary=definition.key)
    return response


INSTRUMENT_KEYS = {
    "key", "name", "scale_min", "scale_max", "scoring", "min_answered", "interval_days",
    "anchors", "items", "reported_by_mentee", "licence_note",
}  # fmt: skip


@transaction.atomic
def add_instrument(actor: Any, data: Mapping[str, Any]) -> InstrumentDefinition:
    """Add a questionnaire described as data (e.g. a licensed one the charity holds).
    The engine checks the description as a whole before anything is saved."""
    unknown = sorted(set(data) - INSTRUMENT_KEYS)
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(unknown)}.")
    try:
        items = tuple(
            engine.Item(
                str(i["key"]),
                str(i["text"]),
                reverse=bool(i.get("reverse", False)),
                subscale=str(i.get("subscale", "")),
            )  # fmt: skip
            for i in data.get("items", [])
        )
        anchors = tuple(data.get("anchors", ("", "")))
        instrument = engine.Instrument(
            key=str(data.get("key", "")),
            name=str(data.get("name", "")),
            scale_min=data.get("scale_min"),  # type: ignore[arg-type]
            scale_max=data.get("scale_max"),  # type: ignore[arg-type]
            items=items,
            scoring=data.get("scoring", "mean"),
            min_answered=data.get("min_answered", 1.0),
            interval_days=tuple(data.get("interval_days", ())),
            anchors=(str(anchors[0]), str(anchors[1])) if len(anchors) == 2 else ("", ""),
        )
    except (KeyError, TypeError) as exc:
        raise ValidationError(f"Each item needs a key and a text ({exc}).") from None
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if not instrument.key or not instrument.name:
        raise ValidationError("The instrument needs a key and a name.")
    if InstrumentDefinition.objects.filter(key=instrument.key).exists():
        raise ValidationError(f"An instrument with the key {instrument.key!r} already exists.")
    definition = InstrumentDefinition(
        key=instrument.key,
        name=instrument.name,
        scale_min=instrument.scale_min,
        scale_max=instrument.scale_max,
        scoring=instrument.scoring,
        min_answered=instrument.min_answered,
        interval_days=list(instrument.interval_days),
        anchor_low=instrument.anchors[0],
        anchor_high=instrument.anchors[1],
        reported_by_mentee=bool(data.get("reported_by_mentee", True)),
        licence_note=str(data.get("licence_note", "")),
    )
    definition.full_clean()
    definition.save()
    InstrumentItem.objects.bulk_create(
        InstrumentItem(instrument=definition, key=item.key, text=item.text, reverse=item.reverse,
                       subscale=item.subscale, position=position)
        for position, item in enumerate(instrument.items)
    )  # fmt: skip
    audit.record(actor, AuditAction.CREATE, definition, fields=["items", *sorted(data)])
    return definition
