"""What an API token may be used for, and which roles may hold each scope.

A token carries the scopes its owner chose when making it; a request needs the scope
of its endpoint *and* an owner whose role still allows it (a mentor who becomes an
analyst keeps a token that no longer opens cases).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from throughgate.accounts import roles


class Scope(models.TextChoices):
    REFERRALS_WRITE = "referrals:write", "Send referrals (partners)"
    REFERRALS_READ = "referrals:read", "Read the status of referrals you sent (partners)"
    CASES_READ = "cases:read", "Read the cases you can see"
    CONTACTS_WRITE = "contacts:write", "Log contacts on the cases you work on"


PARTNER_SCOPES = (Scope.REFERRALS_WRITE, Scope.REFERRALS_READ)


def scopes_for(user: Any) -> list[str]:
    """The scopes this user's role allows, in the order they are offered."""
    if roles.is_partner(user):
        return [str(s) for s in PARTNER_SCOPES]
    # The safeguarding lead reads every case in the organisation: that stays in the
    # browser, behind two-factor log-in, rather than in a token another system holds.
    if (
        not roles.sees_personal_data(user)
        or roles.leads_safeguarding(user)
        and not roles.is_admin(user)
    ):
        return []
    return [str(Scope.CASES_READ), str(Scope.CONTACTS_WRITE)]


def may_have_tokens(user: Any) -> bool:
    return bool(scopes_for(user))
