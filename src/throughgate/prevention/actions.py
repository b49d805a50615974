"""Every change to schools and venues, workshops, surveys and prevention settings.

Each action validates, saves and writes its audit event in one transaction (views, the
demo seeder and tests call these, never .save() on their own); bad input raises a
ValidationError naming the field — or the row — and saves nothing.

Field names in errors: a workshop's group rows are numbered from 1 as the person sees
them, and an error on row 2's girls is keyed ``g2-girls``; a survey question's counts
are keyed ``q<question id>-<field>``. The forms name their fields the same way, so
every message lands beside the box it is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from throughgate.core import audit
from throughgate.core.actions import reject_unknown_fields, user_or_none
from throughgate.core.concurrency import check_version
from throughgate.core.models import AuditAction
from throughgate.core.validators import normalise_phone
from throughgate.engines import survey as engine

from .models import (
    EARLIEST_WORKSHOP_DATE,
    MAX_DURATION_MINUTES,
    MAX_WORKSHOP_HEADCOUNT,
    MIN_DURATION_MINUTES,
    ReachTarget,
    SurveyQuestion,
    SurveyResponse,
    SurveyResult,
    SurveySource,
    SurveyStage,
    Venue,
    Workshop,
    WorkshopGroup,
    WorkshopTopic,
    YearGroup,
    academic_year_of,
)

VENUE_FIELDS = [
    "name", "kind", "urn", "school_type", "phase", "borough", "contact_name",
    "contact_email", "contact_phone", "dsl_name", "dsl_email", "dsl_phone", "active", "notes",
]  # fmt: skip
WORKSHOP_FIELDS = [
    "held_on", "venue", "duration_minutes", "repeat_group", "teacher_rating", "teacher_comment",
]  # fmt: skip
GROUP_COUNTS = ("girls", "boys", "other")
COUNT_FIELDS = ("before_respondents", "before_yes", "after_respondents", "after_yes")
COUNT_LABELS = {
    "before_respondents": "answered before",
    "before_yes": "said yes before",
    "after_respondents": "answered after",
    "after_yes": "said yes after",
}
TOPIC_FIELDS = ["name", "active", "order"]
QUESTION_FIELDS = ["text", "topic", "active", "order"]


# --- Schools and venues ----------------------------------------------------------


def _clean_venue(venue: Venue) -> None:
    errors: dict[str, str] = {}
    for name in ("contact_phone", "dsl_phone"):
        value = getattr(venue, name)
        if value:
            try:
                setattr(venue, name, normalise_phone(value))
            except ValidationError as exc:
                errors[name] = exc.messages[0]
    venue.name = " ".join(venue.name.split())
    other = Venue.objects.filter(urn=venue.urn).exclude(pk=venue.pk).first() if venue.urn else None
    if other is not None:
        errors["urn"] = f"{other} already has URN {venue.urn}."
    try:
        venue.full_clean(validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError({**exc.message_dict, **errors}) from None
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_venue(actor: Any, data: dict[str, Any]) -> Venue:
    reject_unknown_fields(data, VENUE_FIELDS)
    venue = Venue(**data)
    _clean_venue(venue)
    venue.save()
    audit.record(actor, AuditAction.CREATE, venue, fields=data, summary=venue.name)
    return venue


@transaction.atomic
def update_venue(
    actor: Any, venue: Venue, data: dict[str, Any], version: str | None = None
) -> list[str]:
    """Change a school's or venue's details; `version` is its version when the form
    was opened (core.concurrency). Returns the names of the fields changed."""
    reject_unknown_fields(data, VENUE_FIELDS)
    locked = Venue.objects.select_for_update().get(pk=venue.pk)
    for name, value in data.items():
        setattr(locked, name, value)
    _clean_venue(locked)
    stored = Venue.objects.get(pk=venue.pk)
    changed = [n for n in data if getattr(stored, n) != getattr(locked, n)]
    if changed:
        check_version(stored, version, actor)
        locked.save(update_fields=[*changed, "updated_at"])
        audit.record(actor, AuditAction.UPDATE, locked, fields=changed, summary=locked.name)
    return changed


# --- Workshops -------------------------------------------------------------------


def _count(value: Any) -> int:
    return 0 if value in (None, "") else value


def _clean_groups(rows: Sequence[Mapping[str, Any]]) -> list[WorkshopGroup]:
    """Group rows as typed: blank rows are skipped; every error names its row."""
    errors: dict[str, list[str]] = {}
    groups: list[WorkshopGroup] = []
    labels = dict(YearGroup.choices)
    for position, row in enumerate(rows, start=1):
        reject_unknown_fields(row, ("row", "year_group", *GROUP_COUNTS))
        number = row.get("row", position)
        year_group = row.get("year_group") or ""
        counts = {name: _count(row.get(name)) for name in GROUP_COUNTS}
        if not year_group and not any(counts.values()):
            continue  # a spare blank row
        name = f"Row {number}" + (f" ({labels[year_group]})" if year_group in labels else "")
        if year_group and year_group not in labels:
            errors.setdefault(f"g{number}-year_group", []).append(
                f"{name}: choose a year group from the list."
            )
        elif not year_group:
            errors.setdefault(f"g{number}-year_group", []).append(
                f"{name}: choose the year group these children are in."
            )
        for field, value in counts.items():
            if value < 0:
                errors.setdefault(f"g{number}-{field}", []).append(
                    f"{name}: the number of {_group_word(field)} cannot be below zero."
                )
        total = sum(counts.values())
        if total > MAX_WORKSHOP_HEADCOUNT and not any(v < 0 for v in counts.values()):
            errors.setdefault(f"g{number}-girls", []).append(
                f"{name}: {total:,} children is more than {MAX_WORKSHOP_HEADCOUNT}, the most one "
                "workshop can hold. Check for a typing slip."
            )
        if total == 0 and year_group in labels:
            errors.setdefault(f"g{number}-girls", []).append(
                f"{name}: enter how many girls, boys or others took part."
            )
        groups.append(WorkshopGroup(year_group=year_group, position=position, **counts))
    if errors:
        raise ValidationError(errors)
    if not groups:
        raise ValidationError(
            {"g1-year_group": "Add at least one group: its year group and how many took part."}
        )
    headcount = sum(g.headcount for g in groups)
    if headcount > MAX_WORKSHOP_HEADCOUNT:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: f"Headcount: {headcount:,} children in all is more than "
                f"{MAX_WORKSHOP_HEADCOUNT}, the most one workshop can hold. Check the group "
                "rows for a typing slip, or record separate sessions as separate workshops."
            }
        )
    return groups


def _group_word(field: str) -> str:
    return {"girls": "girls", "boys": "boys", "other": "other or not recorded"}[field]


def _clean_workshop(
    workshop: Workshop, topics: Sequence[WorkshopTopic], facilitators: Sequence[Any]
) -> None:
    errors: dict[str, str] = {}
    today = timezone.localdate()
    held_on = workshop.held_on
    if isinstance(held_on, date):
        if held_on > today:
            errors["held_on"] = (
                f"The date cannot be in the future: record the workshop on the day, or after. "
                f"Today is {today:%-d %B %Y}."
            )
        elif held_on < EARLIEST_WORKSHOP_DATE:
            errors["held_on"] = f"The date cannot be before {EARLIEST_WORKSHOP_DATE.year}."
    duration = workshop.duration_minutes
    if isinstance(duration, int) and not MIN_DURATION_MINUTES <= duration <= MAX_DURATION_MINUTES:
        errors["duration_minutes"] = (
            f"The length must be from {MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES} minutes "
            "(a full school day)."
        )
    if not topics:
        errors["topics"] = "Choose at least one topic."
    if not facilitators:
        errors["facilitators"] = "Choose who ran the workshop."
    try:
        workshop.full_clean(exclude=["academic_year", "headcount", *errors])
    except ValidationError as exc:
        raise ValidationError({**exc.message_dict, **errors}) from None
    if errors:
        raise ValidationError(errors)


def _audit_fields(data: Mapping[str, Any]) -> list[str]:
    return [*data, "groups", "topics", "facilitators"]


@transaction.atomic
def record_workshop(
    actor: Any,
    data: dict[str, Any],
    groups: Sequence[Mapping[str, Any]],
    topics: Iterable[WorkshopTopic],
    facilitators: Iterable[Any],
) -> Workshop:
    reject_unknown_fields(data, WORKSHOP_FIELDS)
    topics, facilitators = list(topics), list(facilitators)
    workshop = Workshop(**data, recorded_by=user_or_none(actor))
    errors: dict[str, list[str]] = {}
    try:
        _clean_workshop(workshop, topics, facilitators)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    rows: list[WorkshopGroup] = []
    try:
        rows = _clean_groups(groups)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    workshop.headcount = sum(g.headcount for g in rows)
    workshop.academic_year = academic_year_of(workshop.held_on)
    workshop.save()
    for group in rows:
        group.workshop = workshop
    WorkshopGroup.objects.bulk_create(rows)
    workshop.topics.set(topics)
    workshop.facilitators.set(facilitators)
    audit.record(
        actor, AuditAction.CREATE, workshop, fields=_audit_fields(data), summary=str(workshop)
    )
    return workshop


def _group_key(groups: Iterable[WorkshopGroup]) -> list[tuple[str, int, int, int]]:
    return [(g.year_group, g.girls, g.boys, g.other) for g in groups]


@transaction.atomic
def update_workshop(
    actor: Any,
    workshop: Workshop,
    data: dict[str, Any],
    groups: Sequence[Mapping[str, Any]],
    topics: Iterable[WorkshopTopic],
    facilitators: Iterable[Any],
    version: str | None = None,
) -> list[str]:
    reject_unknown_fields(data, WORKSHOP_FIELDS)
    topics, facilitators = list(topics), list(facilitators)
    locked = Workshop.objects.select_for_update().get(pk=workshop.pk)
    stored = {name: getattr(locked, name) for name in data}
    for name, value in data.items():
        setattr(locked, name, value)
    errors: dict[str, list[str]] = {}
    try:
        _clean_workshop(locked, topics, facilitators)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        rows = _clean_groups(groups)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        rows = []
    if errors:
        raise ValidationError(errors)
    headcount = sum(g.headcount for g in rows)
    answered = locked.survey_results.aggregate(
        most=Max("before_respondents"), most_after=Max("after_respondents")
    )
    most = max(answered["most"] or 0, answered["most_after"] or 0)
    if headcount < most:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: f"Headcount: {most} children answered this workshop's survey, "
                f"so the groups cannot add up to fewer ({headcount}). Correct the survey first."
            }
        )
    changed = [name for name in data if stored[name] != getattr(locked, name)]
    if _group_key(rows) != _group_key(locked.groups.all()):
        changed.append("groups")
    if {t.pk for t in topics} != set(locked.topics.values_list("pk", flat=True)):
        changed.append("topics")
    if {u.pk for u in facilitators} != set(locked.facilitators.values_list("pk", flat=True)):
        changed.append("facilitators")
    if not changed:
        return []
    check_version(locked, version, actor)
    locked.headcount = headcount
    locked.academic_year = academic_year_of(locked.held_on)
    locked.save(
        update_fields=[
            *[n for n in changed if n in WORKSHOP_FIELDS],
            "headcount", "academic_year", "updated_at",
        ]
    )  # fmt: skip
    if "groups" in changed:
        locked.groups.all().delete()
        for group in rows:
            group.workshop = locked
        WorkshopGroup.objects.bulk_create(rows)
    if "topics" in changed:
        locked.topics.set(topics)
    if "facilitators" in changed:
        locked.facilitators.set(facilitators)
    audit.record(actor, AuditAction.UPDATE, locked, fields=changed, summary=str(locked))
    return changed


@transaction.atomic
def delete_workshop(actor: Any, workshop: Workshop) -> None:
    """Only the manager deletes (the view checks); the audit event keeps what it was."""
    locked = Workshop.objects.select_for_update().select_related("venue").get(pk=workshop.pk)
    summary = f"{locked} ({locked.headcount} children)"
    pk = locked.pk
    locked.delete()
    audit.record(
        actor,
        AuditAction.DELETE,
        object_type=Workshop._meta.label_lower,
        object_id=pk,
        summary=summary,
    )


# --- Surveys ----------------------------------------------------------------------


def _check_counts(
    workshop: Workshop, question: SurveyQuestion, values: Mapping[str, int]
) -> list[tuple[str, str]]:
    """Errors as (field, message) for one question's four counts."""
    problems: list[tuple[str, str]] = []
    short = f"“{question.text[:60]}”"
    for field in COUNT_FIELDS:
        if values[field] < 0:
            problems.append((field, f"{short}: “{COUNT_LABELS[field]}” cannot be below zero."))
    if problems:
        return problems
    for stage in ("before", "after"):
        n, yes = values[f"{stage}_respondents"], values[f"{stage}_yes"]
        if n > workshop.headcount:
            problems.append(
                (
                    f"{stage}_respondents",
                    f"{short}: {n} answered {stage}, more than the {workshop.headcount} "
                    "children who attended.",
                )
            )
        if yes > n:
            problems.append(
                (
                    f"{stage}_yes",
                    f"{short}: {yes} said yes {stage}, more than the {n} who answered {stage}.",
                )
            )
    return problems


