"""Is a mentor cleared, trained and supervised to take a new mentee today?

Works on profiles fetched with `with_readiness_records()`, so a list of mentors costs
a fixed number of queries however many there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from throughgate.casework.models import Phase

from .models import (
    DBS_LEVELS_FOR_MATCHING,
    EXPIRY_WARNING_DAYS,
    DBSCheck,
    LicenceCondition,
    MentorProfile,
    SecurityClearance,
    SupervisionSession,
    TrainingCourse,
    TrainingRecord,
    Wellbeing,
    supervision_interval,
)


@dataclass(frozen=True)
class Alert:
    what: str
    due: date
    overdue: bool


@dataclass
class Readiness:
    problems: list[str] = field(default_factory=list)  # any one stops new matches
    warnings: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)  # dated: due soon or overdue
    cleared: dict[str, SecurityClearance] = field(default_factory=dict)  # establishment code
    clearance_notes: dict[str, str] = field(default_factory=dict)  # establishment name → note

    @property
    def ready(self) -> bool:
        return not self.problems


def _d(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def with_readiness_records(profiles: QuerySet[MentorProfile]) -> QuerySet[MentorProfile]:
    return (
        profiles.select_related("user", "person")
        .annotate(
            open_cases=Count(
                "user__mentored_cases", filter=~Q(user__mentored_cases__phase=Phase.CLOSED)
            )
        )
        .prefetch_related(
            "lived_experience",
            "custody_history",
            Prefetch("dbs_checks", queryset=DBSCheck.objects.order_by("-issued_on", "-id")),
            Prefetch(
                "clearances",
                queryset=SecurityClearance.objects.select_related("establishment").order_by(
                    "establishment__name", "-expires_on"
                ),
            ),
            Prefetch(
                "training_records",
                queryset=TrainingRecord.objects.select_related("course").order_by("-completed_on"),
            ),
            Prefetch(
                "supervision_sessions",
                queryset=SupervisionSession.objects.select_related("supervisor").order_by(
                    "-held_on", "-id"
                ),
            ),
            Prefetch(
                "licence_conditions",
                queryset=LicenceCondition.objects.prefetch_related("named_people"),
            ),
        )
    )


# Supervision comes round every few weeks: warned of a fortnight ahead, not a month, or
# every mentor would always be on the list.
SUPERVISION_WARNING_DAYS = 14


def _due(
    readiness: Readiness,
    what: str,
    due: date,
    today: date,
    problem: str,
    warn_days: int = EXPIRY_WARNING_DAYS,
) -> None:
    """A dated requirement: a problem once past, an alert within the warning window."""
    if due < today:
        readiness.problems.append(problem)
        readiness.alerts.append(Alert(what, due, overdue=True))
    elif due <= today + timedelta(days=warn_days):
        readiness.warnings.append(f"{what} due {_d(due)}")
        readiness.alerts.append(Alert(what, due, overdue=False))


def assess(
    profile: MentorProfile, today: date, required_courses: list[TrainingCourse] | None = None
) -> Readiness:
    if required_courses is None:
        required_courses = list(TrainingCourse.objects.filter(required_for_matching=True))
    r = Readiness()

    if not profile.available:
        r.problems.append("not taking new mentees")
    elif profile.unavailable_until and profile.unavailable_until >= today:
        r.problems.append(f"away until {_d(profile.unavailable_until)}")

    dbs = next(iter(profile.dbs_checks.all()), None)
    if dbs is None:
        r.problems.append("no DBS check recorded")
    else:
        if dbs.level not in DBS_LEVELS_FOR_MATCHING:
            r.problems.append(
                f"DBS is {dbs.get_level_display().lower()}: an enhanced check with the "
                "children's barred list is needed"
            )
        _due(
            r,
            "DBS renewal",
            dbs.renewal_due,
            today,
            f"DBS renewal overdue since {_d(dbs.renewal_due)}",
        )

    latest_training: dict[int, TrainingRecord] = {}
    for record in profile.training_records.all():  # newest first
        latest_training.setdefault(record.course_id, record)
    for course in required_courses:
        record = latest_training.get(course.pk)
        if record is None:
            r.problems.append(f"{course.name} not completed")
        elif record.expires_on is not None:
            _due(r, f"{course.name} refresher", record.expires_on, today,
                 f"{course.name} expired on {_d(record.expires_on)}")  # fmt: skip

    session = next(iter(profile.supervision_sessions.all()), None)
    if session is None:
        r.problems.append("no supervision recorded")
    else:
        due = session.held_on + supervision_interval()
        _due(
            r, "Supervision", due, today, f"supervision overdue since {_d(due)}",
            SUPERVISION_WARNING_DAYS,
        )  # fmt: skip
        if session.wellbeing == Wellbeing.STRUGGLING:
            r.warnings.append(f"struggling at last supervision ({_d(session.held_on)})")

    for clearance in profile.clearances.all():  # newest expiry first per establishment
        code = clearance.establishment_id
        name = clearance.establishment.display_name
        if code in r.cleared or name in r.clearance_notes:
            continue
        if clearance.is_valid_on(today):
            r.cleared[code] = clearance
            if clearance.expires_on <= today + timedelta(days=EXPIRY_WARNING_DAYS):
                r.warnings.append(f"clearance for {name} expires {_d(clearance.expires_on)}")
                r.alerts.append(Alert(f"Clearance for {name}", clearance.expires_on, False))
        elif clearance.expires_on < today:
            r.clearance_notes[name] = f"clearance expired {_d(clearance.expires_on)}"
        else:
            r.clearance_notes[name] = f"clearance starts {_d(clearance.granted_on)}"
    if not r.cleared:
        r.warnings.append("not cleared for any prison: community matches only")
    r.alerts.sort(key=lambda a: a.due)
    return r


def caseload_of(profile: Any) -> int:
    """Active mentees, from the annotation where the profile was fetched with it."""
    count = getattr(profile, "open_cases", None)
    return profile.active_caseload if count is None else count
