"""Retention: how long personal data is kept, legal holds, and the purge.

A person is never deleted: their row stays, with the dates and codes that outcome
measures and funder reports count (case phases and dates, custody dates, reoffending
events, contact dates and modes), and loses everything that says who they are: names,
exact date of birth (kept as 1 July of the birth year), contact details, identifiers,
aliases, family members, search keys, and every free-text field of every record that
points at them. docs/retention.md explains the rules and their defaults.

What points at a person is *discovered* (people.subject_access.person_paths), as for the
subject access export, so a model added later is covered without editing this file;
`KEEP_FIELDS` names the few plain-text fields that hold codes or organisation names
rather than anything about the person.

The rules (periods in `RetentionPeriod`, defaults in `DEFAULT_YEARS`):

- closed cases: every case closed and no referral waiting; due N years after the last
  closure (or the last referral declined, if later);
- declined referrals: referred but never taken on (every referral declined); due N
  years after the last decision;
- safeguarding: anyone with a safeguarding concern follows the rule above, but is
  never due before their Nth birthday (default 25), and never while a concern is open;
- training delegates: the delegate's name, N years after the course's last day.

People who are also mentors (a mentor profile) are left alone: their records are
staff and volunteer records under a different retention schedule.

`purge(actor, dry_run=True)` reports what is due; with dry_run=False it anonymises,
one transaction and one audit event per person, records a PurgeRun and a PurgeRecord
per record changed, and skips anyone already anonymised or on legal hold. The audit
trail itself is never touched (its hash chain must stay whole).
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from throughgate.core import audit, jobs
from throughgate.core.models import AuditAction, Job

from .models import (
    Alias,
    FamilyMember,
    LegalHold,
    NameIndex,
    Person,
    PurgeRecord,
    PurgeRun,
    RetentionPeriod,
    RetentionRule,
)
from .subject_access import person_paths

Progress = Callable[[int, str], None]

DEFAULT_YEARS: dict[str, int] = {
    RetentionRule.CLOSED_CASES: 6,
    RetentionRule.DECLINED_REFERRALS: 2,
    RetentionRule.SAFEGUARDING_AGE: 25,
    RetentionRule.TRAINING_DELEGATES: 3,
}
# How each period reads on the page and in the CLI report.
PERIOD_LABELS: dict[str, str] = {
    RetentionRule.CLOSED_CASES: "Years after the last case closed",
    RetentionRule.DECLINED_REFERRALS: "Years after the last referral was declined",
    RetentionRule.SAFEGUARDING_AGE: "With a safeguarding concern: not before this birthday",
    RetentionRule.TRAINING_DELEGATES: "Years after the course ended (delegates' names)",
}
MIN_YEARS, MAX_YEARS = 1, 100

REMOVED = "[removed]"
ANONYMOUS_FORENAME = "Removed"
PERSON_LABEL = "people.person"
# Records that only say who the person is: deleted, not blanked.
DELETED_MODELS: tuple[type[models.Model], ...] = (Alias, FamilyMember, NameIndex)
# Plain-text fields that hold a code or an organisation's name, not anything about the
# person; outcome and funder reports count them.
KEEP_FIELDS: dict[str, set[str]] = {
    "casework.case": {"closure_accommodation", "closure_ete"},
    "casework.referral": {"referring_organisation"},
    "casework.mashreferral": {"local_authority"},
    "casework.nrmreferral": {"first_responder"},
    "casework.bankapplication": {"bank"},
    "casework.idapplication": {"paid_by"},
    "custody.custodyepisode": {"expected_release_basis"},
    "custody.keydatechange": {"field"},
    "custody.planitem": {"label"},
    "mentors.conflict": {"source"},
}
PERSON_CLEARED = [
    "preferred_name", "address", "postcode", "phone", "email", "prison_number", "pnc_id", "crn",
]  # fmt: skip
HOLD_REASON_MAX = 300
JOB_KIND = "people.retention_purge"


# --- Periods -------------------------------------------------------------------------


def periods() -> dict[str, int]:
    """The period of every rule: the charity's own where set, else the default."""
    chosen = dict(RetentionPeriod.objects.values_list("rule", "years"))
    return {rule: chosen.get(rule, default) for rule, default in DEFAULT_YEARS.items()}


def _check_years(rule: str, value: Any) -> int:
    label = PERIOD_LABELS[rule]
    try:
        years = int(value)
        if str(value).strip() != str(years):
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError({rule: f"{label}: enter a whole number of years."}) from None
    if not MIN_YEARS <= years <= MAX_YEARS:
        raise ValidationError(
            {rule: f"{label}: enter a whole number from {MIN_YEARS} to {MAX_YEARS}."}
        )
    return years


