from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from throughgate.core import audit, reauth
from throughgate.core.exports import csv_writer
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.core.views import only_for, paginate

from . import roles
from .forms import AuditFilterForm, ConfirmPasswordForm


class LoginView(auth_views.LoginView):
    """Django's log-in page; typing the password here also counts as confirming it
    (core.reauth), so an export straight after logging in asks for nothing more."""

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        reauth.note_password_entered(self.request)
        return response


@require_http_methods(["GET", "POST"])
def confirm_password(request: HttpRequest) -> HttpResponse:
    """The "Confirm it's you" page: the password again before a download of personal
    data, then back to the exact URL asked for (`next`, only ever a URL of this site)."""
    next_url = reauth.safe_next(
        request, request.POST.get("next") or request.GET.get("next"), fallback=reverse("home")
    )
    form = ConfirmPasswordForm(request, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        request.throughgate_reauth = True  # type: ignore[attr-defined]  # for the audit
        if form.is_valid():
            reauth.note_password_entered(request)
            user = request.user
            assert isinstance(user, Model)  # logged in: the page needs a log-in
            audit.record(
                user, AuditAction.LOGIN, user,
                summary=f"password confirmed, for {urlsplit(next_url).path}",
            )  # fmt: skip
            return HttpResponseRedirect(next_url)
        if getattr(request, "axes_locked_out", False):
            # Someone guessing at an unattended, logged-in screen: the lock-out also
            # ends this session. AxesMiddleware answers with the lock-out page.
            reason = "locked out while confirming the password"
            request.throughgate_logout_reason = reason  # type: ignore[attr-defined]
            logout(request)
    return render(
        request,
        "accounts/confirm_password.html",
        {"form": form, "next": next_url, "minutes": settings.REAUTH_MINUTES},
        status=400 if form.errors else 200,
    )


def _filtered_events(form: AuditFilterForm):  # type: ignore[no-untyped-def]
    events = AuditEvent.objects.select_related("actor")
    if not form.is_valid():
        return events.none() if form.is_bound else events
    data = form.cleaned_data
    if data["actor"]:
        events = events.filter(actor=data["actor"])
    if data["action"]:
        events = events.filter(action=data["action"])
    if data["object_type"]:
        events = events.filter(object_type=data["object_type"])
    if data["person_id"]:
        events = events.filter(person_id=data["person_id"])
    zone = timezone.get_current_timezone()
    if data["date_from"]:
        events = events.filter(at__gte=datetime.combine(data["date_from"], time.min, zone))
    if data["date_to"]:
        end = datetime.combine(data["date_to"] + timedelta(days=1), time.min, zone)
        events = events.filter(at__lt=end)
    return events


@require_GET
@only_for(roles.is_admin)
def audit_trail(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = _filtered_events(form)
    if request.GET.get("format") == "csv":
        if (confirm := reauth.require_recent_password(request)) is not None:
            return confirm
        audit.record(
            request.user, AuditAction.EXPORT, object_type="core.auditevent", summary="audit CSV"
        )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
        writer = csv_writer(response)
        writer.writerow(
            [
                "at",
                "actor",
                "action",
                "object_type",
                "object_id",
                "person_id",
                "fields",
                "summary",
                "ip_address",
            ]
        )
        for e in events.iterator(chunk_size=2000):
            writer.writerow(
                [timezone.localtime(e.at).isoformat(), e.actor_username, e.action, e.object_type,
                 e.object_id, e.person_id or "", ";".join(e.fields), e.summary, e.ip_address or ""]
            )  # fmt: skip
        return response
    page = paginate(request, events, per_page=100)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit_trail.html",
        {"form": form, "page": page, "querystring": query.urlencode()},
    )


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: the process answers and the database does too."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@require_GET
@only_for(roles.is_admin)
def manage(request: HttpRequest) -> HttpResponse:
    """The manager's tasks that are not daily work, on one page rather than in the
    navigation: the audit trail, duplicate people, imports, API access, funder reports."""
    return render(request, "accounts/manage.html")
