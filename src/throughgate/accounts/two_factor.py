"""Two-factor log-in: after the password, a six-digit code from an authenticator app.

A stolen or guessed password alone must not open a record of a child's offences or a
safeguarding disclosure. Everyone whose role sees personal data (every role but the
analyst, who sees aggregates only) gives a code from an authenticator app (TOTP, RFC
6238, via django-otp) after the password, or one of ten single-use recovery codes when
the phone is lost. The first log-in after this is switched on leads straight to setting
the app up. `TWO_FACTOR_REQUIRED=false` turns the requirement off (the demo does, since
its log-ins are published); the pages still work for anyone who wants them.

The check is one middleware (`TwoFactorMiddleware`) rather than a decorator per view, so
a page added later cannot forget it. It runs per view, after LoginRequiredMiddleware
has had its say: pages that need no log-in (the log-in page, the health check) need no
code either, and the few pages someone half-logged-in must reach (the code page, set-up,
log-out) say so with `@two_factor_not_required`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from throughgate.core import audit
from throughgate.core.models import AuditAction

from . import roles

RECOVERY_CODES = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

View = TypeVar("View", bound=Callable[..., Any])


def two_factor_not_required(view: View) -> View:
    """Mark a page someone who has given only their password may open."""
    view.two_factor_required = False  # type: ignore[attr-defined]
    return view


def needs_two_factor(user: Any) -> bool:
    """Whether this user must give a code before any page with personal data."""
    return bool(settings.TWO_FACTOR_REQUIRED) and roles.sees_personal_data(user)


def app_device(user: Any) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if they have set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_device(user: Any) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(user: Any) -> int:
    device = recovery_device(user)
    return device.token_set.count() if device else 0


def new_recovery_code() -> str:
    """Ten characters from an alphabet without look-alikes (no 0/O, 1/l/I), shown in
    two groups of five: about 50 bits each, typed by hand from a sheet of paper."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    code = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{code[:5]}-{code[5:]}"


def normalise_recovery_code(text: str) -> str:
    """What someone types, as it is stored: case and spaces ignored, one hyphen."""
    raw = "".join(ch for ch in text.lower() if ch.isalnum())
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else raw


def pending_app_device(user: Any) -> TOTPDevice:
    """The not-yet-confirmed authenticator app being set up: the same secret across
    reloads of the set-up page, so the QR code someone already scanned stays valid."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def issue_recovery_codes(actor: Any, user: Any) -> list[str]:
    """Replace the user's recovery codes with ten new ones and return them, to be shown
    once. Each works once: django-otp deletes a code when it is used."""
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
        audit.record(
            actor, AuditAction.UPDATE, user, summary=f"{RECOVERY_CODES} new recovery codes issued"
        )
    return codes


def confirm_app(actor: Any, device: TOTPDevice) -> list[str]:
    """The code from the new app matched: keep it as the user's only app, and issue
    recovery codes. Returns the codes to show once."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit.record(actor, AuditAction.UPDATE, device.user, summary="authenticator app set up")
        return issue_recovery_codes(actor, device.user)


def reset(actor: Any, user: Any) -> None:
    """Forget a user's app and recovery codes (a lost phone): they set up a new app at
    their next log-in. Audited on the user."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit.record(actor, AuditAction.UPDATE, user, summary="two-factor log-in reset")


class TwoFactorMiddleware:
    """Send a logged-in user who has not yet given a code to the code page (or to
    set-up, the first time), with `next` so they land where they were going."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if not getattr(view_func, "login_required", True):
            return None  # the log-in page, the health check, the token-authenticated API
        if not getattr(view_func, "two_factor_required", True):
            return None
        user = request.user
        if not user.is_authenticated or not needs_two_factor(user):
            return None
        if user.is_verified():  # type: ignore[union-attr]  # OTPMiddleware adds it
            return None
        where = "two_factor" if app_device(user) else "two_factor_setup"
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse(where)}?{query}")
