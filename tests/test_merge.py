"""Merging two person records that are one person (people.merge, the merge screen).

Everything the removed record held moves to the kept one, whatever model holds it;
the removed record's names stay as aliases; the change is one transaction with an
audit event per kind of record moved and a "merged" event on both people; an old link
leads to the kept record for those who may see it; and "not the same person" is
remembered."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from throughgate.core.models import AuditAction, AuditEvent
from throughgate.mentors import actions as mentor_actions
from throughgate.outcomes import actions as outcome_actions
from throughgate.people import actions as people_actions
from throughgate.people import linkage, retention
from throughgate.people import merge as merging
from throughgate.people.models import (
    CandidateStatus,
    DuplicateCandidate,
    FoundBy,
    LegalHold,
    NameIndex,
    Person,
    PersonMerge,
)
from throughgate.people.search import search_people

from . import make

# Relations the full-history fixture below does not fill, each with why: the merge test
# fails for any other relation without a row, so a model added later with a foreign key
# to Person has to be added to the fixture (and so is shown to move).
NOT_IN_FIXTURE = {
    # Rebuilt from the kept person's names rather than moved (asserted separately).
    "people.nameindex",
    # A mentor's own person record: merging two mentors is refused (tested below).
    "mentors.mentorprofile",
    # Filled by the merge itself.
    "people.personmerge",
}


def relation_rows(person_id: int) -> dict[str, int]:
    """For every relation pointing at Person: how many rows point at this id."""
    counts = {}
    for rel in Person._meta.get_fields(include_hidden=True):
        if not isinstance(rel, models.ForeignObjectRel):
            continue
        if isinstance(rel, models.ManyToManyRel):
            through = rel.through
            field = rel.field.m2m_reverse_field_name()
            label = f"{rel.related_model._meta.label_lower}.{rel.field.name}"
            counts[label] = through._base_manager.filter(**{f"{field}_id": person_id}).count()
            continue
        if rel.related_model._meta.auto_created:
            continue  # the through table, counted with its many-to-many field above
        label = rel.related_model._meta.label_lower
        key = f"{label}.{rel.field.name}"
        counts[key] = rel.related_model._base_manager.filter(
            **{f"{rel.field.name}_id": person_id}
        ).count()
    return counts


@pytest.fixture
def twins_of_one(cara, mo, ade, programme):
    """Jon Smyth (a record with a whole history) and John Smith (the same young
    person, entered again later with his own case): one person, two records."""
    jon = make.make_person(
        cara, forename="Jon", surname="Smyth", date_of_birth=date(2006, 3, 12),
        postcode="SE15 4QF", prison_number="A1234BC",
    )  # fmt: skip
    john = make.make_person(
        cara, forename="John", surname="Smith", date_of_birth=date(2006, 3, 12),
        phone="07700 900123", pnc_id="2019/0012345G",
    )  # fmt: skip
    other = make.make_person(cara, forename="Kai", surname="Rivers")
    return jon, john, other


def give_full_history(person: Person, other: Person, actor: Any, mentor: Any) -> None:
    """One row of every kind of record that can hang off a person."""
    case = make.make_case(mentor=mentor, person=person, actor=actor)
    make.make_contact(case)
    make.make_referral(person=person, actor=actor)
    make.make_family_member(person, actor, name="Grace Smith")
    people_actions.add_alias(actor, person, "Smokey", "", "street name")
    make.make_episode(person, actor)
    make.make_concern(person, mentor)
    retention.place_hold(actor, person, "Police request 2026-11, ref 42/1234")
    outcome_actions.record_event(
        actor, person,
        {"disposal_type": "recall", "disposal_date": timezone.localdate(), "source": "probation"},
    )  # fmt: skip
    today = timezone.localdate()
    mentor_actions.record_conflict(
        actor, person, other,
        {"kind": "rival_group", "source": "Prison security", "recorded_on": today},
    )  # fmt: skip
    mentor_actions.set_matching_needs(actor, person, [], "")
    licence_holder = make.make_mentor(make.make_user("lee", team=mentor.team), actor)
    mentor_actions.add_licence_condition(
        actor, licence_holder,
        {"kind": "non_association", "starts_on": today, "ends_on": today + timedelta(days=90)},
        named_people=[person],
    )  # fmt: skip
    DuplicateCandidate.objects.create(
        person_a=min(person, other, key=lambda p: p.pk),
        person_b=max(person, other, key=lambda p: p.pk),
        match_probability=0.5, match_weight=0.1, found_by=FoundBy.REVIEW,
    )  # fmt: skip


def test_every_record_that_refers_to_the_removed_person_moves_to_the_kept_one(
    twins_of_one, cara, mo, ade
):
    jon, john, other = twins_of_one
    give_full_history(jon, other, cara, mo)
    before_removed = relation_rows(jon.pk)
    before_kept = relation_rows(john.pk)
    by_model: dict[str, int] = {}
    for key, count in before_removed.items():  # a pair model counts once, either side
        model = key.rsplit(".", 1)[0]
        by_model[model] = by_model.get(model, 0) + count
    empty = {model for model, count in by_model.items() if not count} - NOT_IN_FIXTURE
    assert empty == set(), "give the fixture a row of these, and check the merge moves them"

    merging.merge_people(ade, keep=john, remove=jon)

    after_removed = relation_rows(jon.pk)
    after_kept = relation_rows(john.pk)
    assert {k: v for k, v in after_removed.items() if v} == {}
    assert not Person.objects.filter(pk=jon.pk).exists()
    assert after_kept["people.personmerge.person"] == 1  # where the old id now leads
    for key, count in before_removed.items():
        if key.startswith(("people.nameindex", "people.personmerge")):
            continue
        if key.startswith("people.alias"):  # his names became aliases too
            assert after_kept[key] >= before_kept[key] + count
            continue
        assert after_kept[key] == before_kept[key] + count, key


def test_the_removed_records_names_become_aliases_and_search_finds_them(twins_of_one, cara, ade):
    jon, john, _ = twins_of_one
    merging.merge_people(ade, keep=john, remove=jon)
    assert {(a.forename, a.surname) for a in john.aliases.all()} == {("Jon", "Smyth")}
    assert set(NameIndex.objects.filter(person=john).values_list("forename", "surname")) == {
        ("John", "Smith"), ("Jon", "Smyth"),
    }  # fmt: skip
    hits = search_people(ade, "Jon Smyth")
    assert [hit.person.pk for hit in hits][:1] == [john.pk]


def test_chosen_fields_come_from_either_record_and_identifiers_from_both(twins_of_one, ade):
    jon, john, _ = twins_of_one
    phone = john.phone
    merging.merge_people(
        ade, keep=john, remove=jon,
        choices={"forename": "remove", "surname": "remove", "phone": "keep"},
    )  # fmt: skip
    john.refresh_from_db()
    assert (john.forename, john.surname, john.phone) == ("Jon", "Smyth", phone)
    # An identifier only the removed record had comes along; the kept one's stays.
    assert (john.prison_number, john.pnc_id) == ("A1234BC", "2019/0012345G")
    assert {(a.forename, a.surname) for a in john.aliases.all()} == {("John", "Smith")}


def test_merge_is_audited_per_kind_of_record_and_on_both_people(twins_of_one, cara, mo, ade):
    jon, john, other = twins_of_one
    case = make.make_case(mentor=mo, person=jon, actor=cara)
    make.make_contact(case)
    make.make_family_member(jon, cara)
    make.make_family_member(jon, cara, name="Marcus Smyth")
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()

    moved = merging.merge_people(ade, keep=john, remove=jon)

    events = AuditEvent.objects.filter(seq__gt=start)
    assert moved["people.familymember"] == 2 and moved["casework.case"] == 1
    family = events.get(object_type="people.familymember")
    assert family.action == AuditAction.UPDATE
    assert f"moved 2 from person {jon.pk} to person {john.pk}" in family.summary
    assert events.filter(object_type="casework.case", person_id=john.pk).count() == 1
    merged = events.filter(object_type="people.person", summary__startswith="Merged")
    assert {(e.object_id, e.person_id) for e in merged} == {
        (str(john.pk), john.pk), (str(jon.pk), jon.pk),
    }  # fmt: skip
    assert all(e.actor_id == ade.pk for e in events)


def test_a_conflict_between_the_two_records_is_dropped_and_others_reordered(
    twins_of_one, cara, ade
):
    jon, john, other = twins_of_one
    today = timezone.localdate()
    data = {"kind": "co_defendant", "source": "Probation", "recorded_on": today}
    mentor_actions.record_conflict(cara, jon, john, data)
    mentor_actions.record_conflict(cara, jon, other, data)
    mentor_actions.record_conflict(cara, john, other, data)  # the same conflict, twice
    from throughgate.mentors.models import Conflict

    merging.merge_people(ade, keep=john, remove=jon)
    rows = list(Conflict.objects.values_list("person_a_id", "person_b_id", "kind"))
    assert rows == [(min(john.pk, other.pk), max(john.pk, other.pk), "co_defendant")]


def test_merging_two_mentors_is_refused_and_nothing_changes(twins_of_one, cara, ade, team):
    jon, john, _ = twins_of_one
    one = make.make_mentor(make.make_user("lee", team=team), ade)
    two = make.make_mentor(make.make_user("max", team=team), ade)
    keep, remove = one.person, two.person
    make.make_family_member(remove, cara)
    with pytest.raises(ValidationError, match="Both records have a mentor profile"):
        merging.merge_people(ade, keep=keep, remove=remove)
    assert Person.objects.filter(pk=remove.pk).exists()
    assert remove.family_members.count() == 1
    assert not PersonMerge.objects.exists()


def test_a_record_cannot_be_merged_with_itself_and_bad_choices_name_the_field(twins_of_one, ade):
    jon, john, _ = twins_of_one
    with pytest.raises(ValidationError, match="itself"):
        merging.merge_people(ade, keep=john, remove=john)
    with pytest.raises(ValidationError) as refused:
        merging.merge_people(ade, keep=john, remove=jon, choices={"phone": "both"})
    assert "phone" in refused.value.message_dict
    assert Person.objects.filter(pk=jon.pk).exists()


def test_an_old_link_leads_to_the_kept_record_only_for_who_may_see_it(
    twins_of_one, mo, kim, cara, ade
):
    jon, john, _ = twins_of_one
    make.make_case(mentor=mo, person=john, actor=cara)
    merging.merge_people(ade, keep=john, remove=jon)
    assert merging.kept_record_for(mo, jon.pk) == john
    assert merging.kept_record_for(kim, jon.pk) is None  # Kim never sees Mo's mentee
    assert merging.kept_record_for(mo, 987654321) is None


# --- The screens --------------------------------------------------------------------


@pytest.fixture
def candidate(twins_of_one, ade):
    jon, john, _ = twins_of_one
    linkage.review_people([jon.pk, john.pk], found_by=FoundBy.REVIEW)
    return DuplicateCandidate.objects.get()


def test_ade_sees_the_pair_side_by_side_and_merges_choosing_field_by_field(candidate, ade, login):
    client = login(ade)
    listing = client.get(reverse("people:duplicates")).content.decode()
    assert "Jon Smyth" in listing and "John Smith" in listing
    page = client.get(reverse("people:merge", args=[candidate.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Are these the same person?" in body and "(differs)" in body
    a, b = candidate.person_a, candidate.person_b
    response = client.post(reverse("people:merge", args=[candidate.pk]), {
        "keep": b.pk, "take_forename": a.pk, "take_surname": a.pk, "take_phone": b.pk,
        "take_postcode": a.pk, "take_prison_number": a.pk, "take_pnc_id": b.pk,
    })  # fmt: skip
    assert response.status_code == 302
    assert response.url == reverse("people:detail", args=[b.pk])
    b.refresh_from_db()
    assert (b.forename, b.surname) == (a.forename, a.surname)
    assert not Person.objects.filter(pk=a.pk).exists()
    assert not DuplicateCandidate.objects.exists()


def test_a_merge_form_without_a_choice_says_which_field(candidate, ade, login):
    response = login(ade).post(reverse("people:merge", args=[candidate.pk]), {"keep": "x"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Person.objects.filter(pk=candidate.person_a_id).exists()


def test_not_the_same_person_is_remembered_and_never_proposed_again(candidate, ade, login):
    response = login(ade).post(
        reverse("people:duplicate_decline", args=[candidate.pk]), {"note": "Cousins"}
    )
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert (candidate.status, candidate.decided_by, candidate.decision_note) == (
        CandidateStatus.DECLINED, ade, "Cousins",
    )  # fmt: skip
    assert linkage.review_everyone(ade).new == 0
    assert DuplicateCandidate.objects.get().status == CandidateStatus.DECLINED
    body = login(ade).get(reverse("people:duplicates")).content.decode()
    assert "No possible duplicates to decide." in body


@pytest.mark.parametrize("who", ["cara", "sam", "mo"])
def test_only_the_admin_may_open_a_pair(candidate, who, login, request):
    user = request.getfixturevalue(who)
    assert login(user).get(reverse("people:merge", args=[candidate.pk])).status_code == 404


def test_merging_two_records_each_on_legal_hold_keeps_one_active_hold(cara, ade):
    keep = make.make_person(cara, forename="John", surname="Smith")
    remove = make.make_person(cara, forename="Jon", surname="Smyth")
    retention.place_hold(ade, keep, "Court order 2026-09")
    retention.place_hold(ade, remove, "Police request 2026-11")
    merging.merge_people(ade, keep=keep, remove=remove)
    holds = LegalHold.objects.filter(person=keep)
    assert holds.count() == 2
    assert [h.reason for h in holds.active()] == ["Court order 2026-09"]


def test_the_merge_audit_trail_names_no_one(cara, ade):
    keep = make.make_person(cara, forename="John", surname="Smith")
    remove = make.make_person(cara, forename="Jonathan", surname="Smyth")
    merging.merge_people(ade, keep=keep, remove=remove)
    summaries = " ".join(AuditEvent.objects.values_list("summary", flat=True))
    assert "Merged: person" in summaries and "Jonathan" not in summaries
