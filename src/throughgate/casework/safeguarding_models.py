"""Safeguarding concerns (any programme), their triage, actions, MASH and NRM referrals;
and child criminal exploitation risk checks on a case.

Imported at the bottom of casework/models.py so Django finds the models there.

Who sees a concern is decided once, in `SafeguardingConcernQuerySet.visible_to`: the
safeguarding lead(s), the manager/admin and the person who raised it. Everyone else,
even someone who can see the young person, gets 404 on the concern's pages.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.core.encryption import EncryptedTextField
from throughgate.core.models import TimeStampedModel
from throughgate.people.models import Person

from .models import Case, CaseChild

# A concern must be triaged by the safeguarding lead within this long of being raised.
TRIAGE_WITHIN = timedelta(hours=24)


leads_safeguarding = roles.leads_safeguarding  # where the rule lives: accounts.roles


class ConcernCategory(models.TextChoices):
    EXPLOITATION = "exploitation", "Exploitation / child criminal exploitation (CCE)"
    COUNTY_LINES = "county_lines", "County lines"
    SEXUAL_EXPLOITATION = "sexual_exploitation", "Sexual exploitation"
    NEGLECT = "neglect", "Neglect"
    PHYSICAL = "physical", "Physical abuse"
    EMOTIONAL = "emotional", "Emotional abuse"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    RADICALISATION = "radicalisation", "Radicalisation"
    SELF_HARM = "self_harm", "Self-harm or suicide"
    MISSING = "missing", "Missing from home or care"
    OTHER = "other", "Other"


class AtRisk(models.TextChoices):
    YOUNG_PERSON = "young_person", "The young person"
    OTHER_CHILD = "other_child", "A sibling or other child"
    ADULT = "adult", "An adult"
    OTHER = "other", "Someone else"


class ConcernStatus(models.TextChoices):
    AWAITING_TRIAGE = "awaiting_triage", "Waiting for triage"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class TriageDecision(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    MONITOR = "monitor", "Monitor"
    EARLY_HELP = "early_help", "Early help"
    REFER_MASH = "refer_mash", "Refer to the MASH (children's social care)"
    REFER_POLICE = "refer_police", "Refer to the police"
    NRM = "nrm", "NRM referral via the local authority"
    OTHER = "other", "Other (explain in the rationale)"


class SafeguardingConcernQuerySet(models.QuerySet["SafeguardingConcern"]):
    def visible_to(self, user: Any) -> SafeguardingConcernQuerySet:
        """The one door to concern details: the lead(s) and the admin see every concern;
        whoever raised a concern sees that one; nobody else sees any (the analyst none)."""
        if not roles.sees_personal_data(user):
            return self.none()
        if leads_safeguarding(user):
            return self.all()
        return self.filter(raised_by=user)

    def editable_by(self, user: Any) -> SafeguardingConcernQuerySet:
        """Triage, actions, MASH and NRM referrals, closure: the lead(s) and the admin."""
        if not leads_safeguarding(user):
            return self.none()
        return self.visible_to(user)

    def awaiting_triage(self) -> SafeguardingConcernQuerySet:
        return self.filter(status=ConcernStatus.AWAITING_TRIAGE)

    def overdue(self, now: datetime | None = None) -> SafeguardingConcernQuerySet:
        now = now or timezone.now()
        return self.awaiting_triage().filter(raised_at__lt=now - TRIAGE_WITHIN)


class SafeguardingConcern(TimeStampedModel):
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="safeguarding_concerns"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="safeguarding_concerns_raised",
    )  # fmt: skip
    raised_at = models.DateTimeField("raised", default=timezone.now)
    observed_at = models.DateTimeField("when was it seen or heard?")
    what_happened = EncryptedTextField("what did you see or hear?")
    at_risk = models.CharField("who is at risk?", max_length=20, choices=AtRisk.choices)
    at_risk_name = models.CharField(
        "their name", max_length=200, blank=True,
        help_text="If it is not the young person: the name of the child or adult at risk.",
    )  # fmt: skip
    category = models.CharField("what kind of concern?", max_length=30,
                                choices=ConcernCategory.choices)  # fmt: skip
    immediate_action = EncryptedTextField(
        "what have you done already?", blank=True,
        help_text="For example: stayed with them, called their carer, called 999.",
    )  # fmt: skip
    immediate_danger = models.BooleanField(
        "a child is in immediate danger now", default=False,
        help_text="If so, call 999 first, then phone the safeguarding lead.",
    )  # fmt: skip
    status = models.CharField(
        max_length=20, choices=ConcernStatus.choices, default=ConcernStatus.AWAITING_TRIAGE
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(
        "latest triage decision", max_length=30, choices=TriageDecision.choices, blank=True
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = EncryptedTextField("outcome", blank=True)

    objects = SafeguardingConcernQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["status", "raised_at"]),
            models.Index(fields=["person", "raised_at"]),
        ]

    def __str__(self) -> str:
        return f"Safeguarding concern about {self.person} ({self.raised_local:%d/%m/%Y %H:%M})"

    @property
    def audit_person_id(self) -> int:
        return self.person_id

    @property
    def raised_local(self) -> datetime:
        return timezone.localtime(self.raised_at)

    @property
    def triage_due_at(self) -> datetime:
        return self.raised_at + TRIAGE_WITHIN

    def is_overdue(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.status == ConcernStatus.AWAITING_TRIAGE and now > self.triage_due_at

    def overdue_by(self, now: datetime | None = None) -> timedelta:
        now = now or timezone.now()
        return max(now - self.triage_due_at, timedelta(0))

    def clean(self) -> None:
        errors: dict[str, str] = {}
        now = timezone.now()
        if isinstance(self.observed_at, datetime):
            if self.observed_at > now + timedelta(minutes=5):
                errors["observed_at"] = "This cannot be in the future: when did it happen?"
            elif self.person_id and self.observed_at.date() < self.person.date_of_birth:
                errors["observed_at"] = "This is before the young person was born."
        if self.at_risk in (AtRisk.OTHER_CHILD, AtRisk.ADULT, AtRisk.OTHER) and not (
            self.at_risk_name.strip()
        ):
            errors["at_risk_name"] = "Give the name of the person at risk (or 'not known')."
        if errors:
            raise ValidationError(errors)


class ConcernChild(TimeStampedModel):
    """Records that belong to a concern: the concern's door decides who sees them."""

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def audit_person_id(self) -> int:
        return self.concern.person_id  # type: ignore[attr-defined]


class ConcernChildQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> Any:
        return self.filter(concern__in=SafeguardingConcern.objects.visible_to(user))

    def editable_by(self, user: Any) -> Any:
        return self.filter(concern__in=SafeguardingConcern.objects.editable_by(user))


class ConcernDecision(ConcernChild):
    """A triage decision and why; the first one triages the concern, later ones revise it."""

    concern = models.ForeignKey(
        SafeguardingConcern, on_delete=models.CASCADE, related_name="decisions"
    )
    decision = models.CharField("decision", max_length=30, choices=TriageDecision.choices)
    rationale = EncryptedTextField("why")
    decided_at = models.DateTimeField(default=timezone.now)

    objects = ConcernChildQuerySet.as_manager()

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return self.get_decision_display()


class ConcernAction(ConcernChild):
    """A dated entry of what was done about a concern, and by whom."""

    concern = models.ForeignKey(
        SafeguardingConcern, on_delete=models.CASCADE, related_name="actions"
    )
    taken_on = models.DateField("date")
    description = EncryptedTextField("what was done")
    taken_by = models.CharField("by whom", max_length=200)

    objects = ConcernChildQuerySet.as_manager()

    class Meta:
        ordering = ["taken_on", "id"]

    def __str__(self) -> str:
        return f"{self.taken_on:%d/%m/%Y}: {self.description[:60]}"


