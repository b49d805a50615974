from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate, get_user_model
from django.http import HttpRequest

from throughgate.core.forms import DateInput
from throughgate.core.models import AuditAction, AuditEvent


class AuditFilterForm(forms.Form):
    # A user name typed, not a list: a region has thousands of staff accounts, and a
    # <select> of every one was most of the audit page's time (docs/performance.md).
    actor = forms.ModelChoiceField(
        queryset=None,
        required=False,
        to_field_name="username",
        label="Who (user name)",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"invalid_choice": "There is no user with that user name."},
    )
    action = forms.ChoiceField(required=False, label="What")
    object_type = forms.ChoiceField(required=False, label="Record type")
    person_id = forms.IntegerField(required=False, min_value=1, label="Person number")
    date_from = forms.DateField(required=False, label="From", widget=DateInput())
    date_to = forms.DateField(required=False, label="To", widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = get_user_model().objects.order_by("username")
        self.fields["action"].choices = [("", "Anything"), *AuditAction.choices]
        types = AuditEvent.objects.order_by().values_list("object_type", flat=True).distinct()
        self.fields["object_type"].choices = [("", "Any")] + [(t, t) for t in sorted(types)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class ConfirmPasswordForm(forms.Form):
    """The "Confirm it's you" page: the logged-in user's own password.

    Checked with `authenticate(request, ...)` like the log-in page, so django-axes counts
    a wrong password towards the lock-out and the failure is audited (accounts.signals).
    The field is called `password` so axes masks it in what it stores.
    """

    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        checked = authenticate(self.request, username=user.get_username(), password=password)
        if checked is None or checked.pk != user.pk:
            raise forms.ValidationError(
                "That is not the password for this account. Check it and try again."
            )
        return password
