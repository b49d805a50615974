"""Subject access export pages: confirm the request, then download the ZIP.

Only the manager/admin may export. Everyone else who can see the person gets 403 and
everyone who cannot gets 404, as for any other record (core.access). The export needs
two confirmations: the request's reference typed in on the confirmation page (recorded
in the audit trail), and the password typed again recently (core.reauth) before the
download. The download is audited with the count of records in each section.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from throughgate.accounts import roles
from throughgate.core import reauth
from throughgate.core.access import get_visible_or_404
from throughgate.core.views import attach_errors

from . import subject_access as sar
from .models import Person


class SubjectAccessForm(forms.Form):
    reference = forms.CharField(
        label="Request reference",
        max_length=sar.REFERENCE_MAX_LENGTH,
        help_text="The reference and date of the request, e.g. “SAR 2026-014, received 20 Nov”.",
    )
    checked = forms.BooleanField(
        label=(
            "I have checked the requester's identity and that they are entitled to this "
            "person's data"
        ),
        error_messages={"required": "Confirm that you have checked who is asking."},
    )


def _exportable_person(request: HttpRequest, pk: int) -> Person:
    person = get_visible_or_404(Person, request.user, pk=pk)
    if not roles.is_admin(request.user):
        # Someone who works with the person asked for all of it: the person's data
        # protection officer would want to know, so the trail says so.
        sar.record_refusal(request.user, person)
        raise PermissionDenied("Only a manager can export everything held about a person.")
    return person


@require_http_methods(["GET", "POST"])
def subject_access(request: HttpRequest, pk: int) -> HttpResponse:
    person = _exportable_person(request, pk)
    form = SubjectAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = sar.record_request(request.user, person, form.cleaned_data["reference"])
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            url = reverse("people:subject_access_download", args=[person.pk])
            return redirect(f"{url}?{urlencode({'request': event.pk})}")
    return render(
        request,
        "people/subject_access.html",
        {"form": form, "person": person, "sections": sar.section_counts(person)},
        status=400 if form.errors else 200,
    )


@require_GET
def subject_access_download(request: HttpRequest, pk: int) -> HttpResponse:
    person = _exportable_person(request, pk)
    if (confirm := reauth.require_recent_password(request)) is not None:
        return confirm
    request_event = sar.confirmed_request(request.user, person, request.GET.get("request"))
    if request_event is None:
        messages.error(
            request,
            "Confirm the request first: type its reference below. A confirmation lasts an hour.",
        )
        return redirect("people:subject_access", pk=person.pk)
    export = sar.build_export(person, sar.reference_of(request_event), request.user)
    sar.record_delivery(request.user, export, request_event)
    response = HttpResponse(sar.as_zip(export), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{sar.file_stem(export)}.zip"'
    response["Cache-Control"] = "no-store"
    return response
