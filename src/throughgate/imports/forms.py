"""The upload form and the column-matching form."""

from __future__ import annotations

from typing import Any

from django import forms

from .importer import check_mapping
from .kinds import KINDS
from .models import Kind, Source

MAX_UPLOAD_BYTES = 500 * 1024 * 1024


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(
        Source.objects.all(),
        required=False,
        label="Where the file comes from",
        empty_label="A new source (name it below)",
        help_text="Ids are unique within a source; its column choices are kept for next time.",
    )
    new_source = forms.CharField(
        label="Name of a new source",
        required=False,
        max_length=100,
        help_text='For example "Old spreadsheets 2010-2024".',
    )
    kind = forms.ChoiceField(choices=Kind.choices, label="What the file holds")
    file = forms.FileField(
        label="The file (.csv or .xlsx)", help_text="The first row must name the columns."
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 500 MB; use the command line.")
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("Choose a .csv or .xlsx file.")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        name = " ".join((data.get("new_source") or "").split())
        if not data.get("source"):
            if not name:
                self.add_error("new_source", "Choose a source or name a new one.")
            elif Source.objects.filter(name__iexact=name).exists():
                self.add_error("new_source", "A source has this name already; choose it above.")
        elif name:
            self.add_error("new_source", "Choose a source or name a new one, not both.")
        data["new_source"] = name
        return data


class MappingForm(forms.Form):
    """One drop-down per field: which of the file's columns holds it."""

    def __init__(self, *args: Any, kind: str, headers: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kind, self.headers = kind, headers
        choices = [("", "(not in the file)")] + [(h, h) for h in headers]
        for column in KINDS[kind].columns:
            self.fields[column.name] = forms.ChoiceField(
                choices=choices,
                required=column.required,
                label=column.label,
                help_text=column.hint,
                error_messages={
                    "required": f"Choose the column that holds '{column.label}'; it is needed."
                },
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        mapping = {k: v for k, v in data.items() if v}
        for name, message in check_mapping(self.kind, self.headers, mapping).items():
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)
        data["mapping"] = mapping
        return data
