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
