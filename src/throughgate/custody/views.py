from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from throughgate.core.access import get_visible_or_404, require_editable
from throughgate.core.views import attach_errors
from throughgate.people.models import Person

from . import actions
from .forms import CustodyEpisodeForm
from .models import CustodyEpisode


@require_http_methods(["GET", "POST"])
def episode_new(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = get_visible_or_404(Person, request.user, pk=person_pk)
    require_editable(person, request.user)
    form = CustodyEpisodeForm(request.POST or None, instance=CustodyEpisode(person=person))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.start_custody_episode(
                request.user,
                person,
                data["establishment"],
                data["received_on"],
                data["expected_release_date"],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Custody recorded.")
            return redirect("people:detail", pk=person.pk)
    return render(
        request,
        "people/child_form.html",
        {"form": form, "person": person, "title": "Record time in custody"},
        status=400 if form.errors else 200,
    )
