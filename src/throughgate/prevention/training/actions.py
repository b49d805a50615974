"""Every change to courses, delegates and feedback.

Each action validates, saves and writes its audit event in one transaction; views,
the demo seeder and tests call these, never .save() on their own. Delegates are
professionals' personal data, so every change to them is audited too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from throughgate.core import audit
from throughgate.core.actions import reject_unknown_fields, user_or_none
from throughgate.core.concurrency import check_version
from throughgate.core.models import AuditAction

from .models import HAPPENED, Attendance, Course, Delegate, Feedback

COURSE_FIELDS = [
    "kind", "title", "audience", "client", "client_contact", "start_date", "end_date",
    "sessions", "hours", "fee", "cancelled", "notes",
]  # fmt: skip
INVOICE_FIELDS = ["invoiced_on", "invoice_reference", "paid_on"]
DELEGATE_FIELDS = ["name", "organisation", "role", "attendance"]
FEEDBACK_FIELDS = ["overall", "relevance", "trainer_knowledge", "comments"]
MAX_DELEGATES_AT_ONCE = 300


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _not_yet(course: Course) -> str:
    return f"the course has not started yet (it starts on {course.start_date:%d/%m/%Y})"


def _check_attendance(course: Course, attendance: str, today: date) -> str | None:
    """Why this attendance cannot be recorded on the course today, or None."""
    if attendance not in HAPPENED:
        return None
    label = Attendance(attendance).label.lower()
    if course.cancelled:
        return f"Nobody can be marked “{label}”: the course was cancelled."
    if course.start_date > today:
        return f"Nobody can be marked “{label}” yet: {_not_yet(course)}."
    return None


def _check_course(course: Course, trainers: Sequence[Any], today: date) -> None:
    course.full_clean()
    if not trainers:
        raise ValidationError({"trainers": "Choose at least one trainer."})
    if course.pk and course.start_date > today:
        happened = course.delegates.filter(attendance__in=HAPPENED).count()
        if happened:
            raise ValidationError(
                {
                    "start_date": f"{happened} delegate{'s are' if happened != 1 else ' is'} "
                    "recorded as attended or absent, so the course has started: the first "
                    "day cannot be in the future."
                }
            )
    if course.cancelled and course.invoiced_on:
        raise ValidationError(
            {"cancelled": "This course has been invoiced: it cannot be cancelled here. "
             "Ask the manager to sort out the invoice first."}
        )  # fmt: skip


@transaction.atomic
def create_course(
    actor: Any, data: dict[str, Any], trainers: Iterable[Any], *, today: date | None = None
) -> Course:
    reject_unknown_fields(data, COURSE_FIELDS)
    trainers = list(trainers)
    course = Course(created_by=user_or_none(actor), **data)
    if course.cancelled:
        raise ValidationError({"cancelled": "A new course cannot start out cancelled."})
    _check_course(course, trainers, _today(today))
    course.save()
    course.trainers.set(trainers)
    audit.record(actor, AuditAction.CREATE, course, fields=[*data, "trainers"])
    return course


@transaction.atomic
def update_course(
    actor: Any,
    course: Course,
    data: dict[str, Any],
    trainers: Iterable[Any] | None = None,
    *,
    version: str | None = None,
    today: date | None = None,
) -> list[str]:
    """Change a course's details; `version` is its version when the form was opened
    (core.concurrency). Returns the names of the fields changed."""
    reject_unknown_fields(data, COURSE_FIELDS)
    locked = Course.objects.select_for_update().get(pk=course.pk)
    changed = [name for name, value in data.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, data[name])
    current = list(locked.trainers.all())
    new_trainers = current if trainers is None else list(trainers)
    if {t.pk for t in new_trainers} != {t.pk for t in current}:
        changed.append("trainers")
    _check_course(locked, new_trainers, _today(today))
    if changed:
        check_version(locked, version, actor)
        locked.save(update_fields=[f for f in changed if f != "trainers"] + ["updated_at"])
        if "trainers" in changed:
            locked.trainers.set(new_trainers)
        audit.record(actor, AuditAction.UPDATE, locked, fields=changed)
    return changed


@transaction.atomic
def record_invoice(
    actor: Any,
    course: Course,
    data: dict[str, Any],
    *,
    version: str | None = None,
    today: date | None = None,
) -> list[str]:
    """Record (or correct) the invoice and the payment of a course."""
    reject_unknown_fields(data, INVOICE_FIELDS)
    today = _today(today)
    locked = Course.objects.select_for_update().get(pk=course.pk)
    if "invoice_reference" in data:
        data = {**data, "invoice_reference": " ".join((data["invoice_reference"] or "").split())}
    changed = [name for name, value in data.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, data[name])
    errors: dict[str, str] = {}
    if locked.invoiced_on and locked.invoiced_on > today:
        errors["invoiced_on"] = "The invoice date cannot be in the future."
    if locked.paid_on and locked.paid_on > today:
        errors["paid_on"] = "The payment date cannot be in the future."
    if locked.cancelled and locked.invoiced_on and "invoiced_on" in changed:
        errors["invoiced_on"] = "This course was cancelled: there is nothing to invoice."
    if errors:
        raise ValidationError(errors)
    locked.full_clean()
    if changed:
        check_version(locked, version, actor)
        locked.save(update_fields=[*changed, "updated_at"])
        audit.record(actor, AuditAction.UPDATE, locked, fields=changed, summary="invoice")
    return changed


def _clean_delegate(delegate: Delegate) -> None:
    delegate.name = " ".join(delegate.name.split())
    delegate.organisation = " ".join(delegate.organisation.split())
    delegate.role = " ".join(delegate.role.split())
    delegate.full_clean()


def _key(name: str, organisation: str) -> tuple[str, str]:
    return (" ".join(name.split()).casefold(), " ".join(organisation.split()).casefold())


@transaction.atomic
def add_delegates(
    actor: Any,
    course: Course,
    rows: Sequence[dict[str, Any]],
    attendance: str = Attendance.BOOKED,
    *,
    today: date | None = None,
) -> list[Delegate]:
    """Add several delegates at once. Each row is a dict with "name", "organisation",
    "role" and "line" (its line number in what was typed, for the messages). Nothing is
    saved unless every row is good; every problem is reported, each naming its line."""
    today = _today(today)
    if not rows:
        raise ValidationError({"delegates": "Enter at least one delegate, one per line."})
    if len(rows) > MAX_DELEGATES_AT_ONCE:
        raise ValidationError(
            {"delegates": f"Enter at most {MAX_DELEGATES_AT_ONCE} delegates at a time."}
        )
    if why := _check_attendance(course, attendance, today):
        raise ValidationError({"attendance": why})
    locked = Course.objects.select_for_update().get(pk=course.pk)
    seen = {_key(n, o) for n, o in locked.delegates.values_list("name", "organisation")}
    problems: list[str] = []
    made: list[Delegate] = []
    for number, row in enumerate(rows, start=1):
        line = row.get("line", number)
        reject_unknown_fields(row, ["name", "organisation", "role", "line"])
        delegate = Delegate(
            course=locked,
            name=row.get("name", ""),
            organisation=row.get("organisation", ""),
            role=row.get("role", ""),
            attendance=attendance,
        )
        try:
            _clean_delegate(delegate)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                label = "" if field == "name" else f"{field}: "
                problems += [f"Line {line}: {label}{m}" for m in messages]
            continue
        key = _key(delegate.name, delegate.organisation)
        if key in seen:
            at = f" ({delegate.organisation})" if delegate.organisation else ""
            problems.append(f"Line {line}: {delegate.name}{at} is already on this course.")
            continue
        seen.add(key)
        made.append(delegate)
    if problems:
        raise ValidationError({"delegates": problems})
    for delegate in made:
        delegate.save()
        audit.record(actor, AuditAction.CREATE, delegate, fields=DELEGATE_FIELDS)
    return made


@transaction.atomic
def update_delegate(
    actor: Any,
    delegate: Delegate,
    data: dict[str, Any],
    *,
    version: str | None = None,
    today: date | None = None,
) -> list[str]:
    reject_unknown_fields(data, DELEGATE_FIELDS)
    locked = Delegate.objects.select_for_update().select_related("course").get(pk=delegate.pk)
    data = {k: " ".join(v.split()) if isinstance(v, str) and k != "attendance" else v
            for k, v in data.items()}  # fmt: skip
    changed = [name for name, value in data.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, data[name])
    if "attendance" in changed and (
        why := _check_attendance(locked.course, locked.attendance, _today(today))
    ):
        raise ValidationError({"attendance": why})
    _clean_delegate(locked)
    if changed:
        check_version(locked, version, actor)
        locked.save(update_fields=[*changed, "updated_at"])
        audit.record(actor, AuditAction.UPDATE, locked, fields=changed)
    return changed


@transaction.atomic
def record_attendance(
    actor: Any, course: Course, marks: dict[int, str], *, today: date | None = None
) -> int:
    """The register: attendance for several of a course's delegates at once (delegate
    id -> attendance). Returns how many changed; refuses the lot if any mark is wrong."""
    today = _today(today)
    delegates = {
        d.pk: d
        for d in Delegate.objects.select_for_update().filter(course=course, pk__in=list(marks))
    }
    problems: list[str] = []
    changed: list[Delegate] = []
    for pk, attendance in marks.items():
        delegate = delegates.get(pk)
        if delegate is None:
            problems.append("A delegate in the register is no longer on this course.")
            continue
        if attendance not in Attendance.values:
            problems.append(f"{delegate.name}: choose an attendance.")
            continue
        if attendance == delegate.attendance:
            continue
        if why := _check_attendance(course, attendance, today):
            problems.append(f"{delegate.name}: {why}")
            continue
        delegate.attendance = attendance
        changed.append(delegate)
    if problems:
        raise ValidationError(problems)
    for delegate in changed:
        delegate.save(update_fields=["attendance", "updated_at"])
        audit.record(actor, AuditAction.UPDATE, delegate, fields=["attendance"])
    return len(changed)


@transaction.atomic
def add_feedback(
    actor: Any, course: Course, data: dict[str, Any], *, today: date | None = None
) -> Feedback:
    """One delegate's anonymous feedback form."""
    reject_unknown_fields(data, FEEDBACK_FIELDS)
    today = _today(today)
    if course.cancelled:
        raise ValidationError("This course was cancelled: there is no feedback to record.")
    if course.start_date > today:
        raise ValidationError(
            f"Feedback can be recorded once the course has started (it starts on "
            f"{course.start_date:%d/%m/%Y})."
        )
    feedback = Feedback(course=course, recorded_by=user_or_none(actor), **data)
    errors: dict[str, str] = {}
    for name in ("overall", "relevance", "trainer_knowledge"):
        value = getattr(feedback, name)
        if value is not None and not (isinstance(value, int) and 1 <= value <= 5):
            errors[name] = f"Choose a score from 1 to 5, not {value}."
    if errors:
        raise ValidationError(errors)
    feedback.full_clean()
    feedback.save()
    audit.record(actor, AuditAction.CREATE, feedback, fields=list(data))
    return feedback
