"""The outcomes dashboard's figures, worked out in the background and stored.

Measuring proven reoffending means following every participant through their year and
the six months after (`engines.reoffending`); at region scale (100,000 people) that takes
half a minute, far too long for a page. So a background job (`KIND`) measures the whole
cohort once for an "as of" date, for every breakdown the dashboard offers, and stores the
results (`CohortFigures`); the page reads them. The figures are exactly the engine's: the
job calls the same `engine.measure` and `engine.by_group` the page used to call.

When the job runs:
- after a reoffending event is recorded or changed (`data_changed`, on commit);
- when someone opens the dashboard for a day that has no figures yet (the page shows the
  latest figures it has, says so, and shows the job's progress);
- when Ade presses "Recalculate now", and nightly from the command line
  (`throughgate manage outcome_figures`), so that today's figures are ready in the
  morning (the "as of" date moves people from "not yet" to "counted" every day).

A small cohort (up to `live_limit()` cases, the model charity's first years) is still
measured on each request: it takes a few milliseconds and is never out of date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.urls import reverse
from django.utils import timezone

from throughgate.casework.models import Case
from throughgate.core import audit, jobs
from throughgate.core.models import AuditAction, Job, JobStatus
from throughgate.engines import reoffending as engine

from .cohort import GROUPINGS, events_for, participants
from .models import CohortFigures

KIND = "outcome_figures"
LIVE_LIMIT = 1000  # cases; OUTCOMES_LIVE_LIMIT in the settings overrides it

Figures = tuple[engine.Measures, dict[str, engine.Measures]]  # overall, by group


def live_limit() -> int:
    return int(getattr(settings, "OUTCOMES_LIVE_LIMIT", LIVE_LIMIT))


def is_small() -> bool:
    """True when the cohort is small enough to measure on each request (one query)."""
    return not Case.objects.all()[live_limit() : live_limit() + 1].exists()


# --- measuring ---------------------------------------------------------------------------


def measure_live(as_of: date, group_by: str) -> Figures:
    """The figures straight from the engine (what the job stores, for one breakdown)."""
    people = participants()
    events = events_for(people)
    overall = engine.measure(people, events, as_of)
    return overall, (engine.by_group(people, events, as_of, group_by) if people else {})


def measure_all(
    as_of: date, progress: Callable[[int, str], None] | None = None
) -> dict[str, Figures]:
    """Every breakdown the dashboard offers, from one reading of the cohort."""
    report = progress or (lambda _percent, _step: None)
    report(5, "Reading the cohort and its reoffending events")
    people = participants()
    events = events_for(people)
    report(30, "Measuring all participants")
    overall = engine.measure(people, events, as_of)
    results: dict[str, Figures] = {}
    for n, (key, label) in enumerate(GROUPINGS.items()):
        report(40 + 55 * n // len(GROUPINGS), f"Measuring by {label.lower()}")
        results[key] = (overall, engine.by_group(people, events, as_of, key) if people else {})
    return results


# --- storing -----------------------------------------------------------------------------


def to_json(measures: engine.Measures) -> dict[str, Any]:
    """Measures as JSON: dates as ISO text, and without the ids of the people not yet
    counted (personal, and as many as the cohort)."""
    data = asdict(measures)
    data["as_of"] = measures.as_of.isoformat()
    data["immature_ids"] = []
    data["km"] = [[p.day, p.survival, p.ci_low, p.ci_high] for p in measures.km]
    return data


def from_json(data: dict[str, Any]) -> engine.Measures:
    return engine.Measures(
        **{
            **data,
            "as_of": date.fromisoformat(data["as_of"]),
            "immature_ids": tuple(data["immature_ids"]),
            "km": tuple(engine.KMPoint(*point) for point in data["km"]),
        }
    )


@transaction.atomic
def store(actor: Any, as_of: date, results: dict[str, Figures]) -> list[CohortFigures]:
    """Replace the stored figures for `as_of` with `results`, all breakdowns together."""
    now = timezone.now()
    saved = []
    for group_by, (overall, groups) in results.items():
        figures, _ = CohortFigures.objects.update_or_create(
            as_of=as_of,
            group_by=group_by,
            defaults={
                "computed_at": now,
                "overall": to_json(overall),
                "groups": {label: to_json(m) for label, m in groups.items()},
            },
        )
        saved.append(figures)
    audit.record(
        actor, AuditAction.UPDATE, object_type="outcomes.figures",
        summary=f"Reoffending figures worked out as of {as_of.isoformat()}",
    )  # fmt: skip
    return saved


def recalculate_now(actor: Any, as_of: date | None = None) -> list[CohortFigures]:
    """Measure and store in this process (the command line's way)."""
    as_of = as_of or timezone.localdate()
    return store(actor, as_of, measure_all(as_of))


def stored(as_of: date, group_by: str) -> CohortFigures | None:
    return CohortFigures.objects.filter(as_of=as_of, group_by=group_by).first()


def latest(group_by: str) -> CohortFigures | None:
    return CohortFigures.objects.filter(group_by=group_by).order_by("-as_of").first()


def figures_of(row: CohortFigures) -> Figures:
    return from_json(row.overall), {label: from_json(m) for label, m in row.groups.items()}


# --- the background job ------------------------------------------------------------------


def pending() -> Job | None:
    """The newest recalculation waiting for or in the worker, if any, as far as it has got."""
    return jobs.live(
        # The primary, even in a view on the replica: a job queued a moment ago counts.
        Job.objects.using(DEFAULT_DB_ALIAS)
        .filter(kind=KIND, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .order_by("-created_at", "-id")
        .first()
    )


def recalculate(actor: Any, as_of: date | None = None) -> Job:
    """Queue a recalculation for `as_of` (today by default). One that is still waiting
    for the same day is reused: a hundred new events make one job, not a hundred. (One
    already running may have read the data before the latest change, so it does not
    count.)"""
    as_of = as_of or timezone.localdate()
    waiting = (
        Job.objects.using(DEFAULT_DB_ALIAS)
        .filter(kind=KIND, status=JobStatus.QUEUED, params__as_of=as_of.isoformat())
        .order_by("-created_at", "-id")
        .first()
    )
    if waiting is not None:
        return waiting
    return jobs.start(
        actor, KIND, f"Reoffending figures as of {as_of:%-d %b %Y}", {"as_of": as_of.isoformat()},
        reverse("outcomes:dashboard"),
    )  # fmt: skip


def data_changed() -> None:
    """Call when reoffending events or index dates change: today's figures are worked out
    again once the change is committed."""
    transaction.on_commit(lambda: recalculate(None))


@jobs.handler(KIND)
def run(job: Job, progress: jobs.Progress) -> str:
    as_of = date.fromisoformat(job.params["as_of"])
    results = measure_all(as_of, progress)
    progress(96, "Saving the figures")
    store(job.created_by, as_of, results)
    return reverse("outcomes:dashboard") + f"?as_of={as_of.isoformat()}"
