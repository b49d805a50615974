"""Every change the api app makes: tokens made and revoked, partners added, referrals
sent. Each validates, saves and writes its audit event in one transaction."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from throughgate.accounts import roles
from throughgate.casework import actions as casework_actions
from throughgate.casework.models import Programme, Referral, ReferralSource
from throughgate.core import audit
from throughgate.core.actions import user_or_none
from throughgate.core.models import AuditAction
from throughgate.core.validators import normalise_crn, normalise_pnc_id, normalise_prison_number
from throughgate.people import actions as people_actions
from throughgate.people import linkage
from throughgate.people.models import FoundBy, Person

from .models import ApiToken, PartnerProfile, PartnerReferral
from .scopes import scopes_for

TOKEN_START = "tg_"
EXPIRY_CHOICES = (30, 90, 365)
# last_used_at is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_token(
    actor: Any, owner: Any, name: str, scopes: list[str], expires_in_days: int | None = 90
) -> tuple[ApiToken, str]:
    """Make a token for `owner`; returns the row and the token itself, which is shown
    once and never stored."""
    errors: dict[str, str] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = "Say what the token is for, e.g. 'Feltham referrals'."
    elif len(name) > 100:
        errors["name"] = "Keep the name under 100 characters."
    allowed = scopes_for(owner)
    if not scopes:
        errors["scopes"] = "Choose at least one thing the token may do."
    elif set(scopes) - set(allowed):
        errors["scopes"] = f"{owner} may not have: {', '.join(sorted(set(scopes) - set(allowed)))}."
    if expires_in_days is not None and expires_in_days not in EXPIRY_CHOICES:
        errors["expires_in_days"] = "Choose how long the token lasts."
    if actor != owner and not roles.is_admin(actor):
        errors["user"] = "Only the manager/admin makes tokens for someone else."
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    secret = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    token = ApiToken.objects.create(
        user=owner,
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=[s for s in allowed if s in scopes],
        created_at=now,
        created_by=user_or_none(actor),
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    audit.record(
        actor, AuditAction.CREATE, token, fields=["name", "scopes", "expires_at"],
        summary=f"API token {prefix} for {owner.username}",
    )  # fmt: skip
    return token, secret


@transaction.atomic
def revoke_token(actor: Any, token: ApiToken) -> ApiToken:
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.revoked_by = user_or_none(actor)
    locked.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        actor, AuditAction.UPDATE, locked, fields=["revoked_at"],
        summary=f"API token {locked.prefix} revoked",
    )  # fmt: skip
    return locked


def token_for(secret: str) -> ApiToken | None:
    """The active token whose secret this is (compared in constant time), or None."""
    if not secret.startswith(TOKEN_START) or len(secret) > 200:
        return None
    prefix = secret[len(TOKEN_START) :].split("_", 1)[0]
    token = (
        ApiToken.objects.active()
        .select_related("user")
        .filter(prefix=prefix, user__is_active=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@transaction.atomic
def add_partner(actor: Any, data: dict[str, Any]) -> PartnerProfile:
    """A partner organisation's account (no password: it uses the API with a token the
    manager gives it)."""
    errors: dict[str, str] = {}
    username = (data.get("username") or "").strip()
    organisation = " ".join((data.get("organisation") or "").split())
    User = get_user_model()
    if not username:
        errors["username"] = "Enter a user name for the partner's account."
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = "Someone already has this user name."
    if not organisation:
        errors["organisation"] = "Enter the organisation's name."
    if data.get("source_type") not in ReferralSource.values:
        errors["source_type"] = "Choose what kind of organisation it is."
    if errors:
        raise ValidationError(errors)
    user = User(
        username=username,
        first_name=(data.get("contact_name") or "")[:150],
        email=data.get("email") or "",
        role=roles.Role.PARTNER,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    profile = PartnerProfile.objects.create(
        user=user, organisation=organisation, source_type=data["source_type"]
    )
    audit.record(actor, AuditAction.CREATE, user, fields=["username", "role"],
                 summary=f"partner account: {organisation}"[:200])  # fmt: skip
    audit.record(actor, AuditAction.CREATE, profile, fields=["organisation", "source_type"])
    return profile


IDENTIFIERS = (
    ("prison_number", normalise_prison_number),
    ("pnc_id", normalise_pnc_id),
    ("crn", normalise_crn),
)


def _known_person(data: dict[str, Any]) -> Person | None:
    """The person already holding one of these identifiers. A partner may not see who
    we know, so a match quietly joins the referral to that record instead of answering
    "already exists"; the referral's answers show only what the partner sent."""
    for field, normalise in IDENTIFIERS:
        value = data.get(field)
        if value:
            try:
                value = normalise(value)
            except ValidationError as exc:
                raise ValidationError({field: exc.messages}) from None
            data[field] = value
            person = Person.objects.filter(**{field: value}).first()
            if person is not None:
                return person
    return None


@transaction.atomic
def send_referral(
    partner: Any, person_data: dict[str, Any], programme_id: int, referral_data: dict[str, Any]
) -> PartnerReferral:
    """A partner's referral: the young person (a new record unless an identifier is
    known), then the referral through casework's own action, stamped with the partner's
    organisation so it cannot claim to be someone else."""
    profile = PartnerProfile.objects.filter(user=partner).first()
    if profile is None or not roles.is_partner(partner):
        raise ValidationError("This account is not set up as a partner organisation.")
    programme = Programme.objects.filter(pk=programme_id, active=True).first()
    if programme is None:
        raise ValidationError({"programme_id": "Choose one of the programmes listed."})
    person_data = dict(person_data)
    person = _known_person(person_data)
    if person is None:
        person = people_actions.create_person(partner, person_data)
        # As at the referral form: once committed, the worker looks for this record under
        # other spellings; a likely pair waits for the manager, the partner learns nothing.
        linkage.review_later(partner, [person.pk], FoundBy.INTAKE)
    referral = casework_actions.create_referral(
        partner,
        person,
        programme,
        {
            **referral_data,
            "source_type": profile.source_type,
            "referring_organisation": profile.organisation,
        },
    )
    link = PartnerReferral.objects.create(referral=referral, partner=partner)
    audit.record(partner, AuditAction.CREATE, link, fields=["referral", "partner"])
    return link


def partner_view(partner: Any, link: PartnerReferral) -> Referral:
    """A partner reads a referral it sent: audited like a web view of a referral."""
    audit.record_view(partner, link.referral, summary="via API")
    return link.referral
