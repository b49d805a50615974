"""API tokens and partner organisations (the api app's own tables).

Only a SHA-256 hash of each token is stored: a copy of the database opens nothing.
The `prefix` (the token's first characters, also in the token itself) finds the row
and lets people tell their tokens apart on the page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.casework.models import Referral, ReferralSource


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def visible_to(self, user: Any) -> ApiTokenQuerySet:
        """The one door to tokens: your own; the manager/admin sees everyone's."""
        if roles.role_of(user) is None:
            return self.none()
        if roles.is_admin(user):
            return self.all()
        return self.filter(user=user)

    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField("what it is for", max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "Revoked"
        if not self.is_active:
            return "Expired"
        return "Active"


class PartnerProfileQuerySet(models.QuerySet["PartnerProfile"]):
    def visible_to(self, user: Any) -> PartnerProfileQuerySet:
        if roles.is_admin(user):
            return self.all()
        return self.filter(user=user) if roles.is_partner(user) else self.none()


class PartnerProfile(models.Model):
    """The organisation behind a partner account: every referral it sends says so."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_profile"
    )
    organisation = models.CharField(
        "organisation", max_length=200, help_text="e.g. HMP/YOI Feltham resettlement team"
    )
    source_type = models.CharField(
        "kind of organisation", max_length=20, choices=ReferralSource.choices
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = PartnerProfileQuerySet.as_manager()

    class Meta:
        ordering = ["organisation"]

    def __str__(self) -> str:
        return self.organisation


class PartnerReferralQuerySet(models.QuerySet["PartnerReferral"]):
    def visible_to(self, user: Any) -> PartnerReferralQuerySet:
        """The one door to a partner's referrals: only those it sent."""
        if not roles.is_partner(user):
            return self.none()
        return self.filter(partner=user)


class PartnerReferral(models.Model):
    """Which partner sent a referral through the API (so it alone may read its status)."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="partner_link")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="partner_referrals"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    objects = PartnerReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"Referral {self.referral_id} from {self.partner}"

    @property
    def audit_person_id(self) -> int:
        return self.referral.person_id
