"""Peer mentors: who they are, what they have lived through, whether they are cleared,
trained and supervised to work, the licence conditions they carry, the conflicts between
people that matching must respect, and batch match proposals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.casework.models import Case
from throughgate.core.encryption import EncryptedTextField
from throughgate.core.models import TimeStampedModel
from throughgate.custody.models import Establishment
from throughgate.people.models import Person

EXPIRY_WARNING_DAYS = 30


class LivedExperienceCategory(models.Model):
    """What a mentor has been through, and what a young person is going through:
    the vocabulary matching uses. Data, so a charity can add its own."""

    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "lived-experience categories"

    def __str__(self) -> str:
        return self.name


class TrainingCourse(models.Model):
    name = models.CharField(max_length=120, unique=True)
    level = models.CharField(max_length=60, blank=True, help_text="e.g. Level 3")
    required_for_matching = models.BooleanField(
        default=False, help_text="A mentor without it in date is not offered for new matches."
    )
    valid_for_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Blank if it never needs refreshing."
    )

    class Meta:
        ordering = ["-required_for_matching", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.level})" if self.level else self.name


# --- The one door to mentor records -------------------------------------------------


def _mentor_scope(user: Any, prefix: str = "") -> Q | None:
    """Q over MentorProfile (with `prefix` for related models), or None for nothing.

    Managers and the safeguarding lead see every mentor; a coordinator sees the mentors
    of their team; a mentor sees their own record."""
    role = roles.role_of(user)
    if role is None:
        return None
    if role in (roles.Role.ADMIN, roles.Role.SAFEGUARDING_LEAD):
        return Q()
    if role == roles.Role.COORDINATOR:
        return Q(**{f"{prefix}user__team_id": user.team_id}) if user.team_id else None
    if role == roles.Role.MENTOR:
        return Q(**{f"{prefix}user": user})
    return None


def _manage_scope(user: Any, prefix: str = "") -> Q | None:
    if not roles.manages_cases(user):
        return None
    return _mentor_scope(user, prefix)


class MentorScopedQuerySet(models.QuerySet):
    """For the mentor's own records (vetting, training, …): `mentor__` lookups."""

    prefix = "mentor__"

    def visible_to(self, user: Any) -> Any:
        scope = _mentor_scope(user, self.prefix)
        return self.none() if scope is None else self.filter(scope)

    def editable_by(self, user: Any) -> Any:
        scope = _manage_scope(user, self.prefix)
        return self.none() if scope is None else self.filter(scope)


class MentorProfileQuerySet(MentorScopedQuerySet):
    prefix = ""


class MentorProfile(TimeStampedModel):
    """A mentor is both a staff user (who logs in) and a person (who can be in a conflict
    and has a date of birth)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mentor_profile"
    )
    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="mentor_profile")
    lived_experience = models.ManyToManyField(
        LivedExperienceCategory, blank=True, related_name="mentors", verbose_name="lived experience"
    )
    custody_history = models.ManyToManyField(
        Establishment,
        blank=True,
        related_name="+",
        verbose_name="prisons they were held in",
        help_text="So a young person in the same prison can be matched with someone who knows it.",
    )
    languages = models.JSONField(
        default=list, blank=True, help_text="Languages they speak, English included."
    )
    boroughs_known = models.JSONField("boroughs they know", default=list, blank=True)
    boroughs_to_avoid = models.JSONField(
        "boroughs they must avoid",
        default=list,
        blank=True,
        help_text="For their own safety, apart from any licence condition.",
    )
    capacity = models.PositiveSmallIntegerField(
        "most mentees at once", default=6, help_text="Active mentees they can carry."
    )
    available = models.BooleanField("taking new mentees", default=True)
    unavailable_until = models.DateField("away until", null=True, blank=True)
    availability_note = models.CharField(
        "availability", max_length=200, blank=True, help_text="e.g. not Tuesdays; evenings only"
    )

    objects = MentorProfileQuerySet.as_manager()

    class Meta:
        ordering = ["person__forename", "person__surname", "id"]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def audit_person_id(self) -> int:
        return self.person_id

    @property
    def active_caseload(self) -> int:
        return Case.objects.open().filter(mentor_id=self.user_id).count()


class MentorRecord(TimeStampedModel):
    """Base of the records kept about a mentor's readiness to work."""

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = MentorScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def audit_person_id(self) -> int:
        return self.mentor.person_id


