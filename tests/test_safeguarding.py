"""Safeguarding concerns: raising, who may read them, triage within 24 hours (overdue
escalation on the lead's and the manager's home pages), actions, MASH and NRM referrals
with their date rules, closing, and a person's chronology."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from throughgate.casework import safeguarding
from throughgate.casework.models import (
    ConcernAction,
    MASHReferral,
    NRMReferral,
    SafeguardingConcern,
)
from throughgate.casework.safeguarding_models import TRIAGE_WITHIN, ConcernStatus
from throughgate.core.concurrency import version_of
from throughgate.core.models import AuditAction, AuditEvent

from . import make


@pytest.fixture
def concern(mo, mo_case):
    """Mo's concern about his mentee, raised just now."""
    return make.make_concern(mo_case.person, mo)


def today() -> Any:
    return timezone.localdate()


def days_ago(days: int) -> str:
    return (today() - timedelta(days=days)).isoformat()


def concern_url(name: str, concern: SafeguardingConcern) -> str:
    return reverse(f"casework:{name}", args=[concern.pk])


def raise_data(**changes: Any) -> dict[str, Any]:
    data = {
        "what_happened": "Older lads picked him up from school in a car.",
        "observed_at": f"{today() - timedelta(days=1):%Y-%m-%d}T15:40",
        "category": "exploitation",
        "at_risk": "young_person",
        "immediate_action": "Rang his mum.",
    }
    data.update(changes)
    return data


# --- Raising a concern ----------------------------------------------------------------


def test_mentor_raises_a_concern_on_his_mentee_and_it_waits_for_triage(mo, mo_case, login):
    client = login(mo)
    url = reverse("casework:concern_new", args=[mo_case.person.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, raise_data())
    concern = SafeguardingConcern.objects.get()
    assert response.status_code == 302
    assert response.url == concern_url("concern_detail", concern)
    assert concern.status == ConcernStatus.AWAITING_TRIAGE
    assert concern.raised_by == mo and concern.person == mo_case.person
    assert concern.triage_due_at == concern.raised_at + TRIAGE_WITHIN
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="casework.safeguardingconcern",
        person_id=mo_case.person.pk,
    ).exists()  # fmt: skip


def test_raising_says_call_999_and_the_lead_when_a_child_is_in_immediate_danger(
    mo, mo_case, sam, login
):
    client = login(mo)
    url = reverse("casework:concern_new", args=[mo_case.person.pk])
    form_page = client.get(url).content.decode()
    assert "If a child is in immediate danger, call 999 now." in form_page
    response = client.post(url, raise_data(immediate_danger="on"), follow=True)
    body = response.content.decode()
    assert "call 999 now" in body and "Sam Okafor" in body
    assert SafeguardingConcern.objects.get().immediate_danger is True


def test_other_mentor_cannot_raise_a_concern_on_mos_mentee(kim, mo_case, login):
    response = login(kim).post(
        reverse("casework:concern_new", args=[mo_case.person.pk]), raise_data()
    )
    assert response.status_code == 404
    assert not SafeguardingConcern.objects.exists()


def test_analyst_cannot_raise_a_concern(fay, mo_case, login):
    url = reverse("casework:concern_new", args=[mo_case.person.pk])
    assert login(fay).get(url).status_code == 404


def test_concern_seen_in_the_future_is_refused_naming_the_field(mo, mo_case, login):
    tomorrow = f"{today() + timedelta(days=1):%Y-%m-%d}T10:00"
    response = login(mo).post(
        reverse("casework:concern_new", args=[mo_case.person.pk]),
        raise_data(observed_at=tomorrow),
    )
    assert response.status_code == 400
    assert "This cannot be in the future" in response.content.decode()
    assert "observed_at" in response.context["form"].errors
    assert not SafeguardingConcern.objects.exists()


def test_another_child_at_risk_needs_a_name(mo, mo_case, login):
    response = login(mo).post(
        reverse("casework:concern_new", args=[mo_case.person.pk]),
        raise_data(at_risk="other_child", at_risk_name=""),
    )
    assert response.status_code == 400
    assert "Give the name of the person at risk" in response.content.decode()
    assert not SafeguardingConcern.objects.exists()


# --- Who may read a concern -----------------------------------------------------------