class MASHOutcome(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "No further action by children's social care"
    EARLY_HELP = "early_help", "Early help"
    CHILD_IN_NEED = "child_in_need", "Child in need assessment (section 17)"
    SECTION_47 = "section_47", "Strategy discussion / section 47 enquiry"
    ALREADY_OPEN = "already_open", "Already open to children's social care"
    OTHER = "other", "Other"


def _no_future(errors: dict[str, str], record: Any, names: tuple[str, ...]) -> None:
    today = timezone.localdate()
    for name in names:
        value = getattr(record, name)
        if isinstance(value, date) and value > today:
            label = record._meta.get_field(name).verbose_name
            errors[name] = f"The {label} cannot be in the future."


class MASHReferral(ConcernChild):
    """The referral to the local authority's Multi-Agency Safeguarding Hub."""

    concern = models.OneToOneField(
        SafeguardingConcern, on_delete=models.CASCADE, related_name="mash_referral"
    )
    referred_on = models.DateField("date referred")
    local_authority = models.CharField("local authority", max_length=120)
    reference = models.CharField("MASH reference", max_length=60, blank=True)
    outcome = models.CharField(
        "outcome", max_length=30, choices=MASHOutcome.choices, blank=True,
        help_text="Leave blank while waiting to hear.",
    )  # fmt: skip
    outcome_on = models.DateField("date of the outcome", null=True, blank=True)
    notes = EncryptedTextField(blank=True)

    objects = ConcernChildQuerySet.as_manager()

    class Meta:
        verbose_name = "MASH referral"

    def __str__(self) -> str:
        return f"MASH referral to {self.local_authority} ({self.referred_on:%d/%m/%Y})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        _no_future(errors, self, ("referred_on", "outcome_on"))
        if self.concern_id and isinstance(self.referred_on, date) and "referred_on" not in errors:
            raised = timezone.localtime(self.concern.observed_at).date()
            if self.referred_on < raised:
                errors["referred_on"] = (
                    f"The date referred is before the concern was seen ({raised:%d/%m/%Y})."
                )
        if self.outcome and not self.outcome_on and "outcome_on" not in errors:
            errors["outcome_on"] = "Give the date of the outcome."
        if self.outcome_on and not self.outcome:
            errors["outcome"] = "Choose the outcome, or clear its date."
        if (
            isinstance(self.outcome_on, date)
            and isinstance(self.referred_on, date)
            and "outcome_on" not in errors
            and self.outcome_on < self.referred_on
        ):
            errors["outcome_on"] = (
                f"The date of the outcome is before the referral ({self.referred_on:%d/%m/%Y})."
            )
        if errors:
            raise ValidationError(errors)


class GroundsDecision(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"


class NRMReferral(ConcernChild):
    """A National Referral Mechanism referral. Children are referred by the local
    authority as first responder; we record its dates and the Home Office's decisions."""

    concern = models.OneToOneField(
        SafeguardingConcern, on_delete=models.CASCADE, related_name="nrm_referral"
    )
    referred_on = models.DateField("date of the NRM referral")
    first_responder = models.CharField(
        "first responder organisation", max_length=200,
        help_text="For a child, the local authority that made the referral.",
    )  # fmt: skip
    reference = models.CharField("NRM reference", max_length=60, blank=True)
    reasonable_grounds = models.CharField(
        "reasonable grounds decision", max_length=10, choices=GroundsDecision.choices, blank=True
    )
    reasonable_grounds_on = models.DateField(
        "date of the reasonable grounds decision", null=True, blank=True
    )
    conclusive_grounds = models.CharField(
        "conclusive grounds decision", max_length=10, choices=GroundsDecision.choices, blank=True
    )
    conclusive_grounds_on = models.DateField(
        "date of the conclusive grounds decision", null=True, blank=True
    )
    notes = EncryptedTextField(blank=True)

    objects = ConcernChildQuerySet.as_manager()

    class Meta:
        verbose_name = "NRM referral"

    def __str__(self) -> str:
        return f"NRM referral by {self.first_responder} ({self.referred_on:%d/%m/%Y})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        _no_future(errors, self, ("referred_on", "reasonable_grounds_on", "conclusive_grounds_on"))
        referred = self.referred_on if isinstance(self.referred_on, date) else None
        rg_on = self.reasonable_grounds_on if isinstance(self.reasonable_grounds_on, date) else None
        cg_on = self.conclusive_grounds_on if isinstance(self.conclusive_grounds_on, date) else None
        for decision, on in (("reasonable_grounds", "reasonable_grounds_on"),
                             ("conclusive_grounds", "conclusive_grounds_on")):  # fmt: skip
            label = self._meta.get_field(decision).verbose_name
            if getattr(self, decision) and not getattr(self, on) and on not in errors:
                errors[on] = f"Give the date of the {label}."
            if getattr(self, on) and not getattr(self, decision):
                errors[decision] = f"Choose the {label}, or clear its date."
        if referred and rg_on and rg_on < referred and "reasonable_grounds_on" not in errors:
            errors["reasonable_grounds_on"] = (
                "The reasonable grounds decision is dated before the NRM referral "
                f"({referred:%d/%m/%Y}); check both dates."
            )
        if self.conclusive_grounds:
            if self.reasonable_grounds != GroundsDecision.POSITIVE:
                errors["conclusive_grounds"] = (
                    "A conclusive grounds decision follows only a positive reasonable grounds "
                    "decision: record that first."
                )
            elif cg_on and rg_on and cg_on < rg_on and "conclusive_grounds_on" not in errors:
                errors["conclusive_grounds_on"] = (
                    "The conclusive grounds decision is dated before the reasonable grounds "
                    f"decision ({rg_on:%d/%m/%Y}); check both dates."
                )
        if referred and cg_on and cg_on < referred and "conclusive_grounds_on" not in errors:
            errors["conclusive_grounds_on"] = (
                "The conclusive grounds decision is dated before the NRM referral "
                f"({referred:%d/%m/%Y}); check both dates."
            )
        if self.concern_id and referred and "referred_on" not in errors:
            seen = timezone.localtime(self.concern.observed_at).date()
            if referred < seen:
                errors["referred_on"] = (
                    f"The NRM referral is dated before the concern was seen ({seen:%d/%m/%Y})."
                )
        if errors:
            raise ValidationError(errors)


# --- Child criminal exploitation risk checks on a case --------------------------------


class RiskIndicator(models.Model):
    """One indicator of child criminal exploitation (configurable data, seeded by
    migration 0005; an admin can add more or retire one without a code change)."""

    key = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class RiskCheck(CaseChild):
    """A dated check of which exploitation risk indicators are present on a case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="risk_checks")
    checked_on = models.DateField("date of the check")
    indicators = models.ManyToManyField(
        RiskIndicator, blank=True, related_name="checks", verbose_name="indicators present"
    )
    notes = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-checked_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "checked_on"], name="risk_check_one_per_day")
        ]

    def __str__(self) -> str:
        return f"Risk check {self.checked_on:%d/%m/%Y}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if isinstance(self.checked_on, date) and self.case_id:
            if self.checked_on > timezone.localdate():
                errors["checked_on"] = "The date of the check cannot be in the future."
            elif self.checked_on < self.case.opened_on:
                errors["checked_on"] = (
                    f"This is before the case opened on {self.case.opened_on:%d/%m/%Y}."
                )
            elif self.case.closed_on and self.checked_on > self.case.closed_on:
                errors["checked_on"] = (
                    f"This is after the case closed on {self.case.closed_on:%d/%m/%Y}."
                )
            elif (
                RiskCheck.objects.filter(case_id=self.case_id, checked_on=self.checked_on)
                .exclude(pk=self.pk)
                .exists()
            ):
                errors["checked_on"] = (
                    f"A check is already recorded for {self.checked_on:%d/%m/%Y} on this case."
                )
        if errors:
            raise ValidationError(errors)
