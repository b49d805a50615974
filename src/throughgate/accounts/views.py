from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from throughgate.core import audit
from throughgate.core.exports import csv_writer
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.core.views import only_for, paginate

from . import roles
from .forms import AuditFilterForm


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
