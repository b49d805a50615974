"""Changing one's own password, with the advice of the National Cyber Security Centre
(NCSC): a long passphrase of three random words beats a short complex one; no forced
changes on a timetable, no rules about symbols; common and breached-looking passwords
are refused (Django's list of 20,000); password managers and pasting are welcome."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from throughgate.core import audit, reauth
from throughgate.core.models import AuditAction


@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = PasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            update_session_auth_hash(request, form.user)  # stay logged in here
            reauth.note_password_entered(request)
            audit.record(user, AuditAction.UPDATE, user, summary="password changed")
            messages.success(request, "Your password has been changed.")
            return HttpResponseRedirect(reverse("home"))
    return render(
        request,
        "accounts/change_password.html",
        {"form": form, "rules": password_validators_help_texts()},
        status=400 if form.errors else 200,
    )
