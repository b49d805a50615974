"""Every figure of the funder / board report, each defined once.

A figure is one entry in `REGISTRY`: a key, a title, the definition the report prints
beside it, and a function that counts it in the database for a period and a set of
programmes. Adding a figure is adding one decorated function here (docs/reports.md lists
them all; a test checks it does).

Each function runs a fixed number of aggregate queries (COUNT ... GROUP BY, EXISTS
subqueries), so the time grows with the size of the indexes, not with Python loops over
rows, and the number of queries never grows with the data. The one exception is proven
reoffending, whose measures are the reoffending engine's: it loads only the people of
one mature cohort and their reoffending events.

A figure returns raw counts (`Counts`); suppression (engines.disclosure) is applied by
reports.funder, in one place, before anything is shown or written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from throughgate.casework.models import (
    Attendance,
    Case,
    Contact,
    ContactMode,
    ETEOutcome,
    Need,
    NeedStatus,
    Pathway,
    Programme,
    ProgrammeKind,
    Referral,
    ReferralStatus,
)
from throughgate.casework.safeguarding_models import (
    MASHReferral,
    NRMReferral,
    SafeguardingConcern,
)
from throughgate.custody.models import (
    CustodyEpisode,
    ItemKind,
    ItemStatus,
    PlanItem,
    ReleasePlan,
)
from throughgate.engines import reoffending as engine
from throughgate.engines.disclosure import mark_count
from throughgate.engines.funder_periods import mature_cohort
from throughgate.outcomes.models import NationalBaseline, ReoffendingEvent
from throughgate.prevention.models import Workshop
from throughgate.prevention.training.models import Attendance as DelegateAttendance
from throughgate.prevention.training.models import Audience, Course, Delegate

ATTENDED = [Attendance.ATTENDED, Attendance.LATE]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def moments(self) -> tuple[datetime, datetime]:
        """The period as aware datetimes [start 00:00, day after end 00:00), London time."""
        zone = timezone.get_current_timezone()
        return (
            timezone.make_aware(datetime.combine(self.start, time.min), zone),
            timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min), zone),
        )

    def __str__(self) -> str:
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}"


@dataclass
class Counts:
    """What a figure counted: labelled rows of whole numbers.

    `additive`: the rows are parts of one whole (no one counted twice), so a total is
    shown and suppression protects the rows from it; otherwise each row stands alone.
    `percent`: print each row's share of the total. `reference`: published figures set
    beside ours (national rates), shown as they are. `notes`: said under the table."""

    heading: str
    rows: list[tuple[str, int]]
    additive: bool = True
    total_label: str = "Total"
    percent: bool = False
    reference: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


Compute = Callable[[Period, QuerySet[Programme]], Counts]


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    section: str
    definition: str
    compute: Compute


REGISTRY: list[Figure] = []


def figure(key: str, title: str, section: str, definition: str) -> Callable[[Compute], Compute]:
    """Register a figure (in the order the report shows them)."""

    def register(compute: Compute) -> Compute:
        if any(f.key == key for f in REGISTRY):
            raise ValueError(f"a figure called {key!r} is already registered")
        REGISTRY.append(Figure(key, title, section, " ".join(definition.split()), compute))
        return compute

    return register


def _rows(choices: Sequence[tuple[str, str]], counts: dict[Any, int]) -> list[tuple[str, int]]:
    """Rows in the order of the choices; values not among them (blank, retired) last."""
    known = {value for value, _label in choices}
    rows = [(label, counts.get(value, 0)) for value, label in choices]
    other = sum(n for value, n in counts.items() if value not in known)
    if other:
        rows.append(("Not recorded", other))
    return rows


def _open_during(period: Period) -> Q:
    return Q(opened_on__lte=period.end) & (
        Q(closed_on__isnull=True) | Q(closed_on__gte=period.start)
    )


# --- Referrals and caseload -------------------------------------------------------------

REFERRALS = "Referrals and caseload"


@figure(
    "referrals", "Referrals received and accepted", REFERRALS,
    """Referrals dated in the period to the chosen programmes, by the decision on them
    today: accepted, declined, or still waiting for triage. The total is referrals
    received.""",
)  # fmt: skip
def referrals(period: Period, programmes: QuerySet[Programme]) -> Counts:
    by_status = dict(
        Referral.objects.filter(
            programme__in=programmes, referral_date__range=(period.start, period.end)
        )
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    order = [ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.PENDING]
    return Counts(
        "Decision",
        _rows([(s.value, s.label) for s in order], by_status),
        total_label="Referrals received",
        percent=True,
    )


def _by_programme(cases: QuerySet[Case], programmes: QuerySet[Programme]) -> list[tuple[str, int]]:
    counts = dict(cases.values_list("programme__name").annotate(n=Count("id")).order_by())
    return [(name, counts.get(name, 0)) for name in programmes.values_list("name", flat=True)]


@figure(
    "starts", "Starts", REFERRALS,
    """Cases opened in the period (a referral accepted and the young person starting on
    the programme), by programme.""",
)  # fmt: skip
def starts(period: Period, programmes: QuerySet[Programme]) -> Counts:
    cases = Case.objects.filter(
        programme__in=programmes, opened_on__range=(period.start, period.end)
    )
    return Counts("Programme", _by_programme(cases, programmes), total_label="Starts")


@figure(
    "caseload", "Active caseload", REFERRALS,
    """Cases open on at least one day of the period (opened on or before its last day and
    not closed before its first), by programme. A young person on two programmes counts
    once on each.""",
)  # fmt: skip
def caseload(period: Period, programmes: QuerySet[Programme]) -> Counts:
    cases = Case.objects.filter(_open_during(period), programme__in=programmes)
    return Counts("Programme", _by_programme(cases, programmes), total_label="Active cases")


# --- Contacts ---------------------------------------------------------------------------


@figure(
    "contacts", "Contacts delivered, by how", "Contacts",
    """Contacts with young people on the chosen programmes that took place in the period
    and were attended (on time or late), by how they happened. Missed appointments are
    not counted.""",
)  # fmt: skip
def contacts(period: Period, programmes: QuerySet[Programme]) -> Counts:
    first, after = period.moments
    delivered = Contact.objects.filter(
        occurred_at__gte=first, occurred_at__lt=after, attendance__in=ATTENDED
    )
    # Every programme (the usual board report): no join to the cases, so the count is
    # read from the (when, attendance, mode) index alone.
    chosen = set(programmes.values_list("pk", flat=True))
    if chosen != set(Programme.objects.values_list("pk", flat=True)):
        delivered = delivered.filter(case__programme__in=chosen)
    by_mode = dict(delivered.values_list("mode").annotate(n=Count("id")).order_by())
    return Counts("How", _rows(ContactMode.choices, by_mode), total_label="Contacts")


# --- Release ----------------------------------------------------------------------------

RELEASE = "Release from custody"


def _releases(period: Period, programmes: QuerySet[Programme]) -> QuerySet[CustodyEpisode]:
    """Releases in the period of people with a case on the chosen programmes open on the
    day of release."""
    on_programme = Case.objects.filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=OuterRef("released_on")),
        person_id=OuterRef("person_id"),
        programme__in=programmes,
        opened_on__lte=OuterRef("released_on"),
    )
    return CustodyEpisode.objects.filter(
        Exists(on_programme), released_on__range=(period.start, period.end)
    )


def _plan_item_done(kind: str) -> QuerySet[PlanItem]:
    """The release's plan item of this kind, marked done (for an EXISTS). It goes from the
    episode to its plans and then to their items; starting from every done item of the
    kind, as a planner may otherwise choose, grows with all the plans ever made."""
    plans = ReleasePlan.objects.filter(episode_id=OuterRef(OuterRef("pk"))).values("id")
    return PlanItem.objects.filter(plan_id__in=plans, kind=kind, status=ItemStatus.DONE)


@figure(
    "gate_meetings", "Met at the gate", RELEASE,
    """Releases in the period of young people with an open case on the chosen programmes,
    and how many were met at the gate: a gate-meeting contact attended on the day of
    release, or the gate meeting on their release-day plan marked done. The percentage is
    of all releases in the period.""",
)  # fmt: skip
def gate_meetings(period: Period, programmes: QuerySet[Programme]) -> Counts:
    released = OuterRef("released_on")
    day = timedelta(days=1)
    gate_contact = Contact.objects.filter(
        case__person_id=OuterRef("person_id"),
        case__programme__in=programmes,
        mode=ContactMode.GATE,
        attendance__in=ATTENDED,
        # A day either side of the release day lets the (case, occurred_at) index find the
        # few contacts whose London date is then compared exactly; without it every
        # contact the person ever had is read.
        occurred_at__gte=ExpressionWrapper(released - day, output_field=DateTimeField()),
        occurred_at__lt=ExpressionWrapper(released + 2 * day, output_field=DateTimeField()),
        occurred_at__date=released,
    )
    gate_item = _plan_item_done(ItemKind.GATE_MEETING)
    totals = (
        _releases(period, programmes)
        .alias(by_contact=Exists(gate_contact), by_item=Exists(gate_item))
        .aggregate(n=Count("id"), met=Count("id", filter=Q(by_contact=True) | Q(by_item=True)))
    )
    return Counts(
        "Release",
        [("Met at the gate", totals["met"]), ("Not met at the gate", totals["n"] - totals["met"])],
        total_label="Releases",
        percent=True,
    )


@figure(
    "accommodation", "Accommodation on release night", RELEASE,
    """The same releases, by whether accommodation for the first night was arranged: the
    "accommodation for release night" item of the release-day plan marked done. Releases
    with no release-day plan are counted on their own line. The percentage is of all
    releases in the period.""",
)  # fmt: skip
def accommodation(period: Period, programmes: QuerySet[Programme]) -> Counts:
    done = _plan_item_done(ItemKind.ACCOMMODATION)
    plan = ReleasePlan.objects.filter(episode_id=OuterRef("pk"))
    totals = (
        _releases(period, programmes)
        .alias(has_done=Exists(done), has_plan=Exists(plan))
        .aggregate(
            n=Count("id"),
            done=Count("id", filter=Q(has_done=True)),
            planned=Count("id", filter=Q(has_plan=True)),
        )
    )
    return Counts(
        "Release night",
        [
            ("Accommodation arranged", totals["done"]),
            ("Plan, accommodation not arranged", totals["planned"] - totals["done"]),
            ("No release-day plan recorded", totals["n"] - totals["planned"]),
        ],
        total_label="Releases",
        percent=True,
    )


# --- Needs and outcomes -----------------------------------------------------------------

OUTCOMES = "Needs and outcomes"


@figure(
    "needs_met", "Needs met, by resettlement pathway", OUTCOMES,
    """Needs on cases of the chosen programmes whose status is "met" and was set to met in
    the period, by resettlement pathway.""",
)  # fmt: skip
def needs_met(period: Period, programmes: QuerySet[Programme]) -> Counts:
    by_pathway = dict(
        Need.objects.filter(
            case__programme__in=programmes,
            status=NeedStatus.MET,
            status_since__range=(period.start, period.end),
        )
        .values_list("pathway")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counts("Pathway", _rows(Pathway.choices, by_pathway), total_label="Needs met")


@figure(
    "ete_needs", "Education, skills and work needs", OUTCOMES,
    """Needs on the "education, skills and work" pathway on cases of the chosen programmes
    open during the period, by their status today.""",
)  # fmt: skip
def ete_needs(period: Period, programmes: QuerySet[Programme]) -> Counts:
    cases = Case.objects.filter(_open_during(period), programme__in=programmes)
    by_status = dict(
        Need.objects.filter(case__in=cases, pathway=Pathway.EDUCATION_SKILLS_WORK)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counts("Status", _rows(NeedStatus.choices, by_status), total_label="Needs", percent=True)


@figure(
    "ete_at_closure", "Education, training or employment when the case closed", OUTCOMES,
    """Cases of the chosen programmes closed in the period, by the young person's
    education, training or employment recorded at closure.""",
)  # fmt: skip
def ete_at_closure(period: Period, programmes: QuerySet[Programme]) -> Counts:
    by_outcome = dict(
        Case.objects.filter(programme__in=programmes, closed_on__range=(period.start, period.end))
        .values_list("closure_ete")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counts(
        "At closure", _rows(ETEOutcome.choices, by_outcome), total_label="Cases closed",
        percent=True,
    )  # fmt: skip


# --- Reoffending ------------------------------------------------------------------------


def cohort_people(first: date, last: date, programmes: QuerySet[Programme]) -> list[engine.Person]:
    """The people whose first index date on the chosen programmes falls in [first, last]:
    the day of release from custody while on a custody programme case (the first release
    on or after the case opened), or the day a community (prevention) case opened (as
    outcomes.cohort).

    Two grouped queries, over the candidates only: people released, or starting a
    community case, in the window (a superset of the cohort, found through the
    release-date index). Joins rather than a subquery per case, which PostgreSQL would
    cost high enough to compile (JIT) on every run."""
    released = CustodyEpisode.objects.filter(released_on__range=(first, last))
    custody = Q(programme__kind=ProgrammeKind.CUSTODY)
    started = Case.objects.filter(
        ~custody, programme__in=programmes, opened_on__range=(first, last)
    )
    cases = Case.objects.filter(
        Q(person_id__in=released.values("person_id"))
        | Q(person_id__in=started.values("person_id")),
        programme__in=programmes,
        opened_on__lte=last,
    )
    episode = "person__custody_episodes__released_on"
    firsts: dict[int, date] = {}
    by_release = (
        cases.filter(custody)
        .values("person_id")
        .annotate(index=Min(episode, filter=Q(**{f"{episode}__gte": F("opened_on")})))
        .values_list("person_id", "index")
    )
    by_start = (
        cases.filter(~custody)
        .values("person_id")
        .annotate(index=Min("opened_on"))
        .values_list("person_id", "index")
    )
    for rows in (by_release, by_start):
        for person_id, index in rows:
            if index is not None and (person_id not in firsts or index < firsts[person_id]):
                firsts[person_id] = index
    return [
        engine.Person(str(pk), index)
        for pk, index in sorted(firsts.items())
        if first <= index <= last
    ]


@figure(
    "reoffending", "Proven reoffending (latest mature cohort)", "Reoffending",
    """Young people whose first index date on the chosen programmes (release from custody,
    or the start of a community case) fell in the twelve months that ended 18 months
    before the end of the period, so that every one of them is mature: the 12-month
    follow-up and the 6-month waiting period for a conviction or caution have both
    passed. A proven reoffence is the Ministry of Justice's: an offence in the 12 months
    after the index date proven by a conviction or caution within 18 months. National
    rates are the published baselines kept on the outcomes pages.""",
)  # fmt: skip
def reoffending(period: Period, programmes: QuerySet[Programme]) -> Counts:
    first, last = mature_cohort(period.end)
    people = cohort_people(first, last, programmes)
    ids = [int(p.person_id) for p in people]
    events = [
        engine.Event(str(e[0]), e[1], e[2], e[3], e[4])
        for e in ReoffendingEvent.objects.filter(person_id__in=ids).values_list(
            "person_id", "offence_date", "disposal_date", "disposal_type", "custodial"
        )
    ]
    measures = engine.measure(people, events, period.end)
    return Counts(
        "Proven reoffending",
        [
            ("Proven reoffence", measures.n_reoffenders),
            ("No proven reoffence", measures.n_mature - measures.n_reoffenders),
        ],
        total_label="People in the cohort",
        percent=True,
        reference=[
            (f"National rate: {b.label} ({b.period})", f"{b.rate}%")
            for b in NationalBaseline.objects.filter(active=True)
        ],
        notes=[f"Cohort: index dates {first:%-d %B %Y} to {last:%-d %B %Y}."],
    )


# --- Prevention, safeguarding, training -------------------------------------------------


@figure(
    "prevention_reach", "Prevention in schools", "Prevention",
    """Workshops held in the period (all schools work: it is not tied to a programme),
    the children reached (headcounts of workshops not marked as a repeat session with a
    group already seen) and attendances (every headcount).""",
)  # fmt: skip
def prevention_reach(period: Period, programmes: QuerySet[Programme]) -> Counts:
    totals = Workshop.objects.filter(held_on__range=(period.start, period.end)).aggregate(
        n=Count("id"),
        reached=Coalesce(Sum("headcount", filter=Q(repeat_group=False)), 0),
        attended=Coalesce(Sum("headcount"), 0),
    )
    return Counts(
        "Measure",
        [
            ("Workshops held", totals["n"]),
            ("Children reached", totals["reached"]),
            ("Attendances", totals["attended"]),
        ],
        additive=False,
    )


@figure(
    "safeguarding", "Safeguarding activity", "Safeguarding",
    """Counts only. Safeguarding concerns raised in the period about young people with a
    case on the chosen programmes, and the referrals made in the period on such concerns
    to a MASH (children's social care) and to the National Referral Mechanism.""",
)  # fmt: skip
def safeguarding(period: Period, programmes: QuerySet[Programme]) -> Counts:
    # EXISTS per concern, not IN over every case: the period picks a few concerns first,
    # and only theirs are checked against the programmes.
    def has_case(person: str) -> Exists:
        return Exists(Case.objects.filter(person_id=OuterRef(person), programme__in=programmes))

    first, after = period.moments
    concerns = SafeguardingConcern.objects.filter(
        has_case("person_id"), raised_at__gte=first, raised_at__lt=after
    ).count()
    mash = MASHReferral.objects.filter(
        has_case("concern__person_id"), referred_on__range=(period.start, period.end)
    ).count()
    nrm = NRMReferral.objects.filter(
        has_case("concern__person_id"), referred_on__range=(period.start, period.end)
    ).count()
    return Counts(
        "Activity",
        [("Concerns raised", concerns), ("MASH referrals", mash), ("NRM referrals", nrm)],
        additive=False,
    )


