"""Forms for holistic support (see casework.support for the actions they feed)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from throughgate.core.concurrency import VersionedFormMixin
from throughgate.core.forms import DateInput

from .models import (
    Action,
    Agency,
    BankApplication,
    Case,
    IDApplication,
    InstrumentDefinition,
    Need,
    NeedStatus,
    OnwardReferral,
    Pathway,
    Priority,
    Responsible,
)


def _today(form: forms.Form, *names: str) -> None:
    for name in names:
        form.initial.setdefault(name, timezone.localdate())


class NeedsAssessmentForm(forms.Form):
    """Every pathway at once: status, priority, who is responsible and what is needed.
    Fields are named `<pathway>-<field>`; `rows()` gives them back grouped."""

    on = forms.DateField(label="Date of the assessment", widget=DateInput())

    def __init__(self, *args: Any, case: Case, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _today(self, "on")
        current = {n.pathway: n for n in case.needs.all()}
        for pathway, label in Pathway.choices:
            need = current.get(pathway)
            prefix = f"{pathway}-"
            self.fields[prefix + "status"] = forms.ChoiceField(
                label=f"{label}: status", choices=NeedStatus.choices,
                initial=need.status if need else NeedStatus.NOT_STARTED,
            )  # fmt: skip
            self.fields[prefix + "priority"] = forms.ChoiceField(
                label=f"{label}: priority", choices=Priority.choices,
                initial=need.priority if need else Priority.MEDIUM,
            )  # fmt: skip
            self.fields[prefix + "responsible"] = forms.ChoiceField(
                label=f"{label}: who is responsible", choices=Responsible.choices,
                initial=need.responsible if need else Responsible.MENTOR,
            )  # fmt: skip
            self.fields[prefix + "summary"] = forms.CharField(
                label=f"{label}: what is needed", required=False, max_length=300,
                initial=need.summary if need else "",
            )  # fmt: skip

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (
                label,
                [self[f"{pathway}-{f}"] for f in ("status", "priority", "responsible", "summary")],
            )
            for pathway, label in Pathway.choices
        ]

    def rows(self) -> dict[str, dict[str, Any]]:
        data = self.cleaned_data
        return {
            pathway: {
                f: data[f"{pathway}-{f}"] for f in ("status", "priority", "responsible", "summary")
            }
            for pathway, _label in Pathway.choices
        }


class NeedUpdateForm(VersionedFormMixin, forms.ModelForm):
    on = forms.DateField(label="Date", widget=DateInput())
    note = forms.CharField(label="What has changed", required=False, max_length=500)

    class Meta:
        model = Need
        fields = ["status", "priority", "responsible", "summary"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _today(self, "on")

    def _post_clean(self) -> None:
        pass  # the action validates and saves


class ActionForm(forms.ModelForm):
    class Meta:
        model = Action
        fields = ["description", "need", "owner", "due_on"]
        widgets = {"due_on": DateInput()}

    def __init__(self, *args: Any, case: Case, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["need"].queryset = case.needs.all()
        self.fields["need"].label_from_instance = lambda n: n.get_pathway_display()

    def _post_clean(self) -> None:
        pass


class IDApplicationForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = IDApplication
        fields = ["id_type", "status", "submitted_on", "cost", "paid_by", "received_on", "notes"]
        widgets = {"submitted_on": DateInput(), "received_on": DateInput()}

    def _post_clean(self) -> None:
        pass


class BankApplicationForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = BankApplication
        fields = ["bank", "outcome", "submitted_on", "response_on", "notes"]
        widgets = {"submitted_on": DateInput(), "response_on": DateInput()}

    def _post_clean(self) -> None:
        pass


class AgencyForm(forms.ModelForm):
    class Meta:
        model = Agency
        fields = ["name", "kind", "borough", "phone", "email", "address", "notes"]

    def _post_clean(self) -> None:
        pass


class OnwardReferralForm(forms.ModelForm):
    class Meta:
        model = OnwardReferral
        fields = ["agency", "need", "reason", "consent_recorded", "consent_on"]
        widgets = {"consent_on": DateInput()}

    def __init__(self, *args: Any, case: Case, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.filter(active=True)
        self.fields["agency"].label_from_instance = lambda a: f"{a} ({a.get_kind_display()})"
        self.fields["need"].queryset = case.needs.all()
        self.fields["need"].label_from_instance = lambda n: n.get_pathway_display()

    def _post_clean(self) -> None:
        pass


class OnwardStatusForm(forms.Form):
    status = forms.ChoiceField(label="Now")
    on = forms.DateField(label="On", widget=DateInput())
    outcome = forms.CharField(label="Outcome or reason", required=False, max_length=300)

    def __init__(self, *args: Any, referral: OnwardReferral, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = referral.next_statuses
        _today(self, "on")


class ConsentForm(forms.Form):
    consent_on = forms.DateField(label="Consent given on", widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _today(self, "consent_on")


class InstrumentResponseForm(forms.Form):
    """One radio group per question, numbered along the instrument's scale; a question
    may be left unanswered."""

    completed_on = forms.DateField(label="Date", widget=DateInput())

    def __init__(self, *args: Any, definition: InstrumentDefinition, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _today(self, "completed_on")
        scale = range(definition.scale_min, definition.scale_max + 1)
        low, high = definition.anchor_low, definition.anchor_high
        hint = f"{definition.scale_min} = {low}, {definition.scale_max} = {high}" if low else ""
        for item in definition.items.all():
            # An IntegerField, not a choice: a value off the scale reaches the engine,
            # whose message says what the scale is ("answer 1 to 10 (got 11)").
            self.fields[f"item-{item.key}"] = forms.IntegerField(
                label=item.text,
                required=False,
                widget=forms.RadioSelect(
                    choices=[(v, str(v)) for v in scale], attrs={"class": "scale"}
                ),
                help_text=hint,
            )

    def answers(self) -> dict[str, int | None]:
        return {
            name.removeprefix("item-"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("item-")
        }
