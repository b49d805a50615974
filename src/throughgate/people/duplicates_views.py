"""The duplicate review list and the merge screen: for the manager/admin (Ade).

Every candidate is fetched through DuplicateCandidate.objects.visible_to (admins
only, both records visible), so anyone else gets 404 exactly as for a missing one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from throughgate.accounts import roles
from throughgate.casework.models import Contact
from throughgate.core.access import get_visible_or_404
from throughgate.core.views import attach_errors, only_for, paginate

from . import linkage
from . import merge as merging
from .models import CandidateStatus, DuplicateCandidate, Person, PersonMerge

FIELD_LABELS = {
    name: str(getattr(Person._meta.get_field(name), "verbose_name", name))
    for name in merging.MERGE_FIELDS
}


@require_GET
@only_for(roles.is_admin)
def duplicate_list(request: HttpRequest) -> HttpResponse:
    candidates = (
        DuplicateCandidate.objects.visible_to(request.user)
        .filter(status=CandidateStatus.OPEN)
        .select_related("person_a", "person_b")
    )
    return render(
        request,
        "people/duplicates.html",
        {
            "page": paginate(request, candidates),
            "declined": DuplicateCandidate.objects.visible_to(request.user)
            .filter(status=CandidateStatus.DECLINED)
            .count(),
            "merges": PersonMerge.objects.filter(person__in=Person.objects.visible_to(request.user))
            .select_related("person", "merged_by")
            .order_by("-merged_at")[:10],
        },
    )


@require_POST
@only_for(roles.is_admin)
def duplicate_review(request: HttpRequest) -> HttpResponse:
    job = linkage.start_review(request.user)
    messages.success(request, "The duplicate check has started; this page shows its progress.")
    return redirect("job", pk=job.pk)


class MergeForm(forms.Form):
    """Which record survives, and for each field where they differ, whose value."""

    keep = forms.ChoiceField(label="Which record stays", widget=forms.RadioSelect)

    def __init__(
        self, *args: Any, candidate: DuplicateCandidate, differing: list[str], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        a, b = candidate.person_a, candidate.person_b
        self.fields["keep"].choices = [  # type: ignore[attr-defined]
            (str(a.pk), f"Record {a.pk} ({a.full_name})"),
            (str(b.pk), f"Record {b.pk} ({b.full_name})"),
        ]
        self.fields["keep"].initial = str(a.pk)
        self.differing = differing
        for name in differing:
            self.fields[f"take_{name}"] = forms.ChoiceField(
                label=str(FIELD_LABELS[name]).capitalize(),
                widget=forms.RadioSelect,
                choices=[
                    (str(a.pk), _shown(a, name) or "(blank)"),
                    (str(b.pk), _shown(b, name) or "(blank)"),
                ],
                initial=str(a.pk if getattr(a, name) not in ("", None) else b.pk),
            )


def _shown(person: Person, name: str) -> str:
    value = getattr(person, name)
    display = getattr(person, f"get_{name}_display", None)
    if display and value:
        return str(display())
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return "" if value is None else str(value)


def _side(person: Person) -> dict[str, Any]:
    return {
        "person": person,
        "aliases": list(person.aliases.all()),
        "counts": [
            ("Cases", person.cases.count()),
            ("Referrals", person.referrals.count()),
            ("Contacts", Contact.objects.filter(case__person=person).count()),
            ("Custody records", person.custody_episodes.count()),
            ("Family members", person.family_members.count()),
        ],
    }


@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_visible_or_404(DuplicateCandidate, request.user, pk=pk)
    a, b = candidate.person_a, candidate.person_b
    differing = [n for n in merging.MERGE_FIELDS if getattr(a, n) != getattr(b, n)]
    form = MergeForm(request.POST or None, candidate=candidate, differing=differing)
    if request.method == "POST" and form.is_valid():
        keep_pk = int(form.cleaned_data["keep"])
        keep, remove = (a, b) if keep_pk == a.pk else (b, a)
        choices = {
            name: merging.KEEP if int(form.cleaned_data[f"take_{name}"]) == keep.pk
            else merging.REMOVE
            for name in differing
        }  # fmt: skip
        try:
            moved = merging.merge_people(request.user, keep, remove, choices)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            total = sum(moved.values())
            messages.success(
                request, f"Merged: record {remove.pk} is now part of this record "
                f"({total} linked record(s) moved).",
            )  # fmt: skip
            return redirect("people:detail", pk=keep.pk)
    rows = [
        {
            "label": str(FIELD_LABELS[name]).capitalize(),
            "a": _shown(a, name),
            "b": _shown(b, name),
            "differs": name in differing,
            "field": form[f"take_{name}"] if name in differing else None,
        }
        for name in merging.MERGE_FIELDS
    ]
    return render(
        request,
        "people/merge.html",
        {"candidate": candidate, "form": form, "rows": rows, "a": _side(a), "b": _side(b)},
        status=400 if form.errors else 200,
    )


class DeclineForm(forms.Form):
    note = forms.CharField(label="Why they are different people (optional)", max_length=300,
                           required=False)  # fmt: skip


@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_visible_or_404(DuplicateCandidate, request.user, pk=pk)
    form = DeclineForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        merging.decline_candidate(request.user, candidate, note)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Marked as two different people; they won't be suggested again.")
    return redirect("people:duplicates")
