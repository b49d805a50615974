"""Form rendering shared by every app: accessible fields and GOV.UK-style error summaries."""

from __future__ import annotations

from django import forms
from django.forms.renderers import TemplatesSetting


class Renderer(TemplatesSetting):
    """Every form renders through templates/forms/, which put the label, hint and
    error next to the field and wire them up with aria-describedby/aria-invalid."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


MAX_ID = 2**63 - 1  # DEFAULT_AUTO_FIELD is BigAutoField


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's, refusing an id no row can have before it reaches the database: Django
    checks a single id's range but not a list's, and SQLite cannot even take a number
    past 2**63 - 1 as a parameter (OverflowError, a server error)."""

    def _check_values(self, value):  # type: ignore[no-untyped-def]
        for pk in value:
            text = str(pk).strip()
            if text.lstrip("-").isdecimal() and not -MAX_ID <= int(text) <= MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)
