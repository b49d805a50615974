"""Referral to case to closure: the journey, its dated history and the mentor's caseload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from throughgate.casework import actions
from throughgate.casework.models import Case, PhaseChange, ReferralStatus
from throughgate.casework.timeline import build_timeline

from . import make

TODAY = timezone.localdate


def test_accepting_a_referral_opens_a_case_with_a_dated_attributed_first_phase(cara, mo, programme):
    referral = make.make_referral(programme=programme, actor=cara)
    case = actions.accept_referral(cara, referral, mentor=mo, opened_on=TODAY() - timedelta(days=5),
                                   initial_phase="in_custody")  # fmt: skip
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED and referral.decided_by == cara
    assert case.person == referral.person and case.team == programme.team
    assert case.mentor == mo and case.coordinator == cara
    assert case.phase == "in_custody" and case.phase_since == TODAY() - timedelta(days=5)
    first = PhaseChange.objects.get(case=case)
    assert (first.from_phase, first.to_phase, first.recorded_by) == ("", "in_custody", cara)


def test_a_referral_is_decided_only_once(cara, programme):
    referral = make.make_referral(programme=programme, actor=cara)
    actions.decline_referral(cara, referral, "out_of_area")
    with pytest.raises(ValidationError, match="already declined"):
        actions.accept_referral(cara, referral)


def test_phase_changes_keep_their_history_in_order(mo_case, cara):
    today = TODAY()
    actions.change_phase(cara, mo_case, "in_custody", today - timedelta(days=40))
    actions.change_phase(
        cara, mo_case, "through_the_gate", today - timedelta(days=10), "Released from Isis"
    )
    actions.change_phase(cara, mo_case, "community", today - timedelta(days=9))
    history = list(PhaseChange.objects.filter(case=mo_case).values_list("from_phase", "to_phase"))
    assert history == [
        ("", "referred"),
        ("referred", "in_custody"),
        ("in_custody", "through_the_gate"),
        ("through_the_gate", "community"),
    ]
    with pytest.raises(ValidationError) as err:
        actions.change_phase(cara, mo_case, "in_custody", today - timedelta(days=20))
    assert "changed_on" in err.value.message_dict


def test_a_recall_can_move_a_case_back_into_custody(mo_case, cara):
    actions.change_phase(cara, mo_case, "community", TODAY() - timedelta(days=20))
    actions.change_phase(cara, mo_case, "in_custody", TODAY() - timedelta(days=2), "Recalled")
    assert Case.objects.get(pk=mo_case.pk).phase == "in_custody"


def test_phases_belong_to_the_programme(cara, pat, prevention_team):
    prevention = make.make_programme("Prevention 1:1", "prevention", prevention_team)
    case = make.make_case(mentor=pat, actor=cara, programme=prevention)
    with pytest.raises(ValidationError) as err:
        actions.change_phase(cara, case, "in_custody", TODAY())
    assert "to_phase" in err.value.message_dict
    actions.change_phase(cara, case, "active", TODAY())


def test_closing_a_case_records_reason_and_date_and_stops_new_contacts(mo_case, mo, cara):
    make.make_contact(mo_case, mo, days_ago=2)
    actions.close_case(cara, mo_case, "completed", TODAY() - timedelta(days=1))
    case = Case.objects.get(pk=mo_case.pk)
    assert (case.phase, case.closure_reason, case.closed_on) == (
        "closed",
        "completed",
        TODAY() - timedelta(days=1),
    )
    with pytest.raises(ValidationError, match="closed"):
        make.make_contact(case, mo, days_ago=0)
    with pytest.raises(ValidationError, match="closed"):
        actions.change_phase(cara, case, "community", TODAY())


def test_a_mentor_must_be_a_mentor(mo_case, cara, sam):
    with pytest.raises(ValidationError) as err:
        actions.assign_mentor(cara, mo_case, sam)
    assert "mentor" in err.value.message_dict


def test_timeline_lists_referral_phases_contacts_and_closure_newest_first(mo_case, mo, cara):
    make.make_contact(mo_case, mo, days_ago=5, summary="Visited at Feltham")
    actions.close_case(cara, mo_case, "completed", TODAY(), "Finished well")
    kinds = [e.kind for e in build_timeline(Case.objects.get(pk=mo_case.pk))]
    assert kinds == ["closure", "contact", "phase", "referral"]


def test_caseload_puts_releases_then_overdue_contacts_on_top(mo, cara, programme, login):
    overdue = make.make_case(
        mentor=mo, actor=cara, person=make.make_person(cara, forename="Overdue")
    )
    recent = make.make_case(mentor=mo, actor=cara, person=make.make_person(cara, forename="Recent"))
    make.make_contact(recent, mo, days_ago=1)
    releasing = make.make_case(
        mentor=mo, actor=cara, person=make.make_person(cara, forename="Releasing")
    )
    make.make_contact(releasing, mo, days_ago=1)
    make.make_episode(releasing.person, cara, days_in=200, release_in=9)
    response = login(mo).get("/caseload/")
    rows = response.context["rows"]
    assert [r["case"].person.forename for r in rows] == ["Releasing", "Overdue", "Recent"]
    assert rows[0]["release_soon"] and not rows[0]["is_due"]
    assert rows[1]["is_due"] and rows[1]["overdue_days"] == 50 - 7
    body = response.content.decode()
    assert "Release due" in body and "43 days overdue" in body
    assert response.context["due_count"] == 1 and response.context["release_count"] == 1
    assert overdue.pk != recent.pk


def test_mentor_logs_a_contact_with_family_present(mo_case, mo, login):
    mum = make.make_family_member(mo_case.person, mo, name="Grace Campbell")
    when = timezone.localtime().replace(second=0, microsecond=0) - timedelta(hours=2)
    response = login(mo).post(
        f"/cases/{mo_case.pk}/contacts/new/",
        {
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
            "mode": "home_visit",
            "attendance": "attended",
            "duration_minutes": "45",
            "family_members": [mum.pk],
            "summary": "Talked with him and his mum about the college application.",
        },
    )
    assert response.status_code == 302
    contact = mo_case.contacts.get()
    assert contact.staff == mo and contact.logged_by == mo
    assert list(contact.family_members.all()) == [mum]
    page = login(mo).get(f"/cases/{mo_case.pk}/").content.decode()
    assert "college application" in page and "Grace Campbell" in page


def test_another_persons_family_member_cannot_be_added_to_a_contact(mo_case, mo, cara):
    other = make.make_person(cara)
    stranger = make.make_family_member(other, cara)
    with pytest.raises(ValidationError):
        actions.log_contact(mo, mo_case, {
            "occurred_at": timezone.now() - timedelta(hours=1), "mode": "phone",
            "attendance": "attended", "summary": "Call",
        }, family_members=[stranger])  # fmt: skip