@transaction.atomic
def save_survey_counts(
    actor: Any, workshop: Workshop, rows: Mapping[int, Mapping[str, Any]]
) -> list[SurveyResult]:
    """Set a workshop's survey counts, question by question ({question id: counts}).
    A question left entirely blank is not asked (any earlier counts for it are removed).
    A workshop whose survey was entered as individual responses is counted from them."""
    locked = Workshop.objects.select_for_update().get(pk=workshop.pk)
    if locked.survey_responses.exists():
        raise ValidationError(
            "This workshop's survey was entered as individual answer sheets, which are "
            "counted for you: add or correct answer sheets instead."
        )
    questions = SurveyQuestion.objects.in_bulk(list(rows))
    errors: dict[str, list[str]] = {}
    wanted: dict[int, dict[str, int]] = {}
    for question_id, row in rows.items():
        reject_unknown_fields(row, COUNT_FIELDS)
        question = questions.get(question_id)
        if question is None:
            raise ValueError(f"no survey question {question_id}")
        if all(row.get(f) in (None, "") for f in COUNT_FIELDS):
            continue
        values = {f: _count(row.get(f)) for f in COUNT_FIELDS}
        for field, message in _check_counts(locked, question, values):
            errors.setdefault(f"q{question_id}-{field}", []).append(message)
        wanted[question_id] = values
    if errors:
        raise ValidationError(errors)
    existing = {r.question_id: r for r in locked.survey_results.all()}
    changed: list[str] = []
    for question_id, result in existing.items():
        if question_id in rows and question_id not in wanted:
            result.delete()
            changed.append(f"q{question_id}")
    saved = []
    for question_id, values in wanted.items():
        result = existing.get(question_id) or SurveyResult(workshop=locked, question_id=question_id)
        if result.pk and all(getattr(result, f) == v for f, v in values.items()):
            saved.append(result)
            continue
        for field, value in values.items():
            setattr(result, field, value)
        result.source = SurveySource.COUNTS
        result.save()
        saved.append(result)
        changed.append(f"q{question_id}")
    if changed:
        Workshop.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        audit.record(
            actor,
            AuditAction.UPDATE,
            locked,
            fields=["survey_results"],
            summary=f"Survey counts for {len(changed)} question(s)",
        )
    return saved


