from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.core.concurrency import VersionedFormMixin
from throughgate.core.forms import DateInput, DateTimeInput
from throughgate.people.models import BOROUGH_CHOICES

from .models import KEY_DATES, CustodyEpisode, Establishment, ItemKind, PlanItem

DATE_WIDGETS = {name: DateInput() for name in KEY_DATES}


def _establishment_field(form: forms.Form, name: str) -> None:
    field = form.fields[name]
    field.queryset = Establishment.objects.filter(active=True)
    field.label_from_instance = lambda e: e.display_name


class CustodyEpisodeForm(forms.ModelForm):
    class Meta:
        model = CustodyEpisode
        fields = ["establishment", "received_on", "sentence_type", *KEY_DATES]
        widgets = {"received_on": DateInput(), **DATE_WIDGETS}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _establishment_field(self, "establishment")


class KeyDatesForm(VersionedFormMixin, forms.ModelForm):
    reason = forms.CharField(
        label="Why are the dates changing?",
        max_length=300,
        help_text="For example: HDC approved; parole directed release; added days; recalled.",
    )

    class Meta:
        model = CustodyEpisode
        fields = ["sentence_type", *KEY_DATES]
        widgets = DATE_WIDGETS


class TransferForm(forms.Form):
    to_establishment = forms.ModelChoiceField(queryset=None, label="Moved to")
    transferred_on = forms.DateField(label="Date of the move", widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _establishment_field(self, "to_establishment")
        self.initial.setdefault("transferred_on", timezone.localdate())


class ReleaseForm(forms.Form):
    released_on = forms.DateField(label="Released on", widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("released_on", timezone.localdate())


class PlanItemForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = PlanItem
        fields = [
            "label", "status", "owner", "owner_detail", "due_date", "appointment_at", "place",
            "assignee", "notes",
        ]  # fmt: skip
        widgets = {
            "status": forms.RadioSelect,
            "due_date": DateInput(),
            "appointment_at": DateTimeInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = PlanItem._meta.get_field("status").choices
        self.fields["assignee"].queryset = roles.caseworkers()
        kind = self.instance.kind or ItemKind.OTHER
        if kind != ItemKind.OTHER:
            del self.fields["label"]
        if kind not in (ItemKind.GATE_MEETING, ItemKind.PROBATION, ItemKind.OTHER):
            del self.fields["appointment_at"]
            del self.fields["place"]
        if kind != ItemKind.GATE_MEETING:
            del self.fields["assignee"]


class ReleaseCalendarFilterForm(forms.Form):
    weeks = forms.IntegerField(
        label="Weeks ahead", min_value=1, max_value=52, required=False, initial=12
    )
    establishment = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Any prison", label="Prison"
    )
    mentor = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Any mentor", label="Mentor"
    )
    borough = forms.ChoiceField(required=False, label="Borough")
    flagged = forms.BooleanField(required=False, label="Only releases with a problem")

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _establishment_field(self, "establishment")
        mentors = roles.caseworkers()
        if user is not None and user.team_id and not roles.sees_everyone(user):
            # A coordinator's calendar holds her team's releases: offer its mentors only,
            # not every caseworker of a region.
            mentors = mentors.filter(team_id=user.team_id)
        self.fields["mentor"].queryset = mentors
        self.fields["borough"].choices = [("", "Any borough"), *BOROUGH_CHOICES]
