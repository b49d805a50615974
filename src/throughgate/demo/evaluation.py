"""The demo charity's evidence of impact: criminal histories, what happened to the people
it could not take on, a synthetic national comparison pool, and a first evaluation.

Run after `seed.set_up_outcomes`, with its own random stream, so the rest of the demo is
the same with or without it:

- **Criminal histories.** Everyone sent to custody has the conviction for that sentence
  on record (dated before they went in), and most have earlier convictions or cautions;
  a quarter of the prevention children have a youth caution from before their case. All
  of it is dated before anyone's index date, so no rate changes; it is what the
  evaluation's `prior_offences` covariate counts.
- **Referred but not supported.** The people whose referral was declined reoffend at
  about the rate of similar people nationally (42% from custody, 20% on prevention),
  once six months have passed since their index date. They are the charity's own
  comparison pool; there are few of them, so an evaluation against them is refused, which
  is the honest answer.
- **A national comparison pool** (`engines.synthetic_pool`, invented people): the custody
  programme is evaluated against it once, so the outcomes page has a report to open, and
  `throughgate demo` writes it to `DATA_DIR/demo-comparison-pool.csv` for anyone to
  upload (`write_comparison_pool`).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from throughgate.casework.models import Case, Programme, ProgrammeKind
from throughgate.custody.models import CustodyEpisode
from throughgate.engines import reoffending as engine
from throughgate.engines.synthetic_pool import synthetic_pool
from throughgate.outcomes import actions as outcomes
from throughgate.outcomes import evaluation as cohort
from throughgate.outcomes.models import ReoffendingEvent
from throughgate.people.models import Person

from .seed import _Seeder, _when

POOL_FILE = "demo-comparison-pool.csv"
POOL_SIZE = 20_000
NOT_SUPPORTED_RATE = {ProgrammeKind.CUSTODY: 0.42, ProgrammeKind.PREVENTION: 0.2}
EARLIER_OFFENCES = (0, 0, 1, 1, 1, 2, 2, 3, 4)  # before the offence that led to custody
DEMO_EVALUATION = {  # what the demo's evaluation matches on
    "covariates": ["age_at_index", "prior_offences", "prior_custody", "sentence_days"],
    "exact": ["gender"],
    "k": 5,
    "caliper": 0.2,
}


class _History:
    def __init__(self, seeder: Any) -> None:
        self.rng = random.Random("throughgate-demo-evaluation")
        self.today = seeder.today
        self.actor = seeder.users["cara"]
        self.recorded: list[tuple[int, date]] = []  # event, the day it came to light

    def days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))

    def record(self, person: Person, **data: Any) -> None:
        data.setdefault("verified", True)
        event = outcomes.record_event(self.actor, person, data)
        self.recorded.append((event.pk, data["disposal_date"] + timedelta(days=7)))

    def proven(self, person: Person, committed: date, convicted: date, **more: Any) -> None:
        child = person.age_on(committed) < 18
        if more.pop("custodial", False):
            disposal = "conviction"
        elif child:
            disposal = self.rng.choice(["conviction", "youth_caution", "youth_caution"])
        else:
            disposal = self.rng.choice(["conviction", "conviction", "caution"])
        source = ("yjs" if child else "probation") if disposal == "conviction" else "police"
        self.record(person, offence_date=committed, disposal_date=convicted,
                    disposal_type=disposal, source=source, **more)  # fmt: skip


def criminal_histories(history: _History) -> None:
    first: dict[int, CustodyEpisode] = {}
    for episode in CustodyEpisode.objects.filter(person__mentor_profile__isnull=True).order_by(
        "received_on", "id"
    ):
        first.setdefault(episode.person_id, episode)
    people = Person.objects.in_bulk(list(first))
    for person_id, episode in sorted(first.items()):
        person = people[person_id]
        earliest = _Seeder.birthday(person.date_of_birth, 12)
        sentenced = episode.sentence_date or episode.received_on
        committed = max(earliest, episode.received_on - history.days(20, 150))
        history.proven(person, committed, min(sentenced, episode.received_on), custodial=True,
                       notes="The offence this custodial sentence was for.")  # fmt: skip
        before = committed - timedelta(days=60)
        for _ in range(history.rng.choice(EARLIER_OFFENCES)):
            if before <= earliest:
                break
            span = (before - earliest).days
            when = earliest + timedelta(days=history.rng.randint(span // 3, span))
            history.proven(person, when, min(when + history.days(20, 120), before))
            before = when - timedelta(days=30)
    prevention = (
        Case.objects.filter(programme__kind=ProgrammeKind.PREVENTION)
        .exclude(person_id__in=list(first))
        .select_related("person")
        .order_by("opened_on", "id")
    )
    seen: set[int] = set()
    for case in prevention:
        if case.person_id in seen:
            continue
        seen.add(case.person_id)
        person = case.person
        earliest = _Seeder.birthday(person.date_of_birth, 12)
        latest = case.opened_on - timedelta(days=40)
        if latest > earliest and history.rng.random() < 0.25:
            when = earliest + timedelta(days=history.rng.randint(0, (latest - earliest).days))
            history.record(person, offence_date=when, disposal_date=when + timedelta(days=30),
                           disposal_type="youth_caution", source="police")  # fmt: skip


def not_supported_outcomes(history: _History) -> None:
    ripe = engine.add_months(history.today, -6)
    for programme in Programme.objects.order_by("id"):
        rate = NOT_SUPPORTED_RATE.get(programme.kind, 0.3)
        pool = sorted(cohort.referred_not_supported(programme), key=lambda p: int(p.person_id))
        people = Person.objects.in_bulk([int(p.person_id) for p in pool])
        for p in pool:
            if p.index_date > ripe or history.rng.random() >= rate:
                continue
            person = people[int(p.person_id)]
            last = min(engine.follow_up_end(p.index_date), history.today - timedelta(days=30))
            span = (last - p.index_date).days
            committed = p.index_date + timedelta(
                days=1 + int((span - 1) * history.rng.random() ** 1.6)
            )
            for _ in range(history.rng.choice([1, 1, 1, 2, 2, 3])):
                convicted = committed + history.days(30, 200)
                if committed > last or convicted > history.today:
                    break
                history.proven(person, committed, convicted)
                committed += history.days(10, 120)


def pool_csv(today: date) -> str:
    """The synthetic national comparison pool as CSV text (the same for the same day)."""
    pool = synthetic_pool(POOL_SIZE, seed=6, years=(today.year - 3, today.year))
    return pool.to_csv(index=False)


def write_comparison_pool() -> Path:
    """Write the synthetic pool beside the demo database, for people to upload."""
    path = Path(settings.DATA_DIR) / POOL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(pool_csv(timezone.localdate()), encoding="utf-8")
    return path


def first_evaluation(seeder: Any) -> None:
    """Evaluate the custody programme against the synthetic national pool."""
    programme = Programme.objects.filter(kind=ProgrammeKind.CUSTODY).order_by("id").first()
    if programme is None:
        return
    data = {
        "programme": programme,
        "pool_source": "file",
        "pool_file": ContentFile(pool_csv(seeder.today).encode(), name=POOL_FILE),
        **DEMO_EVALUATION,
    }
    try:
        outcomes.run_evaluation(seeder.users["ade"], data)
    except ValidationError:
        # A small demo (`--scale` under 1) may have too few participants: the page then
        # explains the refusal when someone runs it, and there is no stored report.
        if seeder.scale >= 1:
            raise


def set_up_evaluation(seeder: Any) -> None:
    history = _History(seeder)
    criminal_histories(history)
    not_supported_outcomes(history)
    first_evaluation(seeder)
    # The events above were recorded "now"; date them when they would have come to light.
    for pk, known in history.recorded:
        if known < history.today:
            ReoffendingEvent.objects.filter(pk=pk).update(created_at=_when(seeder, known))
