"""Prisons, time in custody, key dates, transfers and the release-day plan.

An episode's expected release date is computed (engines.release) from its key
dates and stored, so the release calendar can filter and sort on one indexed
column; every change of a key date is kept in KeyDateChange with who and why.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.casework.models import Case
from throughgate.core.encryption import EncryptedTextField
from throughgate.core.models import TimeStampedModel
from throughgate.people.models import Person

_SUFFIX = re.compile(r"^(?P<name>.+?)\s*\((?P<kind>[^)]+)\)$")


class Establishment(models.Model):
    code = models.CharField("agency code", max_length=10, primary_key=True)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    male = models.BooleanField(default=False)
    female = models.BooleanField(default=False)
    contracted = models.BooleanField(default=False)
    types = models.CharField(max_length=60, blank=True)  # "HMP;YOI"
    categories = models.CharField(max_length=20, blank=True)  # "A;B"
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    county = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=20, blank=True)
    name_welsh = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def gate_address(self) -> str:
        """Where a mentor waits on release day: the establishment's register address."""
        parts = [self.address_line1, self.address_line2, self.town, self.postcode]
        return ", ".join(p for p in parts if p)

    @property
    def display_name(self) -> str:
        """ "Feltham (HMP)" as people say it: "HMP Feltham"; "Isis (HMP & YOI)": "HMP/YOI Isis"."""
        match = _SUFFIX.match(self.name)
        if not match:
            return self.name
        kind = match["kind"].replace(" & ", "/")
        return f"{kind} {match['name']}"


class SentenceType(models.TextChoices):
    DETERMINATE = "determinate", "Determinate sentence"
    DTO = "dto", "Detention and Training Order (under 18)"
    EXTENDED = "extended", "Extended determinate sentence"
    INDETERMINATE = "indeterminate", "Life or IPP (indeterminate)"
    RECALL = "recall", "Recall to custody"
    REMAND = "remand", "On remand"


# The key dates, in the order people read them, with the names used on screens.
KEY_DATES = {
    "sentence_date": "Sentence date",
    "crd": "Conditional release date (CRD)",
    "ard": "Automatic release date (ARD)",
    "hdced": "HDC eligibility date (HDCED)",
    "hdcad": "HDC approved date (HDCAD)",
    "ped": "Parole eligibility date (PED)",
    "led": "Licence expiry date (LED)",
    "sed": "Sentence expiry date (SED)",
    "tused": "Top-up supervision expiry date (TUSED)",
    "confirmed_release_date": "Confirmed release date",
}


class CustodyEpisodeQuerySet(models.QuerySet["CustodyEpisode"]):
    def visible_to(self, user: Any) -> CustodyEpisodeQuerySet:
        return self.filter(person__in=Person.objects.visible_to(user))

    def editable_by(self, user: Any) -> CustodyEpisodeQuerySet:
        return self.filter(person__in=Person.objects.editable_by(user))

    def current(self) -> CustodyEpisodeQuerySet:
        return self.filter(released_on__isnull=True)


def _date_field(label: str) -> models.DateField:
    return models.DateField(label, null=True, blank=True)


