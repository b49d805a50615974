from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from throughgate.accounts import roles
from throughgate.core.concurrency import VersionedFormMixin
from throughgate.core.forms import DateInput

from .cohort import GROUPINGS
from .evaluation import CATEGORICAL, DEFAULT_COVARIATES, DEFAULT_EXACT, NUMERIC
from .models import NationalBaseline, PoolSource, ReoffendingEvent


class ReoffendingEventForm(VersionedFormMixin, forms.ModelForm):
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


class EvaluationForm(forms.Form):
    """Who is compared with whom, and on what. The outcome is one-year proven reoffending;
    frequency and days to first reoffence are reported for the same matched groups."""

    programme = forms.ModelChoiceField(queryset=None, empty_label=None)
    index_from = forms.DateField(label="Index dates from", required=False, widget=DateInput())
    index_to = forms.DateField(label="Index dates to", required=False, widget=DateInput())
    as_of = forms.DateField(
        label="As of",
        required=False,
        widget=DateInput(),
        help_text="Only people whose 18 months of follow-up have passed by then are compared. "
        "Blank: today.",
    )
    pool_source = forms.ChoiceField(
        label="Compare with", choices=PoolSource.choices, widget=forms.RadioSelect,
        initial=PoolSource.OWN,
    )  # fmt: skip
    pool_file = forms.FileField(
        label="Comparison file",
        required=False,
        help_text="Needed when you compare with a file: CSV (UTF-8) or Parquet, one row per "
        "person, with the columns listed below the form.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.parquet,.pq"}),
    )
    covariates = forms.MultipleChoiceField(
        label="Match on",
        choices=[*NUMERIC.items(), *CATEGORICAL.items()],
        initial=list(DEFAULT_COVARIATES),
        widget=forms.CheckboxSelectMultiple,
        help_text="The propensity model uses these.",
    )
    exact = forms.MultipleChoiceField(
        label="Match exactly on",
        choices=list(CATEGORICAL.items()),
        initial=list(DEFAULT_EXACT),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A participant is matched only to people in the same group.",
    )
    k = forms.IntegerField(
        label="Comparisons per participant", min_value=1, max_value=10, initial=1,
        help_text="1:k nearest neighbours, with replacement.",
    )  # fmt: skip
    caliper = forms.DecimalField(
        label="Caliper (standard deviations of the logit)",
        min_value=Decimal("0.01"),
        max_value=Decimal("1"),
        decimal_places=2,
        initial=Decimal("0.2"),
        help_text="No match further apart than this.",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        from throughgate.casework.models import Programme

        self.fields["programme"].queryset = Programme.objects.all()
        # Required only with "compare with a file": not marked "(optional)" (forms/field.html).
        self.fields["pool_file"].needed_when = PoolSource.FILE

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("index_from"), data.get("index_to")
        if start and end and end < start:
            self.add_error("index_to", "The end of the range is before its start.")
        if data.get("pool_source") == PoolSource.FILE and not data.get("pool_file"):
            self.add_error("pool_file", "Choose the comparison file to upload.")
        upload = data.get("pool_file")
        if upload and not upload.name.lower().endswith((".csv", ".parquet", ".pq")):
            self.add_error("pool_file", "The comparison file must be a .csv or .parquet file.")
        return data
