"""The audit trail: who viewed and changed whose record, never the sensitive values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from throughgate.casework import actions
from throughgate.casework.models import Case
from throughgate.core.models import AuditAction, AuditEvent

from . import make


def events_for(obj):
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("id")


def test_viewing_editing_and_closing_a_case_writes_events(mo_case, mo, cara, login):
    """Acceptance 5: the events written by viewing, editing and closing a case."""
    person = mo_case.person
    start = AuditEvent.objects.count()

    # Mo views the case.
    assert login(mo).get(f"/cases/{mo_case.pk}/").status_code == 200
    # Mo edits the young person's phone number and logs a contact.
    client = login(mo)
    response = client.post(
        f"/people/{person.pk}/edit/", make.person_form_data(person, phone="07700 900123")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # Cara closes the case.
    response = login(cara).post(
        f"/cases/{mo_case.pk}/close/",
        {
            "closure_reason": "completed",
            "closed_on": timezone.localdate().isoformat(),
            "closure_notes": "Settled in a flat and started at college.",
            "closure_accommodation": "own_tenancy",
            "closure_ete": "education",
        },
    )
    assert response.status_code == 302

    new = list(AuditEvent.objects.order_by("id")[start:])
    view = [e for e in new if e.action == AuditAction.VIEW and e.object_type == "casework.case"]
    assert len(view) == 1
    assert view[0].actor == mo and view[0].object_id == str(mo_case.pk)
    assert view[0].person_id == person.pk
    assert view[0].path == f"/cases/{mo_case.pk}/"

    edits = [e for e in new if e.action == AuditAction.UPDATE and e.object_type == "people.person"]
    assert len(edits) == 1
    assert edits[0].actor == mo and edits[0].fields == ["phone"]
    assert edits[0].person_id == person.pk

    closes = [e for e in new if e.action == AuditAction.UPDATE and e.object_type == "casework.case"]
    assert len(closes) == 1
    assert closes[0].actor == cara
    assert closes[0].fields == [
        "closed_on", "closure_accommodation", "closure_ete", "closure_notes", "closure_reason",
        "phase",
    ]  # fmt: skip
    assert closes[0].summary == "closed: completed"


def test_audit_events_name_fields_but_never_hold_their_values(mo_case, mo):
    person = mo_case.person
    make.make_contact(mo_case, mo, summary="Disclosed he is being threatened by an older boy.")
    from throughgate.people.actions import update_person

    update_person(mo, person, {"address": "Flat 3, 12 Secret Road"})
    rows = AuditEvent.objects.filter(person_id=person.pk)
    dumped = " ".join(f"{e.fields} {e.summary}" for e in rows)
    assert "threatened" not in dumped
    assert "Secret Road" not in dumped
    contact_event = rows.get(action="create", object_type="casework.contact")
    assert "summary" in contact_event.fields
    address_event = rows.get(action="update", object_type="people.person")
    assert address_event.fields == ["address"]


def test_a_failed_change_leaves_no_audit_event(mo_case, mo):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        make.make_contact(mo_case, mo, days_ago=500)  # before the case began
    assert AuditEvent.objects.count() == before


def test_audit_event_rolls_back_with_its_change(mo_case, cara):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.change_phase(cara, mo_case, "in_custody", timezone.localdate())
        raise RuntimeError("the request failed after the change")
    assert AuditEvent.objects.count() == before
    assert Case.objects.get(pk=mo_case.pk).phase == "referred"


def test_viewing_a_person_and_searching_are_audited_without_search_terms(mo_case, mo, login):
    client = login(mo)
    client.get(f"/people/{mo_case.person.pk}/")
    client.get("/people/search/", {"q": mo_case.person.surname})
    view = AuditEvent.objects.filter(action="view", object_type="people.person").get()
    assert view.person_id == mo_case.person.pk and view.actor == mo
    search = AuditEvent.objects.filter(action="search").get()
    assert mo_case.person.surname not in search.summary
    assert search.summary == "1 result(s)"


def test_log_in_failures_and_log_outs_are_audited(mo, client):
    client.post("/login/", {"username": "mo", "password": "wrong-password"})
    client.post("/login/", {"username": "mo", "password": make.PASSWORD})
    client.post("/logout/")
    actions_seen = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions_seen == ["login_failed", "login", "logout"]
    failed = AuditEvent.objects.get(action="login_failed")
    assert "wrong-password" not in failed.summary


def test_admin_browses_and_filters_the_audit_trail(mo_case, mo, kim, ade, login):
    login(mo).get(f"/cases/{mo_case.pk}/")
    response = login(ade).get("/audit/", {"actor": mo.username, "action": "view"})
    assert response.status_code == 200
    page = response.context["page"]
    assert [e.actor for e in page] == [mo]
    response = login(ade).get("/audit/", {"person_id": mo_case.person.pk})
    assert all(e.person_id == mo_case.person.pk for e in response.context["page"])
    assert len(response.context["page"]) >= 3  # person created, referral, case, view


def test_an_unknown_user_name_in_the_audit_filter_is_named_as_the_problem(ade, login):
    response = login(ade).get("/audit/", {"actor": "nobody-called-this"})
    assert "There is no user with that user name." in response.content.decode()


def test_audit_trail_csv_export_is_itself_audited(mo_case, ade, login):
    response = make.confirm_password(login(ade)).get("/audit/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("at,actor,action")
    assert len(lines) > 3
    assert AuditEvent.objects.filter(action="export", actor=ade).exists()


def test_audit_filter_rejects_an_end_date_before_the_start(ade, login):
    today = timezone.localdate()
    response = login(ade).get(
        "/audit/",
        {"date_from": today.isoformat(), "date_to": (today - timedelta(days=3)).isoformat()},
    )
    assert "The end date is before the start date." in response.content.decode()
    assert list(response.context["page"]) == []
