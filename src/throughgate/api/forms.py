from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from throughgate.accounts import roles
from throughgate.casework.models import ReferralSource

from .actions import EXPIRY_CHOICES
from .scopes import Scope, scopes_for


class TokenForm(forms.Form):
    name = forms.CharField(
        label="What is it for?", max_length=100, help_text="e.g. 'Case system sync'."
    )
    scopes = forms.MultipleChoiceField(
        label="What may it do?", widget=forms.CheckboxSelectMultiple, choices=()
    )
    expires_in_days = forms.TypedChoiceField(
        label="How long does it last?",
        coerce=int,
        choices=[(d, f"{d} days") for d in EXPIRY_CHOICES],
        initial=90,
    )

    def __init__(self, *args: Any, owner: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        labels = dict(Scope.choices)
        self.fields["scopes"].choices = [(s, f"{s}: {labels[s]}") for s in scopes_for(owner)]


class PartnerTokenForm(TokenForm):
    """The manager/admin issues a token to a partner organisation's account."""

    user = forms.ModelChoiceField(label="Partner", queryset=get_user_model().objects.none())

    field_order = ["user", "name", "scopes", "expires_in_days"]

    def __init__(self, *args: Any, **kwargs: Any):
        partner = get_user_model()(role=roles.Role.PARTNER)
        super().__init__(*args, owner=partner, **kwargs)
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(role=roles.Role.PARTNER, is_active=True, partner_profile__isnull=False)
            .select_related("partner_profile")
        )
        self.fields["user"].label_from_instance = lambda u: (
            f"{u.partner_profile.organisation} ({u.username})"
        )


class PartnerForm(forms.Form):
    organisation = forms.CharField(label="Organisation", max_length=200)
    source_type = forms.ChoiceField(label="Kind of organisation", choices=ReferralSource.choices)
    username = forms.CharField(
        label="User name for its account", max_length=150, help_text="e.g. feltham-resettlement"
    )
    contact_name = forms.CharField(label="Contact's name", max_length=150, required=False)
    email = forms.EmailField(label="Contact's email", required=False)
