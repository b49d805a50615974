from __future__ import annotations

from django import forms

from throughgate.core.concurrency import VersionedFormMixin
from throughgate.core.forms import DateInput

from .models import Alias, FamilyMember, Person

PERSON_FORM_FIELDS = [
    "forename", "surname", "preferred_name", "date_of_birth", "gender", "ethnicity",
    "first_language", "interpreter_needed", "borough", "postcode", "address", "phone",
    "email", "prison_number", "pnc_id", "crn",
]  # fmt: skip


class PersonForm(VersionedFormMixin, forms.ModelForm):
    """Validation lives on the model (Person.clean), so the importer and API get
    the same messages; this form only chooses widgets."""

    class Meta:
        model = Person
        fields = PERSON_FORM_FIELDS
        widgets = {
            "date_of_birth": DateInput(),
            "address": forms.Textarea(attrs={"rows": 2}),
            "forename": forms.TextInput(attrs={"autocomplete": "off"}),
            "surname": forms.TextInput(attrs={"autocomplete": "off"}),
            "first_language": forms.TextInput(attrs={"list": "language-suggestions"}),
            "postcode": forms.TextInput(attrs={"autocapitalize": "characters"}),
            "prison_number": forms.TextInput(attrs={"autocapitalize": "characters"}),
            "pnc_id": forms.TextInput(attrs={"autocapitalize": "characters"}),
            "crn": forms.TextInput(attrs={"autocapitalize": "characters"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        }


class AliasForm(forms.ModelForm):
    class Meta:
        model = Alias
        fields = ["forename", "surname", "note"]


class FamilyMemberForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = FamilyMember
        fields = [
            "name", "relationship", "lives_with", "phone", "email", "may_contact", "influence",
            "own_needs", "notes",
        ]  # fmt: skip
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "own_needs": forms.Textarea(attrs={"rows": 2}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Name, alias, date of birth or prison number",
        max_length=200,
        required=False,
        help_text="For example: Jon Smyth, 14/03/2007 or A1234BC.",
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True}),
    )
