"""The funder report's choices: a period and the programmes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from throughgate.casework.models import Programme
from throughgate.core.forms import DateInput, ModelMultipleChoiceField
from throughgate.engines.funder_periods import financial_year, last_full_quarter

LONGEST = timedelta(days=366 * 5)


def presets(today: date) -> list[tuple[str, date, date]]:
    """Named periods offered as links above the form."""
    quarter = last_full_quarter(today)
    this_year = financial_year(today)
    last_year = financial_year(today, previous=True)
    return [
        ("Last full quarter", *quarter),
        (f"Financial year {last_year[0].year}–{last_year[1]:%y}", *last_year),
        (f"Financial year {this_year[0].year}–{this_year[1]:%y} so far", this_year[0],
         min(today, this_year[1])),
    ]  # fmt: skip


class FunderReportForm(forms.Form):
    start = forms.DateField(label="From", widget=DateInput, help_text="The first day counted.")
    end = forms.DateField(label="To", widget=DateInput, help_text="The last day counted.")
    programmes = ModelMultipleChoiceField(
        label="Programmes",
        queryset=Programme.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Leave all unticked for every programme.",
    )

    def __init__(self, data: Any = None, *, today: date | None = None) -> None:
        self.today = today or timezone.localdate()
        start, end = last_full_quarter(self.today)
        if data is not None and not any(k in data for k in ("start", "end", "programmes")):
            data = None  # no choices given: the default report
        super().__init__(data, initial={"start": start, "end": end})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The last day is before the first day.")
            elif end - start > LONGEST:
                self.add_error("end", "Choose a period of at most five years.")
            elif start > self.today:
                self.add_error("start", "The period has not started yet.")
        return data

    def choices(self) -> tuple[date, date, Any]:
        """The period and programmes asked for (the defaults when nothing was given)."""
        if self.is_bound:
            data = self.cleaned_data
            start, end, chosen = data["start"], data["end"], data["programmes"]
        else:
            start, end = last_full_quarter(self.today)
            chosen = None
        programmes = Programme.objects.all()
        if chosen:
            programmes = programmes.filter(pk__in=[p.pk for p in chosen])
        return start, end, programmes

    def query(self) -> dict[str, Any]:
        start, end, programmes = self.choices()
        params: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat()}
        if self.is_bound and self.cleaned_data.get("programmes"):
            params["programmes"] = [p.pk for p in self.cleaned_data["programmes"]]
        return params