@pytest.mark.parametrize("who", ["kim", "pat", "cara", "fay"])
def test_concern_details_are_404_for_everyone_but_the_lead_manager_and_raiser(
    who, concern, request, login
):
    user = request.getfixturevalue(who)
    client = login(user)
    for name in ("concern_detail", "concern_triage", "concern_mash", "concern_nrm"):
        assert client.get(concern_url(name, concern)).status_code == 404, name


@pytest.mark.parametrize("who", ["sam", "ade", "mo"])
def test_concern_details_are_visible_to_the_lead_the_manager_and_the_raiser(
    who, concern, request, login
):
    response = login(request.getfixturevalue(who)).get(concern_url("concern_detail", concern))
    assert response.status_code == 200
    assert "Has a second phone and new trainers" in response.content.decode()


def test_coordinator_sees_the_concern_she_raised(cara, mo_case, login):
    concern = make.make_concern(mo_case.person, cara)
    assert login(cara).get(concern_url("concern_detail", concern)).status_code == 200


def test_a_forbidden_concern_answers_exactly_like_a_missing_one(kim, concern, login):
    client = login(kim)
    forbidden = client.get(concern_url("concern_detail", concern))
    missing = client.get(reverse("casework:concern_detail", args=[987654321]))
    assert forbidden.status_code == missing.status_code == 404
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
    assert csrf.sub("", forbidden.content.decode()) == csrf.sub("", missing.content.decode())


def test_reading_a_concern_is_audited(sam, concern, login):
    login(sam).get(concern_url("concern_detail", concern))
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type="casework.safeguardingconcern",
        object_id=str(concern.pk), actor=sam,
    ).exists()  # fmt: skip


def test_opening_a_form_that_shows_the_concern_is_audited_as_a_view(sam, concern, login):
    login(sam).get(concern_url("concern_triage", concern))
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(concern.pk))
    assert views.filter(object_type="casework.safeguardingconcern", actor=sam).count() == 1


def test_raiser_can_read_but_not_triage_her_concern(mo, concern, login):
    client = login(mo)
    assert client.get(concern_url("concern_triage", concern)).status_code == 403
    response = client.post(
        concern_url("concern_triage", concern), {"decision": "monitor", "rationale": "x"}
    )
    assert response.status_code == 403
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.AWAITING_TRIAGE


def test_who_can_see_the_person_learns_only_that_a_concern_exists_and_whom_to_ask(
    cara, sam, concern, login
):
    body = login(cara).get(reverse("people:detail", args=[concern.person.pk])).content.decode()
    assert "1 safeguarding concern" in body and "Sam Okafor" in body
    assert "County lines" not in body and "second phone" not in body
    assert concern_url("concern_detail", concern) not in body


def test_person_page_offers_to_raise_a_concern(mo, mo_case, login):
    body = login(mo).get(reverse("people:detail", args=[mo_case.person.pk])).content.decode()
    assert reverse("casework:concern_new", args=[mo_case.person.pk]) in body


# --- Triage, overdue escalation, the lead's queue --------------------------------------


def test_safeguarding_lead_starts_on_the_safeguarding_queue(sam, concern, login):
    client = login(sam)
    response = client.get("/")
    assert response.url == reverse("casework:safeguarding_queue")
    body = client.get(response.url).content.decode()
    assert concern.person.surname in body and "Waiting for triage (1)" in body


def test_triage_records_the_decision_and_stops_the_clock(sam, concern, login):
    response = login(sam).post(
        concern_url("concern_triage", concern),
        {"decision": "refer_mash", "rationale": "Clear signs of CCE."},
    )
    assert response.status_code == 302
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.OPEN
    assert concern.decision == "refer_mash" and concern.triaged_by == sam
    assert concern.decisions.get().rationale == "Clear signs of CCE."


def test_triage_without_a_rationale_is_refused(sam, concern, login):
    response = login(sam).post(concern_url("concern_triage", concern), {"decision": "monitor"})
    assert response.status_code == 400
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.AWAITING_TRIAGE and not concern.decisions.exists()


def test_concern_untriaged_for_24_hours_is_overdue_on_the_leads_and_managers_home_pages(
    sam, ade, concern, login
):
    with time_machine.travel(timezone.now() + timedelta(hours=23), tick=False):
        assert not concern.is_overdue()
        referrals = login(ade).get(reverse("casework:referral_queue")).content.decode()
        assert "not triaged within 24 hours" not in referrals
    with time_machine.travel(timezone.now() + timedelta(hours=27), tick=False):
        assert concern.is_overdue()
        queue = login(sam).get(reverse("casework:safeguarding_queue")).content.decode()
        assert "Overdue by 3 hours" in queue
        referrals = login(ade).get(reverse("casework:referral_queue")).content.decode()
        assert "Overdue: 1 safeguarding concern" in referrals
        assert "Overdue by 3 hours" in referrals and concern.person.surname in referrals