class CustodyEpisode(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="custody_episodes")
    establishment = models.ForeignKey(
        Establishment, on_delete=models.PROTECT, related_name="episodes", verbose_name="prison"
    )
    received_on = models.DateField("in custody since")
    sentence_type = models.CharField(
        max_length=20, choices=SentenceType.choices, default=SentenceType.DETERMINATE
    )
    sentence_date = _date_field(KEY_DATES["sentence_date"])
    crd = _date_field(KEY_DATES["crd"])
    ard = _date_field(KEY_DATES["ard"])
    hdced = _date_field(KEY_DATES["hdced"])
    hdcad = _date_field(KEY_DATES["hdcad"])
    ped = _date_field(KEY_DATES["ped"])
    led = _date_field(KEY_DATES["led"])
    sed = _date_field(KEY_DATES["sed"])
    tused = _date_field(KEY_DATES["tused"])
    confirmed_release_date = _date_field(KEY_DATES["confirmed_release_date"])
    # Computed from the dates above by engines.release whenever they change.
    expected_release_date = models.DateField("expected release date", null=True, blank=True)
    expected_release_basis = models.CharField(max_length=20, blank=True)
    expected_release_note = models.CharField(max_length=400, blank=True)
    released_on = models.DateField("released on", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CustodyEpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["released_on", "expected_release_date"])]

    def __str__(self) -> str:
        return f"{self.establishment} from {self.received_on:%d/%m/%Y}"

    @property
    def audit_person_id(self) -> int:
        return self.person_id

    def key_dates(self) -> list[tuple[str, str, date | None]]:
        return [(name, label, getattr(self, name)) for name, label in KEY_DATES.items()]

    def clean(self) -> None:
        from throughgate.engines.release import KeyDates, validate_key_dates

        errors: dict[str, str] = {}
        today = timezone.localdate()
        if isinstance(self.received_on, date):
            if self.received_on > today:
                errors["received_on"] = "The date they went into custody cannot be in the future."
            elif self.person_id and self.received_on < self.person.date_of_birth:
                errors["received_on"] = "This is before the person was born."
        if isinstance(self.sentence_date, date) and self.person_id:
            if self.sentence_date < self.person.date_of_birth:
                errors["sentence_date"] = "The sentence date is before the person was born."
        dates = KeyDates(**{name: getattr(self, name) for name in KEY_DATES})
        for name, problem in validate_key_dates(dates, self.sentence_type).items():
            errors.setdefault(name, problem)
        if isinstance(self.received_on, date):
            for name in ("crd", "ard", "hdcad", "confirmed_release_date"):
                value = getattr(self, name)
                if isinstance(value, date) and value < self.received_on and name not in errors:
                    errors[name] = "This release date is before they went into custody."
        if isinstance(self.released_on, date):
            if isinstance(self.received_on, date) and self.released_on < self.received_on:
                errors["released_on"] = "The release date is before they went into custody."
            elif isinstance(self.sentence_date, date) and self.released_on < self.sentence_date:
                errors["released_on"] = "The release date is before the sentence date."
            elif self.released_on > today:
                errors["released_on"] = (
                    "A release cannot be recorded for a future date; "
                    "set the confirmed release date instead."
                )
        if self.establishment_id and not self.establishment.active and not self.pk:
            errors["establishment"] = "This prison is no longer open; choose a current one."
        if errors:
            raise ValidationError(errors)


class KeyDateChange(models.Model):
    """One change of one key date: the dated, attributed history coordinators rely on
    when a release date moves (HDC approved, parole, recall, an added day)."""

    episode = models.ForeignKey(
        CustodyEpisode, on_delete=models.CASCADE, related_name="date_changes"
    )
    field = models.CharField(max_length=30)
    old_value = models.DateField(null=True, blank=True)
    new_value = models.DateField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label}: {self.old_value or '—'} → {self.new_value or '—'}"

    @property
    def label(self) -> str:
        return KEY_DATES.get(self.field, "Expected release date")

    @property
    def audit_person_id(self) -> int:
        return self.episode.person_id


class Transfer(models.Model):
    episode = models.ForeignKey(CustodyEpisode, on_delete=models.CASCADE, related_name="transfers")
    from_establishment = models.ForeignKey(
        Establishment, on_delete=models.PROTECT, related_name="+", verbose_name="from"
    )
    to_establishment = models.ForeignKey(
        Establishment, on_delete=models.PROTECT, related_name="+", verbose_name="to"
    )
    transferred_on = models.DateField("date of transfer")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["transferred_on", "id"]

    def __str__(self) -> str:
        return (
            f"{self.from_establishment} → {self.to_establishment} on {self.transferred_on:%d/%m/%Y}"
        )

    @property
    def audit_person_id(self) -> int:
        return self.episode.person_id