@figure(
    "training", "Training delivered to professionals", "Training",
    """Professionals marked as attended on courses and engagements delivered in the
    period (their last day in the period, not cancelled), by audience. Training is not
    tied to a programme.""",
)  # fmt: skip
def training(period: Period, programmes: QuerySet[Programme]) -> Counts:
    delivered = Q(course__cancelled=False, course__end_date__range=(period.start, period.end))
    by_audience = dict(
        Delegate.objects.filter(delivered, attendance=DelegateAttendance.ATTENDED)
        .values_list("course__audience")
        .annotate(n=Count("id"))
        .order_by()
    )
    courses = Course.objects.filter(
        cancelled=False, end_date__range=(period.start, period.end)
    ).count()
    return Counts(
        "Audience",
        _rows(Audience.choices, by_audience),
        total_label="Professionals trained",
        notes=[
            "Courses and engagements delivered: "
            f"{mark_count(courses, settings.SMALL_NUMBER_THRESHOLD)}."
        ],
    )


def as_markdown() -> str:
    """The registry as the figures section of docs/reports.md
    (`python -m throughgate.reports.figures` after `django.setup()`; see the docs)."""
    lines = []
    section = ""
    for entry in REGISTRY:
        if entry.section != section:
            section = entry.section
            lines += [f"### {section}", ""]
        lines += [f"- **{entry.title}** (`{entry.key}`): {entry.definition}", ""]
    return "\n".join(lines)
