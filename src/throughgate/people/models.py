"""Person records: the young people the charity supports, their aliases and families."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.core.choices import COMMON_LANGUAGES, LONDON_BOROUGHS, Ethnicity, Gender
from throughgate.core.encryption import EncryptedTextField
from throughgate.core.models import TimeStampedModel
from throughgate.core.validators import (
    normalise_crn,
    normalise_phone,
    normalise_pnc_id,
    normalise_postcode,
    normalise_prison_number,
)

BOROUGH_CHOICES = [(b, b) for b in LONDON_BOROUGHS] + [("Outside London", "Outside London")]
LANGUAGE_SUGGESTIONS = COMMON_LANGUAGES
EARLIEST_DATE_OF_BIRTH = date(1900, 1, 1)


class PersonQuerySet(models.QuerySet["Person"]):
    def visible_to(self, user: Any) -> PersonQuerySet:
        """The one door to person records (see core.access)."""
        role = roles.role_of(user)
        if role is None or not roles.sees_personal_data(user):
            return self.none()
        if roles.sees_everyone(user):
            return self.all()
        # EXISTS per person rather than a join and DISTINCT: the database can stop at
        # the first matching case, and a search that already narrowed the people to a
        # few (by name) checks only those, instead of walking every case of the team.
        case_model = apps.get_model("casework", "Case")
        cases = case_model.objects.filter(person=OuterRef("pk"))
        if roles.has_caseload(user):
            return self.filter(Exists(cases.filter(mentor=user)))
        if role == roles.Role.COORDINATOR:
            if not user.team_id:
                return self.filter(Exists(cases.filter(coordinator=user)))
            referrals = apps.get_model("casework", "Referral").objects.filter(
                person=OuterRef("pk"), team_id=user.team_id
            )
            return self.filter(Exists(cases.filter(team_id=user.team_id)) | Exists(referrals))
        return self.none()

    def editable_by(self, user: Any) -> PersonQuerySet:
        # The safeguarding lead reads everything but changes records only through
        # safeguarding work, so full-record edits are for the people who hold the case.
        if roles.role_of(user) == roles.Role.SAFEGUARDING_LEAD:
            return self.none()
        return self.visible_to(user)


class Person(TimeStampedModel):
    forename = models.CharField("first name", max_length=100)
    surname = models.CharField("last name", max_length=100)
    preferred_name = models.CharField(
        "preferred name",
        max_length=100,
        blank=True,
        help_text="What they like to be called, if different.",
    )
    date_of_birth = models.DateField("date of birth")
    gender = models.CharField(max_length=20, choices=Gender.choices, default=Gender.NOT_STATED)
    ethnicity = models.CharField(
        max_length=40, choices=Ethnicity.choices, default=Ethnicity.NOT_STATED
    )
    first_language = models.CharField("first language", max_length=60, default="English")
    interpreter_needed = models.BooleanField("needs an interpreter", default=False)
    borough = models.CharField(max_length=40, choices=BOROUGH_CHOICES, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    address = EncryptedTextField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    prison_number = models.CharField(
        "prison number", max_length=7, blank=True, help_text="Like A1234BC."
    )
    pnc_id = models.CharField("PNC ID", max_length=13, blank=True, help_text="Like 2012/0123456Z.")
    crn = models.CharField("probation CRN", max_length=7, blank=True, help_text="Like X123456.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["surname", "forename", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prison_number"],
                condition=~Q(prison_number=""),
                name="person_prison_number_unique",
                violation_error_message="Another person already has this prison number.",
            ),
            models.UniqueConstraint(
                fields=["pnc_id"],
                condition=~Q(pnc_id=""),
                name="person_pnc_id_unique",
                violation_error_message="Another person already has this PNC ID.",
            ),
            models.UniqueConstraint(
                fields=["crn"],
                condition=~Q(crn=""),
                name="person_crn_unique",
                violation_error_message="Another person already has this CRN.",
            ),
        ]
        indexes = [models.Index(fields=["date_of_birth"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.forename} {self.surname}"

    @property
    def display_name(self) -> str:
        if self.preferred_name and self.preferred_name != self.forename:
            return f"{self.preferred_name} ({self.forename}) {self.surname}"
        return self.full_name

    @property
    def audit_person_id(self) -> int | None:
        return self.pk

    def age_on(self, day: date | None = None) -> int:
        day = day or timezone.localdate()
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    @property
    def identifiers(self) -> list[str]:
        return [i for i in (self.prison_number, self.pnc_id, self.crn) if i]

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        for field, normalise in (
            ("prison_number", normalise_prison_number),
            ("pnc_id", normalise_pnc_id),
            ("crn", normalise_crn),
            ("postcode", normalise_postcode),
            ("phone", normalise_phone),
        ):
            value = getattr(self, field)
            if value:
                try:
                    setattr(self, field, normalise(value))
                except ValidationError as exc:
                    errors.setdefault(field, []).append(exc)
        labels = {"prison_number": "prison number", "pnc_id": "PNC ID", "crn": "CRN"}
        for field, label in labels.items():
            value = getattr(self, field)
            if value and field not in errors:
                clash = Person.objects.filter(**{field: value}).exclude(pk=self.pk)
                if clash.exists():
                    # Named on the field (the constraint alone would report it at the top).
                    errors.setdefault(field, []).append(
                        ValidationError(
                            f"Another person already has this {label}; search for them first.",
                            code="duplicate_identifier",
                        )
                    )
        for field in ("forename", "surname", "preferred_name", "first_language"):
            setattr(self, field, " ".join((getattr(self, field) or "").split()))
        dob = self.date_of_birth
        if isinstance(dob, date):
            if dob > timezone.localdate():
                errors.setdefault("date_of_birth", []).append(
                    ValidationError("Date of birth cannot be in the future.", code="future_date")
                )
            elif dob < EARLIEST_DATE_OF_BIRTH:
                errors.setdefault("date_of_birth", []).append(
                    ValidationError(
                        "Date of birth is before 1900; check the year.", code="implausible"
                    )
                )
        if errors:
            raise ValidationError(errors)


class AliasQuerySet(models.QuerySet["Alias"]):
    def visible_to(self, user: Any) -> AliasQuerySet:
        return self.filter(person__in=Person.objects.visible_to(user))

    def editable_by(self, user: Any) -> AliasQuerySet:
        return self.filter(person__in=Person.objects.editable_by(user))


class Alias(TimeStampedModel):
    """Another name a person is or was known by (street names, previous names, misspellings on
    official records)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="aliases")
    forename = models.CharField("first name", max_length=100, blank=True)
    surname = models.CharField("last name", max_length=100, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="Where this name is used.")

    objects = AliasQuerySet.as_manager()

    class Meta:
        ordering = ["surname", "forename", "id"]
        verbose_name_plural = "aliases"

    def __str__(self) -> str:
        return f"{self.forename} {self.surname}".strip()

    @property
    def audit_person_id(self) -> int:
        return self.person_id

    def clean(self) -> None:
        self.forename = " ".join(self.forename.split())
        self.surname = " ".join(self.surname.split())
        if not self.forename and not self.surname:
            raise ValidationError(
                {"surname": "Enter a first name, a last name or both for the alias."}
            )


