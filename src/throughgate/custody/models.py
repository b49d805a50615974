"""Prisons and time in custody.

The foundation holds the establishment register and a plain custody episode
(where, since when, expected release); sentence key dates, transfers and the
gate plan build on these.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from throughgate.core.models import TimeStampedModel
from throughgate.people.models import Person

_SUFFIX = re.compile(r"^(?P<name>.+?)\s*\((?P<kind>[^)]+)\)$")


class Establishment(models.Model):
    code = models.CharField("agency code", max_length=10, primary_key=True)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    male = models.BooleanField(default=False)
    female = models.BooleanField(default=False)
    contracted = models.BooleanField(default=False)
    types = models.CharField(max_length=60, blank=True)  # "HMP;YOI"
    categories = models.CharField(max_length=20, blank=True)  # "A;B"
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    county = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=20, blank=True)
    name_welsh = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """ "Feltham (HMP)" as people say it: "HMP Feltham"; "Isis (HMP & YOI)": "HMP/YOI Isis"."""
        match = _SUFFIX.match(self.name)
        if not match:
            return self.name
        kind = match["kind"].replace(" & ", "/")
        return f"{kind} {match['name']}"


class CustodyEpisodeQuerySet(models.QuerySet["CustodyEpisode"]):
    def visible_to(self, user: Any) -> CustodyEpisodeQuerySet:
        return self.filter(person__in=Person.objects.visible_to(user))

    def editable_by(self, user: Any) -> CustodyEpisodeQuerySet:
        return self.filter(person__in=Person.objects.editable_by(user))

    def current(self) -> CustodyEpisodeQuerySet:
        return self.filter(released_on__isnull=True)


class CustodyEpisode(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="custody_episodes")
    establishment = models.ForeignKey(
        Establishment, on_delete=models.PROTECT, related_name="episodes", verbose_name="prison"
    )
    received_on = models.DateField("in custody since")
    expected_release_date = models.DateField("expected release date", null=True, blank=True)
    released_on = models.DateField("released on", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CustodyEpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["released_on", "expected_release_date"])]

    def __str__(self) -> str:
        return f"{self.establishment} from {self.received_on:%d/%m/%Y}"

    @property
    def audit_person_id(self) -> int:
        return self.person_id

    def clean(self) -> None:
        errors: dict[str, str] = {}
        today = timezone.localdate()
        if isinstance(self.received_on, date):
            if self.received_on > today:
                errors["received_on"] = "The date they went into custody cannot be in the future."
            elif self.person_id and self.received_on < self.person.date_of_birth:
                errors["received_on"] = "This is before the person was born."
            if (
                isinstance(self.expected_release_date, date)
                and self.expected_release_date < self.received_on
            ):
                errors["expected_release_date"] = (
                    "The expected release date is before they went into custody."
                )
            if isinstance(self.released_on, date):
                if self.released_on < self.received_on:
                    errors["released_on"] = "The release date is before they went into custody."
                elif self.released_on > today:
                    errors["released_on"] = (
                        "A release cannot be recorded for a future date; "
                        "use the expected release date."
                    )
        if self.establishment_id and not self.establishment.active and not self.pk:
            errors["establishment"] = "This prison is no longer open; choose a current one."
        if errors:
            raise ValidationError(errors)