class LicenceKind(models.TextChoices):
    NON_ASSOCIATION = "non_association", "Non-association with named people"
    EXCLUSION_ZONE = "exclusion_zone", "Exclusion zone"
    CURFEW = "curfew", "Curfew"
    COURT_ORDER = "court_order", "Court order until further notice (e.g. restraining order)"


# Licence conditions end with the licence: the end date is its expiry. Only an order
# made "until further order" may be open-ended.
END_DATE_REQUIRED = {LicenceKind.NON_ASSOCIATION, LicenceKind.EXCLUSION_ZONE, LicenceKind.CURFEW}


class LicenceConditionQuerySet(MentorScopedQuerySet):
    def active_on(self, day: date) -> Any:
        return self.filter(Q(starts_on__lte=day), Q(ends_on__isnull=True) | Q(ends_on__gte=day))


class LicenceCondition(MentorRecord):
    mentor = models.ForeignKey(
        MentorProfile, on_delete=models.CASCADE, related_name="licence_conditions"
    )
    kind = models.CharField("type", max_length=20, choices=LicenceKind.choices)
    boroughs = models.JSONField("boroughs excluded", default=list, blank=True)
    postcode_districts = models.JSONField(
        "postcode districts excluded", default=list, blank=True, help_text="Like SE15, E8."
    )
    named_people = models.ManyToManyField(
        Person, blank=True, related_name="+", verbose_name="people they must not contact"
    )
    named_description = models.CharField(
        "people not on our records",
        max_length=300,
        blank=True,
        help_text="Names or descriptions of anyone named who is not a person on Throughgate.",
    )
    curfew_from = models.TimeField("curfew from", null=True, blank=True)
    curfew_until = models.TimeField("curfew until", null=True, blank=True)
    starts_on = models.DateField("from")
    ends_on = models.DateField("until", null=True, blank=True)
    notes = EncryptedTextField(blank=True)

    objects = LicenceConditionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "id"]

    def __str__(self) -> str:
        return self.get_kind_display()

    def is_active_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind in END_DATE_REQUIRED and self.ends_on is None:
            errors["ends_on"] = (
                "A licence condition ends when the licence does: give the end date "
                "(the licence expiry date)."
            )
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "The end date is before the start date."
        if self.kind == LicenceKind.EXCLUSION_ZONE and not (
            self.boroughs or self.postcode_districts
        ):
            errors["boroughs"] = "Name at least one borough or postcode district it excludes."
        if self.kind == LicenceKind.CURFEW and (
            self.curfew_from is None or self.curfew_until is None
        ):
            errors["curfew_from"] = "Give the curfew hours (from and until)."
        if errors:
            raise ValidationError(errors)


class DBSLevel(models.TextChoices):
    ENHANCED_BARRED_CHILDREN = "enhanced_barred_children", "Enhanced with children's barred list"
    ENHANCED_BARRED_BOTH = (
        "enhanced_barred_both",
        "Enhanced with children's and adults' barred lists",
    )
    ENHANCED = "enhanced", "Enhanced, no barred-list check"
    STANDARD = "standard", "Standard"
    BASIC = "basic", "Basic"


# Work with children in regulated activity needs the children's barred list checked.
DBS_LEVELS_FOR_MATCHING = {DBSLevel.ENHANCED_BARRED_CHILDREN, DBSLevel.ENHANCED_BARRED_BOTH}


class DBSCheck(MentorRecord):
    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="dbs_checks")
    level = models.CharField(max_length=30, choices=DBSLevel.choices)
    certificate_number = models.CharField(
        "certificate number", max_length=12, help_text="The 12 digits on the certificate."
    )
    issued_on = models.DateField("issued on")
    update_service = models.BooleanField("subscribed to the DBS Update Service", default=False)
    update_service_checked_on = models.DateField(
        "Update Service last checked", null=True, blank=True
    )
    renewal_due = models.DateField(
        "renewal due", help_text="Our policy: three years after issue unless on the Update Service."
    )

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = "DBS check"

    def __str__(self) -> str:
        return f"DBS {self.certificate_number} ({self.issued_on:%d/%m/%Y})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        number = (self.certificate_number or "").replace(" ", "")
        if number and (len(number) != 12 or not number.isdigit()):
            errors["certificate_number"] = "A DBS certificate number is 12 digits."
        self.certificate_number = number
        today = timezone.localdate()
        if self.issued_on and self.issued_on > today:
            errors["issued_on"] = "The issue date cannot be in the future."
        if self.issued_on and self.renewal_due and self.renewal_due <= self.issued_on:
            errors["renewal_due"] = "Renewal must fall after the issue date."
        if self.update_service_checked_on and not self.update_service:
            errors["update_service_checked_on"] = (
                "Only a certificate on the Update Service can be checked there."
            )
        if errors:
            raise ValidationError(errors)


