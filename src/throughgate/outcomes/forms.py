from __future__ import annotations

from typing import Any

from django import forms

from throughgate.accounts import roles
from throughgate.core.forms import DateInput

from .cohort import GROUPINGS
from .models import NationalBaseline, ReoffendingEvent


class ReoffendingEventForm(forms.ModelForm):
    class Meta:
        model = ReoffendingEvent
        fields = [
            "disposal_type", "offence_date", "disposal_date", "offence_group", "custodial",
            "source", "verified", "notes",
        ]  # fmt: skip
        widgets = {
            "offence_date": DateInput(),
            "disposal_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not roles.manages_cases(user):
            del self.fields["verified"]

    def _post_clean(self) -> None:
        pass  # the action validates the event as a whole


class BaselineForm(forms.ModelForm):
    class Meta:
        model = NationalBaseline
        fields = ["label", "period", "rate", "source", "active"]

    def _post_clean(self) -> None:
        pass


class CohortFilterForm(forms.Form):
    group_by = forms.ChoiceField(label="Break down by", choices=list(GROUPINGS.items()))
    as_of = forms.DateField(label="As of", required=False, widget=DateInput())

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not roles.sees_personal_data(user):
            # Mentor names are not for the funder view.
            self.fields["group_by"].choices = [
                c for c in self.fields["group_by"].choices if c[0] != "mentor"
            ]


class JDLExportForm(forms.Form):
    programme = forms.ModelChoiceField(queryset=None, empty_label=None)
    index_from = forms.DateField(label="Index dates from", widget=DateInput())
    index_to = forms.DateField(label="Index dates to", widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        from throughgate.casework.models import Programme

        self.fields["programme"].queryset = Programme.objects.all()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("index_from")
            and data.get("index_to")
            and data["index_to"] < data["index_from"]
        ):
            self.add_error("index_to", "The end of the range is before its start.")
        return data
