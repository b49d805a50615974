"""Kernel models: the audit trail and the base every personal-data model shares."""

from __future__ import annotations

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
    LOGIN = "login", "Logged in"
    LOGIN_FAILED = "login_failed", "Failed log-in"
    LOGOUT = "logout", "Logged out"


class AuditEvent(models.Model):
    """One thing someone did to, or saw of, personal data.

    Holds *which* fields changed, never their values: the trail itself must not
    become a second copy of sensitive notes.
    """

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

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} "
            f"{self.object_type}#{self.object_id}"
        )
