"""Forms for safeguarding concerns and exploitation risk checks (casework.safeguarding holds
the actions they feed; the models' clean() and the actions give the refusals)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from throughgate.core.concurrency import VersionedFormMixin
from throughgate.core.forms import DateInput, DateTimeInput, ModelMultipleChoiceField

from .safeguarding_models import (
    AtRisk,
    ConcernCategory,
    MASHReferral,
    NRMReferral,
    RiskIndicator,
    SafeguardingConcern,
    TriageDecision,
)


class ConcernForm(forms.ModelForm):
    """Raising a concern: few fields, quick on a phone; the danger question first."""

    class Meta:
        model = SafeguardingConcern
        fields = [
            "immediate_danger", "what_happened", "observed_at", "category", "at_risk",
            "at_risk_name", "immediate_action",
        ]  # fmt: skip
        widgets = {
            "observed_at": DateTimeInput(),
            "what_happened": forms.Textarea(attrs={"rows": 5}),
            "immediate_action": forms.Textarea(attrs={"rows": 3}),
            "at_risk": forms.RadioSelect,
        }
        help_texts = {
            "what_happened": "In their words where you can. Facts first, then what worries you.",
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["at_risk"].choices = AtRisk.choices
        self.fields["category"].choices = [("", "Choose one"), *ConcernCategory.choices]
        if not self.is_bound:
            self.initial.setdefault(
                "observed_at", timezone.localtime().replace(second=0, microsecond=0)
            )
            self.initial.setdefault("at_risk", AtRisk.YOUNG_PERSON)

    def _post_clean(self) -> None:
        pass  # the action validates the whole concern (it needs the person)


class TriageForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision", choices=TriageDecision.choices, widget=forms.RadioSelect
    )
    rationale = forms.CharField(
        label="Why (rationale)", widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )


class ConcernActionForm(forms.Form):
    taken_on = forms.DateField(label="Date", widget=DateInput())
    description = forms.CharField(
        label="What was done", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    taken_by = forms.CharField(label="By whom", max_length=200)

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("taken_on", timezone.localdate())
        if actor is not None:
            self.initial.setdefault("taken_by", str(actor))


class CloseConcernForm(forms.Form):
    outcome = forms.CharField(
        label="Outcome", widget=forms.Textarea(attrs={"rows": 4}), max_length=5000,
        help_text="What happened in the end, and why the concern can close.",
    )  # fmt: skip


class MASHReferralForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = MASHReferral
        fields = ["referred_on", "local_authority", "reference", "outcome", "outcome_on", "notes"]
        widgets = {
            "referred_on": DateInput(),
            "outcome_on": DateInput(),
            "local_authority": forms.TextInput(attrs={"list": "local-authorities"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"local_authority": "The council whose MASH you referred to."}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        outcome = self.fields["outcome"]
        outcome.choices = [("", "Waiting to hear"), *outcome.choices[1:]]
        if not self.is_bound and self.instance.pk is None:
            self.initial.setdefault("referred_on", timezone.localdate())

    def _post_clean(self) -> None:
        pass  # the action validates (it needs the concern)


class NRMReferralForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = NRMReferral
        fields = [
            "referred_on", "first_responder", "reference", "reasonable_grounds",
            "reasonable_grounds_on", "conclusive_grounds", "conclusive_grounds_on", "notes",
        ]  # fmt: skip
        widgets = {
            "referred_on": DateInput(),
            "reasonable_grounds_on": DateInput(),
            "conclusive_grounds_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name in ("reasonable_grounds", "conclusive_grounds"):
            self.fields[name].choices = [("", "No decision yet"), *self.fields[name].choices[1:]]
        if not self.is_bound and self.instance.pk is None:
            self.initial.setdefault("referred_on", timezone.localdate())

    def _post_clean(self) -> None:
        pass


class RiskCheckForm(forms.Form):
    checked_on = forms.DateField(label="Date of the check", widget=DateInput())
    indicators = ModelMultipleChoiceField(
        queryset=RiskIndicator.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Indicators present",
        help_text="Tick each one you know to be present now. Leave them all clear if none are.",
    )
    notes = forms.CharField(
        label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["indicators"].queryset = RiskIndicator.objects.filter(active=True)
        self.initial.setdefault("checked_on", timezone.localdate())