@transaction.atomic
def add_survey_response(
    actor: Any, workshop: Workshop, stage: str, answers: Mapping[int, str]
) -> SurveyResponse:
    """One child's anonymous answer sheet. The workshop's counts are then recounted
    from all its sheets, so they can never disagree."""
    locked = Workshop.objects.select_for_update().get(pk=workshop.pk)
    if stage not in SurveyStage.values:
        raise ValidationError({"stage": "Choose whether this sheet was filled in before or after."})
    if locked.survey_results.filter(source=SurveySource.COUNTS).exists():
        raise ValidationError(
            "This workshop's survey was entered as counts. Correct the counts instead, so "
            "the same children are not counted twice."
        )
    answered = {str(k): v for k, v in answers.items() if v and v != engine.SKIP}
    if not answered:
        raise ValidationError("The sheet has no answers: answer at least one question.")
    for key, value in answered.items():
        if value not in engine.ANSWERS:
            raise ValidationError({f"q{key}": "Choose yes, no or skipped."})
    sheets_so_far = locked.survey_responses.filter(stage=stage).count()
    if sheets_so_far + 1 > locked.headcount:
        raise ValidationError(
            f"This would be answer sheet {sheets_so_far + 1} {stage} the workshop, more than "
            f"the {locked.headcount} children who attended."
        )
    response = SurveyResponse.objects.create(
        workshop=locked, stage=stage, answers={str(k): v for k, v in answers.items() if v}
    )
    _recount(locked)
    Workshop.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
    audit.record(actor, AuditAction.CREATE, response, fields=["stage", "answers"])
    return response


