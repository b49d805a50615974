"""Subject access export (UK GDPR Article 15, issue 8): everything held about one
person, as JSON and as a readable document in one ZIP, for the manager only, after the
request's reference is typed in and the password is confirmed, and audited.

Who is who (DESIGN.md): Mo mentors Tyrese Whitlock; Kim mentors Dami Oyelaran; Ade is
the manager who answers subject access requests.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse
from django.utils import timezone

from throughgate.casework import safeguarding
from throughgate.casework import support as support_actions
from throughgate.casework.models import Agency, InstrumentDefinition, RiskIndicator
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.mentors import actions as mentor_actions
from throughgate.outcomes import actions as outcome_actions
from throughgate.people import actions as people_actions
from throughgate.people import subject_access as sar
from throughgate.people.models import Person

from . import make

REFERENCE = "SAR 2026-014, received 20 Nov"


@dataclass
class Records:
    """A mentee of Mo's with something in every app, and one of Kim's beside him."""

    person: Any
    case: Any
    contact: Any
    family: Any
    episode: Any
    concern: Any
    reoffending: Any
    other_person: Any
    other_contact: Any


def build_records(
    mo: Any, kim: Any, cara: Any, sam: Any, ade: Any, *, forename: str = "Tyrese",
    surname: str = "Whitlock", prison_number: str = "A1234BC",
) -> Records:  # fmt: skip
    """Mo's mentee with records in every app; beside him, a mentee of Kim's (or, when
    `kim` is None, a person with no case) whom a conflict links to him."""
    today = timezone.localdate()
    person = make.make_person(cara, forename=forename, surname=surname, prison_number=prison_number)
    case = make.make_case(mentor=mo, person=person, actor=cara)
    people_actions.add_alias(cara, person, "Shadow", "", "street name")
    family = make.make_family_member(person, cara, name=f"Grace {surname}")
    contact = make.make_contact(
        case, summary="Talked about the bricklaying course at Lambeth College."
    )
    plan = make.make_plan(case, cara)
    (need,) = support_actions.assess_needs(cara, case, {
        "accommodation": {"status": "in_progress", "summary": "Somewhere to live on release"},
    })  # fmt: skip
    support_actions.add_action(cara, case, {
        "need": need, "description": "Call the housing officer", "owner": "mentor",
        "due_on": today + timedelta(days=3),
    })  # fmt: skip
    support_actions.save_id_application(
        cara, case, {"id_type": "birth_certificate", "status": "not_started"}
    )
    support_actions.save_bank_application(cara, case, {"bank": "Monzo", "outcome": "not_started"})
    agency = Agency.objects.filter(name="Southwark Housing Options").first() or (
        support_actions.add_agency(ade, {"name": "Southwark Housing Options", "kind": "housing"})
    )
    support_actions.create_onward_referral(cara, case, {
        "agency": agency, "need": need, "reason": "Housing advice before release",
        "consent_recorded": True, "consent_on": today,
    })  # fmt: skip
    trust = InstrumentDefinition.objects.get(key="trust-check-in")
    support_actions.record_instrument_response(
        mo, case, trust, today, {item.key: 4 for item in trust.items.all()}
    )
    concern = safeguarding.raise_concern(mo, person, {
        "observed_at": timezone.now() - timedelta(days=1),
        "what_happened": "Turned up with a new phone and £200 cash.",
        "at_risk": "young_person", "at_risk_name": "", "category": "county_lines",
        "immediate_action": "Talked with him; told Sam.", "immediate_danger": False,
    })  # fmt: skip
    safeguarding.triage_concern(sam, concern, "refer_mash", "Signs of county lines.")
    safeguarding.record_mash_referral(sam, concern, {
        "referred_on": today, "local_authority": "Lambeth", "reference": "MASH-2041",
    })  # fmt: skip
    safeguarding.record_nrm_referral(
        sam, concern, {"referred_on": today, "first_responder": "Lambeth Children's Services"}
    )
    safeguarding.add_concern_action(sam, concern, {
        "taken_on": today, "description": "Rang the school DSL.", "taken_by": "Sam Okafor",
    })  # fmt: skip
    safeguarding.record_risk_check(
        sam, case, today, RiskIndicator.objects.filter(key="unexplained_money")
    )
    reoffending = outcome_actions.record_event(cara, person, {
        "disposal_type": "recall", "disposal_date": today, "source": "probation",
    })  # fmt: skip
    mentor_actions.set_matching_needs(cara, person, [], "male")
    other_person = make.make_person(cara, forename="Dami", surname="Oyelaran")
    other_contact = None
    if kim is not None:
        other_case = make.make_case(mentor=kim, person=other_person, actor=cara)
        other_contact = make.make_contact(
            other_case, summary="Kim helped Dami open a bank account."
        )
    mentor_actions.record_conflict(
        ade, person, other_person,
        {"kind": "rival_group", "source": "Prison security", "recorded_on": today},
    )  # fmt: skip
    return Records(
        person=person,
        case=case,
        contact=contact,
        family=family,
        episode=plan.episode,
        concern=concern,
        reoffending=reoffending,
        other_person=other_person,
        other_contact=other_contact,
    )


@pytest.fixture
def records(mo, kim, cara, sam, ade) -> Records:
    return build_records(mo, kim, cara, sam, ade)


def page_url(person: Any) -> str:
    return reverse("people:subject_access", args=[person.pk])


def download_url(person: Any) -> str:
    return reverse("people:subject_access_download", args=[person.pk])


def request_export(client: Any, person: Any, reference: str = REFERENCE) -> Any:
    return client.post(page_url(person), {"reference": reference, "checked": "on"})


def unzip(response: Any) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def exported(client: Any, person: Any) -> tuple[dict[str, Any], str]:
    """Confirm a request and download it; the JSON (parsed) and the readable document."""
    response = client.get(request_export(client, person).url)
    assert response.status_code == 200, response.status_code
    files = unzip(response)
    (json_name,) = [n for n in files if n.endswith(".json")]
    (html_name,) = [n for n in files if n.endswith(".html")]
    return json.loads(files[json_name]), files[html_name].decode()


def sections(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in data["sections"]}


# --- Everything that points at a person is exported ---------------------------------


def models_with_a_path_to_person() -> set[str]:
    """Every installed model from which following foreign keys and many-to-many fields
    (forwards, up to five steps) reaches Person: found independently of the export's own
    discovery, which walks the other way."""

    def reaches(model: type[models.Model], depth: int, seen: frozenset) -> bool:
        for f in [*model._meta.concrete_fields, *model._meta.many_to_many]:
            target = f.related_model if f.is_relation else None
            if target is Person:
                return True
            if target is not None and target not in seen and depth < 5:
                if reaches(target, depth + 1, seen | {target}):
                    return True
        return False

    return {
        m._meta.label_lower
        for m in apps.get_models()
        if m is not Person and reaches(m, 1, frozenset({m}))
    }


def test_every_model_with_a_path_to_a_person_is_exported_or_excluded_with_a_reason():
    linked = models_with_a_path_to_person()
    exported_keys = {m._meta.label_lower for m in sar.exported_models()}
    assert {"casework.contact", "custody.planitem", "casework.mashreferral"} <= linked
    missing = linked - exported_keys - set(sar.EXCLUDED)
    assert missing == set(), f"not in the subject access export and not excluded: {missing}"
    assert all(len(reason) > 40 for reason in sar.EXCLUDED.values())
    assert set(sar.EXCLUDED) & exported_keys == set()


def test_export_contains_every_record_of_the_person_and_none_of_anyone_else(records, ade):
    export = sar.build_export(records.person, REFERENCE, ade)
    data = json.loads(sar.as_json(export))
    by_key = sections(data)
    for key in ("people.person", "people.alias", "people.familymember", "casework.referral",
                "casework.case", "casework.phasechange", "casework.mentorassignment",
                "casework.contact", "casework.need", "casework.action", "casework.idapplication",
                "casework.bankapplication", "casework.onwardreferral",
                "casework.instrumentresponse", "custody.custodyepisode", "custody.releaseplan",
                "custody.planitem", "casework.safeguardingconcern", "casework.concerndecision",
                "casework.concernaction", "casework.mashreferral", "casework.nrmreferral",
                "casework.riskcheck", "outcomes.reoffendingevent", "mentors.matchingneeds",
                "mentors.conflict", "core.auditevent"):  # fmt: skip
        assert by_key[key]["count"] >= 1, f"{key} is empty"
    (person,) = by_key["people.person"]["records"]
    assert person["prison_number"] == "A1234BC"
    assert person["date_of_birth"] == records.person.date_of_birth.isoformat()
    assert [c["summary"] for c in by_key["casework.contact"]["records"]] == [
        "Talked about the bricklaying course at Lambeth College."
    ]
    assert by_key["people.familymember"]["records"][0]["name"] == "Grace Whitlock"
    (episode,) = by_key["custody.custodyepisode"]["records"]
    assert episode["crd"] == records.episode.crd.isoformat()
    assert episode["establishment"]["id"] == records.episode.establishment_id
    assert by_key["casework.mashreferral"]["records"][0]["reference"] == "MASH-2041"
    concern = by_key["casework.safeguardingconcern"]["records"][0]
    assert concern["category"]["code"] == "county_lines"
    assert by_key["outcomes.reoffendingevent"]["records"][0]["disposal_type"]["code"] == "recall"
    text = json.dumps(data)
    assert "Kim helped Dami" not in text
    assert records.other_contact.pk not in [c["id"] for c in by_key["casework.contact"]["records"]]
    assert [c["id"] for c in by_key["casework.case"]["records"]] == [records.case.pk]


def test_each_section_names_its_fields_and_dates_are_iso(records, ade):
    data = json.loads(sar.as_json(sar.build_export(records.person, REFERENCE, ade)))
    assert data["format"] == sar.FORMAT
    assert data["reference"] == REFERENCE
    contact = sections(data)["casework.contact"]
    names = [f["name"] for f in contact["fields"]]
    assert set(contact["records"][0]) == set(names)
    assert {"name": "summary", "label": "what happened"} in contact["fields"]
    occurred = contact["records"][0]["occurred_at"]
    assert occurred.startswith(timezone.localtime(records.contact.occurred_at).date().isoformat())
    assert occurred[-6:] in ("+00:00", "+01:00")  # Europe/London, with its offset
    assert data["excluded"] == [
        {"key": key, "reason": sar.EXCLUDED[key]}
        for key in ("people.legalhold", "people.nameindex")
    ]


def test_audit_trail_section_shows_that_mo_viewed_the_person(records, mo, ade, login):
    assert login(mo).get(reverse("people:detail", args=[records.person.pk])).status_code == 200
    export = sar.build_export(records.person, REFERENCE, ade)
    trail = export.section("core.auditevent").records
    assert {"actor_username": "mo", "action": {"code": "view", "label": "Viewed"},
            "object_type": "people.person"}.items() <= next(
        e for e in trail if e["actor_username"] == "mo" and e["action"]["code"] == "view"
    ).items()  # fmt: skip
    assert all(set(e) == {name for name, _ in sar.AUDIT_FIELDS} for e in trail)


def test_third_party_sections_are_flagged_in_the_readable_document(records, ade):
    export = sar.build_export(records.person, REFERENCE, ade)
    assert export.section("people.familymember").third_party
    assert export.section("casework.safeguardingconcern").third_party
    assert export.section("mentors.conflict").third_party
    assert not export.section("people.alias").third_party
    html = sar.as_html(export)
    family = html[html.index('id="people.familymember"') :]
    family = family[: family.index("</section>")]
    assert "Review before release" in family and "Grace Whitlock" in family
    alias = html[html.index('id="people.alias"') :]
    assert "Review before release" not in alias[: alias.index("</section>")]
    assert REFERENCE in html


# --- The pages: two confirmations, then a ZIP, audited ------------------------------


def test_admin_confirms_the_request_then_the_password_then_downloads_a_zip(records, ade, login):
    client = login(ade)
    page = client.get(page_url(records.person))
    assert page.status_code == 200
    assert "may name <strong>other people</strong>" in page.content.decode()
    response = request_export(client, records.person)
    assert response.status_code == 302
    assert response.url.startswith(download_url(records.person) + "?request=")
    request_event = AuditEvent.objects.get(object_type=sar.REQUEST_OBJECT_TYPE)
    assert request_event.action == AuditAction.CREATE
    assert request_event.person_id == records.person.pk
    assert REFERENCE in request_event.summary
    # The password was not typed in this session: confirm it first, then come back.
    confirm = client.get(response.url)
    assert confirm.status_code == 302 and confirm.url.startswith(reverse("reauth"))
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    make.confirm_password(client)
    download = client.get(response.url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert "attachment" in download["Content-Disposition"]
    assert download["Cache-Control"] == "no-store"
    names = set(unzip(download))
    stem = f"subject-access-{records.person.pk}-{timezone.localdate():%Y-%m-%d}"
    assert names == {f"{stem}.json", f"{stem}.html", "README.txt"}


def test_the_export_is_audited_with_who_the_reference_and_counts(records, ade, login):
    client = make.confirm_password(login(ade))
    data, _ = exported(client, records.person)
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.actor == ade
    assert event.person_id == records.person.pk
    assert event.object_type == sar.EXPORT_OBJECT_TYPE
    assert REFERENCE in event.summary
    counts = {s["key"]: s["count"] for s in data["sections"]}
    assert f"casework.contact: {counts['casework.contact']}" in event.fields
    assert f"people.familymember: {counts['people.familymember']}" in event.fields


def test_the_request_must_be_typed_and_the_identity_check_ticked(records, ade, login):
    client = make.confirm_password(login(ade))
    response = client.post(page_url(records.person), {"reference": "  ", "checked": ""})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "reference" in errors and "checked" in errors
    assert "There is a problem" in response.content.decode()
    assert not AuditEvent.objects.filter(object_type=sar.REQUEST_OBJECT_TYPE).exists()


def test_download_without_a_confirmed_request_goes_back_to_the_confirmation(records, ade, login):
    client = make.confirm_password(login(ade))
    for query in ("", "?request=abc", "?request=987654321"):
        response = client.get(download_url(records.person) + query)
        assert response.status_code == 302
        assert response.url == page_url(records.person)
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_a_request_for_one_person_does_not_open_another_persons_export(records, ade, login):
    client = make.confirm_password(login(ade))
    request_url = request_export(client, records.person).url
    query = request_url.split("?", 1)[1]
    response = client.get(f"{download_url(records.other_person)}?{query}")
    assert response.status_code == 302
    assert response.url == page_url(records.other_person)


def test_a_request_confirmed_over_an_hour_ago_must_be_confirmed_again(records, ade, login):
    client = make.confirm_password(login(ade))
    request_url = request_export(client, records.person).url
    AuditEvent.objects.filter(object_type=sar.REQUEST_OBJECT_TYPE).update(
        at=timezone.now() - sar.REQUEST_VALID_FOR - timedelta(minutes=1)
    )
    response = client.get(request_url)
    assert response.status_code == 302 and response.url == page_url(records.person)


@pytest.mark.parametrize(("role", "status"), [("mo", 403), ("cara", 403), ("sam", 403),
                                             ("kim", 404), ("pat", 404), ("fay", 404)])  # fmt: skip
def test_only_the_manager_reaches_the_export(role, status, records, request, login):
    user = request.getfixturevalue(role)
    client = make.confirm_password(login(user))
    before = AuditEvent.objects.count()
    assert client.get(page_url(records.person)).status_code == status
    assert request_export(client, records.person).status_code == status
    assert client.get(download_url(records.person)).status_code == status
    new = AuditEvent.objects.order_by("seq")[before:]
    if status == 403:  # works with the person, asked for everything: each try is recorded
        assert [(e.action, e.actor, e.person_id, e.object_type) for e in new] == [
            (AuditAction.REFUSED, user, records.person.pk, sar.REQUEST_OBJECT_TYPE)
        ] * 3
        assert all("refused" in e.summary for e in new)
    else:  # cannot see the person: answered as if there were none, and nothing recorded
        assert list(new) == []
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_a_missing_person_answers_404_to_the_manager(ade, login):
    client = make.confirm_password(login(ade))
    assert client.get(reverse("people:subject_access", args=[987654321])).status_code == 404
    assert (
        client.get(reverse("people:subject_access_download", args=[987654321])).status_code == 404
    )


def test_the_person_page_links_to_the_export_for_the_manager_only(records, ade, mo, cara, login):
    link = page_url(records.person)
    person_page = reverse("people:detail", args=[records.person.pk])
    assert link in login(ade).get(person_page).content.decode()
    for user in (mo, cara):
        body = login(user).get(person_page).content.decode()
        assert "Tyrese" in body and link not in body
