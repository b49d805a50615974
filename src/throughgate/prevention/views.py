"""Pages for schools and venues, workshops, surveys, settings and the reach dashboard.

Who may do what lives in prevention.access; records are fetched through their
`visible_to` door (core.access), so a page someone may not use answers 404 like a
missing one, and "may see but not change" answers 403.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from throughgate.core.access import get_visible_or_404, is_editable, require_editable
from throughgate.core.exports import csv_writer
from throughgate.core.routers import on_replica
from throughgate.core.views import attach_errors, only_for, paginate
from throughgate.people.models import BOROUGH_CHOICES

from . import actions
from .access import (
    facilitators,
    may_configure,
    may_delete_workshop,
    may_read,
    may_record,
    may_see_reach,
    sees_exact_reach,
)
from .forms import (
    QuestionForm,
    ReachTargetForm,
    SurveyCountsForm,
    SurveyResponseForm,
    TopicForm,
    VenueForm,
    WorkshopForm,
    academic_year_choices,
)
from .models import (
    ReachTarget,
    SchoolType,
    SurveyQuestion,
    SurveySource,
    Venue,
    VenueKind,
    Workshop,
    WorkshopTopic,
    academic_year_label,
    academic_year_of,
)
from .reach import csv_rows, reach_for, survey_changes


def _status(request: HttpRequest, form: Any) -> int:
    return 400 if request.method == "POST" and form.errors else 200


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    if text.isdecimal() and len(text) < 10:
        return int(text)
    return None


def _form_page(
    request: HttpRequest, form: Any, title: str, save: Any, done: Any, back: str, **extra: Any
) -> HttpResponse:
    """Show the form; on a valid POST run `save()` (an action), then go to `done(result)`.
    An action's ValidationError lands on the fields it names, and nothing is saved."""
    if request.method == "POST" and form.is_valid():
        try:
            result = save()
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return done(result)
    return render(
        request,
        extra.pop("template", "prevention/form.html"),
        {"form": form, "title": title, "back": back, **extra},
        status=_status(request, form),
    )


# --- Schools and venues -----------------------------------------------------------


@require_GET
@only_for(may_read)
def venue_list(request: HttpRequest) -> HttpResponse:
    venues = Venue.objects.visible_to(request.user)
    borough = request.GET.get("borough", "")
    kind = request.GET.get("kind", "")
    # NUL never matches a name, and PostgreSQL refuses it in a query.
    query = " ".join(request.GET.get("q", "").replace("\x00", " ").split())[:100]
    show = request.GET.get("show", "")
    if borough in dict(BOROUGH_CHOICES):
        venues = venues.filter(borough=borough)
    if kind in VenueKind.values:
        venues = venues.filter(kind=kind)
    elif kind in SchoolType.values:
        venues = venues.filter(kind=VenueKind.SCHOOL, school_type=kind)
    if query:
        venues = venues.filter(
            Q(name__icontains=query) | Q(urn=query) | Q(contact_name__icontains=query)
        )
    if show != "all":
        venues = venues.filter(active=True)
    kinds = [(k, label) for k, label in VenueKind.choices] + [
        (t, f"School: {label}") for t, label in SchoolType.choices
    ]
    return render(
        request,
        "prevention/venue_list.html",
        {
            "page": paginate(request, venues.order_by("name")),
            "boroughs": BOROUGH_CHOICES,
            "kinds": kinds,
            "filters": {"borough": borough, "kind": kind, "q": query, "show": show},
            "can_add": may_record(request.user),
        },
    )