def test_a_triaged_concern_is_never_overdue(sam, concern):
    safeguarding.triage_concern(sam, concern, "monitor", "Watch.")
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        assert safeguarding.overdue_concerns(sam) == []


def test_overdue_concerns_come_first_on_the_queue(sam, mo, mo_case, login):
    with time_machine.travel(timezone.now() - timedelta(hours=30), tick=False):
        old = make.make_concern(mo_case.person, mo, what_happened="Old one.")
    new = make.make_concern(mo_case.person, mo, category="neglect")
    rows = login(sam).get(reverse("casework:safeguarding_queue")).context["waiting"]
    assert [r["concern"] for r in rows] == [old, new]
    assert rows[0]["overdue"] and not rows[1]["overdue"]


def test_mentor_is_not_shown_the_overdue_panel(mo, concern, login):
    with time_machine.travel(timezone.now() + timedelta(hours=30), tick=False):
        body = login(mo).get(reverse("casework:caseload")).content.decode()
    assert "Overdue:" not in body
    assert safeguarding.overdue_concerns(mo) == []


# --- Actions, MASH and NRM referrals, closing -------------------------------------------


def test_lead_records_an_action(sam, concern, login):
    response = login(sam).post(
        concern_url("concern_action_new", concern),
        {"taken_on": today().isoformat(), "description": "Spoke to school DSL.", "taken_by": "Sam"},
    )
    assert response.status_code == 302
    assert ConcernAction.objects.get().description == "Spoke to school DSL."


def test_lead_records_a_mash_referral_and_its_outcome(sam, concern, login):
    client = login(sam)
    url = concern_url("concern_mash", concern)
    response = client.post(url, {"referred_on": today().isoformat(),
                                 "local_authority": "Lambeth", "reference": "M1"})  # fmt: skip
    assert response.status_code == 302
    mash = MASHReferral.objects.get()
    response = client.post(url, {
        "referred_on": today().isoformat(), "local_authority": "Lambeth", "reference": "M1",
        "outcome": "child_in_need", "outcome_on": today().isoformat(),
        "version": version_of(mash),
    })  # fmt: skip
    assert response.status_code == 302
    mash.refresh_from_db()
    assert mash.outcome == "child_in_need"
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE,
        object_type="casework.mashreferral",
        fields=["outcome", "outcome_on"],
    ).exists()


def test_mash_outcome_dated_before_the_referral_is_refused(sam, concern, login):
    response = login(sam).post(concern_url("concern_mash", concern), {
        "referred_on": today().isoformat(), "local_authority": "Lambeth",
        "outcome": "early_help", "outcome_on": (today() - timedelta(days=1)).isoformat(),
    })  # fmt: skip
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "The date of the outcome is before the referral" in errors["outcome_on"][0]
    assert not MASHReferral.objects.exists()


def test_mash_referral_dated_in_the_future_is_refused(sam, concern, login):
    response = login(sam).post(concern_url("concern_mash", concern), {
        "referred_on": (today() + timedelta(days=2)).isoformat(), "local_authority": "Lambeth",
    })  # fmt: skip
    assert response.status_code == 400
    assert "cannot be in the future" in response.context["form"].errors["referred_on"][0]
    assert not MASHReferral.objects.exists()


def test_stale_mash_edit_is_refused(sam, ade, concern, login):
    mash = safeguarding.record_mash_referral(
        sam, concern, {"referred_on": today(), "local_authority": "Lambeth"}
    )
    opened = version_of(mash)
    safeguarding.record_mash_referral(
        ade, concern, {"referred_on": today(), "local_authority": "Southwark"}
    )
    response = login(sam).post(concern_url("concern_mash", concern), {
        "referred_on": today().isoformat(), "local_authority": "Croydon", "version": opened,
    })  # fmt: skip
    assert response.status_code == 400
    assert "after you opened it" in response.content.decode()
    mash.refresh_from_db()
    assert mash.local_authority == "Southwark"