class ItemKind(models.TextChoices):
    ACCOMMODATION = "accommodation", "Accommodation for release night"
    ID = "id", "ID"
    BANK_ACCOUNT = "bank_account", "Bank account"
    BENEFITS = "benefits", "Benefits claim (Universal Credit)"
    GP = "gp", "GP registration"
    PRESCRIPTIONS = "prescriptions", "Prescriptions for release day"
    PROBATION = "probation", "Probation first appointment"
    PHONE = "phone", "Phone"
    TRAVEL = "travel", "Travel to the gate and onward"
    CLOTHES = "clothes", "Clothes and stored possessions"
    DEBTS = "debts", "Debts and fines"
    SUBSISTENCE = "subsistence", "Subsistence payment"
    GATE_MEETING = "gate_meeting", "Gate meeting"
    OTHER = "other", "Other"


class ItemOwner(models.TextChoices):
    MENTOR = "mentor", "Mentor"
    PRISON = "prison", "Prison"
    PROBATION = "probation", "Probation"
    FAMILY = "family", "Family"
    AGENCY = "agency", "Other agency"
    YOUNG_PERSON = "young_person", "The young person"


class ItemStatus(models.TextChoices):
    TO_DO = "to_do", "To do"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    NOT_NEEDED = "not_needed", "Not needed"


# The standard release-day checklist (HMPPS resettlement practice): who usually owns
# each item and how many days before release it should be done.
STANDARD_ITEMS: list[tuple[str, str, int]] = [
    (ItemKind.ACCOMMODATION, ItemOwner.PROBATION, -14),
    (ItemKind.ID, ItemOwner.PRISON, -28),
    (ItemKind.BANK_ACCOUNT, ItemOwner.PRISON, -21),
    (ItemKind.BENEFITS, ItemOwner.PRISON, -7),
    (ItemKind.GP, ItemOwner.MENTOR, -7),
    (ItemKind.PRESCRIPTIONS, ItemOwner.PRISON, -3),
    (ItemKind.PROBATION, ItemOwner.PROBATION, -7),
    (ItemKind.PHONE, ItemOwner.MENTOR, -3),
    (ItemKind.TRAVEL, ItemOwner.MENTOR, -3),
    (ItemKind.CLOTHES, ItemOwner.FAMILY, -7),
    (ItemKind.DEBTS, ItemOwner.MENTOR, -14),
    (ItemKind.SUBSISTENCE, ItemOwner.PRISON, -1),
    (ItemKind.GATE_MEETING, ItemOwner.MENTOR, -7),
]

OPEN_STATUSES = (ItemStatus.TO_DO, ItemStatus.IN_PROGRESS)


class ReleasePlanQuerySet(models.QuerySet["ReleasePlan"]):
    def visible_to(self, user: Any) -> ReleasePlanQuerySet:
        return self.filter(case__in=Case.objects.visible_to(user))

    def editable_by(self, user: Any) -> ReleasePlanQuerySet:
        return self.filter(case__in=Case.objects.editable_by(user))


