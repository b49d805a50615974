"""Kernel models: the audit trail and the base every personal-data model shares."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    SEARCH = "search", "Searched"
    EXPORT = "export", "Exported"
    REFUSED = "refused", "Refused"  # asked for something the role does not allow
    LOGIN = "login", "Logged in"
    LOGIN_FAILED = "login_failed", "Failed log-in"
    LOGOUT = "logout", "Logged out"


class AuditEventQuerySet(models.QuerySet):
    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        """New events join the hash chain: `core.audit.append` numbers and hashes them
        under the chain lock, so a bulk writer (the demo seeder) cannot break the chain."""
        from .audit import append  # audit imports this module

        if args or set(kwargs) - {"batch_size"}:
            raise TypeError("audit events are only ever appended: no conflict handling")
        return append(list(objs), using=self.db, batch_size=kwargs.get("batch_size"))


class AuditEvent(models.Model):
    """One thing someone did to, or saw of, personal data.

    Holds *which* fields changed, never their values: the trail itself must not
    become a second copy of sensitive notes.

    Events form a hash chain (`engines.audit_chain`, docs/access-and-audit.md): `seq`
    numbers them 1, 2, 3 … in the order they were written, and `hash` covers the
    event's content and the previous event's hash. `core.audit.append` assigns all three
    when an event is first saved, however it is saved.
    """

    seq = models.BigIntegerField(unique=True, editable=False)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    # Kept beside the key so the trail still reads after an account is removed.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(max_length=60, db_index=True)  # "casework.case"
    object_id = models.CharField(max_length=40, blank=True)
    # Whose personal data this was, so "who has looked at this young person?"
    # is one indexed query whatever the object was.
    person_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    fields = models.JSONField(default=list, blank=True)
    summary = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)  # hex SHA-256
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} "
            f"{self.object_type}#{self.object_id}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and self.seq is None:
            from .audit import append

            append([self], using=kwargs.get("using"))
            return
        super().save(*args, **kwargs)


# --- Background jobs ------------------------------------------------------------


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for the worker"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    REFUSED = "refused", "Refused"  # the input was wrong: running it again will not help
    FAILED = "failed", "Failed"  # something broke: it can be tried again


class JobQuerySet(models.QuerySet["Job"]):
    def visible_to(self, user: Any) -> JobQuerySet:
        """A job's progress page is for the person who started it; what it made (an
        evaluation, an import) is shown to others by that record's own rules."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.filter(created_by=user)


class Job(models.Model):
    """Long work (an evaluation, an import, a report) done by `throughgate worker` rather
    than in a web request: what the page shows while it runs, and what it ended in. The
    queue itself is django-tasks' database backend; this row is the part people see."""

    kind = models.CharField(max_length=60)  # the handler's name in core.jobs
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # per cent
    step = models.CharField("what it is doing", max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)  # settings only, never personal data
    result_url = models.CharField(max_length=300, blank=True)
    # Where to change the choices and start again (the form, filled in as before).
    back_url = models.CharField(max_length=300, blank=True)
    message = models.TextField(blank=True)  # why it was refused or failed
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.REFUSED, JobStatus.FAILED)
