from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.accounts.models import User
from throughgate.core.concurrency import VersionedFormMixin
from throughgate.core.forms import DateInput, ModelMultipleChoiceField
from throughgate.engines.training import financial_year_label, financial_year_of

from .actions import MAX_DELEGATES_AT_ONCE
from .models import Attendance, Audience, Course, CourseKind, CourseStatus, Delegate

MAX_PASTE = 60_000  # characters: 300 delegates of 200 characters each


def trainer_choices() -> Any:
    """Who can deliver training: any active member of staff (peer mentors co-deliver
    from their lived experience), not the analyst or a partner organisation's account,
    who have no part in the work."""
    return User.objects.filter(is_active=True).exclude(
        role__in=[roles.Role.ANALYST, roles.Role.PARTNER]
    )


class CourseForm(VersionedFormMixin, forms.ModelForm):
    trainers = ModelMultipleChoiceField(
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Trainers",
        error_messages={"required": "Choose at least one trainer."},
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                            max_length=5000)  # fmt: skip

    class Meta:
        model = Course
        fields = [
            "kind", "title", "audience", "client", "client_contact", "start_date", "end_date",
            "trainers", "sessions", "hours", "fee", "cancelled", "notes",
        ]  # fmt: skip
        widgets = {
            "kind": forms.RadioSelect,
            "audience": forms.RadioSelect,
            "client": forms.TextInput(attrs={"list": "client-names", "autocomplete": "off"}),
            "start_date": DateInput(),
            "end_date": DateInput(),
            "fee": forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
            "hours": forms.NumberInput(attrs={"step": "0.5", "min": "0", "inputmode": "decimal"}),
        }
        help_texts = {"cancelled": "Tick if the course will not go ahead."}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["trainers"].queryset = trainer_choices()
        # Radio buttons with no "---------" choice: one of these must be picked.
        self.fields["kind"].choices = CourseKind.choices  # type: ignore[attr-defined]
        self.fields["audience"].choices = Audience.choices  # type: ignore[attr-defined]
        self.fields["end_date"].required = False
        self.fields["end_date"].help_text = "Leave blank for a one-day course."
        if self.instance.pk is None:
            del self.fields["cancelled"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start_date") and not data.get("end_date") and "end_date" not in self.errors:
            data["end_date"] = data["start_date"]
        return data

    def _post_clean(self) -> None:
        # The action validates the whole course, so its messages are the ones shown.
        pass

    def course_data(self) -> dict[str, Any]:
        names = [n for n in self.Meta.fields if n in self.fields and n != "trainers"]
        return {name: self.cleaned_data[name] for name in names}


class InvoiceForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Course
        fields = ["invoiced_on", "invoice_reference", "paid_on"]
        widgets = {"invoiced_on": DateInput(), "paid_on": DateInput()}
        help_texts = {"paid_on": "Leave blank until the money has arrived."}

    def _post_clean(self) -> None:
        pass


def parse_delegates(text: str) -> list[dict[str, Any]]:
    """One delegate a line, "Name, Organisation, Role" (or tab-separated, as pasted from a
    spreadsheet); organisation and role may be left out. Blank lines are skipped; each
    row keeps its line number so a message can say where the problem is."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t") if "\t" in line else line.split(",", 2)
        parts = [" ".join(p.split()) for p in parts] + ["", ""]
        rows.append({"line": number, "name": parts[0], "organisation": parts[1], "role": parts[2]})
    return rows


class DelegatesForm(forms.Form):
    delegates = forms.CharField(
        label="Delegates, one per line",
        help_text="Name, Organisation, Role — for example: Jo Bloggs, Lambeth Council, "
        "Social worker. Organisation and role can be left out. You can paste from a "
        "spreadsheet.",
        widget=forms.Textarea(attrs={"rows": 8, "autocapitalize": "words"}),
        max_length=MAX_PASTE,
    )
    attendance = forms.ChoiceField(
        label="Mark them all as",
        choices=[(Attendance.BOOKED, "Booked"), (Attendance.ATTENDED, "Attended")],
        initial=Attendance.BOOKED,
        widget=forms.RadioSelect,
    )

    def clean_delegates(self) -> list[dict[str, Any]]:
        rows = parse_delegates(self.cleaned_data["delegates"])
        if not rows:
            raise forms.ValidationError("Enter at least one delegate, one per line.")
        if len(rows) > MAX_DELEGATES_AT_ONCE:
            raise forms.ValidationError(
                f"Enter at most {MAX_DELEGATES_AT_ONCE} delegates at a time."
            )
        return rows


class AttendanceForm(forms.Form):
    """The register: one attendance choice per delegate."""

    def __init__(self, *args: Any, delegates: list[Delegate], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for delegate in delegates:
            at = f", {delegate.organisation}" if delegate.organisation else ""
            self.fields[f"attendance-{delegate.pk}"] = forms.ChoiceField(
                label=f"{delegate.name}{at}",
                choices=Attendance.choices,
                initial=delegate.attendance,
            )

    def marks(self) -> dict[int, str]:
        return {
            int(name.removeprefix("attendance-")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("attendance-")
        }


class DelegateForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Delegate
        fields = ["name", "organisation", "role", "attendance"]
        widgets = {"attendance": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["attendance"].choices = Attendance.choices  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        pass


def _score(label: str, required: bool) -> forms.IntegerField:
    # An IntegerField, not a choice: a value off the scale reaches the action, whose
    # message says what the scale is.
    return forms.IntegerField(
        label=label,
        required=required,
        widget=forms.RadioSelect(choices=[(v, str(v)) for v in range(1, 6)]),
        help_text="1 = poor, 5 = excellent",
        error_messages={"required": "Choose a score from 1 to 5."},
    )


class FeedbackForm(forms.Form):
    overall = _score("Overall, how good was it?", required=True)
    relevance = _score("How relevant was it to your work?", required=False)
    trainer_knowledge = _score("How knowledgeable was the trainer?", required=False)
    comments = forms.CharField(
        label="Comments",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="As written on the form. Leave out anything that names someone.",
    )


def financial_years(first: Any) -> list[tuple[int, str]]:
    """Financial years from the one of `first` (a date, or None) to next year, newest first."""
    this_year = financial_year_of(timezone.localdate())
    start = min(financial_year_of(first), this_year) if first else this_year
    return [(y, financial_year_label(y)) for y in range(this_year + 1, start - 1, -1)]


class CourseFilterForm(forms.Form):
    year = forms.TypedChoiceField(label="Financial year", coerce=int, required=False,
                                  empty_value=None)  # fmt: skip
    audience = forms.ChoiceField(
        label="Audience", choices=[("", "Any"), *Audience.choices], required=False
    )
    kind = forms.ChoiceField(label="Type", choices=[("", "Any"), *CourseKind.choices],
                             required=False)  # fmt: skip
    status = forms.ChoiceField(
        label="Status", choices=[("", "Any"), *CourseStatus.choices], required=False
    )

    def __init__(self, *args: Any, years: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "Any"), *years]  # type: ignore[attr-defined]


class SummaryForm(forms.Form):
    year = forms.TypedChoiceField(label="Financial year", coerce=int, required=False,
                                  empty_value=None)  # fmt: skip

    def __init__(self, *args: Any, years: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = years  # type: ignore[attr-defined]