@require_GET
def venue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    venue = get_visible_or_404(Venue, request.user, pk=pk)
    workshops = venue.workshops.prefetch_related("topics").order_by("-held_on")[:100]
    return render(
        request,
        "prevention/venue_detail.html",
        {
            "venue": venue,
            "workshops": workshops,
            "can_edit": is_editable(venue, request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@only_for(may_record)
def venue_new(request: HttpRequest) -> HttpResponse:
    form = VenueForm(request.POST or None)

    def done(venue: Venue) -> HttpResponse:
        messages.success(request, f"{venue} added.")
        return redirect("prevention:venue_detail", pk=venue.pk)

    return _form_page(
        request, form, "Add a school or venue",
        lambda: actions.create_venue(request.user, dict(form.cleaned_data)),
        done, back="prevention:venue_list",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def venue_edit(request: HttpRequest, pk: int) -> HttpResponse:
    venue = get_visible_or_404(Venue, request.user, pk=pk)
    require_editable(venue, request.user)
    form = VenueForm(request.POST or None, instance=venue)

    def done(changed: list[str]) -> HttpResponse:
        messages.success(request, "Saved." if changed else "Nothing was changed.")
        return redirect("prevention:venue_detail", pk=venue.pk)

    return _form_page(
        request, form, f"Change {venue}",
        lambda: actions.update_venue(
            request.user, venue, dict(form.cleaned_data), version=form.opened_version
        ),
        done, back="prevention:venue_list",
    )  # fmt: skip


# --- Workshops --------------------------------------------------------------------


def _year_param(request: HttpRequest) -> int:
    year = _int(request.GET.get("year"))
    current = academic_year_of(timezone.localdate())
    if year is None or not 2000 <= year <= current + 1:
        return current
    return year


def _adding_row(request: HttpRequest) -> bool:
    return request.method == "POST" and "more" in request.POST


def _with_another_row(
    request: HttpRequest, form: WorkshopForm, title: str, **extra: Any
) -> HttpResponse:
    """The "Add another row" button (no JavaScript needed): the same page, with what
    was typed and one more blank row; nothing is saved."""
    form.without_errors()
    return render(
        request,
        "prevention/workshop_form.html",
        {"form": form, "title": title, "back": "prevention:workshop_list", **extra},
    )


@require_GET
@only_for(may_read)
def workshop_list(request: HttpRequest) -> HttpResponse:
    year = _year_param(request)
    workshops = (
        Workshop.objects.visible_to(request.user)
        .filter(academic_year=year)
        .select_related("venue")
        .prefetch_related("topics", "facilitators")
    )
    venue = _int(request.GET.get("venue"))
    topic = _int(request.GET.get("topic"))
    facilitator = _int(request.GET.get("facilitator"))
    if venue:
        workshops = workshops.filter(venue_id=venue)
    if topic:
        workshops = workshops.filter(topics__id=topic)
    if facilitator:
        workshops = workshops.filter(facilitators__id=facilitator)
    return render(
        request,
        "prevention/workshop_list.html",
        {
            "page": paginate(request, workshops.distinct().order_by("-held_on", "-id")),
            "years": academic_year_choices(),
            "venues": Venue.objects.visible_to(request.user).order_by("name"),
            "topics": WorkshopTopic.objects.visible_to(request.user),
            "facilitators": facilitators(),
            "filters": {"year": year, "venue": venue, "topic": topic, "facilitator": facilitator},
            "year_label": academic_year_label(year),
            "can_add": may_record(request.user),
        },
    )


@require_GET
def workshop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = get_visible_or_404(Workshop, request.user, pk=pk)
    results = list(workshop.survey_results.select_related("question"))
    return render(
        request,
        "prevention/workshop_detail.html",
        {
            "workshop": workshop,
            "groups": workshop.groups.all(),
            "changes": survey_changes(results),
            "from_responses": any(r.source == SurveySource.RESPONSES for r in results),
            "responses": workshop.survey_responses.count(),
            "can_edit": is_editable(workshop, request.user),
            "can_delete": may_delete_workshop(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@only_for(may_record)
def workshop_new(request: HttpRequest) -> HttpResponse:
    form = WorkshopForm(request.POST or None, actor=request.user, add_row=_adding_row(request))
    if _adding_row(request):
        return _with_another_row(request, form, "Record a workshop")

    def save() -> Workshop:
        return actions.record_workshop(
            request.user,
            form.workshop_data(),
            form.groups(),
            form.cleaned_data["topics"],
            form.cleaned_data["facilitators"],
        )

    def done(workshop: Workshop) -> HttpResponse:
        messages.success(request, f"Workshop recorded: {workshop.headcount} children.")
        if request.POST.get("next") == "survey":
            return redirect("prevention:survey_counts", pk=workshop.pk)
        return redirect("prevention:workshop_detail", pk=workshop.pk)

    return _form_page(
        request, form, "Record a workshop", save, done, back="prevention:workshop_list",
        template="prevention/workshop_form.html",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def workshop_edit(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = get_visible_or_404(Workshop, request.user, pk=pk)
    require_editable(workshop, request.user)
    form = WorkshopForm(
        request.POST or None, instance=workshop, actor=request.user, add_row=_adding_row(request)
    )
    if _adding_row(request):
        return _with_another_row(request, form, "Change the workshop", workshop=workshop)

    def save() -> list[str]:
        return actions.update_workshop(
            request.user,
            workshop,
            form.workshop_data(),
            form.groups(),
            form.cleaned_data["topics"],
            form.cleaned_data["facilitators"],
            version=form.opened_version,
        )

    def done(changed: list[str]) -> HttpResponse:
        messages.success(request, "Saved." if changed else "Nothing was changed.")
        if request.POST.get("next") == "survey":
            return redirect("prevention:survey_counts", pk=workshop.pk)
        return redirect("prevention:workshop_detail", pk=workshop.pk)

    return _form_page(
        request, form, "Change the workshop", save, done, back="prevention:workshop_list",
        template="prevention/workshop_form.html", workshop=workshop,
    )  # fmt: skip


@require_POST
def workshop_delete(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = get_visible_or_404(Workshop, request.user, pk=pk)
    if not may_delete_workshop(request.user):
        raise PermissionDenied("Only the manager can delete a workshop.")
    label = str(workshop)
    actions.delete_workshop(request.user, workshop)
    messages.success(request, f"Deleted: {label}.")
    return redirect("prevention:workshop_list")


# --- Surveys ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def survey_counts(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = get_visible_or_404(Workshop, request.user, pk=pk)
    require_editable(workshop, request.user)
    form = SurveyCountsForm(request.POST or None, workshop=workshop)

    def done(_saved: Any) -> HttpResponse:
        messages.success(request, "Survey counts saved.")
        return redirect("prevention:workshop_detail", pk=workshop.pk)

    return _form_page(
        request, form, "Survey results",
        lambda: actions.save_survey_counts(request.user, workshop, form.rows()),
        done, back="prevention:workshop_list", template="prevention/survey_counts.html",
        workshop=workshop,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def survey_response_new(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = get_visible_or_404(Workshop, request.user, pk=pk)
    require_editable(workshop, request.user)
    form = SurveyResponseForm(request.POST or None, workshop=workshop)

    def done(_response: Any) -> HttpResponse:
        count = workshop.survey_responses.count()
        messages.success(request, f"Answer sheet {count} saved.")
        if request.POST.get("next") == "another":
            return redirect("prevention:survey_response_new", pk=workshop.pk)
        return redirect("prevention:workshop_detail", pk=workshop.pk)

    return _form_page(
        request, form, "Add an answer sheet",
        lambda: actions.add_survey_response(
            request.user, workshop, form.cleaned_data["stage"], form.answers()
        ),
        done, back="prevention:workshop_list", template="prevention/survey_response.html",
        workshop=workshop, sheets=workshop.survey_responses.count(),
    )  # fmt: skip


# --- Settings ---------------------------------------------------------------------


@require_GET
@only_for(may_read)
def settings_page(request: HttpRequest) -> HttpResponse:
    year = academic_year_of(timezone.localdate())
    return render(
        request,
        "prevention/settings.html",
        {
            "topics": WorkshopTopic.objects.visible_to(request.user),
            "questions": SurveyQuestion.objects.visible_to(request.user).select_related("topic"),
            "targets": ReachTarget.objects.visible_to(request.user),
            "current_label": academic_year_label(year),
            "can_configure": may_configure(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@only_for(may_configure)
def topic_new(request: HttpRequest) -> HttpResponse:
    form = TopicForm(request.POST or None)
    return _form_page(
        request, form, "Add a workshop topic",
        lambda: actions.save_topic(request.user, dict(form.cleaned_data)),
        lambda _t: _saved(request, "Topic added."), back="prevention:settings",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def topic_edit(request: HttpRequest, pk: int) -> HttpResponse:
    topic = get_visible_or_404(WorkshopTopic, request.user, pk=pk)
    require_editable(topic, request.user)
    form = TopicForm(request.POST or None, instance=topic)
    return _form_page(
        request, form, f"Change the topic “{topic}”",
        lambda: actions.save_topic(request.user, dict(form.cleaned_data), topic),
        lambda _t: _saved(request, "Topic saved."), back="prevention:settings",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@only_for(may_configure)
def question_new(request: HttpRequest) -> HttpResponse:
    form = QuestionForm(request.POST or None)
    return _form_page(
        request, form, "Add a survey question",
        lambda: actions.save_question(request.user, dict(form.cleaned_data)),
        lambda _q: _saved(request, "Question added."), back="prevention:settings",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_visible_or_404(SurveyQuestion, request.user, pk=pk)
    require_editable(question, request.user)
    form = QuestionForm(request.POST or None, instance=question)
    return _form_page(
        request, form, "Change a survey question",
        lambda: actions.save_question(request.user, dict(form.cleaned_data), question),
        lambda _q: _saved(request, "Question saved."), back="prevention:settings",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@only_for(may_configure)
def target_edit(request: HttpRequest) -> HttpResponse:
    form = ReachTargetForm(request.POST or None)
    return _form_page(
        request, form, "Set the reach target",
        lambda: actions.set_reach_target(
            request.user, form.cleaned_data["academic_year"], form.cleaned_data["target"]
        ),
        lambda _t: _saved(request, "Target saved."), back="prevention:settings",
    )  # fmt: skip


def _saved(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("prevention:settings")


# --- Reach ------------------------------------------------------------------------


@require_GET
@only_for(may_see_reach)
@on_replica
def reach(request: HttpRequest) -> HttpResponse:
    year = _year_param(request)
    return render(
        request,
        "prevention/reach.html",
        {
            "reach": reach_for(year, exact=sees_exact_reach(request.user)),
            "years": academic_year_choices(),
            "can_set_target": may_configure(request.user),
        },
    )


@require_GET
@only_for(may_see_reach)
def reach_csv(request: HttpRequest) -> HttpResponse:
    year = _year_param(request)
    figures = reach_for(year, exact=sees_exact_reach(request.user))
    buffer = io.StringIO()
    csv_writer(buffer).writerows(csv_rows(figures))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"reach-{academic_year_label(year).replace('/', '-')}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
