"""Holistic support (issue 5): needs by pathway, the action plan, ID and bank, onward
referrals to agencies, questionnaires, family support and outcomes at closure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from throughgate.casework import actions as casework_actions
from throughgate.casework import support
from throughgate.casework.models import (
    Contact,
    InstrumentDefinition,
    Need,
    NeedStatus,
    NeedUpdate,
    OnwardStatus,
)
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.people import actions as people_actions

from . import make
from .test_bad_input import SavesNothing, assert_refused_on_field

TODAY = timezone.localdate


@pytest.fixture
def housing(db, ade):
    return support.add_agency(ade, {"name": "Southwark Housing Options", "kind": "housing"})


def _events(obj, action=AuditAction.UPDATE):
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action
    )


# --- Needs and actions -----------------------------------------------------------------


def test_a_needs_assessment_records_each_pathway_with_its_history(mo, mo_case):
    needs = support.assess_needs(mo, mo_case, {
        "accommodation": {"status": "in_progress", "priority": "high", "summary": "Hostel bed"},
        "finance_id": {"status": "not_started", "summary": "No ID at all"},
        "health": {"status": "not_started"},  # nothing said: not recorded
    })  # fmt: skip
    assert sorted(n.pathway for n in needs) == ["accommodation", "finance_id"]
    accommodation = Need.objects.get(case=mo_case, pathway="accommodation")
    support.update_need(mo, accommodation, {"status": "met"}, "Moved into a flat", TODAY())
    history = list(accommodation.updates.values_list("status", "note"))
    assert history == [("in_progress", ""), ("met", "Moved into a flat")]
    accommodation.refresh_from_db()
    assert accommodation.status == NeedStatus.MET and accommodation.status_since == TODAY()
    assert _events(accommodation).get().fields == ["status"]


def test_a_need_update_cannot_be_dated_before_the_last_one(mo, mo_case):
    (need,) = support.assess_needs(mo, mo_case, {"health": {"status": "in_progress"}})
    with pytest.raises(ValidationError) as refused:
        support.update_need(mo, need, {"status": "met"}, "", TODAY() - timedelta(days=3))
    assert "on" in refused.value.message_dict


def test_an_overdue_action_is_on_the_mentors_home_page_until_done(mo, cara, mo_case, login):
    action = support.add_action(cara, mo_case, {
        "description": "Collect birth certificate", "owner": "mentor", "due_on": TODAY(),
    })  # fmt: skip
    client = login(mo)
    home = client.get(reverse("casework:caseload")).content.decode()
    assert "Actions due" in home and "Collect birth certificate" in home
    done = client.post(
        reverse("casework:action_done", args=[action.pk]), {"next": "caseload"}, follow=True
    )
    assert "Done: Collect birth certificate" in done.content.decode()  # said once, then gone
    action.refresh_from_db()
    assert action.done_on == TODAY()
    assert (
        "Collect birth certificate" not in client.get(reverse("casework:caseload")).content.decode()
    )


def test_an_action_for_another_cases_need_is_refused(mo, cara, mo_case):
    other = make.make_case(mentor=mo, actor=cara)
    (need,) = support.assess_needs(cara, other, {"health": {"status": "in_progress"}})
    with SavesNothing(), pytest.raises(ValidationError) as refused:
        support.add_action(cara, mo_case, {
            "description": "GP", "owner": "mentor", "due_on": TODAY(), "need": need,
        })  # fmt: skip
    assert "need" in refused.value.message_dict


# --- ID and bank ------------------------------------------------------------------------


def test_id_that_arrives_before_it_was_applied_for_is_refused(mo, mo_case, login):
    data = {"id_type": "birth_certificate", "status": "received",
            "submitted_on": TODAY().isoformat(),
            "received_on": (TODAY() - timedelta(days=2)).isoformat()}  # fmt: skip
    with SavesNothing():
        response = login(mo).post(reverse("casework:id_new", args=[mo_case.pk]), data)
    assert_refused_on_field(response, "received_on", "cannot arrive before it was applied for")


def test_a_bank_account_opened_needs_the_date_the_bank_answered(mo, mo_case):
    with SavesNothing(), pytest.raises(ValidationError) as refused:
        support.save_bank_application(mo, mo_case, {
            "bank": "Barclays", "outcome": "opened", "submitted_on": TODAY(),
        })  # fmt: skip
    assert "response_on" in refused.value.message_dict


# --- Onward referrals ---------------------------------------------------------------------


def test_an_onward_referral_cannot_be_sent_without_consent(mo, mo_case, housing, login):
    referral = support.create_onward_referral(
        mo, mo_case, {"agency": housing, "reason": "Somewhere to live on release"}
    )
    with SavesNothing():
        response = login(mo).post(
            reverse("casework:onward_detail", args=[referral.pk]),
            {"status": "sent", "on": TODAY().isoformat()},
        )
    assert_refused_on_field(response, "status", "Record the young person's consent before sending")
    referral.refresh_from_db()
    assert referral.status == OnwardStatus.DRAFT and referral.sent_on is None


def test_each_step_of_an_onward_referral_is_dated_and_audited(mo, mo_case, housing):
    referral = support.create_onward_referral(mo, mo_case, {"agency": housing, "reason": "Housing"})
    support.record_consent(mo, referral, TODAY() - timedelta(days=9))
    support.change_onward_status(mo, referral, "sent", TODAY() - timedelta(days=8))
    support.change_onward_status(mo, referral, "accepted", TODAY() - timedelta(days=2))
    support.change_onward_status(mo, referral, "completed", TODAY(), "Moved into a flat")
    referral.refresh_from_db()
    assert (referral.sent_on, referral.accepted_on, referral.completed_on) == (
        TODAY() - timedelta(days=8), TODAY() - timedelta(days=2), TODAY(),
    )  # fmt: skip
    summaries = list(_events(referral).order_by("id").values_list("summary", flat=True))
    assert summaries == ["", "sent", "accepted", "completed"]  # consent, then each step
    assert referral.next_statuses == []  # the loop is closed
    with pytest.raises(ValidationError):
        support.change_onward_status(mo, referral, "sent", TODAY())


def test_a_declined_referral_says_why_and_cannot_go_back_in_time(mo, mo_case, housing):
    referral = support.create_onward_referral(mo, mo_case, {
        "agency": housing, "reason": "Housing", "consent_recorded": True, "consent_on": TODAY(),
    })  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        support.change_onward_status(mo, referral, "sent", TODAY() - timedelta(days=1))
    assert "before the previous step" in str(refused.value)
    support.change_onward_status(mo, referral, "sent", TODAY())
    with pytest.raises(ValidationError) as refused:
        support.change_onward_status(mo, referral, "declined", TODAY())
    assert "outcome" in refused.value.message_dict


# --- Questionnaires ------------------------------------------------------------------------


def test_a_trust_check_in_is_scored_as_worked_out_by_hand(mo, mo_case):
    trust = InstrumentDefinition.objects.get(key="trust-check-in")
    # All 4s, except t6 "I feel my mentor judges me" = 2 (reversed: 6 - 2 = 4) and
    # t9 "would give up on me" = 1 (reversed: 5): (8 * 4 + 4 + 5) / 10 = 4.1.
    answers = {f"t{i}": 4 for i in range(1, 11)} | {"t6": 2, "t9": 1}
    response = support.record_instrument_response(mo, mo_case, trust, TODAY(), answers)
    assert response.total == 4.1
    assert response.subscales == {"trust": 4.1}


def test_an_answer_off_the_scale_is_refused_naming_the_question(mo, mo_case, login):
    data = {"completed_on": TODAY().isoformat(), "item-t1": "7", "item-t2": "4"}
    url = reverse("casework:instrument_new", args=[mo_case.pk, "trust-check-in"])
    with SavesNothing():
        response = login(mo).post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "My mentor is someone I can trust." in html
    assert "answer 1 to 5 (got 7)" in html


def test_too_few_answers_keep_the_response_but_give_no_total(mo, mo_case):
    distance = InstrumentDefinition.objects.get(key="distance-travelled")
    response = support.record_instrument_response(
        mo, mo_case, distance, TODAY(), {"accommodation": 3, "health": 6}
    )
    assert response.total is None  # 2 of 7 pathways: fewer than 70%
    assert response.subscales == {"accommodation": 3.0, "health": 6.0}


def test_the_case_page_charts_distance_travelled_with_its_numbers(mo, mo_case, login):
    distance = InstrumentDefinition.objects.get(key="distance-travelled")
    pathways = [i.key for i in distance.items.all()]
    support.record_instrument_response(
        mo, mo_case, distance, mo_case.opened_on, dict.fromkeys(pathways, 3)
    )
    support.record_instrument_response(
        mo, mo_case, distance, TODAY(), dict.fromkeys(pathways, 3) | {"accommodation": 8}
    )
    page = login(mo).get(reverse("casework:case_detail", args=[mo_case.pk])).content.decode()
    assert 'id="distance-chart"' in page
    assert '<th scope="row">Accommodation</th><td>3</td><td>8</td><td>+5</td>' in page


# --- Closure, family, and the page budget ---------------------------------------------------


def test_closing_a_case_records_where_they_live_and_what_they_do(cara, mo_case):
    casework_actions.close_case(
        cara, mo_case, "completed", TODAY(), accommodation="supported", ete="training"
    )
    mo_case.refresh_from_db()
    assert (mo_case.closure_accommodation, mo_case.closure_ete) == ("supported", "training")
    with pytest.raises(ValidationError):
        other = make.make_case(actor=cara)
        casework_actions.close_case(cara, other, "completed", TODAY(), accommodation="castle")


def test_the_family_view_shows_protective_factors_and_risks(mo, mo_case, login):
    person = mo_case.person
    mum = make.make_family_member(person, mo, name="Grace Whitlock")
    people_actions.update_family_member(
        mo, mum, {"influence": "protective", "own_needs": "Behind on rent"}
    )
    make.make_family_member(person, mo, name="Dwayne Whitlock", influence="risk")
    page = login(mo).get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "Protective factor" in page and "Own needs: Behind on rent" in page
    assert ">Risk<" in page


def test_the_person_page_with_five_years_of_history_costs_the_same_queries(
    mo, cara, mo_case, login
):
    client = login(cara)
    person = mo_case.person

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("people:detail", args=[person.pk])).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    # Five years: 520 contacts, 8 needs with 56 updates, family at many sessions.
    start = timezone.now() - timedelta(days=5 * 365)
    mo_case.opened_on = (start - timedelta(days=1)).date()
    mo_case.save(update_fields=["opened_on"])
    family = [make.make_family_member(person, cara, name=f"Relative {i}") for i in range(4)]
    contacts = Contact.objects.bulk_create(
        Contact(case=mo_case, occurred_at=start + timedelta(days=3 * i), mode="phone",
                staff=mo, summary=f"Check-in {i}")
        for i in range(520)
    )  # fmt: skip
    Contact.family_members.through.objects.bulk_create(
        Contact.family_members.through(contact_id=c.pk, familymember_id=family[i % 4].pk)
        for i, c in enumerate(contacts[::5])
    )
    needs = support.assess_needs(cara, mo_case, {
        p: {"status": "in_progress"} for p in (
            "accommodation", "education_skills_work", "finance_id", "health", "drugs_alcohol",
            "children_families_community", "attitudes_thinking_behaviour", "other",
        )
    })  # fmt: skip
    NeedUpdate.objects.bulk_create(
        NeedUpdate(need=n, on=TODAY(), status="in_progress", priority="medium",
                   responsible="mentor", note=f"Update {k}")
        for n in needs for k in range(6)
    )  # fmt: skip
    assert Contact.objects.filter(case=mo_case).count() >= 500
    assert NeedUpdate.objects.filter(need__case=mo_case).count() >= 50
    assert queries() == few
