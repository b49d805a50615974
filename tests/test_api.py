"""The JSON API (/api/v1/): tokens, scopes, partners' referrals, cases and contacts.

Who is who: Mo and Kim are mentors (Kim must never read Mo's mentee), Ade the
manager/admin, and two partners: Feltham's resettlement team and Lambeth probation,
each of whom may read only the referrals it sent.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from throughgate.api import actions
from throughgate.api.models import ApiToken
from throughgate.api.scopes import Scope
from throughgate.casework.models import Contact, Referral
from throughgate.casework.timeline import build_timeline
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.people.models import CandidateStatus, DuplicateCandidate, FoundBy

from . import make

pytestmark = pytest.mark.django_db


def token_of(user: Any, *scopes: str, actor: Any = None) -> str:
    return actions.create_token(actor or user, user, "Test integration", list(scopes))[1]


def api(token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(headers=headers)


@pytest.fixture
def feltham(ade):
    return actions.add_partner(ade, {
        "username": "feltham", "organisation": "HMP/YOI Feltham resettlement team",
        "source_type": "prison",
    }).user  # fmt: skip


@pytest.fixture
def probation(ade):
    return actions.add_partner(ade, {
        "username": "lambeth-probation", "organisation": "Lambeth probation",
        "source_type": "probation",
    }).user  # fmt: skip


def referral_body(programme: Any, **changes: Any) -> dict[str, Any]:
    body = {
        "programme_id": programme.pk,
        "person": {"forename": "Amani", "surname": "Okoro", "date_of_birth": "2007-03-09"},
        "referral_date": timezone.localdate().isoformat(),
        "reasons": "Released next month; asked for a mentor.",
        "consent_recorded": True,
        "referrer_name": "J. Officer",
    }
    body.update(changes)
    return body


def send(token: str, body: dict[str, Any]) -> Any:
    return api(token).post("/api/v1/referrals", body, content_type="application/json")


# --- Tokens -----------------------------------------------------------------------------


def test_schema_is_served_at_api_openapi_json_without_a_token():
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["version"] == "1"
    assert "/api/v1/cases/{case_id}" in schema["paths"]


def test_no_interactive_docs_that_would_load_scripts_from_a_cdn():
    assert Client().get("/api/docs").status_code == 404


def test_request_without_a_token_gets_401(mo_case):
    response = api().get("/api/v1/cases")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Send a valid token")


def test_unknown_token_gets_401(mo_case):
    assert api("tg_deadbeef_not-a-real-secret").get("/api/v1/cases").status_code == 401


def test_token_with_the_right_prefix_but_wrong_secret_gets_401(mo, mo_case):
    token = token_of(mo, Scope.CASES_READ)
    forged = token[: token.rindex("_") + 1] + "x" * 43
    assert api(forged).get("/api/v1/cases").status_code == 401


def test_revoked_token_gets_401(mo, mo_case):
    token = token_of(mo, Scope.CASES_READ)
    assert api(token).get("/api/v1/cases").status_code == 200
    actions.revoke_token(mo, ApiToken.objects.get(user=mo))
    assert api(token).get("/api/v1/cases").status_code == 401


def test_expired_token_gets_401(mo, mo_case):
    token = token_of(mo, Scope.CASES_READ)
    ApiToken.objects.filter(user=mo).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api(token).get("/api/v1/cases").status_code == 401


def test_token_without_the_scope_gets_403_naming_the_missing_scope(mo, mo_case):
    token = token_of(mo, Scope.CONTACTS_WRITE)
    response = api(token).get("/api/v1/cases")
    assert response.status_code == 403
    assert response.json()["missing_scope"] == "cases:read"
    assert "cases:read" in response.json()["detail"]


def test_scope_the_owners_role_no_longer_allows_gets_403(mo, mo_case):
    token = token_of(mo, Scope.CASES_READ)
    mo.role = "analyst"
    mo.save(update_fields=["role"])
    assert api(token).get("/api/v1/cases").status_code == 403


def test_only_a_hash_of_the_token_is_stored(mo):
    token = token_of(mo, Scope.CASES_READ)
    row = ApiToken.objects.get(user=mo)
    assert token not in row.secret_hash and token.split("_")[-1] not in row.secret_hash
    assert token.startswith(f"tg_{row.prefix}_")


def test_using_a_token_records_when_it_was_last_used(mo, mo_case):
    token = token_of(mo, Scope.CASES_READ)
    assert ApiToken.objects.get(user=mo).last_used_at is None
    api(token).get("/api/v1/cases")
    assert ApiToken.objects.get(user=mo).last_used_at is not None


def test_making_and_revoking_a_token_are_audited(mo):
    token_of(mo, Scope.CASES_READ)
    row = ApiToken.objects.get(user=mo)
    actions.revoke_token(mo, row)
    events = AuditEvent.objects.filter(object_type="api.apitoken", object_id=str(row.pk))
    assert sorted(events.values_list("action", flat=True)) == ["create", "update"]


def test_a_mentor_cannot_have_a_partner_scope(mo):
    with pytest.raises(Exception, match="may not have: referrals:write"):
        actions.create_token(mo, mo, "Sneaky", [Scope.REFERRALS_WRITE])


def test_analyst_has_no_token_page(fay, login):
    assert login(fay).get("/api/tokens/").status_code == 404


def test_token_page_shows_a_new_token_once_and_lists_it(mo, login):
    client = login(mo)
    response = client.post(
        "/api/tokens/", {"name": "Phone app", "scopes": ["cases:read"], "expires_in_days": "30"}
    )
    assert response.status_code == 200
    row = ApiToken.objects.get(user=mo)
    assert f"tg_{row.prefix}_" in response.content.decode()
    again = client.get("/api/tokens/").content.decode()
    assert "Phone app" in again and f"tg_{row.prefix}_" not in again


def test_token_page_names_the_missing_fields_next_to_them_and_on_top(mo, login):
    response = login(mo).post("/api/tokens/", {"name": "", "expires_in_days": "30"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert 'id="id_name_error"' in body and 'id="id_scopes_error"' in body
    assert not ApiToken.objects.exists()


def test_admin_gives_a_partner_a_token_and_adds_partners(ade, feltham, login):
    client = login(ade)
    response = client.post("/api/manage/", {
        "user": feltham.pk, "name": "Feltham referrals", "expires_in_days": "365",
        "scopes": ["referrals:write", "referrals:read"]})  # fmt: skip
    assert response.status_code == 200
    token = ApiToken.objects.get(user=feltham)
    assert token.created_by == ade and f"tg_{token.prefix}_" in response.content.decode()
    added = client.post("/api/manage/partners/new/", {
        "organisation": "Stockwell Park Academy", "source_type": "school",
        "username": "stockwell"})  # fmt: skip
    assert added.status_code == 302
    taken = client.post("/api/manage/partners/new/", {
        "organisation": "Another", "source_type": "school", "username": "stockwell"})  # fmt: skip
    assert taken.status_code == 400 and 'id="id_username_error"' in taken.content.decode()


def test_admin_sees_and_revokes_anyones_token(mo, ade, login):
    token = token_of(mo, Scope.CASES_READ)
    row = ApiToken.objects.get(user=mo)
    client = login(ade)
    assert "Test integration" in client.get("/api/manage/").content.decode()
    assert client.post(f"/api/tokens/{row.pk}/revoke/").status_code == 302
    assert api(token).get("/api/v1/cases").status_code == 401


def test_another_mentor_cannot_revoke_mos_token(mo, kim, login):
    token_of(mo, Scope.CASES_READ)
    row = ApiToken.objects.get(user=mo)
    assert login(kim).post(f"/api/tokens/{row.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=row.pk).revoked_at is None


# --- Partners and their referrals -------------------------------------------------------


def test_partner_sends_a_referral_stamped_with_its_organisation(feltham, programme):
    token = token_of(feltham, Scope.REFERRALS_WRITE, Scope.REFERRALS_READ)
    response = send(token, referral_body(programme))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    referral = Referral.objects.get(pk=body["id"])
    assert referral.referring_organisation == "HMP/YOI Feltham resettlement team"
    assert referral.source_type == "prison"
    assert referral.person.surname == "Okoro"
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="casework.referral", object_id=str(referral.pk)
    ).exists()


def test_a_partners_referral_for_a_new_person_is_checked_for_duplicates_in_the_background(
    feltham, cara, ade, programme, run_jobs, django_capture_on_commit_callbacks
):
    """Intake through the API, as through the referral form: the new record is scored by
    the linkage model in the worker, and a likely pair waits on the manager's duplicates
    page. The partner is told nothing of it."""
    jon = make.make_person(cara, forename="Jon", surname="Smyth", date_of_birth=date(2006, 3, 12))
    token = token_of(feltham, Scope.REFERRALS_WRITE, Scope.REFERRALS_READ)
    body = referral_body(programme, person={
        "forename": "John", "surname": "Smith", "date_of_birth": "2006-03-12"})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):  # as after a real commit
        response = send(token, body)
    assert response.status_code == 201, response.content
    new_person = Referral.objects.get(pk=response.json()["id"]).person
    assert new_person.pk != jon.pk  # no shared identifier: a record of its own
    assert "Smyth" not in response.content.decode()
    assert not DuplicateCandidate.objects.exists()  # not in the request: in the worker
    run_jobs()
    found = DuplicateCandidate.objects.get()
    assert {found.person_a_id, found.person_b_id} == {jon.pk, new_person.pk}
    assert (found.found_by, found.status) == (FoundBy.INTAKE, CandidateStatus.OPEN)
    assert list(DuplicateCandidate.objects.visible_to(ade)) == [found]


def test_partner_sees_only_the_referrals_it_sent(feltham, probation, programme):
    feltham_token = token_of(feltham, Scope.REFERRALS_WRITE, Scope.REFERRALS_READ)
    probation_token = token_of(probation, Scope.REFERRALS_WRITE, Scope.REFERRALS_READ)
    mine = send(feltham_token, referral_body(programme)).json()["id"]
    theirs = send(
        probation_token,
        referral_body(programme, person={
            "forename": "Kai", "surname": "Mensah", "date_of_birth": "2006-11-02"}),
    ).json()["id"]  # fmt: skip
    staff_entered = make.make_referral()
    listing = api(feltham_token).get("/api/v1/referrals").json()
    assert [r["id"] for r in listing["results"]] == [mine]
    assert listing["count"] == 1
    assert api(feltham_token).get(f"/api/v1/referrals/{mine}").status_code == 200
    assert api(feltham_token).get(f"/api/v1/referrals/{theirs}").status_code == 404
    assert api(feltham_token).get(f"/api/v1/referrals/{staff_entered.pk}").status_code == 404


def test_another_partners_referral_answers_exactly_like_a_missing_one(
    feltham, probation, programme
):
    probation_token = token_of(probation, Scope.REFERRALS_WRITE)
    theirs = send(probation_token, referral_body(programme)).json()["id"]
    client = api(token_of(feltham, Scope.REFERRALS_READ))
    forbidden = client.get(f"/api/v1/referrals/{theirs}")
    missing = client.get("/api/v1/referrals/987654321")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content


def test_partner_sees_the_decision_on_its_referral(feltham, cara, programme):
    token = token_of(feltham, Scope.REFERRALS_WRITE, Scope.REFERRALS_READ)
    referral_id = send(token, referral_body(programme)).json()["id"]
    from throughgate.casework import actions as casework_actions

    casework_actions.decline_referral(cara, Referral.objects.get(pk=referral_id), "no_capacity")
    body = api(token).get(f"/api/v1/referrals/{referral_id}").json()
    assert body["status"] == "declined"
    assert body["decline_reason"] == "No capacity at present"


def test_a_known_prison_number_joins_the_existing_record_without_saying_so(feltham, mo_case):
    person = mo_case.person
    person.prison_number = "A1234BC"
    person.save(update_fields=["prison_number"])
    token = token_of(feltham, Scope.REFERRALS_WRITE)
    body = referral_body(mo_case.programme, person={
        "forename": "T", "surname": "W", "date_of_birth": "2006-01-01",
        "prison_number": "a1234bc"})  # fmt: skip
    response = send(token, body)
    assert response.status_code == 201
    assert Referral.objects.get(pk=response.json()["id"]).person == person
    assert person.surname not in response.content.decode()


def test_referral_with_bad_input_gets_422_naming_the_field(feltham, programme):
    token = token_of(feltham, Scope.REFERRALS_WRITE)
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = send(token, referral_body(programme, referral_date=future))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "referral_date"]
    missing = send(token, {k: v for k, v in referral_body(programme).items() if k != "reasons"})
    assert missing.status_code == 422
    assert any(e["loc"][-1] == "reasons" for e in missing.json()["detail"])
    assert not Referral.objects.exists()


def test_nul_characters_are_refused_with_422_before_reaching_the_database(feltham, programme):
    token = token_of(feltham, Scope.REFERRALS_WRITE)
    response = send(token, referral_body(programme, reasons="Needs\x00help"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "reasons"


def test_a_bad_prison_number_names_the_nested_field_and_saves_nothing(feltham, programme):
    token = token_of(feltham, Scope.REFERRALS_WRITE)
    body = referral_body(programme, person={
        "forename": "Amani", "surname": "Okoro", "date_of_birth": "2007-03-09",
        "prison_number": "nonsense"})  # fmt: skip
    response = send(token, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "person", "prison_number"]
    assert not Referral.objects.exists()


def test_staff_token_cannot_send_referrals(mo, programme):
    assert send(token_of(mo, Scope.CASES_READ), referral_body(programme)).status_code == 403


# --- Cases and contacts (staff integrations) --------------------------------------------


def test_mentors_token_reads_only_their_own_cases(mo, kim, mo_case, cara):
    kims_case = make.make_case(mentor=kim, actor=cara)
    listing = api(token_of(mo, Scope.CASES_READ)).get("/api/v1/cases").json()
    assert [c["id"] for c in listing["results"]] == [mo_case.pk]
    kim_client = api(token_of(kim, Scope.CASES_READ))
    assert kim_client.get(f"/api/v1/cases/{mo_case.pk}").status_code == 404
    assert kim_client.get(f"/api/v1/cases/{kims_case.pk}").status_code == 200


def test_reading_a_case_writes_the_same_audit_event_as_the_web(mo, mo_case):
    response = api(token_of(mo, Scope.CASES_READ)).get(f"/api/v1/cases/{mo_case.pk}")
    assert response.status_code == 200
    assert response.json()["person"]["surname"] == mo_case.person.surname
    event = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="casework.case").get()
    assert event.object_id == str(mo_case.pk) and event.actor == mo
    assert event.person_id == mo_case.person_id


def test_case_list_is_paginated(mo, cara, mo_case):
    for _ in range(2):
        make.make_case(mentor=mo, actor=cara)
    client = api(token_of(mo, Scope.CASES_READ))
    first = client.get("/api/v1/cases?page_size=2").json()
    second = client.get("/api/v1/cases?page_size=2&page=2").json()
    assert first["count"] == 3 and len(first["results"]) == 2 and len(second["results"]) == 1
    assert client.get("/api/v1/cases?page_size=1000").status_code == 422


def contact_body(**changes: Any) -> dict[str, Any]:
    when = timezone.now() - timedelta(days=1)
    body = {"occurred_at": when.isoformat(), "mode": "phone", "duration_minutes": 20,
            "summary": "Talked about the college course."}  # fmt: skip
    body.update(changes)
    return body


def test_contact_created_through_the_api_is_on_the_timeline_and_audited(mo, mo_case):
    token = token_of(mo, Scope.CONTACTS_WRITE)
    response = api(token).post(
        f"/api/v1/cases/{mo_case.pk}/contacts", contact_body(), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    contact = Contact.objects.get(pk=response.json()["id"])
    assert contact.staff == mo and contact.case == mo_case
    timeline = build_timeline(mo_case)
    assert any(getattr(entry, "obj", None) == contact or contact.summary in str(entry)
               for entry in timeline)  # fmt: skip
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="casework.contact", object_id=str(contact.pk),
        actor=mo,
    ).exists()  # fmt: skip


def test_contact_with_bad_input_gets_422_naming_the_field(mo, mo_case):
    client = api(token_of(mo, Scope.CONTACTS_WRITE))
    url = f"/api/v1/cases/{mo_case.pk}/contacts"
    future = (timezone.now() + timedelta(days=2)).isoformat()
    response = client.post(url, contact_body(occurred_at=future), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "occurred_at"]
    no_reason = client.post(
        url, contact_body(attendance="did_not_attend"), content_type="application/json"
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"][0]["loc"] == ["body", "non_attendance_reason"]
    bad_mode = client.post(
        url, contact_body(mode="carrier_pigeon"), content_type="application/json"
    )
    assert bad_mode.status_code == 422
    assert bad_mode.json()["detail"][0]["loc"][-1] == "mode"
    assert not Contact.objects.filter(case=mo_case, summary__startswith="Talked").exists()


def test_another_mentor_cannot_log_a_contact_on_mos_case(kim, mo_case):
    response = api(token_of(kim, Scope.CONTACTS_WRITE)).post(
        f"/api/v1/cases/{mo_case.pk}/contacts", contact_body(), content_type="application/json"
    )
    assert response.status_code == 404


def test_safeguarding_lead_has_no_api_tokens(sam, login):
    """Sam reads every case in the organisation; that stays behind her two-factor log-in."""
    with pytest.raises(Exception, match="cases:read"):
        token_of(sam, Scope.CASES_READ)
    assert login(sam).get("/api/tokens/").status_code == 404


def test_partner_token_cannot_read_cases(feltham, mo_case):
    token = token_of(feltham, Scope.REFERRALS_READ)
    response = api(token).get("/api/v1/cases")
    assert response.status_code == 403
    assert response.json()["missing_scope"] == "cases:read"


def test_a_bad_date_of_birth_is_named_under_person(feltham, programme):
    token = token_of(feltham, Scope.REFERRALS_WRITE)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    body = referral_body(programme, person={
        "forename": "Amani", "surname": "Okoro", "date_of_birth": tomorrow})  # fmt: skip
    response = send(token, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "person", "date_of_birth"]
    assert not Referral.objects.exists()