class Relationship(models.TextChoices):
    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    STEP_PARENT = "step_parent", "Step-parent"
    CARER = "carer", "Carer or guardian"
    FOSTER_CARER = "foster_carer", "Foster carer"
    GRANDPARENT = "grandparent", "Grandparent"
    SIBLING = "sibling", "Brother or sister"
    AUNT_UNCLE = "aunt_uncle", "Aunt or uncle"
    PARTNER = "partner", "Partner"
    CHILD = "child", "Son or daughter"
    OTHER = "other", "Other"


class Influence(models.TextChoices):
    UNKNOWN = "", "Not assessed"
    PROTECTIVE = "protective", "Protective factor"
    MIXED = "mixed", "Mixed"
    RISK = "risk", "Risk"


class FamilyMemberQuerySet(models.QuerySet["FamilyMember"]):
    def visible_to(self, user: Any) -> FamilyMemberQuerySet:
        return self.filter(person__in=Person.objects.visible_to(user))

    def editable_by(self, user: Any) -> FamilyMemberQuerySet:
        return self.filter(person__in=Person.objects.editable_by(user))


class FamilyMember(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="family_members")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    lives_with = models.BooleanField(
        "lives with them", default=False, help_text="Lives at the same address."
    )
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    may_contact = models.BooleanField(
        "may be contacted",
        default=True,
        help_text="Untick if the young person or a safeguarding concern means we must not.",
    )
    notes = EncryptedTextField(blank=True)
    influence = models.CharField(
        "for the young person, they are",
        max_length=20,
        choices=Influence.choices,
        blank=True,
        help_text="A protective factor (keeps them safe and on track) or a risk.",
    )
    own_needs = EncryptedTextField(
        "their own needs",
        blank=True,
        help_text="e.g. a parent's own housing, health or debt worries we help with.",
    )

    objects = FamilyMemberQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relationship_display().lower()})"

    @property
    def audit_person_id(self) -> int:
        return self.person_id

    def clean(self) -> None:
        self.name = " ".join(self.name.split())
        if self.phone:
            try:
                self.phone = normalise_phone(self.phone)
            except ValidationError as exc:
                raise ValidationError({"phone": exc}) from None