@transaction.atomic
def set_periods(actor: Any, values: dict[str, Any]) -> list[str]:
    """Change the periods given (rule -> years); returns the rules changed. Every value
    is checked before anything is saved; each change is audited."""
    unknown = sorted(set(values) - set(DEFAULT_YEARS))
    if unknown:
        raise ValidationError(f"Unknown retention rules: {', '.join(unknown)}.")
    errors: dict[str, list[str]] = {}
    checked: dict[str, int] = {}
    for rule, value in values.items():
        try:
            checked[rule] = _check_years(rule, value)
        except ValidationError as exc:
            errors.setdefault(rule, []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    current = periods()
    changed = []
    for rule, years in checked.items():
        if years == current[rule]:
            continue
        row, _ = RetentionPeriod.objects.select_for_update().get_or_create(
            rule=rule, defaults={"years": years, "updated_by": _user(actor)}
        )
        row.years, row.updated_by, row.updated_at = years, _user(actor), timezone.now()
        row.save(update_fields=["years", "updated_by", "updated_at"])
        audit.record(
            actor, AuditAction.UPDATE, row, fields=["years"],
            summary=f"Retention period changed: {RetentionRule(rule).label}, "
            f"{current[rule]} to {years}",
        )  # fmt: skip
        changed.append(rule)
    return changed


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


# --- Legal holds ---------------------------------------------------------------------


@transaction.atomic
def place_hold(actor: Any, person: Person, reason: str) -> LegalHold:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": "Say why the records must be kept (who asked, and "
                               "their reference)."})  # fmt: skip
    if len(reason) > HOLD_REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason under {HOLD_REASON_MAX} characters."})
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if LegalHold.objects.active().filter(person=locked).exists():
        raise ValidationError({"person": f"Record {person.pk} is already on legal hold."})
    hold = LegalHold.objects.create(person=locked, reason=reason, placed_by=_user(actor))
    # The reason stays out of the audit summary: the trail is kept for ever.
    audit.record(actor, AuditAction.CREATE, hold, summary="Legal hold placed")
    return hold