def _recount(workshop: Workshop) -> None:
    sheets = list(workshop.survey_responses.values_list("stage", "answers"))
    keys = {key for _stage, answers in sheets for key in answers}
    questions = {str(q.pk): q for q in SurveyQuestion.objects.filter(pk__in=_ints(keys))}
    counts = engine.tally(sheets, questions)
    workshop.survey_results.exclude(question_id__in=_ints(questions)).delete()
    for key, c in counts.items():
        SurveyResult.objects.update_or_create(
            workshop=workshop,
            question=questions[key],
            defaults={
                "before_respondents": c.before_respondents,
                "before_yes": c.before_yes,
                "after_respondents": c.after_respondents,
                "after_yes": c.after_yes,
                "source": SurveySource.RESPONSES,
            },
        )


def _ints(keys: Iterable[str]) -> list[int]:
    return [int(k) for k in keys if str(k).isdecimal()]


# --- Settings: topics, questions, targets ----------------------------------------


def _save_config(actor: Any, record: Any, data: dict[str, Any], allowed: list[str]) -> list[str]:
    reject_unknown_fields(data, allowed)
    creating = record.pk is None
    stored = None if creating else type(record).objects.get(pk=record.pk)
    for name, value in data.items():
        setattr(record, name, value)
    record.full_clean()
    changed = list(data) if creating else [n for n in data if getattr(stored, n) != data[n]]
    if creating:
        record.save()
        audit.record(actor, AuditAction.CREATE, record, fields=changed, summary=str(record))
    elif changed:
        record.save(update_fields=[*changed, "updated_at"])
        audit.record(actor, AuditAction.UPDATE, record, fields=changed, summary=str(record))
    return changed


