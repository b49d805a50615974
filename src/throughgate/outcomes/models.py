"""Reoffending events on a person, and the national baselines a cohort is compared with."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from throughgate.core.models import TimeStampedModel
from throughgate.people.models import Person


class DisposalType(models.TextChoices):
    """Keys as engines.reoffending: the first four prove an offence, the rest do not."""

    CONVICTION = "conviction", "Conviction"
    CAUTION = "caution", "Caution"
    YOUTH_CAUTION = "youth_caution", "Youth caution"
    CONDITIONAL_CAUTION = "conditional_caution", "Youth conditional / conditional caution"
    RECALL = "recall", "Recall to custody"
    BREACH = "breach", "Breach of licence or order"
    OTHER = "other", "Other"


class OffenceGroup(models.TextChoices):
    """The Ministry of Justice's offence groups."""

    VIOLENCE = "violence", "Violence against the person"
    SEXUAL = "sexual", "Sexual offences"
    ROBBERY = "robbery", "Robbery"
    THEFT = "theft", "Theft offences"
    CRIMINAL_DAMAGE = "criminal_damage", "Criminal damage and arson"
    DRUGS = "drugs", "Drug offences"
    WEAPONS = "weapons", "Possession of weapons"
    PUBLIC_ORDER = "public_order", "Public order offences"
    SOCIETY = "society", "Miscellaneous crimes against society"
    FRAUD = "fraud", "Fraud offences"
    SUMMARY_NON_MOTORING = "summary_non_motoring", "Summary non-motoring"
    SUMMARY_MOTORING = "summary_motoring", "Summary motoring"
    NOT_KNOWN = "", "Not known"


class EventSource(models.TextChoices):
    PROBATION = "probation", "Probation"
    POLICE = "police", "Police"
    YJS = "yjs", "Youth Justice Service"
    PRISON = "prison", "Prison"
    SELF_REPORT = "self_report", "The young person"
    MENTOR = "mentor", "Mentor"
    OTHER = "other", "Other"


PROVEN = {
    DisposalType.CONVICTION, DisposalType.CAUTION, DisposalType.YOUTH_CAUTION,
    DisposalType.CONDITIONAL_CAUTION,
}  # fmt: skip


class ReoffendingEventQuerySet(models.QuerySet["ReoffendingEvent"]):
    def visible_to(self, user: Any) -> ReoffendingEventQuerySet:
        return self.filter(person__in=Person.objects.visible_to(user))

    def editable_by(self, user: Any) -> ReoffendingEventQuerySet:
        return self.filter(person__in=Person.objects.editable_by(user))


class ReoffendingEvent(TimeStampedModel):
    """An offence and what the justice system did about it, or a recall or breach."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="reoffending_events")
    offence_date = models.DateField("offence date", null=True, blank=True)
    disposal_date = models.DateField(
        "disposal date", null=True, blank=True, help_text="Conviction, caution or recall date."
    )
    disposal_type = models.CharField("what happened", max_length=30, choices=DisposalType.choices)
    offence_group = models.CharField(
        "offence group", max_length=30, choices=OffenceGroup.choices, blank=True
    )
    custodial = models.BooleanField("custodial sentence", default=False)
    source = models.CharField("how we know", max_length=20, choices=EventSource.choices)
    verified = models.BooleanField(
        "verified", default=False, help_text="Confirmed by probation, police or court records."
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReoffendingEventQuerySet.as_manager()

    class Meta:
        ordering = ["-offence_date", "-disposal_date", "-id"]
        indexes = [models.Index(fields=["person", "offence_date"])]

    def __str__(self) -> str:
        when = self.offence_date or self.disposal_date
        return f"{self.get_disposal_type_display()}{f' ({when:%d/%m/%Y})' if when else ''}"

    @property
    def audit_person_id(self) -> int:
        return self.person_id

    @property
    def is_proven(self) -> bool:
        return self.disposal_type in PROVEN

    def clean(self) -> None:
        errors: dict[str, str] = {}
        today = timezone.localdate()
        for name in ("offence_date", "disposal_date"):
            value = getattr(self, name)
            if value and value > today:
                errors[name] = "This date cannot be in the future."
        if self.disposal_type in PROVEN:
            if not self.offence_date:
                errors["offence_date"] = "A conviction or caution needs the date of the offence."
            if not self.disposal_date:
                errors["disposal_date"] = "Give the date of the conviction or caution."
        elif not (self.offence_date or self.disposal_date):
            errors["disposal_date"] = "Give the date it happened."
        if (
            self.offence_date
            and self.disposal_date
            and self.disposal_date < self.offence_date
            and "disposal_date" not in errors
        ):
            errors["disposal_date"] = "The disposal cannot come before the offence."
        if self.offence_date and self.person_id and self.offence_date < self.person.date_of_birth:
            errors["offence_date"] = "This is before the person was born."
        if errors:
            raise ValidationError(errors)


class NationalBaseline(models.Model):
    """A published proven reoffending rate to set a cohort beside (admins keep the table)."""

    label = models.CharField(max_length=200, help_text="Who the figure is about.")
    period = models.CharField(max_length=100, help_text="e.g. April to June 2023 cohort")
    rate = models.DecimalField("proven reoffending rate (%)", max_digits=4, decimal_places=1)
    source = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return f"{self.label}: {self.rate}%"

    def clean(self) -> None:
        if self.rate is not None and not 0 <= self.rate <= 100:
            raise ValidationError({"rate": "A rate is between 0 and 100 per cent."})


class PoolSource(models.TextChoices):
    OWN = "own", "People referred to the programme but not supported"
    FILE = "file", "A comparison file (CSV or Parquet)"


class EvaluationRun(models.Model):
    """A finished impact evaluation: its settings and its report, aggregates only. The
    data it was computed from is not kept (an uploaded file is read and discarded); a run
    that was refused is not stored at all."""

    created_at = models.DateTimeField(auto_now_add=True)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    programme = models.ForeignKey(
        "casework.Programme", on_delete=models.PROTECT, related_name="evaluations"
    )
    pool_source = models.CharField("comparison pool", max_length=10, choices=PoolSource.choices)
    pool_name = models.CharField("comparison pool", max_length=200)
    as_of = models.DateField("as of")
    index_from = models.DateField("index dates from", null=True, blank=True)
    index_to = models.DateField("index dates to", null=True, blank=True)
    parameters = models.JSONField(default=dict)
    report = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Impact evaluation of {self.programme} ({self.created_at:%d/%m/%Y})"

    @property
    def headline(self) -> dict[str, Any]:
        return self.report.get("headline", {})

    @property
    def headline_difference(self) -> str:
        estimate = self.headline.get("estimate")
        return "" if estimate is None else f"{100 * estimate:+.1f} points"


class CohortFigures(models.Model):
    """The outcomes dashboard's figures for one "as of" date and one breakdown, worked out
    by a background job (`outcomes.figures`) so that the page does not measure every
    participant on each request. `overall` and `groups` hold `engines.reoffending.Measures`
    as JSON (without the list of not-yet-mature people): aggregates only, no personal data.
    """

    as_of = models.DateField()
    group_by = models.CharField(max_length=20)
    computed_at = models.DateTimeField(default=timezone.now)
    overall = models.JSONField(default=dict)
    groups = models.JSONField(default=dict)  # label -> measures, in the engine's order

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["as_of", "group_by"], name="one_figures_per_day_and_breakdown"
            )
        ]
        indexes = [models.Index(fields=["group_by", "-as_of"], name="figures_latest")]

    def __str__(self) -> str:
        return f"Outcome figures by {self.group_by} as of {self.as_of}"
