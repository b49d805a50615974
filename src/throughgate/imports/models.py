"""What the importer keeps: named sources, their saved column mappings, one row per run,
and the map from each source's own ids to the records they became.

The map (`SourceRecord`) is what makes an import idempotent: a row whose
(source, kind, source id) is already there was imported before and is left alone. It is
also the list of what each run created, so a run's records can be found again without
one audit event per row (docs/import.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from throughgate.accounts import roles


class Kind(models.TextChoices):
    PEOPLE = "people", "People"
    REFERRALS = "referrals", "Referrals"
    CASES = "cases", "Cases"
    CONTACTS = "contacts", "Contacts"
    CUSTODY = "custody", "Custody episodes and key dates"
    REOFFENDING = "reoffending", "Reoffending events"


class AdminOnlyQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> AdminOnlyQuerySet:
        """Imports bring in personal data in bulk: the manager / admin alone runs them."""
        if roles.is_admin(user) and user.is_active:
            return self.all()
        return self.none()


class Source(models.Model):
    """Where a batch of files comes from ("Old spreadsheets 2010-2024"): its ids are
    unique within it, and its column mappings are kept for next time."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AdminOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SourceMapping(models.Model):
    """For one source and kind of record: which of the file's columns holds each field
    (field name -> column header), as last confirmed."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="mappings")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    columns = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "kind"], name="imports_one_mapping_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.get_kind_display()}"


class RunStatus(models.TextChoices):
    UPLOADED = "uploaded", "Waiting for the columns to be matched"
    CHECKING = "checking", "Being checked"
    CHECKED = "checked", "Checked: no problems"
    PROBLEMS = "problems", "Checked: problems found"
    COMMITTING = "committing", "Being imported"
    COMMITTED = "committed", "Imported"
    REFUSED = "refused", "Not imported: problems found"


class ImportRun(models.Model):
    """One file brought in (or checked) for one source and kind: what it held, what was
    wrong with it and what was added. The problem list keeps row numbers and column
    names, never the cells' values beyond the one that is wrong."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="runs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file_name = models.CharField(max_length=200)
    # Where the uploaded file waits (0600, DATA_DIR/job-files) until it is imported;
    # emptied when it is removed. Never shown.
    file_path = models.CharField(max_length=300, blank=True)
    headers = models.JSONField(default=list, blank=True)
    columns = models.JSONField(default=dict, blank=True)  # the mapping used
    status = models.CharField(max_length=20, choices=RunStatus.choices)
    rows = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    already = models.PositiveIntegerField("already imported", default=0)
    problem_count = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)  # [[row, column, message], ...]
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = AdminOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name} ({self.source})"


class SourceRecord(models.Model):
    """Source id -> the record it became: (source, kind, source id) is imported once."""

    # No index of their own for `source` and `run`: the unique constraint and the
    # (run, kind) index start with them, and every index is one more write per row of a
    # million-row import.
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="records", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    external_id = models.CharField("the source's id", max_length=100)
    object_id = models.BigIntegerField()
    run = models.ForeignKey(
        ImportRun, on_delete=models.PROTECT, related_name="records", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "external_id"], name="imports_source_id_once"
            )
        ]
        indexes = [models.Index(fields=["run", "kind"])]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.external_id} -> {self.object_id}"
