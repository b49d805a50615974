"""A funder report PDF made by the background worker, kept in the database so that any
app server can hand it over (the worker may run on another machine)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class FunderReportFileQuerySet(models.QuerySet["FunderReportFile"]):
    def visible_to(self, user: object) -> FunderReportFileQuerySet:
        """Aggregate figures only (suppressed): whoever may open the funder report may
        download any PDF of it."""
        from .views import may_see_funder_report

        if not may_see_funder_report(user):
            return self.none()
        return self.all()


class FunderReportFile(models.Model):
    job = models.OneToOneField(
        "core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=120)
    description = models.CharField("period and programmes", max_length=300)
    pdf = models.BinaryField()
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    made_at = models.DateTimeField(default=timezone.now)

    objects = FunderReportFileQuerySet.as_manager()

    class Meta:
        ordering = ["-made_at", "-id"]

    def __str__(self) -> str:
        return self.name
