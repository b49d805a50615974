"""Programmes, referrals, cases and their phases, and contacts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.accounts.models import Team
from throughgate.core.encryption import EncryptedTextField
from throughgate.core.models import TimeStampedModel
from throughgate.people.models import FamilyMember, Person


class Phase(models.TextChoices):
    REFERRED = "referred", "Referred"
    IN_CUSTODY = "in_custody", "In custody"
    THROUGH_THE_GATE = "through_the_gate", "Through the gate"
    COMMUNITY = "community", "In the community"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class ProgrammeKind(models.TextChoices):
    CUSTODY = "custody", "Custody to community mentoring"
    PREVENTION = "prevention", "Prevention 1:1"


DEFAULT_PHASES = {
    ProgrammeKind.CUSTODY: [
        Phase.REFERRED, Phase.IN_CUSTODY, Phase.THROUGH_THE_GATE, Phase.COMMUNITY, Phase.CLOSED,
    ],
    ProgrammeKind.PREVENTION: [Phase.REFERRED, Phase.ACTIVE, Phase.CLOSED],
}  # fmt: skip


class Programme(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=ProgrammeKind.choices)
    phases = models.JSONField(
        help_text="The phases a case moves through, in order; the last must be 'closed'."
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="programmes")
    contact_interval_days = models.PositiveSmallIntegerField(
        default=7, help_text="A case is due a contact this many days after the last one."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        valid = set(Phase.values)
        if not isinstance(self.phases, list) or not self.phases:
            raise ValidationError({"phases": "List the programme's phases in order."})
        unknown = [p for p in self.phases if p not in valid]
        if unknown:
            raise ValidationError({"phases": f"Unknown phase(s): {', '.join(map(str, unknown))}."})
        if self.phases[0] != Phase.REFERRED or self.phases[-1] != Phase.CLOSED:
            raise ValidationError(
                {"phases": "Phases must start with 'referred' and end with 'closed'."}
            )
        if len(set(self.phases)) != len(self.phases):
            raise ValidationError({"phases": "A phase is listed twice."})

    @property
    def uses_mentor_matching(self) -> bool:
        """Peer mentors are matched (safety rules, suggestions); prevention workers are
        simply assigned."""
        return self.kind == ProgrammeKind.CUSTODY

    @property
    def phase_choices(self) -> list[tuple[str, str]]:
        labels = dict(Phase.choices)
        return [(p, labels[p]) for p in self.phases]


class ReferralSource(models.TextChoices):
    PRISON = "prison", "Prison resettlement team"
    PROBATION = "probation", "Probation"
    YJS = "yjs", "Youth Justice Service"
    SCHOOL = "school", "School"
    CHILDRENS_SERVICES = "childrens_services", "Children's services / social care"
    LOCAL_AUTHORITY = "local_authority", "Local authority (other)"
    POLICE = "police", "Police"
    FAMILY = "family", "Family"
    SELF = "self", "Self-referral"
    OTHER = "other", "Other"


class ReferralStatus(models.TextChoices):
    PENDING = "pending", "Waiting for triage"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class DeclineReason(models.TextChoices):
    NOT_ELIGIBLE = "not_eligible", "Does not meet the programme's criteria"
    OUT_OF_AREA = "out_of_area", "Outside the area we cover"
    DECLINED_SUPPORT = "declined_support", "Young person declined support"
    NO_CAPACITY = "no_capacity", "No capacity at present"
    ALREADY_SUPPORTED = "already_supported", "Already supported by us or another service"
    NO_CONSENT = "no_consent", "Consent not given"
    RISK = "risk", "Risk cannot be managed safely"
    OTHER = "other", "Other (explain in the notes)"


def _team_filter(user: Any, team_field: str, coordinator_field: str) -> Q:
    if user.team_id:
        return Q(**{f"{team_field}_id": user.team_id})
    return Q(**{coordinator_field: user})


class ReferralQuerySet(models.QuerySet["Referral"]):
    def visible_to(self, user: Any) -> ReferralQuerySet:
        role = roles.role_of(user)
        if not roles.sees_personal_data(user):
            return self.none()
        if roles.sees_everyone(user):
            return self.all()
        if role == roles.Role.COORDINATOR:
            return self.filter(_team_filter(user, "team", "received_by"))
        if roles.has_caseload(user):
            return self.filter(case__mentor=user)
        return self.none()

    def editable_by(self, user: Any) -> ReferralQuerySet:
        if not roles.manages_cases(user):
            return self.none()
        return self.visible_to(user)


class Referral(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referrals")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="referrals")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="referrals")
    source_type = models.CharField("referred by", max_length=20, choices=ReferralSource.choices)
    referring_organisation = models.CharField(
        "referring organisation", max_length=200, blank=True, help_text="e.g. HMP/YOI Feltham"
    )
    referrer_name = models.CharField("referrer's name", max_length=200, blank=True)
    referrer_contact = models.CharField("referrer's phone or email", max_length=200, blank=True)
    referral_date = models.DateField("date referred")
    reasons = EncryptedTextField("reasons for referral")
    consent_recorded = models.BooleanField(
        "the young person consents to the referral",
        default=False,
        help_text="They (or, under 16, their parent or carer) agreed to be referred.",
    )
    status = models.CharField(
        max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.PENDING
    )
    decline_reason = models.CharField(
        "reason declined", max_length=30, choices=DeclineReason.choices, blank=True
    )
    decision_notes = EncryptedTextField("notes on the decision", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-referral_date", "-id"]
        indexes = [models.Index(fields=["team", "status", "referral_date"])]

    def __str__(self) -> str:
        return f"Referral of {self.person} to {self.programme} ({self.referral_date:%d/%m/%Y})"

    @property
    def audit_person_id(self) -> int:
        return self.person_id

    def clean(self) -> None:
        errors = {}
        today = timezone.localdate()
        if isinstance(self.referral_date, date):
            if self.referral_date > today:
                errors["referral_date"] = "The referral date cannot be in the future."
            elif self.person_id and self.referral_date < self.person.date_of_birth:
                errors["referral_date"] = "The referral date is before the person was born."
        if errors:
            raise ValidationError(errors)


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user: Any) -> CaseQuerySet:
        """The one door to cases (see core.access)."""
        role = roles.role_of(user)
        if not roles.sees_personal_data(user):
            return self.none()
        if roles.sees_everyone(user):
            return self.all()
        if role == roles.Role.COORDINATOR:
            return self.filter(_team_filter(user, "team", "coordinator"))
        if roles.has_caseload(user):
            return self.filter(mentor=user)
        return self.none()

    def editable_by(self, user: Any) -> CaseQuerySet:
        """Cases whose contacts this user may log (mentors: their own; managers: the team's)."""
        if roles.role_of(user) == roles.Role.SAFEGUARDING_LEAD:
            return self.none()
        return self.visible_to(user)

    def manageable_by(self, user: Any) -> CaseQuerySet:
        """Cases whose mentor, phase and closure this user may change."""
        if not roles.manages_cases(user):
            return self.none()
        return self.visible_to(user)

    def open(self) -> CaseQuerySet:
        return self.exclude(phase=Phase.CLOSED)


class ClosureReason(models.TextChoices):
    COMPLETED = "completed", "Completed the programme"
    DISENGAGED = "disengaged", "Disengaged"
    MOVED_AWAY = "moved_away", "Moved away"
    RETURNED_TO_CUSTODY = "returned_to_custody", "Returned to custody"
    NEEDS_MET_ELSEWHERE = "needs_met_elsewhere", "Needs met by another service"
    DIED = "died", "Died"
    OTHER = "other", "Other (explain in the notes)"


class Case(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="cases")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    referral = models.OneToOneField(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="case"
    )
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.REFERRED)
    phase_since = models.DateField("in this phase since")
    opened_on = models.DateField("case opened")
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mentored_cases",
    )
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="coordinated_cases",
    )
    closed_on = models.DateField(null=True, blank=True)
    closure_reason = models.CharField(max_length=30, choices=ClosureReason.choices, blank=True)
    closure_notes = EncryptedTextField(blank=True)
    # Outcomes at closure, in categories reports can count (choices defined below).
    closure_accommodation = models.CharField("accommodation at closure", max_length=20, blank=True)
    closure_ete = models.CharField(
        "education, training or employment at closure", max_length=20, blank=True
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_on", "-id"]
        indexes = [
            models.Index(fields=["mentor", "phase"]),
            models.Index(fields=["team", "phase"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(phase=Phase.CLOSED) & Q(closed_on__isnull=False) & ~Q(closure_reason="")
                )
                | (~Q(phase=Phase.CLOSED) & Q(closed_on__isnull=True)),
                name="case_closed_has_date_and_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.programme}"

    @property
    def audit_person_id(self) -> int:
        return self.person_id

    @property
    def is_open(self) -> bool:
        return self.phase != Phase.CLOSED

    def next_contact_due(self, last_contact: date | None) -> date:
        start = last_contact or self.opened_on
        return start + timedelta(days=self.programme.contact_interval_days)


class PhaseChange(models.Model):
    """A dated, attributed step in a case's journey (the case's history of phases)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="phase_changes")
    from_phase = models.CharField(max_length=20, choices=Phase.choices, blank=True)
    to_phase = models.CharField(max_length=20, choices=Phase.choices)
    changed_on = models.DateField("date of change")
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["changed_on", "recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_from_phase_display() or 'new'} → {self.get_to_phase_display()}"

    @property
    def audit_person_id(self) -> int:
        return self.case.person_id


class AssignedHow(models.TextChoices):
    SUGGESTED = "suggested", "Suggested match"
    OVERRIDE = "override", "Chosen over the suggestions"
    BATCH = "batch", "Batch match"
    DIRECT = "direct", "Assigned directly"


class MentorAssignmentQuerySet(models.QuerySet["MentorAssignment"]):
    def visible_to(self, user: Any) -> MentorAssignmentQuerySet:
        return self.filter(case__in=Case.objects.visible_to(user))

    def current(self) -> MentorAssignmentQuerySet:
        return self.filter(ended_on__isnull=True)


class MentorAssignment(models.Model):
    """One mentor's time on a case. Re-matching ends the current row and starts a new
    one, so the case keeps who mentored it when, and why each was chosen."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="mentor_assignments")
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mentor_assignments"
    )
    started_on = models.DateField("mentor from")
    ended_on = models.DateField("mentor until", null=True, blank=True)
    how = models.CharField(max_length=20, choices=AssignedHow.choices, default=AssignedHow.DIRECT)
    rank = models.PositiveSmallIntegerField("place in the suggestions", null=True, blank=True)
    cost = models.IntegerField("match cost", null=True, blank=True)
    reasons = models.JSONField("why this mentor", default=list, blank=True)
    override_reason = models.TextField("reason for choosing over the suggestions", blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    # Set when the mentor has seen the new mentee on their home page.
    seen_by_mentor_at = models.DateTimeField(null=True, blank=True)

    objects = MentorAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["started_on", "assigned_at", "id"]
        indexes = [
            models.Index(fields=["mentor", "ended_on"]),
            models.Index(fields=["case", "ended_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.mentor} on {self.case}"

    @property
    def audit_person_id(self) -> int:
        return self.case.person_id


class ContactMode(models.TextChoices):
    PRISON_VISIT = "prison_visit", "Prison visit"
    PHONE = "phone", "Phone call"
    VIDEO = "video", "Video call"
    COMMUNITY = "community", "Meeting in the community"
    HOME_VISIT = "home_visit", "Home visit"
    GATE = "gate", "Gate meeting (release day)"
    FAMILY = "family", "Family session"
    GROUP = "group", "Group session"


class Attendance(models.TextChoices):
    ATTENDED = "attended", "Yes"
    LATE = "late", "Yes, but late"
    DID_NOT_ATTEND = "did_not_attend", "No"


class NonAttendanceReason(models.TextChoices):
    NO_SHOW = "no_show", "Did not turn up, no reason given"
    ILL = "ill", "Ill"
    CANCELLED_BY_THEM = "cancelled_by_them", "Cancelled by the young person"
    CANCELLED_BY_US = "cancelled_by_us", "Cancelled by us"
    PRISON_REGIME = "prison_regime", "Prison lockdown or visit refused"
    TRANSFERRED = "transferred", "Moved to another prison"
    OTHER = "other", "Other"


class ContactQuerySet(models.QuerySet["Contact"]):
    def visible_to(self, user: Any) -> ContactQuerySet:
        return self.filter(case__in=Case.objects.visible_to(user))

    def editable_by(self, user: Any) -> ContactQuerySet:
        return self.filter(case__in=Case.objects.editable_by(user))


class Contact(TimeStampedModel):
    # Indexed by the (case, occurred_at) index below, which starts with it.
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="contacts", db_index=False
    )
    occurred_at = models.DateTimeField("when")
    mode = models.CharField("how", max_length=20, choices=ContactMode.choices)
    attendance = models.CharField(
        "did they attend?", max_length=20, choices=Attendance.choices, default=Attendance.ATTENDED
    )
    non_attendance_reason = models.CharField(
        "why not?", max_length=30, choices=NonAttendanceReason.choices, blank=True
    )
    duration_minutes = models.PositiveSmallIntegerField("how long (minutes)", null=True, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contacts_attended",
        verbose_name="mentor or worker",
    )
    family_members = models.ManyToManyField(
        FamilyMember, blank=True, related_name="contacts", verbose_name="family members present"
    )
    summary = EncryptedTextField("what happened")
    concerns = EncryptedTextField(
        "any concerns?", blank=True, help_text="Anything worrying, including safeguarding."
    )
    next_steps = EncryptedTextField("next steps", blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["case", "occurred_at"]),
            # Reports count contacts in a period across every case by mode (funder
            # report): covering, so a year of a region's contacts is read from the index.
            models.Index(
                fields=["occurred_at", "attendance", "mode", "case"],
                name="contact_period_mode_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} on {timezone.localtime(self.occurred_at):%d/%m/%Y}"

    @property
    def audit_person_id(self) -> int:
        return self.case.person_id

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.occurred_at and self.case_id:
            when = timezone.localtime(self.occurred_at)
            if when > timezone.now() + timedelta(minutes=5):
                errors["occurred_at"] = "A contact cannot be logged for a time in the future."
            elif when.date() < self.case.opened_on:
                errors["occurred_at"] = (
                    f"This is before the case began on {self.case.opened_on:%d/%m/%Y}."
                )
            elif self.case.closed_on and when.date() > self.case.closed_on:
                errors["occurred_at"] = (
                    f"This is after the case closed on {self.case.closed_on:%d/%m/%Y}."
                )
        if self.attendance == Attendance.DID_NOT_ATTEND:
            if not self.non_attendance_reason:
                errors["non_attendance_reason"] = "Say why the contact did not happen."
        else:
            self.non_attendance_reason = ""
            if self.duration_minutes is not None and not 1 <= self.duration_minutes <= 720:
                errors["duration_minutes"] = "Enter a length between 1 and 720 minutes."
        if errors:
            raise ValidationError(errors)


# --- Holistic support: needs, actions, ID and bank, onward referrals, instruments ----


class Pathway(models.TextChoices):
    """The seven resettlement pathways (HMPPS), plus "other"; keys as engines.instruments."""

    ACCOMMODATION = "accommodation", "Accommodation"
    EDUCATION_SKILLS_WORK = "education_skills_work", "Education, skills and work"
    FINANCE_ID = "finance_id", "Finance and ID"
    HEALTH = "health", "Health"
    DRUGS_ALCOHOL = "drugs_alcohol", "Drugs and alcohol"
    CHILDREN_FAMILIES_COMMUNITY = "children_families_community", "Children, families and community"
    ATTITUDES_THINKING_BEHAVIOUR = (
        "attitudes_thinking_behaviour",
        "Attitudes, thinking and behaviour",
    )
    OTHER = "other", "Other"


class NeedStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    MET = "met", "Met"
    DECLINED = "declined", "Declined by the young person"
    NOT_REQUIRED = "not_required", "Support not required"


class Priority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Responsible(models.TextChoices):
    MENTOR = "mentor", "Mentor"
    YOUNG_PERSON = "young_person", "The young person"
    PRISON = "prison", "Prison"
    PROBATION = "probation", "Probation"
    FAMILY = "family", "Family"
    AGENCY = "agency", "Another agency"
    OTHER = "other", "Other"


class CaseChildQuerySet(models.QuerySet):
    """For records that belong to a case: the case's door decides."""

    def visible_to(self, user: Any) -> Any:
        return self.filter(case__in=Case.objects.visible_to(user))

    def editable_by(self, user: Any) -> Any:
        return self.filter(case__in=Case.objects.editable_by(user))


class CaseChild(TimeStampedModel):
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def audit_person_id(self) -> int:
        return self.case.person_id


class Need(CaseChild):
    """One pathway of a case's needs assessment, as it stands; NeedUpdate keeps the history."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="needs")
    pathway = models.CharField(max_length=40, choices=Pathway.choices)
    status = models.CharField(
        max_length=20, choices=NeedStatus.choices, default=NeedStatus.NOT_STARTED
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    responsible = models.CharField(
        "who is responsible", max_length=20, choices=Responsible.choices, default=Responsible.MENTOR
    )
    summary = models.CharField("what is needed", max_length=300, blank=True)
    status_since = models.DateField("status since")

    class Meta:
        ordering = ["case", "pathway"]
        constraints = [
            models.UniqueConstraint(fields=["case", "pathway"], name="need_one_per_pathway")
        ]

    def __str__(self) -> str:
        return f"{self.get_pathway_display()}: {self.get_status_display().lower()}"

    @property
    def is_open(self) -> bool:
        return self.status in (NeedStatus.NOT_STARTED, NeedStatus.IN_PROGRESS)


class NeedUpdate(models.Model):
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="updates")
    on = models.DateField("date")
    status = models.CharField(max_length=20, choices=NeedStatus.choices)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    responsible = models.CharField(max_length=20, choices=Responsible.choices)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["on", "recorded_at", "id"]
        indexes = [models.Index(fields=["need", "on"])]

    def __str__(self) -> str:
        return f"{self.need.get_pathway_display()} {self.get_status_display().lower()} {self.on}"


class Action(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    need = models.ForeignKey(
        Need, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions",
        verbose_name="for which need",
    )  # fmt: skip
    description = models.CharField("what will be done", max_length=300)
    owner = models.CharField(
        "who does it", max_length=20, choices=Responsible.choices, default=Responsible.MENTOR
    )
    due_on = models.DateField("due by")
    done_on = models.DateField("done on", null=True, blank=True)

    class Meta:
        ordering = ["done_on", "due_on", "id"]
        indexes = [models.Index(fields=["case", "done_on", "due_on"])]

    def __str__(self) -> str:
        return self.description

    def is_overdue(self, today: date) -> bool:
        return self.done_on is None and self.due_on < today


class IDType(models.TextChoices):
    BIRTH_CERTIFICATE = "birth_certificate", "Birth certificate"
    PASSPORT = "passport", "Passport"
    PROVISIONAL_LICENCE = "provisional_licence", "Provisional driving licence"
    DRIVING_LICENCE = "driving_licence", "Full driving licence"
    CITIZEN_CARD = "citizen_card", "CitizenCard (PASS proof of age)"
    BIOMETRIC_RESIDENCE = "biometric_residence", "Biometric residence permit / eVisa"
    NI_NUMBER = "ni_number", "National Insurance number letter"
    OTHER = "other", "Other"


class ApplicationStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    SUBMITTED = "submitted", "Submitted"
    RECEIVED = "received", "Received"
    REJECTED = "rejected", "Rejected"


class IDApplication(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="id_applications")
    id_type = models.CharField("ID", max_length=30, choices=IDType.choices)
    status = models.CharField(
        max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.NOT_STARTED
    )
    submitted_on = models.DateField("submitted on", null=True, blank=True)
    cost = models.DecimalField("cost (£)", max_digits=7, decimal_places=2, null=True, blank=True)
    paid_by = models.CharField("paid by", max_length=100, blank=True)
    received_on = models.DateField("received on", null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "ID application"

    def __str__(self) -> str:
        return f"{self.get_id_type_display()}: {self.get_status_display().lower()}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        today = timezone.localdate()
        for name in ("submitted_on", "received_on"):
            value = getattr(self, name)
            if value and value > today:
                errors[name] = "This date cannot be in the future."
        if self.received_on and self.submitted_on and self.received_on < self.submitted_on:
            errors["received_on"] = "It cannot arrive before it was applied for."
        if self.status == ApplicationStatus.RECEIVED and not self.received_on:
            errors["received_on"] = "Give the date it arrived."
        if self.status in (ApplicationStatus.SUBMITTED, ApplicationStatus.RECEIVED) and not (
            self.submitted_on
        ):
            errors["submitted_on"] = "Give the date it was applied for."
        if self.cost is not None and self.cost < 0:
            errors["cost"] = "The cost cannot be negative."
        if errors:
            raise ValidationError(errors)


class BankOutcome(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    SUBMITTED = "submitted", "Submitted, waiting"
    OPENED = "opened", "Account opened"
    DECLINED = "declined", "Declined"
    RESUBMITTED = "resubmitted", "Resubmitted"


class BankApplication(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="bank_applications")
    bank = models.CharField(max_length=100)
    outcome = models.CharField(
        "where it stands", max_length=20, choices=BankOutcome.choices,
        default=BankOutcome.NOT_STARTED,
    )  # fmt: skip
    submitted_on = models.DateField("submitted on", null=True, blank=True)
    response_on = models.DateField("response on", null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.bank}: {self.get_outcome_display().lower()}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        today = timezone.localdate()
        for name in ("submitted_on", "response_on"):
            value = getattr(self, name)
            if value and value > today:
                errors[name] = "This date cannot be in the future."
        if self.response_on and self.submitted_on and self.response_on < self.submitted_on:
            errors["response_on"] = "The bank cannot answer before the application."
        if self.outcome != BankOutcome.NOT_STARTED and not self.submitted_on:
            errors["submitted_on"] = "Give the date it was applied for."
        if self.outcome in (BankOutcome.OPENED, BankOutcome.DECLINED) and not self.response_on:
            errors["response_on"] = "Give the date the bank answered."
        if errors:
            raise ValidationError(errors)


class AgencyKind(models.TextChoices):
    HOUSING = "housing", "Housing"
    JOBCENTRE = "jobcentre", "Jobcentre Plus"
    HEALTH = "health", "GP / health"
    DRUGS_ALCOHOL = "drugs_alcohol", "Drug and alcohol service"
    EDUCATION = "education", "Education provider"
    EMPLOYER = "employer", "Employer"
    BENEFITS = "benefits", "Benefits and debt advice"
    LEGAL = "legal", "Legal"
    MENTAL_HEALTH = "mental_health", "Mental health"
    OTHER = "other", "Other"


class Agency(models.Model):
    """The directory of partner agencies (not personal data)."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField("type", max_length=20, choices=AgencyKind.choices)
    borough = models.CharField(max_length=40, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class OnwardStatus(models.TextChoices):
    DRAFT = "draft", "Not sent yet"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined by the agency"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Where an onward referral may go next: the loop closes at completed, declined or withdrawn.
ONWARD_NEXT = {
    OnwardStatus.DRAFT: [OnwardStatus.SENT, OnwardStatus.WITHDRAWN],
    OnwardStatus.SENT: [OnwardStatus.ACCEPTED, OnwardStatus.DECLINED, OnwardStatus.WITHDRAWN],
    OnwardStatus.ACCEPTED: [OnwardStatus.COMPLETED, OnwardStatus.WITHDRAWN],
    OnwardStatus.DECLINED: [],
    OnwardStatus.COMPLETED: [],
    OnwardStatus.WITHDRAWN: [],
}


class OnwardReferral(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="onward_referrals")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals")
    need = models.ForeignKey(
        Need, null=True, blank=True, on_delete=models.SET_NULL, related_name="onward_referrals",
        verbose_name="for which need",
    )  # fmt: skip
    reason = models.CharField("what we are asking for", max_length=300)
    consent_recorded = models.BooleanField(
        "the young person consents to sharing their details with the agency", default=False
    )
    consent_on = models.DateField("consent given on", null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=OnwardStatus.choices, default=OnwardStatus.DRAFT
    )
    sent_on = models.DateField(null=True, blank=True)
    accepted_on = models.DateField(null=True, blank=True)
    declined_on = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    outcome = models.CharField("outcome or reason", max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.agency}: {self.get_status_display().lower()}"

    @property
    def next_statuses(self) -> list[tuple[str, str]]:
        labels = dict(OnwardStatus.choices)
        return [(s, labels[s]) for s in ONWARD_NEXT[OnwardStatus(self.status)]]


class InstrumentDefinition(models.Model):
    """An assessment instrument as data (engines.instruments.Instrument in the database),
    so an admin can add a licensed one without a code change."""

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    scale_min = models.SmallIntegerField()
    scale_max = models.SmallIntegerField()
    scoring = models.CharField(max_length=10, default="mean")
    min_answered = models.FloatField(default=1.0)
    interval_days = models.JSONField(default=list, blank=True)
    anchor_low = models.CharField(max_length=60, blank=True)
    anchor_high = models.CharField(max_length=60, blank=True)
    reported_by_mentee = models.BooleanField(
        default=True, help_text="The young person answers; the mentor only records it."
    )
    licence_note = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InstrumentItem(models.Model):
    instrument = models.ForeignKey(
        InstrumentDefinition, on_delete=models.CASCADE, related_name="items"
    )
    key = models.CharField(max_length=60)
    text = models.CharField(max_length=300)
    reverse = models.BooleanField(default=False)
    subscale = models.CharField(max_length=60, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["instrument", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "key"], name="instrument_item_key_unique")
        ]

    def __str__(self) -> str:
        return self.text


class InstrumentResponse(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="instrument_responses")
    instrument = models.ForeignKey(
        InstrumentDefinition, on_delete=models.PROTECT, related_name="responses"
    )
    completed_on = models.DateField("date")
    answers = models.JSONField(default=dict)
    total = models.FloatField(null=True, blank=True)
    subscales = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["completed_on", "id"]
        indexes = [models.Index(fields=["case", "instrument", "completed_on"])]

    def __str__(self) -> str:
        return f"{self.instrument} {self.completed_on:%d/%m/%Y}"


class AccommodationOutcome(models.TextChoices):
    OWN_TENANCY = "own_tenancy", "Own tenancy"
    FAMILY = "family", "Living with family or friends (settled)"
    SUPPORTED = "supported", "Supported housing or hostel"
    TEMPORARY = "temporary", "Temporary (sofa-surfing, B&B, emergency)"
    HOMELESS = "homeless", "Homeless / rough sleeping"
    CUSTODY = "custody", "In custody"
    UNKNOWN = "unknown", "Not known"


class ETEOutcome(models.TextChoices):
    EMPLOYED_FULL = "employed_full", "Employed full time"
    EMPLOYED_PART = "employed_part", "Employed part time"
    APPRENTICESHIP = "apprenticeship", "Apprenticeship"
    EDUCATION = "education", "In education"
    TRAINING = "training", "In training"
    VOLUNTEERING = "volunteering", "Volunteering"
    NEET = "neet", "Not in education, employment or training"
    UNABLE = "unable", "Unable to work (health, caring)"
    UNKNOWN = "unknown", "Not known"


# Safeguarding concerns and exploitation risk checks live in their own module; imported
# here so Django finds them as casework models.
from .safeguarding_models import (  # noqa: E402, F401
    ConcernAction,
    ConcernDecision,
    MASHReferral,
    NRMReferral,
    RiskCheck,
    RiskIndicator,
    SafeguardingConcern,
)