def nrm_post(sam: Any, concern: Any, login: Any, **data: Any) -> Any:
    base = {"referred_on": (today() - timedelta(days=5)).isoformat(),
            "first_responder": "Lambeth Children's Services"}  # fmt: skip
    base.update(data)
    return login(sam).post(concern_url("concern_nrm", concern), base)


@pytest.fixture
def old_concern(mo, mo_case):
    """Seen three weeks ago, so NRM dates in the past are possible."""
    return make.make_concern(mo_case.person, mo, hours_ago=21 * 24)


def test_nrm_referral_with_both_decisions_is_saved(sam, old_concern, login):
    response = nrm_post(
        sam, old_concern, login,
        reasonable_grounds="positive", reasonable_grounds_on=days_ago(3),
        conclusive_grounds="positive", conclusive_grounds_on=days_ago(0),
    )  # fmt: skip
    assert response.status_code == 302
    nrm = NRMReferral.objects.get()
    assert (nrm.reasonable_grounds, nrm.conclusive_grounds) == ("positive", "positive")


def test_nrm_decision_dated_before_the_referral_is_refused_naming_the_field(
    sam, old_concern, login
):
    response = nrm_post(
        sam, old_concern, login, reasonable_grounds="positive",
        reasonable_grounds_on=(today() - timedelta(days=8)).isoformat(),
    )  # fmt: skip
    assert response.status_code == 400
    body = response.content.decode()
    assert "The reasonable grounds decision is dated before the NRM referral" in body
    assert "reasonable_grounds_on" in response.context["form"].errors
    assert 'href="#id_reasonable_grounds_on"' in body  # the summary links to the field
    assert not NRMReferral.objects.exists()


def test_conclusive_grounds_before_reasonable_grounds_is_refused(sam, old_concern, login):
    response = nrm_post(
        sam, old_concern, login,
        reasonable_grounds="positive", reasonable_grounds_on=days_ago(2),
        conclusive_grounds="positive", conclusive_grounds_on=days_ago(3),
    )  # fmt: skip
    assert response.status_code == 400
    assert (
        "before the reasonable grounds decision"
        in (response.context["form"].errors["conclusive_grounds_on"][0])
    )
    assert not NRMReferral.objects.exists()


@pytest.mark.parametrize("reasonable", ["", "negative"])
def test_conclusive_grounds_needs_a_positive_reasonable_grounds_decision(
    reasonable, sam, old_concern, login
):
    data = {"conclusive_grounds": "positive", "conclusive_grounds_on": today().isoformat()}
    if reasonable:
        data.update(reasonable_grounds=reasonable,
                    reasonable_grounds_on=(today() - timedelta(days=2)).isoformat())  # fmt: skip
    response = nrm_post(sam, old_concern, login, **data)
    assert response.status_code == 400
    assert (
        "follows only a positive reasonable grounds decision"
        in (response.context["form"].errors["conclusive_grounds"][0])
    )
    assert not NRMReferral.objects.exists()