@transaction.atomic
def save_topic(
    actor: Any, data: dict[str, Any], topic: WorkshopTopic | None = None
) -> WorkshopTopic:
    record = (
        WorkshopTopic()
        if topic is None
        else WorkshopTopic.objects.select_for_update().get(pk=topic.pk)
    )
    if "name" in data:
        data = {**data, "name": " ".join(str(data["name"]).split())}
        clash = WorkshopTopic.objects.filter(name__iexact=data["name"]).exclude(pk=record.pk)
        if clash.exists():
            raise ValidationError({"name": f"There is already a topic called {clash.first()}."})
    _save_config(actor, record, data, TOPIC_FIELDS)
    return record


@transaction.atomic
def save_question(
    actor: Any, data: dict[str, Any], question: SurveyQuestion | None = None
) -> SurveyQuestion:
    record = (
        SurveyQuestion()
        if question is None
        else SurveyQuestion.objects.select_for_update().get(pk=question.pk)
    )
    if "text" in data:
        data = {**data, "text": " ".join(str(data["text"]).split())}
        clash = SurveyQuestion.objects.filter(text__iexact=data["text"]).exclude(pk=record.pk)
        if clash.exists():
            raise ValidationError({"text": "That question is already in the list."})
    _save_config(actor, record, data, QUESTION_FIELDS)
    return record


@transaction.atomic
def set_reach_target(actor: Any, academic_year: int, target: int) -> ReachTarget:
    record = ReachTarget.objects.select_for_update().filter(academic_year=academic_year).first()
    if record is None:
        record = ReachTarget(academic_year=academic_year)
    _save_config(actor, record, {"target": target}, ["target"])
    return record
