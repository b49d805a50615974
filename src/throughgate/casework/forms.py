from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.core.forms import DateInput, DateTimeInput

from .models import (
    AccommodationOutcome,
    Attendance,
    Case,
    ClosureReason,
    Contact,
    ContactMode,
    DeclineReason,
    ETEOutcome,
    Phase,
    Programme,
    Referral,
    ReferralSource,
)

# Who referred, grouped so each programme's usual referrers sit together: prisons and
# justice services for custody mentoring, schools and children's services for prevention.
REFERRAL_SOURCE_GROUPS: list[tuple[str, Any]] = [
    ("", "Choose who referred"),
    ("Prison and justice services", [
        (s, ReferralSource(s).label) for s in (ReferralSource.PRISON, ReferralSource.PROBATION,
                                               ReferralSource.YJS, ReferralSource.POLICE)
    ]),
    ("Schools and children's services", [
        (s, ReferralSource(s).label) for s in (ReferralSource.SCHOOL,
                                               ReferralSource.CHILDRENS_SERVICES,
                                               ReferralSource.LOCAL_AUTHORITY)
    ]),
    ("Family and others", [
        (s, ReferralSource(s).label) for s in (ReferralSource.FAMILY, ReferralSource.SELF,
                                               ReferralSource.OTHER)
    ]),
]  # fmt: skip


class ReferralForm(forms.ModelForm):
    class Meta:
        model = Referral
        fields = [
            "programme", "source_type", "referring_organisation", "referrer_name",
            "referrer_contact", "referral_date", "reasons", "consent_recorded",
        ]  # fmt: skip
        widgets = {
            "referral_date": DateInput(),
            "reasons": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        programmes = Programme.objects.filter(active=True)
        if user is not None and not roles.is_admin(user) and user.team_id:
            programmes = programmes.filter(team_id=user.team_id)
        self.fields["programme"].queryset = programmes
        self.fields["programme"].empty_label = None
        self.fields["source_type"].choices = REFERRAL_SOURCE_GROUPS
        if not self.is_bound and "referral_date" not in self.initial:
            self.initial["referral_date"] = timezone.localdate()

    def _post_clean(self) -> None:
        # The person is not chosen yet (it may be new); the action validates the
        # whole referral once it is, so skip the instance check here.
        pass


class AcceptReferralForm(forms.Form):
    # Only for programmes without mentor matching; matched programmes choose the mentor
    # with mentors.forms.MentorChoiceForm beside this form.
    mentor = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Worker",
        help_text="You can assign someone later.",
    )
    opened_on = forms.DateField(label="Case opened on", widget=DateInput())
    initial_phase = forms.ChoiceField(label="Starting phase")
    note = forms.CharField(label="Note", required=False, max_length=300)
    consent_recorded = forms.BooleanField(
        label="The young person now consents to the referral",
        required=False,
        help_text="Consent was not recorded when the referral was made; it is needed to accept.",
    )

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if referral.consent_recorded:
            del self.fields["consent_recorded"]
        if referral.programme.uses_mentor_matching:
            del self.fields["mentor"]
        else:
            self.fields["mentor"].queryset = roles.caseworkers()
        self.fields["initial_phase"].choices = [
            c for c in referral.programme.phase_choices if c[0] != Phase.CLOSED
        ]
        self.initial.setdefault("opened_on", timezone.localdate())


class DeclineReferralForm(forms.Form):
    decline_reason = forms.ChoiceField(label="Reason", choices=DeclineReason.choices)
    decision_notes = forms.CharField(
        label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DuplicateChoiceForm(forms.Form):
    """On a new referral that looks like someone already known: use them, or confirm new."""

    NEW = "new"
    duplicate_choice = forms.ChoiceField(
        label="Is this one of these people?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the person this is, or confirm a new record."},
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["duplicate_choice"].choices = [
            *choices,
            (self.NEW, "None of these: create a new record"),
        ]


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "occurred_at", "mode", "attendance", "non_attendance_reason", "duration_minutes",
            "family_members", "summary", "concerns", "next_steps",
        ]  # fmt: skip
        widgets = {
            "occurred_at": DateTimeInput(),
            "mode": forms.RadioSelect,
            "attendance": forms.RadioSelect,
            "family_members": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 4}),
            "concerns": forms.Textarea(attrs={"rows": 2}),
            "next_steps": forms.Textarea(attrs={"rows": 2}),
            "duration_minutes": forms.NumberInput(
                attrs={"inputmode": "numeric", "min": 1, "max": 720}
            ),
        }
        help_texts = {
            "non_attendance_reason": "Only if they did not attend.",
        }

    def __init__(self, *args: Any, case: Case, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["mode"].choices = ContactMode.choices
        self.fields["attendance"].choices = Attendance.choices
        self.fields["family_members"].queryset = case.person.family_members.all()
        if not case.person.family_members.exists():
            del self.fields["family_members"]
        if not self.is_bound:
            self.initial.setdefault(
                "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
            )
            self.initial.setdefault("duration_minutes", 60)

    def _post_clean(self) -> None:
        # Contact.clean needs the case; validate the instance as the action will.
        self.instance.case = self.case
        super()._post_clean()


class PhaseChangeForm(forms.Form):
    to_phase = forms.ChoiceField(label="Move to phase")
    changed_on = forms.DateField(label="Date of the change", widget=DateInput())
    note = forms.CharField(label="Note", required=False, max_length=300)

    def __init__(self, *args: Any, case: Case, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["to_phase"].choices = [
            c for c in case.programme.phase_choices if c[0] not in (Phase.CLOSED, case.phase)
        ]
        self.initial.setdefault("changed_on", timezone.localdate())


class AssignMentorForm(forms.Form):
    mentor = forms.ModelChoiceField(queryset=None, label="Mentor")

    def __init__(self, *args: Any, case: Case, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].queryset = roles.caseworkers()
        self.initial.setdefault("mentor", case.mentor_id)


class CloseCaseForm(forms.Form):
    closure_reason = forms.ChoiceField(
        label="Why is the case closing?", choices=ClosureReason.choices, widget=forms.RadioSelect
    )
    closed_on = forms.DateField(label="Closed on", widget=DateInput())
    closure_notes = forms.CharField(
        label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    closure_accommodation = forms.ChoiceField(
        label="Where are they living now?", choices=AccommodationOutcome.choices
    )
    closure_ete = forms.ChoiceField(
        label="Education, training or work now", choices=ETEOutcome.choices
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("closed_on", timezone.localdate())


class CaseFilterForm(forms.Form):
    q = forms.CharField(label="Name", required=False, max_length=100)
    programme = forms.ModelChoiceField(
        queryset=Programme.objects.all(), required=False, empty_label="All programmes"
    )
    phase = forms.ChoiceField(required=False)
    mentor = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any mentor")
    status = forms.ChoiceField(
        required=False,
        choices=[("open", "Open"), ("closed", "Closed"), ("all", "Open and closed")],
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["phase"].choices = [("", "Any phase"), *Phase.choices]
        self.fields["mentor"].queryset = roles.caseworkers()
