"""The pages of two-factor log-in: the code after the password, setting up an
authenticator app, and new recovery codes. See `two_factor.py` for why."""

from __future__ import annotations

from base64 import b32encode
from math import ceil
from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from throughgate.core import audit, reauth
from throughgate.core.models import AuditAction

from . import two_factor
from .two_factor import two_factor_not_required

# After this many wrong codes in one sitting the session ends: someone at an unattended,
# half-logged-in screen does not get to keep guessing (django-otp also slows each try).
MAX_WRONG_CODES = 5
WRONG_CODES = "throughgate_wrong_codes"


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code your authenticator app shows now, or one of your "
        "recovery codes.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autofocus": True,
                "inputmode": "text",
                "autocapitalize": "off",
                "spellcheck": "false",
            }  # fmt: skip
        ),
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any):
        self.user = user
        self.device: Any = None
        super().__init__(*args, **kwargs)

    def clean_code(self) -> str:
        text = self.cleaned_data["code"].strip()
        digits = text.replace(" ", "")
        if digits.isdigit() and len(digits) == 6:
            device = two_factor.app_device(self.user)
            if device is not None:
                allowed, why = device.verify_is_allowed()
                if not allowed:
                    # django-otp doubles the wait after each wrong code (1 s, 2 s, 4 s …).
                    until = (why or {}).get("locked_until")
                    wait = max(1, ceil((until - timezone.now()).total_seconds())) if until else 1
                    raise forms.ValidationError(
                        f"Too many wrong codes in a row. Wait {wait} second{pluralize(wait)}, "
                        f"then type the code the app shows."
                    )
                if device.verify_token(digits):
                    self.device = device
                    return digits
        else:
            device = two_factor.recovery_device(self.user)
            if device is not None and device.verify_token(two_factor.normalise_recovery_code(text)):
                self.device = device
                return text
        raise forms.ValidationError(
            "That code is not right. Codes change every 30 seconds: type the one your app "
            "shows now, or a recovery code."
        )


class SetupForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=20,
        help_text="After scanning, the app shows a 6-digit code for Throughgate.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, device: TOTPDevice, *args: Any, **kwargs: Any):
        self.device = device
        super().__init__(*args, **kwargs)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "").strip()
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Type the 6 digits the app shows, for example 123456.")
        if not self.device.verify_token(code):
            # The app is not a second factor until this succeeds, so there is nothing for
            # django-otp's slowing-down to protect yet; someone retyping should not wait.
            self.device.throttle_reset()
            raise forms.ValidationError(
                "That code does not match. Check the app shows Throughgate and type the "
                "code it shows now (codes change every 30 seconds)."
            )
        return code


def _next(request: HttpRequest) -> str:
    return reauth.safe_next(
        request, request.POST.get("next") or request.GET.get("next"), fallback=reverse("home")
    )


def _go(url_name: str, next_url: str) -> HttpResponse:
    return HttpResponseRedirect(f"{reverse(url_name)}?{urlencode({'next': next_url})}")


@two_factor_not_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of logging in: the code from the app (or a recovery code)."""
    user = request.user
    next_url = _next(request)
    if two_factor.app_device(user) is None:
        return HttpResponseRedirect(
            f"{reverse('two_factor_setup')}?{urlencode({'next': next_url})}"
        )
    if user.is_verified():  # type: ignore[union-attr]
        return HttpResponseRedirect(next_url)
    form = CodeForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            otp_login(request, form.device)
            request.session.pop(WRONG_CODES, None)
            used = "a recovery code" if isinstance(form.device, StaticDevice) else "the app"
            audit.record(user, AuditAction.LOGIN, user, summary=f"two-factor code from {used}")
            return HttpResponseRedirect(next_url)
        wrong = int(request.session.get(WRONG_CODES, 0)) + 1
        request.session[WRONG_CODES] = wrong
        audit.record(
            user, AuditAction.LOGIN_FAILED, user, summary=f"wrong two-factor code ({wrong})"
        )
        if wrong >= MAX_WRONG_CODES:
            request.throughgate_logout_reason = (  # type: ignore[attr-defined]
                f"{wrong} wrong two-factor codes"
            )
            logout(request)
            return render(request, "accounts/two_factor_locked.html", status=403)
    return render(
        request,
        "accounts/two_factor_verify.html",
        {
            "form": form,
            "next": next_url,
            "codes_left": two_factor.recovery_codes_left(user),
        },  # fmt: skip
        status=400 if form.errors else 200,
    )


def _qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code (no script, no third party)."""
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=5, border=2, dark="#000", light="#fff", omitsize=False)
    return mark_safe(svg)  # noqa: S308  # segno's own markup, built from our URL


def _grouped(secret_b32: str) -> str:
    return " ".join(secret_b32[i : i + 4] for i in range(0, len(secret_b32), 4))


@two_factor_not_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), then type the
    code it shows to prove it works. Someone who already has an app must give its code
    first (they are then verified) and confirm their password before replacing it."""
    user = request.user
    next_url = _next(request)
    if two_factor.app_device(user) is not None:
        if not user.is_verified():  # type: ignore[union-attr]
            return _go("two_factor", next_url)
        if (asked := reauth.require_recent_password(request)) is not None:
            return asked
    device = two_factor.pending_app_device(user)
    form = SetupForm(device, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_app(user, device)
        otp_login(request, device)
        return render(
            request, "accounts/two_factor_codes.html",
            {"codes": codes, "next": next_url, "first_time": True},
        )  # fmt: skip
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "next": next_url,
            "qr": _qr_svg(device),
            "key": _grouped(b32encode(device.bin_key).decode()),
            "replacing": two_factor.app_device(user) is not None,
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), after the password again."""
    user = request.user
    if two_factor.app_device(user) is None:
        return HttpResponseRedirect(reverse("two_factor_setup"))
    if request.method == "POST":
        if (asked := reauth.require_recent_password(request)) is not None:
            return asked
        codes = two_factor.issue_recovery_codes(user, user)
        return render(
            request, "accounts/two_factor_codes.html",
            {"codes": codes, "next": reverse("home"), "first_time": False},
        )  # fmt: skip
    return render(
        request,
        "accounts/two_factor_manage.html",
        {
            "codes_left": two_factor.recovery_codes_left(user),
            "required": two_factor.needs_two_factor(user),
        },  # fmt: skip
    )
