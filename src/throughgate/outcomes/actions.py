"""Every change to reoffending events and national baselines (validated, audited), and
running an impact evaluation (stored and audited only when it succeeds)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.core import audit
from throughgate.core.actions import reject_unknown_fields, user_or_none
from throughgate.core.concurrency import check_version
from throughgate.core.models import AuditAction
from throughgate.people.models import Person

from . import figures
from .models import EvaluationRun, NationalBaseline, PoolSource, ReoffendingEvent

EVENT_FIELDS = [
    "offence_date", "disposal_date", "disposal_type", "offence_group", "custodial", "source",
    "verified", "notes",
]  # fmt: skip
BASELINE_FIELDS = ["label", "period", "rate", "source", "active"]


def _check_verification(actor: Any, data: dict[str, Any]) -> None:
    """Only coordinators and managers mark an event verified against official records
    (the importer and the seeder, with no user, may)."""
    if data.get("verified") and getattr(actor, "pk", None) and not roles.manages_cases(actor):
        raise ValidationError({"verified": "Only a coordinator or manager can verify an event."})


@transaction.atomic
def record_event(actor: Any, person: Person, data: dict[str, Any]) -> ReoffendingEvent:
    reject_unknown_fields(data, EVENT_FIELDS)
    _check_verification(actor, data)
    event = ReoffendingEvent(person=person, recorded_by=user_or_none(actor), **data)
    event.full_clean()
    event.save()
    audit.record(actor, AuditAction.CREATE, event, fields=[k for k, v in data.items() if v])
    figures.data_changed()
    return event


@transaction.atomic
def update_event(
    actor: Any, event: ReoffendingEvent, data: dict[str, Any], *, version: str | None = None
) -> list[str]:
    """Change a reoffending event; `version` as in core.concurrency."""
    reject_unknown_fields(data, EVENT_FIELDS)
    if data.get("verified") != event.verified:
        _check_verification(actor, data)
    locked = ReoffendingEvent.objects.select_for_update().select_related("person").get(pk=event.pk)
    changed = [k for k, v in data.items() if getattr(locked, k) != v]
    for key in changed:
        setattr(locked, key, data[key])
    if not changed:
        return []
    check_version(locked, version, actor)
    locked.full_clean()
    locked.save(update_fields=[*changed, "updated_at"])
    audit.record(actor, AuditAction.UPDATE, locked, fields=changed)
    figures.data_changed()
    return changed


@transaction.atomic
def save_baseline(
    actor: Any, data: dict[str, Any], baseline: NationalBaseline | None = None
) -> NationalBaseline:
    reject_unknown_fields(data, BASELINE_FIELDS)
    record = baseline or NationalBaseline()
    for key, value in data.items():
        setattr(record, key, value)
    record.full_clean()
    record.save()
    audit.record(actor, AuditAction.UPDATE if baseline else AuditAction.CREATE, record,
                 fields=list(data))  # fmt: skip
    return record


# --- impact evaluation -------------------------------------------------------------------

OUTCOME_PHRASE = "would be proven to reoffend within a year"


def evaluation_spec(covariates: list[str], exact: list[str], k: int, caliper: float) -> Any:
    from throughgate.engines.evaluation import EvaluationSpec

    from .evaluation import CATEGORICAL, NUMERIC

    return EvaluationSpec(
        outcome="reoffended",
        outcome_type="binary",
        covariates=tuple(c for c in NUMERIC if c in covariates),
        categorical=tuple(c for c in CATEGORICAL if c in covariates),
        exact=tuple(c for c in CATEGORICAL if c in exact),
        k=k,
        caliper=caliper,
        min_treated=settings.EVALUATION_MIN_PARTICIPANTS,
        phrase=OUTCOME_PHRASE,
    )


def _read_pool_file(upload: Any, spec: Any) -> tuple[Any, str]:
    """Read an uploaded comparison file into a frame, every cell checked; the file is
    written to a private temporary folder for the readers and removed at once."""
    from throughgate.engines import evaluation_report
    from throughgate.engines.evaluation_files import EvaluationFileError, read_table

    name = Path(upload.name).name or "comparison file"
    with tempfile.TemporaryDirectory(prefix="throughgate-pool-") as folder:
        path = Path(folder) / name
        with open(path, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        try:
            pool = read_table(path, spec)
            if "age_band" in pool:
                pool["age_band"] = pool["age_band"].str.replace("\u2013", "-", regex=False)
            extra = evaluation_report.read_extra_columns(path, name)
            for column in extra.columns:
                pool[column] = extra[column].to_numpy()
            pool = evaluation_report.check_extra_columns(pool, name)
        except (EvaluationFileError, evaluation_report.ExtraColumnError) as exc:
            # The readers name the file by its path; people know it by its name.
            raise ValidationError({"pool_file": str(exc).replace(str(path), name)}) from None
    return pool, name


def run_evaluation(
    actor: Any, data: dict[str, Any], progress: Callable[[int, str], None] | None = None
) -> EvaluationRun:
    """Compare the programme's participants with a matched comparison group and store the
    report. A refusal (too few people, poor balance, a bad file) raises ValidationError
    and stores nothing. `progress(percent, step)` hears how far it has got (the
    background job's progress bar); everything it saves is saved in one transaction at
    the end."""
    progress = progress or (lambda percent, step: None)
    from throughgate.engines import evaluation_report
    from throughgate.engines.evaluation import EvaluationRefused, evaluate

    from . import evaluation as cohort

    programme = data["programme"]
    as_of = data.get("as_of") or timezone.localdate()
    start, end = data.get("index_from"), data.get("index_to")
    spec = evaluation_spec(
        list(data["covariates"]), list(data.get("exact") or []), data["k"], float(data["caliper"])
    )
    progress(5, "Gathering the programme's participants")
    treated = cohort.frame(cohort.participants_of(programme, start, end), as_of)
    if data["pool_source"] == PoolSource.FILE:
        progress(20, "Reading the comparison file")
        pool, pool_name = _read_pool_file(data["pool_file"], spec)
    else:
        progress(20, "Gathering the people referred but not supported")
        pool = cohort.frame(cohort.referred_not_supported(programme, start, end), as_of)
        pool_name = f"People referred to {programme} but not supported"
    progress(40, f"Matching {len(treated):,} participants among {len(pool):,} people")
    try:
        result = evaluate(treated, pool, spec, labels=("participants", pool_name))
    except EvaluationRefused as exc:
        raise ValidationError(f"The evaluation was refused: {exc.reason}.") from None
    progress(80, "Writing the report")
    report = evaluation_report.report(treated, pool, result)
    progress(95, "Saving the report")
    with transaction.atomic():
        return _save_evaluation(actor, data, programme, pool_name, as_of, start, end, spec,
                                result, report)  # fmt: skip


def _save_evaluation(
    actor: Any, data: dict[str, Any], programme: Any, pool_name: str, as_of: Any,
    start: Any, end: Any, spec: Any, result: Any, report: dict[str, Any],
) -> EvaluationRun:  # fmt: skip
    run = EvaluationRun.objects.create(
        run_by=user_or_none(actor),
        programme=programme,
        pool_source=data["pool_source"],
        pool_name=pool_name[:200],
        as_of=as_of,
        index_from=start,
        index_to=end,
        parameters={
            "covariates": [*spec.covariates, *spec.categorical],
            "exact": list(spec.exact),
            "k": spec.k,
            "caliper": spec.caliper,
            "min_participants": spec.min_treated,
            "max_smd_after": spec.max_smd_after,
        },
        report=report,
    )
    audit.record(
        actor, AuditAction.CREATE, run,
        summary=f"Impact evaluation of {programme}: {result.n_treated_matched} participants "
        f"against {pool_name}",
    )  # fmt: skip
    return run
