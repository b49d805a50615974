from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from throughgate.accounts import roles
from throughgate.casework.models import Case
from throughgate.core import audit
from throughgate.core.access import get_visible_or_404, is_editable, require_editable
from throughgate.core.views import attach_errors, only_for
from throughgate.people.models import Person

from . import actions
from .calendar import release_rows
from .feeds import calendar_for
from .forms import (
    CustodyEpisodeForm,
    KeyDatesForm,
    PlanItemForm,
    ReleaseCalendarFilterForm,
    ReleaseForm,
    TransferForm,
)
from .models import (
    KEY_DATES,
    CustodyEpisode,
    ItemKind,
    PlanItem,
    ReleasePlan,
    may_use_release_calendar,
)


def _render_form(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    form = context["form"]
    return render(request, template, context, status=400 if form.errors else 200)


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
                sentence_type=data["sentence_type"],
                key_dates={name: data[name] for name in KEY_DATES},
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Custody recorded.")
            return redirect("people:detail", pk=person.pk)
    return _render_form(
        request,
        "people/child_form.html",
        {"form": form, "person": person, "title": "Record time in custody"},
    )


def _editable_episode(request: HttpRequest, pk: int) -> CustodyEpisode:
    episode = get_visible_or_404(CustodyEpisode, request.user, pk=pk)
    require_editable(episode, request.user)
    return episode


@require_GET
def episode_detail(request: HttpRequest, pk: int) -> HttpResponse:
    episode = get_visible_or_404(CustodyEpisode, request.user, pk=pk)
    audit.record_view(request.user, episode)
    return render(
        request,
        "custody/episode_detail.html",
        {
            "episode": episode,
            "person": episode.person,
            "can_edit": is_editable(episode, request.user),
            "history": episode.date_changes.select_related("changed_by"),
            "transfers": episode.transfers.select_related("from_establishment", "to_establishment"),
        },
    )


@require_http_methods(["GET", "POST"])
def episode_dates(request: HttpRequest, pk: int) -> HttpResponse:
    episode = _editable_episode(request, pk)
    form = KeyDatesForm(request.POST or None, instance=episode)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in ["sentence_type", *KEY_DATES]}
        try:
            # The action reads the dates as they stand from the locked row, not from
            # `episode`, which the bound form has already changed.
            changed = actions.update_key_dates(
                request.user,
                episode,
                changes,
                form.cleaned_data["reason"],
                version=form.opened_version,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Dates saved." if changed else "Nothing was changed.")
            return redirect("custody:episode_detail", pk=pk)
    return _render_form(
        request,
        "people/child_form.html",
        {"form": form, "person": episode.person, "title": "Change sentence and release dates"},
    )


@require_http_methods(["GET", "POST"])
def episode_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    episode = _editable_episode(request, pk)
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_transfer(
                request.user, episode, data["to_establishment"], data["transferred_on"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"Move to {data['to_establishment']} recorded.")
            return redirect("custody:episode_detail", pk=pk)
    return _render_form(
        request,
        "people/child_form.html",
        {"form": form, "person": episode.person, "title": "Record a move to another prison"},
    )


@require_http_methods(["GET", "POST"])
def episode_release(request: HttpRequest, pk: int) -> HttpResponse:
    episode = _editable_episode(request, pk)
    form = ReleaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_release(request.user, episode, form.cleaned_data["released_on"])
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Release recorded.")
            return redirect("custody:episode_detail", pk=pk)
    return _render_form(
        request,
        "people/child_form.html",
        {"form": form, "person": episode.person, "title": "Record the release"},
    )


@require_GET
@only_for(may_use_release_calendar)
def release_calendar(request: HttpRequest) -> HttpResponse:
    form = ReleaseCalendarFilterForm(request.GET or None, user=request.user)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "weeks": data["weeks"] or 12,
            "establishment": data["establishment"],
            "mentor": data["mentor"],
            "borough": data["borough"],
            "flagged_only": data["flagged"],
        }
    rows = release_rows(request.user, **filters) if not form.errors else []
    return render(
        request,
        "custody/release_calendar.html",
        {
            "form": form,
            "rows": rows,
            "weeks": filters.get("weeks", 12),
            "flagged_count": sum(bool(r.flags) for r in rows),
        },
        status=400 if form.errors else 200,
    )


def _plan_for_case(case: Case) -> tuple[ReleasePlan | None, Any]:
    episode = CustodyEpisode.objects.filter(person=case.person).order_by("-received_on").first()
    plan = ReleasePlan.objects.filter(case=case, episode=episode).first() if episode else None
    return plan, episode


@require_GET
def plan_detail(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = get_visible_or_404(Case, request.user, pk=case_pk)
    audit.record_view(request.user, case, summary="release-day plan")
    plan, episode = _plan_for_case(case)
    items = plan.items.select_related("assignee") if plan else []
    return render(
        request,
        "custody/plan_detail.html",
        {
            "case": case,
            "plan": plan,
            "episode": episode,
            "items": items,
            "can_edit": case.is_open and is_editable(case, request.user),
        },
    )


@require_POST
def plan_create(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = get_visible_or_404(Case, request.user, pk=case_pk)
    require_editable(case, request.user)
    plan, episode = _plan_for_case(case)
    if episode is None:
        messages.error(request, "Record their time in custody first.")
    elif plan is None:
        try:
            actions.create_release_plan(request.user, case, episode)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Release-day plan started.")
    return redirect("custody:plan_detail", case_pk=case.pk)


def _editable_item(request: HttpRequest, pk: int) -> PlanItem:
    item = get_visible_or_404(PlanItem, request.user, pk=pk)
    require_editable(item, request.user)
    if not item.plan.case.is_open:
        raise PermissionDenied("This case is closed.")
    return item


@require_http_methods(["GET", "POST"])
def plan_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = _editable_item(request, pk)
    form = PlanItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k in form.fields}
        try:
            # Compares with the locked row, and refuses if it changed since the form opened.
            actions.update_plan_item(request.user, item, data, version=form.opened_version)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"{item.title}: saved.")
            return redirect(
                reverse("custody:plan_detail", args=[item.plan.case_id]) + f"#item-{item.pk}"
            )
    return _render_form(
        request,
        "custody/plan_item_form.html",
        {"form": form, "item": item, "case": item.plan.case},
    )


@require_http_methods(["GET", "POST"])
def plan_item_new(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = get_visible_or_404(Case, request.user, pk=case_pk)
    require_editable(case, request.user)
    plan, _episode = _plan_for_case(case)
    if plan is None:
        raise Http404("This case has no release-day plan yet.")
    form = PlanItemForm(request.POST or None, instance=PlanItem(plan=plan, kind=ItemKind.OTHER))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k in form.fields}
        try:
            actions.add_plan_item(request.user, plan, data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Item added.")
            return redirect("custody:plan_detail", case_pk=case.pk)
    return _render_form(
        request,
        "custody/plan_item_form.html",
        {"form": form, "item": form.instance, "case": case},
    )


@require_http_methods(["GET", "POST"])
@only_for(roles.has_caseload)
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """A mentor's private feed link: made (or remade) and revoked here."""
    new_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            actions.revoke_calendar_tokens(request.user)
            messages.success(request, "Your calendar link no longer works.")
        else:
            token = actions.create_calendar_token(request.user)
            new_url = request.build_absolute_uri(reverse("custody:calendar_feed", args=[token]))
    has_link = request.user.calendar_tokens.active().exists()
    return render(
        request,
        "custody/calendar_settings.html",
        {"new_url": new_url, "has_link": has_link or bool(new_url)},
    )


@login_not_required
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    user = actions.user_for_calendar_token(token)
    if user is None:
        raise Http404("No such calendar.")
    body = calendar_for(user, timezone.localdate())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="throughgate.ics"'
    return response
