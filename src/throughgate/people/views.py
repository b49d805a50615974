from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from throughgate.accounts import roles
from throughgate.casework.models import Case, Referral
from throughgate.core import audit
from throughgate.core.access import get_visible_or_404, is_editable, require_editable
from throughgate.core.models import AuditAction
from throughgate.core.views import attach_errors, only_for
from throughgate.custody.models import CustodyEpisode
from throughgate.mentors.models import Conflict, MatchingNeeds, may_see_conflicts
from throughgate.outcomes.models import ReoffendingEvent

from . import actions, merge
from .forms import AliasForm, FamilyMemberForm, PersonForm, SearchForm
from .models import LANGUAGE_SUGGESTIONS, Alias, FamilyMember, Person
from .search import search_people


@require_GET
@only_for(roles.sees_personal_data)
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    hits = None
    if form.is_valid() and form.cleaned_data["q"].strip():
        hits = search_people(request.user, form.cleaned_data["q"])
        # Who searched for whom is itself sensitive; the terms are not kept.
        audit.record(
            request.user,
            AuditAction.SEARCH,
            object_type="people.person",
            summary=f"{len(hits)} result(s)",
        )
    return render(request, "people/search.html", {"form": form, "hits": hits})


@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        person = get_visible_or_404(Person, request.user, pk=pk)
    except Http404:
        # A record merged into another: an old link leads to the one kept, if visible.
        kept = merge.kept_record_for(request.user, pk)
        if kept is None:
            raise
        return redirect("people:detail", pk=kept.pk)
    audit.record_view(request.user, person)
    user = request.user
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "can_edit": is_editable(person, user),
            "can_refer": roles.manages_cases(user),
            "can_export": roles.is_admin(user),  # the subject access export
            "on_legal_hold": roles.is_admin(user) and person.legal_holds.active().exists(),
            "aliases": person.aliases.all(),
            # The family view: who is a protective factor and who a risk, their own needs,
            # and the support sessions they took part in (one query, however many).
            "family": person.family_members.annotate(
                sessions=Count("contacts", distinct=True),
                last_session=Max("contacts__occurred_at"),
            ),
            # Only the cases and referrals this user may open themselves.
            "cases": Case.objects.visible_to(user)
            .filter(person=person)
            .select_related("programme", "mentor"),
            "referrals": Referral.objects.visible_to(user)
            .filter(person=person)
            .select_related("programme"),
            "custody_episodes": CustodyEpisode.objects.filter(person=person).select_related(
                "establishment"
            ),
            # The conflicts register is for coordinators, the safeguarding lead and
            # managers: the door returns nothing to anyone else.
            "may_see_conflicts": may_see_conflicts(user),
            "conflicts": Conflict.objects.visible_to(user)
            .involving(person.pk)
            .active()
            .select_related("person_a", "person_b"),
            "matching_needs": MatchingNeeds.objects.visible_to(user)
            .filter(person=person)
            .prefetch_related("experiences")
            .first(),
            "can_match": roles.manages_cases(user) and is_editable(person, user),
            "reoffending": ReoffendingEvent.objects.visible_to(user).filter(person=person),
        },
    )


def _editable_person(request: HttpRequest, pk: int) -> Person:
    person = get_visible_or_404(Person, request.user, pk=pk)
    require_editable(person, request.user)
    return person


@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    form = PersonForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in actions.PERSON_FIELDS}
        try:
            changed = actions.update_person(request.user, person, data, version=form.opened_version)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Details saved." if changed else "Nothing was changed.")
            return redirect("people:detail", pk=person.pk)
    return render(
        request,
        "people/person_form.html",
        {"form": form, "person": person, "languages": LANGUAGE_SUGGESTIONS},
        status=400 if form.errors else 200,
    )


def _child_form_view(
    request: HttpRequest,
    person: Person,
    form: Any,
    title: str,
    save: Any,
    success: str,
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect("people:detail", pk=person.pk)
    return render(
        request,
        "people/child_form.html",
        {"form": form, "person": person, "title": title},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def alias_new(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    form = AliasForm(request.POST or None, instance=Alias(person=person))
    return _child_form_view(
        request,
        person,
        form,
        "Add another name",
        lambda d: actions.add_alias(request.user, person, d["forename"], d["surname"], d["note"]),
        "Alias added.",
    )


@require_POST
def alias_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alias = get_visible_or_404(Alias, request.user, pk=pk)
    require_editable(alias, request.user)
    person_pk = alias.person_id
    actions.remove_alias(request.user, alias)
    messages.success(request, "Alias removed.")
    return redirect("people:detail", pk=person_pk)


@require_http_methods(["GET", "POST"])
def family_new(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable_person(request, pk)
    form = FamilyMemberForm(request.POST or None, instance=FamilyMember(person=person))
    return _child_form_view(
        request,
        person,
        form,
        "Add a family member",
        lambda d: actions.add_family_member(request.user, person, d),
        "Family member added.",
    )


@require_http_methods(["GET", "POST"])
def family_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_visible_or_404(FamilyMember, request.user, pk=pk)
    require_editable(member, request.user)
    form = FamilyMemberForm(request.POST or None, instance=member)
    return _child_form_view(
        request,
        member.person,
        form,
        f"Change details of {member.name}",
        lambda d: actions.update_family_member(
            request.user, member, d, version=form.opened_version
        ),
        "Family member updated.",
    )


@require_POST
def family_delete(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_visible_or_404(FamilyMember, request.user, pk=pk)
    require_editable(member, request.user)
    person_pk = member.person_id
    actions.remove_family_member(request.user, member)
    messages.success(request, "Family member removed.")
    return redirect("people:detail", pk=person_pk)
