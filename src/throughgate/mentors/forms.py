from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.accounts.models import User
from throughgate.core.choices import Gender
from throughgate.core.concurrency import VersionedFormMixin
from throughgate.core.forms import DateInput, ModelMultipleChoiceField
from throughgate.custody.models import Establishment
from throughgate.people.models import BOROUGH_CHOICES, Person

from .models import (
    ConflictKind,
    DBSCheck,
    LicenceCondition,
    LivedExperienceCategory,
    MentorGender,
    MentorProfile,
    SecurityClearance,
    SupervisionSession,
    TrainingRecord,
)


class ListField(forms.CharField):
    """Several short values typed in one box, separated by commas or semicolons."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        seen: list[str] = []
        for part in text.replace(";", ",").split(","):
            part = " ".join(part.split())
            if part and part.casefold() not in {s.casefold() for s in seen}:
                seen.append(part)
        return seen

    def run_validators(self, value: list[str]) -> None:
        # CharField's validators are about text (no NUL, which PostgreSQL cannot store in
        # the JSON list; any length limit): each value typed, not the list, whose text
        # shows a NUL escaped as "\\x00" and so passed.
        for item in value:
            super().run_validators(item)


def _establishments(field: Any) -> None:
    field.queryset = Establishment.objects.filter(active=True)
    field.label_from_instance = lambda e: e.display_name


class MentorProfileForm(VersionedFormMixin, forms.ModelForm):
    languages = ListField(
        required=False, help_text="Separate with commas, e.g. English, Somali. English is assumed."
    )
    boroughs_known = forms.MultipleChoiceField(
        choices=BOROUGH_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
        label="Boroughs they know",
    )  # fmt: skip
    boroughs_to_avoid = forms.MultipleChoiceField(
        choices=BOROUGH_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
        label="Boroughs they must avoid", help_text="For their own safety (licence exclusion "
        "zones are recorded as licence conditions).",
    )  # fmt: skip
    lived_experience = ModelMultipleChoiceField(
        queryset=LivedExperienceCategory.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Lived experience",
    )

    class Meta:
        model = MentorProfile
        fields = [
            "lived_experience", "custody_history", "languages", "boroughs_known",
            "boroughs_to_avoid", "capacity", "available", "unavailable_until",
            "availability_note",
        ]  # fmt: skip
        widgets = {"unavailable_until": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _establishments(self.fields["custody_history"])
        self.fields["custody_history"].widget.attrs["size"] = 8

    def _post_clean(self) -> None:
        # The action validates the whole profile (capacity against caseload too).
        pass


class NewMentorForm(MentorProfileForm):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Mentor's account")
    date_of_birth = forms.DateField(label="Date of birth", widget=DateInput())
    gender = forms.ChoiceField(choices=Gender.choices)
    first_language = forms.CharField(label="First language", initial="English", max_length=60)

    field_order = ["user", "date_of_birth", "gender", "first_language"]

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        users = User.objects.filter(
            role=roles.Role.MENTOR, is_active=True, mentor_profile__isnull=True
        )
        if not roles.is_admin(actor):
            users = users.filter(team_id=actor.team_id)
        self.fields["user"].queryset = users


class LicenceConditionForm(forms.ModelForm):
    boroughs = forms.MultipleChoiceField(
        choices=BOROUGH_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
        label="Boroughs excluded",
    )  # fmt: skip
    postcode_districts = ListField(
        required=False, label="Postcode districts excluded", help_text="Like SE15, E8."
    )

    class Meta:
        model = LicenceCondition
        fields = [
            "kind", "starts_on", "ends_on", "boroughs", "postcode_districts", "named_people",
            "named_description", "curfew_from", "curfew_until", "notes",
        ]  # fmt: skip
        widgets = {
            "starts_on": DateInput(),
            "ends_on": DateInput(),
            "curfew_from": forms.TimeInput(attrs={"type": "time"}),
            "curfew_until": forms.TimeInput(attrs={"type": "time"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, people: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["named_people"].queryset = people
        self.fields["named_people"].required = False
        self.fields["ends_on"].help_text = (
            "The licence expiry date. Only a court order made until further notice may be "
            "left open."
        )

    def clean_postcode_districts(self) -> list[str]:
        districts = []
        for value in self.cleaned_data["postcode_districts"]:
            text = value.upper().replace(" ", "")
            if not (2 <= len(text) <= 4 and text[0].isalpha() and text[-1].isalnum()):
                raise forms.ValidationError(f"“{value}” is not a postcode district like SE15.")
            districts.append(text)
        return districts

    def _post_clean(self) -> None:
        pass  # the action validates the condition as a whole


class DBSCheckForm(forms.ModelForm):
    class Meta:
        model = DBSCheck
        fields = [
            "level", "certificate_number", "issued_on", "update_service",
            "update_service_checked_on", "renewal_due",
        ]  # fmt: skip
        widgets = {
            "issued_on": DateInput(),
            "update_service_checked_on": DateInput(),
            "renewal_due": DateInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["renewal_due"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        issued = data.get("issued_on")
        if issued and not data.get("renewal_due"):
            data["renewal_due"] = (
                issued.replace(year=issued.year + 3)
                if not (issued.month == 2 and issued.day == 29)
                else issued + timedelta(days=365 * 3 + 1)
            )
        return data

    def _post_clean(self) -> None:
        pass


class ClearanceForm(forms.ModelForm):
    class Meta:
        model = SecurityClearance
        fields = ["establishment", "level", "granted_on", "expires_on", "reference"]
        widgets = {"granted_on": DateInput(), "expires_on": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _establishments(self.fields["establishment"])

    def _post_clean(self) -> None:
        pass


class TrainingForm(forms.ModelForm):
    class Meta:
        model = TrainingRecord
        fields = ["course", "completed_on", "certificate_reference"]
        widgets = {"completed_on": DateInput()}

    def _post_clean(self) -> None:
        pass


class SupervisionForm(forms.ModelForm):
    class Meta:
        model = SupervisionSession
        fields = ["held_on", "supervisor", "wellbeing", "notes"]
        widgets = {"held_on": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = User.objects.filter(
            is_active=True,
            role__in=[roles.Role.COORDINATOR, roles.Role.ADMIN, roles.Role.SAFEGUARDING_LEAD],
        )
        self.initial.setdefault("held_on", timezone.localdate())
        if actor is not None and "supervisor" not in self.initial:
            self.initial["supervisor"] = actor.pk

    def _post_clean(self) -> None:
        pass


class ConflictForm(forms.Form):
    person_a = forms.ModelChoiceField(queryset=Person.objects.none(), label="First person")
    person_b = forms.ModelChoiceField(queryset=Person.objects.none(), label="Second person")
    kind = forms.ChoiceField(label="Type", choices=ConflictKind.choices)
    source = forms.CharField(
        max_length=120, help_text="Who told us: e.g. prison security, police, the young person."
    )
    recorded_on = forms.DateField(label="Date recorded", widget=DateInput())
    details = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, people: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name in ("person_a", "person_b"):
            self.fields[name].queryset = people
            self.fields[name].label_from_instance = _person_label
        self.initial.setdefault("recorded_on", timezone.localdate())


def _person_label(person: Person) -> str:
    suffix = " (mentor)" if hasattr(person, "mentor_profile") else ""
    return f"{person.full_name}, born {person.date_of_birth:%d/%m/%Y}{suffix}"


class EndConflictForm(forms.Form):
    ended_on = forms.DateField(label="Ended on", widget=DateInput())
    ended_reason = forms.CharField(label="Why it no longer applies", max_length=300)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("ended_on", timezone.localdate())


class MatchingNeedsForm(forms.Form):
    experiences = ModelMultipleChoiceField(
        queryset=LivedExperienceCategory.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="What they are going through",
        help_text="A mentor who has been through the same is suggested first.",
    )
    mentor_gender_required = forms.ChoiceField(
        label="Mentor's gender",
        choices=MentorGender.choices,
        required=False,
        help_text="Only where the case requires it.",
    )


OTHER = "other"
NONE = "none"


class MentorChoiceForm(forms.Form):
    """Choose among the ranked suggestions, someone else (with a reason) or nobody yet.
    The template draws the suggestions beside their radios; the action decides."""

    mentor = forms.ChoiceField(label="Mentor", widget=forms.RadioSelect)
    other_mentor = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label="Someone else"
    )
    override_reason = forms.CharField(
        label="Why this mentor rather than the first suggestion?",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, suggestions: Any, team_id: int, allow_none: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        pool = suggestions.pool
        choices = [
            (str(pool.user_of(s.mentor_id).pk), s.mentor_name)
            for s in suggestions.result.suggestions
        ]
        choices.append((OTHER, "Someone else"))
        if allow_none:
            choices.append((NONE, "No mentor yet"))
        self.fields["mentor"].choices = choices
        # Where "no mentor yet" is allowed, leaving the choice empty means that.
        self.fields["mentor"].required = not allow_none
        if suggestions.result.suggestions:
            self.initial.setdefault("mentor", choices[0][0])
        elif allow_none:
            self.initial.setdefault("mentor", NONE)
        self.fields["other_mentor"].queryset = User.objects.filter(
            is_active=True, role=roles.Role.MENTOR, team_id=team_id, mentor_profile__isnull=False
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        choice = data.get("mentor")
        if choice == OTHER:
            if not data.get("other_mentor"):
                self.add_error("other_mentor", "Choose the mentor.")
            data["chosen"] = data.get("other_mentor")
        elif choice in (NONE, ""):
            data["chosen"] = None
        elif choice:
            data["chosen"] = User.objects.get(pk=int(choice))
        return data