class NameIndex(models.Model):
    """Search keys for every name a person is known by (their own and each alias).

    Maintained by people.actions whenever a name changes; lets search and the
    duplicate check find "Jon Smyth" by sound or prefix with one indexed query.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="name_keys")
    forename = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    is_alias = models.BooleanField(default=False)
    forename_sound = models.CharField(max_length=12, db_index=True)
    surname_sound = models.CharField(max_length=12, db_index=True)
    forename_prefix = models.CharField(max_length=2, db_index=True)
    surname_prefix = models.CharField(max_length=2, db_index=True)

    def __str__(self) -> str:
        return f"{self.forename} {self.surname}"


# --- Duplicate linkage and merging (people.linkage, people.merge) ----------------------


class FoundBy(models.TextChoices):
    INTAKE = "intake", "At intake"
    IMPORT = "import", "At import"
    REVIEW = "review", "Periodic review"


class CandidateStatus(models.TextChoices):
    OPEN = "open", "To decide"
    DECLINED = "declined", "Not the same person"


class DuplicateCandidateQuerySet(models.QuerySet["DuplicateCandidate"]):
    def visible_to(self, user: Any) -> DuplicateCandidateQuerySet:
        """Merging people is the manager's job (DESIGN.md: Ade, "everything"): a pair is
        shown only to an admin, and only when both records are visible to them."""
        if not roles.is_admin(user):
            return self.none()
        visible = Person.objects.visible_to(user).values("pk")
        return self.filter(person_a__in=visible, person_b__in=visible)

    def editable_by(self, user: Any) -> DuplicateCandidateQuerySet:
        return self.visible_to(user)

    def involving(self, person_id: int) -> DuplicateCandidateQuerySet:
        return self.filter(Q(person_a_id=person_id) | Q(person_b_id=person_id))


class DuplicateCandidate(TimeStampedModel):
    """Two person records the linkage thinks may be one person, and what was decided.

    One row per pair (lower id first), whatever found it and however often: a pair
    declined as "not the same person" stays declined and is never proposed again. A
    merged pair leaves no row (one of its people is gone); the merge is a PersonMerge.
    """

    person_a = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    match_probability = models.FloatField("match probability")
    match_weight = models.FloatField("match weight")
    agreements = models.JSONField("what agreed", default=list, blank=True)
    found_by = models.CharField(max_length=10, choices=FoundBy.choices)
    status = models.CharField(
        max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField("note", max_length=300, blank=True)

    objects = DuplicateCandidateQuerySet.as_manager()

    class Meta:
        ordering = ["-match_weight", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person_a__lt=models.F("person_b")),
                name="duplicate_candidate_ordered_pair",
            ),
            models.UniqueConstraint(
                fields=["person_a", "person_b"], name="duplicate_candidate_one_row_per_pair"
            ),
        ]
        indexes = [models.Index(fields=["status", "-match_weight"])]

    def __str__(self) -> str:
        return f"Possible duplicate: {self.person_a_id} and {self.person_b_id}"

    @property
    def audit_person_id(self) -> int:
        return self.person_a_id


class PersonMerge(models.Model):
    """A person record merged into another and deleted: where its old id now leads.

    Kept so that a link or bookmark to the old record finds the kept one (through
    `people.merge.kept_record_for`, which still scopes by Person.visible_to)."""

    old_person_id = models.BigIntegerField(unique=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="merged_records")
    old_name = models.CharField(max_length=201)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    moved = models.JSONField("what was moved", default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.old_person_id} merged into {self.person_id}"

    @property
    def audit_person_id(self) -> int:
        return self.person_id


# --- Retention: periods, legal holds and the record of purges (people.retention) -------


class RetentionRule(models.TextChoices):
    CLOSED_CASES = "closed_cases", "People whose every case is closed"
    DECLINED_REFERRALS = "declined_referrals", "People referred but never taken on"
    SAFEGUARDING_AGE = "safeguarding_age", "People with a safeguarding concern"
    TRAINING_DELEGATES = "training_delegates", "Training course delegates"


class RetentionPeriod(models.Model):
    """The charity's chosen period for one rule; with no row, the default in
    people.retention.DEFAULT_YEARS applies."""

    rule = models.CharField(max_length=30, choices=RetentionRule.choices, unique=True)
    years = models.PositiveSmallIntegerField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rule"]
        constraints = [
            models.CheckConstraint(
                condition=Q(years__gte=1) & Q(years__lte=100), name="retention_years_1_to_100"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.years} years"


class LegalHoldQuerySet(models.QuerySet["LegalHold"]):
    def visible_to(self, user: Any) -> LegalHoldQuerySet:
        """Holds are the manager's business (retention is Ade's): nobody else sees them."""
        if not roles.is_admin(user):
            return self.none()
        return self.filter(person__in=Person.objects.visible_to(user))

    def active(self) -> LegalHoldQuerySet:
        return self.filter(lifted_at__isnull=True)


class LegalHold(models.Model):
    """A person whose records must not be purged while the hold stands (a police or
    court request, a claim, an inquiry). Lifted holds are kept as history."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="legal_holds")
    reason = models.CharField(
        max_length=300, help_text="e.g. “Police request 2026-11, case ref 01/2345/26”."
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(lifted_at__isnull=True),
                name="legal_hold_one_active_per_person",
                violation_error_message="This person is already on legal hold.",
            )
        ]

    def __str__(self) -> str:
        return f"Legal hold on person {self.person_id}"

    @property
    def audit_person_id(self) -> int:
        return self.person_id

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class PurgeRun(models.Model):
    """One run of the retention purge (or of its dry run): who, when, and how many
    records each rule found due, held and anonymised. Holds no personal data."""

    dry_run = models.BooleanField(default=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by_username = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{'Dry run' if self.dry_run else 'Purge'} {self.pk}"

    @property
    def total_purged(self) -> int:
        return sum(int(c.get("purged", 0)) for c in (self.counts or {}).values())


class PurgeRecord(models.Model):
    """One record anonymised (or deleted, for names and search keys) by a purge: its
    type and id, never its contents. A person's own row marks them as anonymised."""

    run = models.ForeignKey(PurgeRun, on_delete=models.PROTECT, related_name="records")
    rule = models.CharField(max_length=30, choices=RetentionRule.choices)
    model_label = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    person_id = models.BigIntegerField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["model_label", "object_id"])]

    def __str__(self) -> str:
        return f"{self.model_label} {self.object_id} ({self.rule})"