class ClearanceLevel(models.TextChoices):
    ESCORTED = "escorted", "Escorted (visits with staff)"
    UNESCORTED = "unescorted", "Unescorted, no keys"
    KEYS = "keys", "Unescorted with keys"


class SecurityClearance(MentorRecord):
    """Prison security vetting is granted per establishment."""

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="clearances")
    establishment = models.ForeignKey(
        Establishment, on_delete=models.PROTECT, related_name="+", verbose_name="prison"
    )
    level = models.CharField(max_length=20, choices=ClearanceLevel.choices)
    granted_on = models.DateField("granted on")
    expires_on = models.DateField("expires on")
    reference = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["establishment__name", "-expires_on"]
        indexes = [models.Index(fields=["mentor", "establishment", "expires_on"])]

    def __str__(self) -> str:
        return f"{self.establishment} until {self.expires_on:%d/%m/%Y}"

    def is_valid_on(self, day: date) -> bool:
        return self.granted_on <= day <= self.expires_on

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.granted_on and self.granted_on > timezone.localdate():
            errors["granted_on"] = "Record a clearance once it has been granted."
        if self.granted_on and self.expires_on and self.expires_on <= self.granted_on:
            errors["expires_on"] = "The expiry date must be after the date granted."
        if errors:
            raise ValidationError(errors)