class ReleasePlan(TimeStampedModel):
    """The release-day plan of one case for one custody episode."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="release_plans")
    episode = models.ForeignKey(
        CustodyEpisode, on_delete=models.CASCADE, related_name="release_plans"
    )

    objects = ReleasePlanQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "episode"], name="one_plan_per_case_episode")
        ]

    def __str__(self) -> str:
        return f"Release-day plan for {self.case.person}"

    @property
    def audit_person_id(self) -> int:
        return self.case.person_id


class PlanItemQuerySet(models.QuerySet["PlanItem"]):
    def visible_to(self, user: Any) -> PlanItemQuerySet:
        return self.filter(plan__case__in=Case.objects.visible_to(user))

    def editable_by(self, user: Any) -> PlanItemQuerySet:
        return self.filter(plan__case__in=Case.objects.editable_by(user))

    def outstanding(self) -> PlanItemQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class PlanItem(TimeStampedModel):
    plan = models.ForeignKey(ReleasePlan, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    label = models.CharField(max_length=120, blank=True, help_text="For an item of your own.")
    owner = models.CharField("who does it", max_length=20, choices=ItemOwner.choices)
    owner_detail = models.CharField(
        "owner's name or agency", max_length=120, blank=True, help_text="e.g. St Mungo's, CRS"
    )
    status = models.CharField(max_length=20, choices=ItemStatus.choices, default=ItemStatus.TO_DO)
    due_date = models.DateField("due by", null=True, blank=True)
    appointment_at = models.DateTimeField(
        "date and time", null=True, blank=True, help_text="For appointments and the gate meeting."
    )
    place = models.CharField(max_length=200, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plan_items",
        verbose_name="who meets them",
    )
    notes = EncryptedTextField(blank=True)
    completed_on = models.DateField(null=True, blank=True)

    objects = PlanItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["kind", "status"]),
            # One plan's item of a kind (accommodation on release night …), whatever
            # the number of plans ever made.
            models.Index(fields=["plan", "kind", "status"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.label or self.get_kind_display()

    @property
    def audit_person_id(self) -> int:
        return self.plan.case.person_id

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def clean(self) -> None:
        errors: dict[str, str] = {}
        self.label = " ".join(self.label.split())
        if self.kind == ItemKind.OTHER and not self.label:
            errors["label"] = "Say what this item is."
        if self.kind == ItemKind.GATE_MEETING and self.status == ItemStatus.DONE:
            if not self.appointment_at:
                errors["appointment_at"] = "Give the time of the gate meeting."
            if not self.assignee_id:
                errors["assignee"] = "Say who met them at the gate."
        if self.owner == ItemOwner.AGENCY and not self.owner_detail.strip():
            errors["owner_detail"] = "Name the agency."
        if errors:
            raise ValidationError(errors)


class CalendarTokenQuerySet(models.QuerySet["CalendarToken"]):
    def active(self) -> CalendarTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class CalendarToken(models.Model):
    """A private, revocable link to a mentor's iCalendar feed. Only a hash of the
    token is stored: a copy of the database does not open anyone's calendar."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Calendar link of {self.user} from {self.created_at:%d/%m/%Y}"


def may_use_release_calendar(user: Any) -> bool:
    return roles.manages_cases(user) or roles.role_of(user) == roles.Role.SAFEGUARDING_LEAD


FOLLOW_UP_DAYS = 21  # the first-days follow-up plan covers three weeks after release


def upcoming_follow_ups(user: Any, today: date) -> list[tuple[Case, date, list[date]]]:
    """(case, release date, attended contact dates) for this user's mentees released in
    the last three weeks: the input to engines.release.follow_ups. Three queries."""
    from throughgate.casework.models import Contact

    released = {
        person_id: released_on
        for person_id, released_on in CustodyEpisode.objects.filter(
            released_on__range=(today - timedelta(days=FOLLOW_UP_DAYS), today),
            person__cases__mentor=user,
        ).values_list("person_id", "released_on")
    }
    cases = list(
        Case.objects.open().filter(mentor=user, person_id__in=released).select_related("person")
    )
    contacts: dict[int, list[date]] = {c.pk: [] for c in cases}
    for case_id, when in Contact.objects.filter(
        case__in=cases, attendance__in=["attended", "late"]
    ).values_list("case_id", "occurred_at"):
        contacts[case_id].append(timezone.localtime(when).date())
    return [(c, released[c.person_id], contacts[c.pk]) for c in cases]


def first_days_follow_ups(user: Any, today: date) -> list[tuple[Case, Any]]:
    """Every day 1, day 3 and week 2 follow-up (engines.release.FollowUp) of this user's
    recently released mentees, with its case: the home page and the calendar feed each
    pick the statuses they show."""
    from throughgate.engines.release import follow_ups

    return [
        (case, follow)
        for case, released_on, contact_dates in upcoming_follow_ups(user, today)
        for follow in follow_ups(released_on, contact_dates, today)
    ]