def test_nrm_dates_in_the_future_are_refused(sam, old_concern, login):
    response = nrm_post(
        sam, old_concern, login, referred_on=(today() + timedelta(days=1)).isoformat()
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.context["form"].errors["referred_on"][0]
    assert not NRMReferral.objects.exists()


def test_nrm_decision_without_its_date_is_refused(sam, old_concern, login):
    response = nrm_post(sam, old_concern, login, reasonable_grounds="negative")
    assert response.status_code == 400
    assert "Give the date" in response.context["form"].errors["reasonable_grounds_on"][0]


def test_a_concern_closes_only_after_triage(sam, concern, login):
    client = login(sam)
    assert client.get(concern_url("concern_close", concern)).status_code == 200
    response = client.post(concern_url("concern_close", concern), {"outcome": "All fine."})
    assert response.status_code == 400
    assert "Record a triage decision before closing" in response.content.decode()
    safeguarding.triage_concern(sam, concern, "monitor", "Watch.")
    response = client.post(concern_url("concern_close", concern), {"outcome": "All fine."})
    assert response.status_code == 302
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.CLOSED and concern.outcome == "All fine."


def test_a_closed_concern_takes_no_more_actions(sam, concern):
    safeguarding.triage_concern(sam, concern, "no_further_action", "Explained.")
    safeguarding.close_concern(sam, concern, "Nothing more to do.")
    with pytest.raises(Exception, match="closed"):
        safeguarding.add_concern_action(
            sam, concern, {"taken_on": today(), "description": "x", "taken_by": "Sam"}
        )


# --- The chronology ---------------------------------------------------------------------


def test_lead_reads_the_whole_chronology_in_date_order(sam, mo, cara, mo_case, login):
    first = make.make_concern(mo_case.person, mo, hours_ago=72, what_happened="First worry.")
    make.make_concern(mo_case.person, cara, hours_ago=2, what_happened="Second worry.")
    safeguarding.triage_concern(sam, first, "refer_mash", "Needs MASH.")
    safeguarding.record_mash_referral(
        sam, first, {"referred_on": today(), "local_authority": "Hackney", "reference": "H9"}
    )
    make.make_contact(mo_case, concerns="Seemed scared of someone outside.")
    response = login(sam).get(reverse("casework:safeguarding_chronology", args=[mo_case.person.pk]))
    titles = [e.title for e in response.context["entries"]]
    assert titles.index("Concern: County lines") < titles.index(
        "Triage decision: Refer to the MASH (children's social care)"
    )
    assert "MASH referral to Hackney (ref. H9)" in titles
    assert "Concern noted at a contact" in titles
    details = [e.detail for e in response.context["entries"]]
    assert "First worry." in details and "Second worry." in details


def test_raiser_sees_only_her_own_concerns_in_the_chronology(sam, mo, cara, mo_case, login):
    make.make_concern(mo_case.person, mo, what_happened="Mo's worry.")
    make.make_concern(mo_case.person, cara, what_happened="Cara's worry.")
    make.make_contact(mo_case, concerns="Noted at a contact.")
    response = login(mo).get(reverse("casework:safeguarding_chronology", args=[mo_case.person.pk]))
    body = response.content.decode()
    assert "Mo&#x27;s worry." in body
    assert "Cara&#x27;s worry." not in body and "Noted at a contact." not in body
    assert "1 other safeguarding concern" in body


def test_analyst_and_other_mentor_get_404_on_the_chronology(fay, kim, mo_case, login):
    url = reverse("casework:safeguarding_chronology", args=[mo_case.person.pk])
    assert login(fay).get(url).status_code == 404
    assert login(kim).get(url).status_code == 404


# --- Referral sources -------------------------------------------------------------------


def test_referral_form_offers_schools_and_childrens_services_together(cara, login):
    body = login(cara).get(reverse("casework:referral_new")).content.decode()
    assert '<optgroup label="Schools and children&#x27;s services">' in body
    assert "Children&#x27;s services / social care" in body
    assert "Local authority (other)" in body


def test_a_referral_from_childrens_services_is_recorded(cara, programme):
    referral = make.make_referral(actor=cara, source_type="childrens_services",
                                  referring_organisation="Lambeth CSC")  # fmt: skip
    assert referral.get_source_type_display() == "Children's services / social care"


# --- The demo ---------------------------------------------------------------------------


def test_demo_safeguarding_builds_through_the_actions(db):
    """A small demo charity, which builds the safeguarding demo through the actions:
    concerns at every stage, one overdue for Sam and Ade, and risk checks on every open
    prevention case."""
    from throughgate.accounts.models import User
    from throughgate.casework.models import Case, ProgrammeKind, RiskCheck
    from throughgate.demo.seed import seed

    seed(progress=False, scale=0.1)
    sam, ade = User.objects.get(username="sam"), User.objects.get(username="ade")
    concerns = SafeguardingConcern.objects.all()
    assert concerns.count() >= 8
    assert {c.status for c in concerns} == set(ConcernStatus.values)
    assert len(safeguarding.overdue_concerns(sam)) == 1
    assert len(safeguarding.overdue_concerns(ade)) == 1
    assert MASHReferral.objects.exclude(outcome="").exists()
    assert NRMReferral.objects.filter(reasonable_grounds="positive").exists()
    now = timezone.now()
    for concern in concerns:
        assert concern.raised_at <= now and concern.observed_at < concern.raised_at
        if concern.triaged_at:
            assert concern.raised_at < concern.triaged_at <= concern.raised_at + TRIAGE_WITHIN
    for model in (MASHReferral, NRMReferral):
        for record in model.objects.all():
            record.full_clean()  # every date rule holds
    open_prevention = Case.objects.open().filter(programme__kind=ProgrammeKind.PREVENTION)
    assert open_prevention.exists()
    for case in open_prevention:
        assert RiskCheck.objects.filter(case=case).exists()