class TrainingRecord(MentorRecord):
    mentor = models.ForeignKey(
        MentorProfile, on_delete=models.CASCADE, related_name="training_records"
    )
    course = models.ForeignKey(TrainingCourse, on_delete=models.PROTECT, related_name="records")
    completed_on = models.DateField("completed on")
    certificate_reference = models.CharField("certificate", max_length=100, blank=True)

    class Meta:
        ordering = ["-completed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.course} ({self.completed_on:%d/%m/%Y})"

    @property
    def expires_on(self) -> date | None:
        months = self.course.valid_for_months
        if not months:
            return None
        return _add_months(self.completed_on, months)

    def clean(self) -> None:
        if self.completed_on and self.completed_on > timezone.localdate():
            raise ValidationError({"completed_on": "Record training once it is completed."})


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


class Wellbeing(models.TextChoices):
    WELL = "well", "Doing well"
    SOME_CONCERNS = "some_concerns", "Some concerns"
    STRUGGLING = "struggling", "Struggling — needs support"


class SupervisionSession(MentorRecord):
    mentor = models.ForeignKey(
        MentorProfile, on_delete=models.CASCADE, related_name="supervision_sessions"
    )
    held_on = models.DateField("date")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    wellbeing = models.CharField("wellbeing check", max_length=20, choices=Wellbeing.choices)
    notes = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"Supervision {self.held_on:%d/%m/%Y}"

    def clean(self) -> None:
        if self.held_on and self.held_on > timezone.localdate():
            raise ValidationError({"held_on": "Record a supervision session once it has happened."})


def supervision_interval() -> timedelta:
    return timedelta(days=settings.SUPERVISION_INTERVAL_DAYS)


# --- Conflicts between people ------------------------------------------------------


class ConflictKind(models.TextChoices):
    RIVAL_GROUP = "rival_group", "Rival group or postcode"
    CO_DEFENDANT = "co_defendant", "Co-defendant"
    VICTIM_LINK = "victim_link", "Victim link"
    NON_ASSOCIATION = "non_association", "Non-association condition"
    FAMILY_CONFLICT = "family_conflict", "Family conflict"
    OTHER = "other", "Other"


def may_see_conflicts(user: Any) -> bool:
    return roles.role_of(user) in (
        roles.Role.COORDINATOR,
        roles.Role.SAFEGUARDING_LEAD,
        roles.Role.ADMIN,
    )


class ConflictQuerySet(models.QuerySet["Conflict"]):
    def visible_to(self, user: Any) -> ConflictQuerySet:
        """Coordinators (for people of their team, mentors included), the safeguarding
        lead and managers only: a mentor never sees the register."""
        if not may_see_conflicts(user):
            return self.none()
        if roles.sees_everyone(user):
            return self.all()
        people = Person.objects.visible_to(user).values("pk")
        mentors = MentorProfile.objects.visible_to(user).values("person_id")
        return self.filter(
            Q(person_a__in=people)
            | Q(person_b__in=people)
            | Q(person_a__in=mentors)
            | Q(person_b__in=mentors)
        )

    def editable_by(self, user: Any) -> ConflictQuerySet:
        # The safeguarding lead reads the register; coordinators and managers keep it.
        if not roles.manages_cases(user):
            return self.none()
        return self.visible_to(user)

    def active(self) -> ConflictQuerySet:
        return self.filter(active=True)

    def involving(self, person_id: int) -> ConflictQuerySet:
        return self.filter(Q(person_a_id=person_id) | Q(person_b_id=person_id))


class Conflict(TimeStampedModel):
    """A recorded reason two people must not be put together. Stored with the lower
    person id first so a pair has one row whichever way it was entered."""

    person_a = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("type", max_length=20, choices=ConflictKind.choices)
    source = models.CharField(
        max_length=120, help_text="Who told us: e.g. prison security, police, the young person."
    )
    recorded_on = models.DateField("date recorded")
    details = EncryptedTextField(blank=True)
    active = models.BooleanField(default=True)
    ended_on = models.DateField("ended on", null=True, blank=True)
    ended_reason = models.CharField("why it ended", max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ConflictQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person_a__lt=models.F("person_b")),
                name="conflict_two_people_in_order",
                violation_error_message="A conflict needs two different people.",
            ),
            models.UniqueConstraint(
                fields=["person_a", "person_b", "kind"],
                condition=Q(active=True),
                name="conflict_one_active_per_pair_and_kind",
                violation_error_message="This conflict is already recorded.",
            ),
        ]
        indexes = [models.Index(fields=["person_b", "active"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.person_a} / {self.person_b}"

    @property
    def audit_person_id(self) -> int:
        return self.person_a_id

    def other_than(self, person_id: int) -> Person:
        return self.person_b if self.person_a_id == person_id else self.person_a


# --- Batch match proposals ---------------------------------------------------------


class MatchBatchQuerySet(models.QuerySet["MatchBatch"]):
    def visible_to(self, user: Any) -> MatchBatchQuerySet:
        if roles.sees_everyone(user):
            return self.all()
        if roles.is_coordinator(user) and user.team_id:
            return self.filter(team_id=user.team_id)
        return self.none()

    def editable_by(self, user: Any) -> MatchBatchQuerySet:
        if not roles.manages_cases(user):
            return self.none()
        return self.visible_to(user)


class MatchBatch(models.Model):
    """One run of the batch optimum over a team's young people waiting for a mentor."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    total_cost = models.IntegerField(default=0)

    objects = MatchBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "match batches"

    def __str__(self) -> str:
        return f"Batch match {self.created_at:%d/%m/%Y %H:%M}"


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Not taken"
    NO_MATCH = "no_match", "No safe match"


class MatchProposal(models.Model):
    batch = models.ForeignKey(MatchBatch, on_delete=models.CASCADE, related_name="proposals")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="match_proposals")
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    cost = models.IntegerField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "id"]

    def __str__(self) -> str:
        return f"{self.case.person} → {self.mentor or 'no match'}"

    @property
    def audit_person_id(self) -> int:
        return self.case.person_id


# --- What matching needs to know about a young person -----------------------------


class MentorGender(models.TextChoices):
    ANY = "", "Any"
    FEMALE = "female", "A female mentor"
    MALE = "male", "A male mentor"


class MatchingNeedsQuerySet(models.QuerySet["MatchingNeeds"]):
    def visible_to(self, user: Any) -> MatchingNeedsQuerySet:
        return self.filter(person__in=Person.objects.visible_to(user))

    def editable_by(self, user: Any) -> MatchingNeedsQuerySet:
        if not roles.manages_cases(user):
            return self.none()
        return self.filter(person__in=Person.objects.editable_by(user))


class MatchingNeeds(TimeStampedModel):
    """What a coordinator knows of a young person that a mentor's lived experience
    could speak to, and any rule on the mentor's gender."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="matching_needs")
    experiences = models.ManyToManyField(
        LivedExperienceCategory,
        blank=True,
        related_name="+",
        verbose_name="what they are going through",
        help_text="A mentor who has been through the same is ranked higher.",
    )
    mentor_gender_required = models.CharField(
        "mentor's gender",
        max_length=10,
        choices=MentorGender.choices,
        blank=True,
        help_text="Only where the case requires it, e.g. after abuse by a man.",
    )

    objects = MatchingNeedsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "matching needs"

    def __str__(self) -> str:
        return f"Matching needs of {self.person}"

    @property
    def audit_person_id(self) -> int:
        return self.person_id
