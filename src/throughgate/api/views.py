"""The pages behind the API: your own tokens (made, shown once, revoked), and for the
manager/admin everyone's tokens and the partner organisations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from throughgate.accounts import roles
from throughgate.core.access import get_visible_or_404
from throughgate.core.views import attach_errors, only_for

from . import actions
from .forms import PartnerForm, PartnerTokenForm, TokenForm
from .models import ApiToken, PartnerProfile
from .scopes import may_have_tokens


def _create_from(request: HttpRequest, form: TokenForm, owner: Any) -> str | None:
    if request.method != "POST" or not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        _token, secret = actions.create_token(
            request.user, owner, data["name"], data["scopes"], data["expires_in_days"]
        )
    except ValidationError as exc:
        attach_errors(form, exc)
        return None
    return secret


@require_http_methods(["GET", "POST"])
@only_for(may_have_tokens)
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None, owner=request.user)
    secret = _create_from(request, form, request.user)
    if secret:
        form = TokenForm(owner=request.user)
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "secret": secret,
            "tokens": ApiToken.objects.filter(user=request.user),
        },
        status=400 if form.errors else 200,
    )


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_visible_or_404(ApiToken, request.user, pk=pk)
    actions.revoke_token(request.user, token)
    messages.success(request, f"The token “{token.name}” no longer works.")
    if token.user_id != request.user.pk:
        return redirect("api:token_admin")
    return redirect("api:tokens")


@require_http_methods(["GET", "POST"])
@only_for(roles.is_admin)
def token_admin(request: HttpRequest) -> HttpResponse:
    form = PartnerTokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        secret = _create_from(request, form, form.cleaned_data["user"])
        if secret:
            form = PartnerTokenForm()
    return render(
        request,
        "api/token_admin.html",
        {
            "form": form,
            "secret": secret,
            "tokens": ApiToken.objects.visible_to(request.user).select_related("user"),
            "partners": PartnerProfile.objects.visible_to(request.user).select_related("user"),
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@only_for(roles.is_admin)
def partner_new(request: HttpRequest) -> HttpResponse:
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            profile = actions.add_partner(request.user, form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{profile.organisation} added. Now give it a token below.")
            return redirect("api:token_admin")
    return render(
        request, "api/partner_form.html", {"form": form}, status=400 if form.errors else 200
    )