@transaction.atomic
def lift_hold(actor: Any, hold: LegalHold) -> LegalHold:
    locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if not locked.is_active:
        raise ValidationError("This legal hold was already lifted.")
    locked.lifted_at, locked.lifted_by = timezone.now(), _user(actor)
    locked.save(update_fields=["lifted_at", "lifted_by"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=["lifted_at"],
                 summary="Legal hold lifted")  # fmt: skip
    return locked


def held_person_ids() -> set[int]:
    return set(LegalHold.objects.active().values_list("person_id", flat=True))


# --- What is due ---------------------------------------------------------------------


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Due:
    """A record due for anonymising, as the report shows it (initials only, never a
    name; and initials only on Ade's page, never stored)."""

    kind: str  # "person" or "delegate"
    id: int
    rule: str
    since: date  # the date the period runs from
    due_on: date
    initials: str
    held: bool = False


@dataclass
class RuleReport:
    rule: str
    label: str
    years: int
    due: list[Due] = field(default_factory=list)
    held: list[Due] = field(default_factory=list)
    purged: int = 0

    @property
    def due_ids(self) -> list[int]:
        return [d.id for d in self.due]

    @property
    def held_ids(self) -> list[int]:
        return [d.id for d in self.held]

    def counts(self) -> dict[str, int]:
        return {"due": len(self.due), "held": len(self.held), "purged": self.purged}


@dataclass
class Report:
    as_of: date
    dry_run: bool
    rules: list[RuleReport]
    run: PurgeRun | None = None
    failed: list[tuple[str, int, str]] = field(default_factory=list)  # kind, id, why

    def rule(self, rule: str) -> RuleReport:
        return next(r for r in self.rules if r.rule == rule)

    @property
    def total_due(self) -> int:
        return sum(len(r.due) for r in self.rules)

    @property
    def total_held(self) -> int:
        return sum(len(r.held) for r in self.rules)

    @property
    def total_purged(self) -> int:
        return sum(r.purged for r in self.rules)

    def counts(self) -> dict[str, dict[str, int]]:
        return {r.rule: r.counts() for r in self.rules}


def _initials(*names: str) -> str:
    return "".join(n.strip()[:1].upper() for n in names if n and n.strip()) or "—"


def _ends(name: str) -> list[str]:
    words = name.split()
    return words[:1] + words[1:][-1:]


def _local_date(value: Any) -> date | None:
    if value is None:
        return None
    if hasattr(value, "tzinfo"):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def anonymised_ids(label: str) -> models.QuerySet:
    return PurgeRecord.objects.filter(model_label=label, deleted=False).values("object_id")


def _people_due(today: date, years: dict[str, int], report: dict[str, RuleReport]) -> None:
    from throughgate.casework.models import Case, Phase, Referral, ReferralStatus
    from throughgate.casework.safeguarding_models import ConcernStatus, SafeguardingConcern

    mine = {"person": OuterRef("pk")}
    cases = Case.objects.filter(**mine)
    referrals = Referral.objects.filter(**mine)
    concerns = SafeguardingConcern.objects.filter(**mine)
    people = (
        Person.objects.exclude(pk__in=anonymised_ids(PERSON_LABEL))
        .filter(mentor_profile__isnull=True)  # mentors' records: a different schedule
        .filter(~Exists(referrals.filter(status=ReferralStatus.PENDING)))
        .filter(~Exists(cases.exclude(phase=Phase.CLOSED)))
        .filter(~Exists(concerns.exclude(status=ConcernStatus.CLOSED)))
        .filter(
            Exists(cases)
            | (Exists(referrals) & ~Exists(referrals.exclude(status=ReferralStatus.DECLINED)))
        )  # fmt: skip
        .annotate(
            has_case=Exists(cases),
            has_concern=Exists(concerns),
            last_closed=Subquery(
                cases.filter(closed_on__isnull=False).order_by("-closed_on").values("closed_on")[:1]
            ),
            last_decided=Subquery(
                referrals.filter(status=ReferralStatus.DECLINED, decided_at__isnull=False)
                .order_by("-decided_at")
                .values("decided_at")[:1]
            ),
            last_referred=Subquery(
                referrals.order_by("-referral_date").values("referral_date")[:1]
            ),
        )
        .only("pk", "forename", "surname", "date_of_birth")
        .order_by("pk")
    )
    held = held_person_ids()
    p: Any  # a Person with the annotations above
    for p in people.iterator(chunk_size=2000):
        decided = _local_date(p.last_decided)
        if p.has_case:
            base = RetentionRule.CLOSED_CASES
            since = max(d for d in (p.last_closed, decided) if d is not None)
        else:
            base = RetentionRule.DECLINED_REFERRALS
            since = decided or p.last_referred
        due_on = add_years(since, years[base])
        rule = base
        if p.has_concern:
            rule = RetentionRule.SAFEGUARDING_AGE
            due_on = max(due_on, add_years(p.date_of_birth, years[rule]))
        if due_on > today:
            continue
        entry = Due("person", p.pk, rule, since, due_on, _initials(p.forename, p.surname),
                    held=p.pk in held)  # fmt: skip
        (report[rule].held if entry.held else report[rule].due).append(entry)


def _delegates_due(today: date, years: dict[str, int], report: dict[str, RuleReport]) -> None:
    from throughgate.prevention.training.models import Delegate

    rule = RetentionRule.TRAINING_DELEGATES
    ended_by = add_years(today, -years[rule])
    delegates = (
        Delegate.objects.filter(course__end_date__lte=ended_by)
        .exclude(pk__in=anonymised_ids(Delegate._meta.label_lower))
        .select_related("course")
        .only("pk", "name", "course__end_date")
        .order_by("pk")
    )
    for d in delegates.iterator(chunk_size=2000):
        since = d.course.end_date
        report[rule].due.append(
            Due(
                "delegate",
                d.pk,
                rule,
                since,
                add_years(since, years[rule]),
                _initials(*_ends(d.name)),
            )
        )


def due_report(as_of: date | None = None, dry_run: bool = True) -> Report:
    """What each rule finds due today (or on `as_of`), and who of those is held."""
    today = as_of or timezone.localdate()
    years = periods()
    report = {
        rule: RuleReport(rule, str(RetentionRule(rule).label), years[rule])
        for rule in DEFAULT_YEARS
    }
    _people_due(today, years, report)
    _delegates_due(today, years, report)
    return Report(as_of=today, dry_run=dry_run, rules=list(report.values()))


# --- Anonymising ---------------------------------------------------------------------


def free_text_fields(model: type[models.Model]) -> list[models.Field]:
    """Fields of `model` that can hold free text: every TextField (encrypted ones
    included) and every CharField without fixed choices, except KEEP_FIELDS."""
    keep = KEEP_FIELDS.get(model._meta.label_lower, set())
    found: list[models.Field] = []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.is_relation or f.name in keep:
            continue
        if isinstance(f, models.TextField) or (isinstance(f, models.CharField) and not f.choices):
            found.append(f)
    return found


def blank_value(f: models.Field) -> str:
    return "" if f.blank else REMOVED[: f.max_length or None]


def _own_paths(model: type[models.Model], paths: list[str]) -> list[str]:
    """The paths that make a record the person's own: not those starting with a
    many-to-many link, which only name the person in someone else's record (a mentor's
    licence condition naming people they must not contact)."""
    m2m = {f.name for f in model._meta.many_to_many}
    return [p for p in paths if p.split("__", 1)[0] not in m2m]


@functools.cache
def purge_plan() -> list[tuple[type[models.Model], list[str], list[models.Field]]]:
    """For each model holding a person's own records: the lookups from it to the person
    and its free-text fields (worked out once; the models do not change at run time)."""
    plan = []
    for model, paths in person_paths().items():
        own = _own_paths(model, paths)
        if own:
            plan.append((model, own, free_text_fields(model)))
    return plan


def _condition(paths: list[str], person_id: int) -> Q:
    condition = Q()
    for lookup in paths:
        condition |= Q(**{lookup: person_id})
    return condition


def rule_summary(rule: str, years: dict[str, int]) -> str:
    if rule == RetentionRule.SAFEGUARDING_AGE:
        return f"anonymised under retention: safeguarding concern, not before age {years[rule]}"
    if rule == RetentionRule.CLOSED_CASES:
        return f"anonymised under retention: closed cases, {years[rule]} years"
    if rule == RetentionRule.DECLINED_REFERRALS:
        return f"anonymised under retention: declined referrals, {years[rule]} years"
    return f"anonymised under retention: training delegates, {years[rule]} years"


def anonymise_person(actor: Any, person_id: int, rule: str, run: PurgeRun, summary: str) -> int:
    """Anonymise one person and everything that points at them, in one transaction.
    Returns the number of records changed or deleted (0 when held or already done)."""
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(pk=person_id).first()
        if person is None:
            return 0
        if PurgeRecord.objects.filter(model_label=PERSON_LABEL, object_id=person_id).exists():
            return 0  # anonymised already (a second run, or two running at once)
        if LegalHold.objects.active().filter(person_id=person_id).exists():
            return 0  # placed since the report was made
        now = timezone.now()
        records: list[PurgeRecord] = []

        def note(label: str, ids: Any, deleted: bool = False) -> None:
            records.extend(
                PurgeRecord(run=run, rule=rule, model_label=label, object_id=pk,
                            person_id=person_id, deleted=deleted, at=now)
                for pk in ids
            )  # fmt: skip

        to_delete = []
        for model, paths, texts in purge_plan():
            manager = model._base_manager
            ids = list(
                manager.filter(_condition(paths, person_id))
                .order_by()
                .values_list("pk", flat=True)
                .distinct()
            )
            if not ids:
                continue
            if model in DELETED_MODELS:
                to_delete.append((model, ids))
                continue
            if texts:
                manager.filter(pk__in=ids).update(**{f.name: blank_value(f) for f in texts})
                note(model._meta.label_lower, ids)
        # Deleted last: blanking above follows links through them (a contact's family).
        for model, ids in to_delete:
            model._base_manager.filter(pk__in=ids).delete()
            if model is not NameIndex:  # search keys are not records anyone kept
                note(model._meta.label_lower, ids, deleted=True)

        if person.date_of_birth:
            person.date_of_birth = date(person.date_of_birth.year, 7, 1)
        person.forename, person.surname = ANONYMOUS_FORENAME, f"record {person.pk}"
        for name in PERSON_CLEARED:
            setattr(person, name, "")
        fields = ["forename", "surname", "date_of_birth", *PERSON_CLEARED]
        person.save(update_fields=[*fields, "updated_at"])
        note(PERSON_LABEL, [person.pk])
        PurgeRecord.objects.bulk_create(records)
        audit.record(actor, AuditAction.UPDATE, person, fields=fields, summary=summary)
        return len(records)


def anonymise_delegate(actor: Any, delegate_id: int, run: PurgeRun, summary: str) -> int:
    from throughgate.prevention.training.models import Delegate

    label = Delegate._meta.label_lower
    with transaction.atomic():
        delegate = Delegate.objects.select_for_update().filter(pk=delegate_id).first()
        if delegate is None:
            return 0
        if PurgeRecord.objects.filter(model_label=label, object_id=delegate_id).exists():
            return 0
        delegate.name = REMOVED
        delegate.save(update_fields=["name", "updated_at"])
        PurgeRecord.objects.create(
            run=run, rule=RetentionRule.TRAINING_DELEGATES, model_label=label,
            object_id=delegate_id,
        )  # fmt: skip
        audit.record(actor, AuditAction.UPDATE, delegate, fields=["name"], summary=summary)
        return 1


def _no_progress(percent: int, step: str) -> None:
    return None


def purge(
    actor: Any,
    dry_run: bool = True,
    *,
    as_of: date | None = None,
    progress: Progress | None = None,
    on_record: Callable[[], None] | None = None,
) -> Report:
    """Report what is due and, unless `dry_run`, anonymise it (held records excepted).

    Both kinds of run leave a PurgeRun (counts only); a real run leaves a PurgeRecord
    per record changed. Each person is one transaction: a run stopped half-way keeps
    the people it finished, and the next run carries on with the rest."""
    progress = progress or _no_progress
    progress(1, "Finding what is due")
    report = due_report(as_of, dry_run)
    run = PurgeRun.objects.create(
        dry_run=dry_run, started_by=_user(actor),
        started_by_username=getattr(_user(actor), "username", "") or "",
        counts=report.counts(),
    )  # fmt: skip
    report.run = run
    if not dry_run:
        years = periods()
        total = max(report.total_due, 1)
        done = 0
        for rule_report in report.rules:
            summary = rule_summary(rule_report.rule, years)
            for entry in rule_report.due:
                try:
                    if entry.kind == "delegate":
                        changed = anonymise_delegate(actor, entry.id, run, summary)
                    else:
                        changed = anonymise_person(actor, entry.id, entry.rule, run, summary)
                except Exception as exc:  # one bad record must not stop the rest
                    report.failed.append((entry.kind, entry.id, type(exc).__name__))
                    changed = 0
                if changed:
                    rule_report.purged += 1
                done += 1
                if on_record:
                    on_record()
                progress(1 + 98 * done // total, f"Anonymised {done:,} of {total:,}")
    run.counts = report.counts()
    if report.failed:
        run.counts["failed"] = {"count": len(report.failed)}
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    return report


# --- The background job (the page's "Purge now") ---------------------------------------


@jobs.handler(JOB_KIND)
def run_purge_job(job: Job, progress: Progress) -> str:
    report = purge(job.created_by, dry_run=False, progress=progress)
    progress(99, f"Anonymised {report.total_purged:,} record(s); {report.total_held:,} on "
             f"legal hold were kept")  # fmt: skip
    assert report.run is not None
    return reverse("people:retention_run", args=[report.run.pk])


def start_purge(actor: Any) -> Job:
    return jobs.start(actor, JOB_KIND, "Retention purge", {}, back_url=reverse("people:retention"))


# --- The command line (`throughgate purge`, `manage purge`) ------------------------------


def print_report(report: Report, out: Any = None) -> None:
    out = out or sys.stdout
    kind = "Dry run (nothing changed)" if report.dry_run else "Purge"
    print(f"{kind} as of {report.as_of:%d %b %Y}", file=out)
    for r in report.rules:
        line = f"  {r.label} ({PERIOD_LABELS[r.rule].lower()}: {r.years}): {len(r.due)} due"
        line += f", {len(r.held)} on legal hold"
        if not report.dry_run:
            line += f", {r.purged} anonymised"
        print(line, file=out)
        if r.due_ids:
            print(f"    due: {', '.join(map(str, r.due_ids))}", file=out)
        if r.held_ids:
            print(f"    held: {', '.join(map(str, r.held_ids))}", file=out)
    for kind_, pk, why in report.failed:
        print(f"  could not anonymise {kind_} {pk}: {why}", file=out)


def run_command(args: argparse.Namespace) -> int:
    """`throughgate purge [--dry-run] [--yes] [-q]`: 0 done, 1 some records failed."""
    from tqdm import tqdm

    if not args.yes:
        print_report(purge(None, dry_run=True))
        print("Nothing was changed. Run with --yes to anonymise the records due.")
        return 0
    due = due_report().total_due
    with tqdm(total=due, unit="record", disable=args.quiet or not due,
              desc="anonymising") as bar:  # fmt: skip
        report = purge(None, dry_run=False, on_record=bar.update)
    print_report(report)
    if report.failed:
        print("throughgate: some records could not be anonymised; see above and run again",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--dry-run", action="store_true",
                       help="only report what is due (the default without --yes)")  # fmt: skip
    which.add_argument("--yes", action="store_true",
                       help="anonymise the records due (for a nightly timer)")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
