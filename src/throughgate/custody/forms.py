from __future__ import annotations

from typing import Any

from django import forms

from throughgate.core.forms import DateInput

from .models import CustodyEpisode, Establishment


class CustodyEpisodeForm(forms.ModelForm):
    class Meta:
        model = CustodyEpisode
        fields = ["establishment", "received_on", "expected_release_date"]
        widgets = {"received_on": DateInput(), "expected_release_date": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["establishment"].queryset = Establishment.objects.filter(active=True)
        self.fields["establishment"].label_from_instance = lambda e: e.display_name
