"""Retention (issue 9): periods per record type, legal hold, and a purge that
anonymises (never deletes) people whose records are past their period, with a dry run,
a record of what was purged, and the audit trail left whole.

Who is who (DESIGN.md): Mo mentors the young people below; Cara closes their cases;
Ade (manager) sets the periods, places legal holds and runs the purge; Pat trains
professionals on courses whose delegates are purged too.
"""

from __future__ import annotations

import io
import json
import zipfile
from contextlib import redirect_stdout
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from throughgate import cli
from throughgate.casework import actions as case_actions
from throughgate.casework.models import Case, Contact, Referral
from throughgate.core.models import AuditEvent
from throughgate.people import actions as people_actions
from throughgate.people import retention
from throughgate.people import subject_access as sar
from throughgate.people.models import (
    Alias,
    FamilyMember,
    LegalHold,
    NameIndex,
    Person,
    PurgeRecord,
    PurgeRun,
    RetentionPeriod,
    RetentionRule,
)
from throughgate.prevention.training.models import Delegate

from . import make

YEAR = 365


def years_ago(n: int, days: int = 0) -> date:
    return retention.add_years(timezone.localdate(), -n) - timedelta(days=days)


def closed_case_person(mo: Any, cara: Any, closed_years_ago: int, **person: Any) -> Person:
    """A young person of Mo's whose one case closed `closed_years_ago` years ago (a
    month ago more), with an alias, a family member, and a contact before closure."""
    closed_on = years_ago(closed_years_ago, days=30)
    opened_on = closed_on - timedelta(days=200)
    data = {"forename": "Tyrese", "surname": "Whitlock", "preferred_name": "Ty",
            "date_of_birth": date(2004, 3, 9), "postcode": "SE11 5HL",
            "address": "4 Kennington Lane", "phone": "07700 900123",
            "email": "ty@example.org", "prison_number": "A1234BC", **person}  # fmt: skip
    subject = make.make_person(cara, **data)
    people_actions.add_alias(cara, subject, "Tee", "Whitlock", "street name")
    make.make_family_member(subject, cara, name="Grace Whitlock", notes="Mum; works nights.")
    case = make.make_case(mentor=mo, person=subject, actor=cara,
                          opened_days_ago=(timezone.localdate() - opened_on).days,
                          referral_date=opened_on - timedelta(days=10))  # fmt: skip
    make.make_contact(case, mo, days_ago=(timezone.localdate() - closed_on).days + 20,
                      mode="phone", summary="Talked about Grace's new job and the flat.",
                      next_steps="Ring the housing officer.")  # fmt: skip
    case_actions.close_case(cara, case, "completed", closed_on, "Finished the programme well.")
    return subject


def declined_person(cara: Any, decided_years_ago: int, **person: Any) -> Person:
    subject = make.make_person(cara, forename="Dami", surname="Oyelaran", **person)
    decided = years_ago(decided_years_ago, days=30)
    referral = make.make_referral(person=subject, actor=cara,
                                  referral_date=decided - timedelta(days=20))  # fmt: skip
    case_actions.decline_referral(cara, referral, "no_capacity", "Full until spring.")
    # History: the decision was made back then.
    Referral.objects.filter(pk=referral.pk).update(
        decided_at=timezone.make_aware(datetime.combine(decided, time(12)))
    )
    return subject


def snapshot() -> dict[str, Any]:
    """Every row that holds personal data, as stored."""
    return {
        "people": list(Person.objects.order_by("pk").values()),
        "aliases": list(Alias.objects.order_by("pk").values()),
        "family": list(FamilyMember.objects.order_by("pk").values()),
        "names": list(NameIndex.objects.order_by("pk").values()),
        "contacts": list(Contact.objects.order_by("pk").values()),
        "cases": list(Case.objects.order_by("pk").values()),
        "referrals": list(Referral.objects.order_by("pk").values()),
        "delegates": list(Delegate.objects.order_by("pk").values()),
        "purged": PurgeRecord.objects.count(),
        "events": AuditEvent.objects.count(),
    }


@pytest.fixture
def closed_7(mo, cara):
    return closed_case_person(mo, cara, 7)


@pytest.fixture
def closed_5(mo, cara):
    return closed_case_person(mo, cara, 5, forename="Marcus", surname="Bell",
                              prison_number="B2345CD", phone="", email="")  # fmt: skip


# --- The rules -----------------------------------------------------------------------


def test_defaults_apply_when_no_period_is_set(db):
    assert retention.periods() == {
        "closed_cases": 6, "declined_referrals": 2, "safeguarding_age": 25,
        "training_delegates": 3,
    }  # fmt: skip


def test_person_whose_case_closed_seven_years_ago_is_due_and_five_years_ago_is_not(
    closed_7, closed_5
):
    report = retention.due_report()
    assert report.rule("closed_cases").due_ids == [closed_7.pk]


def test_a_longer_period_makes_the_seven_year_old_closure_not_yet_due(closed_7, ade):
    retention.set_periods(ade, {"closed_cases": 8})
    assert retention.due_report().total_due == 0


def test_person_with_an_open_case_is_never_due(mo, cara, closed_7):
    make.make_case(mentor=mo, person=closed_7, actor=cara)
    assert retention.due_report().total_due == 0


def test_person_referred_but_declined_three_years_ago_is_due_and_one_year_ago_is_not(cara):
    due = declined_person(cara, 3)
    declined_person(cara, 1)
    assert retention.due_report().rule("declined_referrals").due_ids == [due.pk]


def test_person_with_a_safeguarding_concern_is_kept_until_their_25th_birthday(mo, cara, sam):
    today = timezone.localdate()
    young = closed_case_person(mo, cara, 7, date_of_birth=date(today.year - 22, 1, 1))
    older = closed_case_person(mo, cara, 7, forename="Kai", surname="Reid",
                               prison_number="C3456DE",
                               date_of_birth=date(today.year - 30, 1, 1))  # fmt: skip
    for person in (young, older):
        concern = make.make_concern(person, mo)
        from throughgate.casework.safeguarding_models import SafeguardingConcern

        SafeguardingConcern.objects.filter(pk=concern.pk).update(status="closed")
    report = retention.due_report()
    assert report.rule("safeguarding_age").due_ids == [older.pk]
    assert report.rule("closed_cases").due_ids == []


def test_training_delegates_four_years_after_their_course_are_due(pat):
    old = make.make_course(pat, start_date=years_ago(4), end_date=years_ago(4))
    recent = make.make_course(pat, start_date=years_ago(1), end_date=years_ago(1))
    [old_delegate] = make.make_delegates(pat, old, [("Jo Bloggs", "Met Police", "PC")])
    make.make_delegates(pat, recent, ["Sam Smith"])
    assert retention.due_report().rule("training_delegates").due_ids == [old_delegate.pk]


# --- Legal hold ----------------------------------------------------------------------


def test_held_person_is_not_purged_and_is_listed_as_held(closed_7, ade):
    retention.place_hold(ade, closed_7, "Police request 2026-11, case ref 01/2345/26")
    report = retention.purge(ade, dry_run=False)
    assert report.rule("closed_cases").due_ids == []
    assert report.rule("closed_cases").held_ids == [closed_7.pk]
    closed_7.refresh_from_db()
    assert closed_7.forename == "Tyrese"
    assert not PurgeRecord.objects.exists()


def test_lifting_the_hold_lets_the_next_purge_anonymise(closed_7, ade):
    hold = retention.place_hold(ade, closed_7, "Civil claim, solicitor's letter 3 Nov")
    retention.lift_hold(ade, hold)
    assert retention.purge(ade, dry_run=False).rule("closed_cases").purged == 1


def test_holds_are_audited_without_their_reason(closed_7, ade):
    hold = retention.place_hold(ade, closed_7, "Police request 2026-11")
    retention.lift_hold(ade, hold)
    events = AuditEvent.objects.filter(object_type="people.legalhold").order_by("seq")
    assert [e.summary for e in events] == ["Legal hold placed", "Legal hold lifted"]


def test_a_second_hold_on_the_same_person_is_refused_naming_the_field(closed_7, ade):
    retention.place_hold(ade, closed_7, "Police request")
    with pytest.raises(Exception) as caught:
        retention.place_hold(ade, closed_7, "Another")
    assert "person" in caught.value.message_dict
    assert LegalHold.objects.count() == 1


def test_a_hold_without_a_reason_is_refused(closed_7, ade):
    with pytest.raises(Exception) as caught:
        retention.place_hold(ade, closed_7, "   ")
    assert "reason" in caught.value.message_dict


# --- The dry run -------------------------------------------------------------------------


def test_dry_run_changes_nothing_and_lists_the_ids_due(closed_7, closed_5, cara, ade):
    declined = declined_person(cara, 3)
    before = snapshot()
    report = retention.purge(ade, dry_run=True)
    assert snapshot() == before
    assert report.rule("closed_cases").due_ids == [closed_7.pk]
    assert report.rule("declined_referrals").due_ids == [declined.pk]
    run = PurgeRun.objects.get()
    assert run.dry_run and run.counts["closed_cases"] == {"due": 1, "held": 0, "purged": 0}


# --- The purge ---------------------------------------------------------------------------


def test_purge_anonymises_the_person_and_keeps_what_outcomes_count(closed_7, closed_5, ade):
    case = closed_7.cases.get()
    contact = case.contacts.get()
    when, mode = contact.occurred_at, contact.mode
    retention.purge(ade, dry_run=False)

    person = Person.objects.get(pk=closed_7.pk)
    assert (person.forename, person.surname) == ("Removed", f"record {person.pk}")
    assert person.date_of_birth == date(2004, 7, 1)
    for name in ("preferred_name", "address", "postcode", "phone", "email", "prison_number"):
        assert getattr(person, name) == "", name
    assert not person.aliases.exists()
    assert not person.family_members.exists()
    assert not NameIndex.objects.filter(person=person).exists()

    contact = Contact.objects.get(pk=contact.pk)
    assert (contact.summary, contact.next_steps) == ("[removed]", "")
    assert (contact.occurred_at, contact.mode) == (when, mode)
    case = Case.objects.get(pk=case.pk)
    assert (case.phase, case.closure_reason) == ("closed", "completed")
    assert case.closed_on == years_ago(7, days=30)
    assert case.closure_notes == ""
    assert case.referral.reasons == "[removed]"

    untouched = Person.objects.get(pk=closed_5.pk)
    assert (untouched.forename, untouched.surname) == ("Marcus", "Bell")


def test_purge_writes_a_run_records_and_one_audit_event_per_person_without_the_name(
    closed_7, cara, ade
):
    declined = declined_person(cara, 3)
    before = AuditEvent.objects.count()
    retention.purge(ade, dry_run=False)

    run = PurgeRun.objects.get()
    assert not run.dry_run and run.finished_at is not None
    assert run.started_by == ade
    assert run.counts["closed_cases"]["purged"] == 1
    assert run.counts["declined_referrals"]["purged"] == 1
    people = PurgeRecord.objects.filter(model_label="people.person")
    assert sorted(people.values_list("object_id", flat=True)) == sorted([closed_7.pk, declined.pk])
    labels = set(PurgeRecord.objects.values_list("model_label", flat=True))
    assert {"people.alias", "people.familymember", "casework.contact", "casework.case"} <= labels

    events = AuditEvent.objects.order_by("seq")[before:]
    assert len(events) == 2
    by_person = {e.person_id: e.summary for e in events}
    assert by_person[closed_7.pk] == "anonymised under retention: closed cases, 6 years"
    assert by_person[declined.pk] == "anonymised under retention: declined referrals, 2 years"
    for event in events:
        assert "Tyrese" not in event.summary and "Whitlock" not in event.summary


def test_running_the_purge_twice_purges_nothing_new(closed_7, ade):
    assert retention.purge(ade, dry_run=False).total_purged == 1
    records = PurgeRecord.objects.count()
    events = AuditEvent.objects.count()
    second = retention.purge(ade, dry_run=False)
    assert second.total_due == 0 and second.total_purged == 0
    assert PurgeRecord.objects.count() == records
    assert AuditEvent.objects.count() == events


def test_delegate_name_is_removed_and_their_organisation_kept(pat, ade):
    course = make.make_course(pat, start_date=years_ago(4), end_date=years_ago(4))
    [delegate] = make.make_delegates(pat, course, [("Jo Bloggs", "Met Police", "PC")])
    retention.purge(ade, dry_run=False)
    delegate.refresh_from_db()
    assert (delegate.name, delegate.organisation) == ("[removed]", "Met Police")
    assert PurgeRecord.objects.filter(model_label="training.delegate", object_id=delegate.pk)


def test_audit_chain_still_verifies_after_a_purge(closed_7, ade):
    retention.purge(ade, dry_run=False)
    assert cli.main(["audit", "verify", "--quiet"]) == 0


def test_subject_access_export_of_a_purged_person_holds_no_old_name(closed_7, ade):
    retention.purge(ade, dry_run=False)
    person = Person.objects.get(pk=closed_7.pk)
    export = sar.build_export(person, "SAR 2033-001", ade)
    text = json.dumps(export.as_dict()) + zipfile.ZipFile(io.BytesIO(sar.as_zip(export))).read(
        next(n for n in zipfile.ZipFile(io.BytesIO(sar.as_zip(export))).namelist()
             if n.endswith(".html"))
    ).decode()  # fmt: skip
    for old in ("Tyrese", "Whitlock", "Grace", "A1234BC", "Kennington", "07700"):
        assert old not in text, old


# --- Periods -------------------------------------------------------------------------------


@pytest.mark.parametrize("years", [0, 101, "six", "2.5"])
def test_a_period_outside_1_to_100_whole_years_is_refused_naming_the_field(ade, years):
    with pytest.raises(Exception) as caught:
        retention.set_periods(ade, {"closed_cases": 7, "declined_referrals": years})
    assert list(caught.value.message_dict) == ["declined_referrals"]
    message = caught.value.message_dict["declined_referrals"][0]
    assert message.startswith("Years after the last referral was declined: enter a whole")
    assert not RetentionPeriod.objects.exists()  # nothing half-saved


def test_each_period_change_is_audited(ade):
    changed = retention.set_periods(ade, {"closed_cases": 7, "declined_referrals": 2})
    assert changed == ["closed_cases"]
    assert RetentionPeriod.objects.get(rule=RetentionRule.CLOSED_CASES).years == 7
    event = AuditEvent.objects.filter(object_type="people.retentionperiod").get()
    assert event.summary.endswith("6 to 7")


# --- The command line ------------------------------------------------------------------------


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["purge", *args])
    return code, out.getvalue()


def test_cli_dry_run_reports_and_changes_nothing(closed_7):
    before = snapshot()
    code, out = run_cli()
    assert code == 0
    assert f"due: {closed_7.pk}" in out and "Nothing was changed" in out
    assert "Tyrese" not in out
    assert snapshot() == before
    code, _ = run_cli("--dry-run")
    assert code == 0 and snapshot() == before


def test_cli_yes_purges(closed_7):
    code, out = run_cli("--yes", "--quiet")
    assert code == 0
    assert "1 anonymised" in out
    assert Person.objects.get(pk=closed_7.pk).forename == "Removed"
    assert AuditEvent.objects.filter(person_id=closed_7.pk, actor__isnull=True,
                                     summary__startswith="anonymised").exists()  # fmt: skip


def test_cli_refuses_dry_run_with_yes(db, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["purge", "--dry-run", "--yes"])
    assert exited.value.code == 2


def test_management_command_dry_run(closed_7):
    from django.core.management import call_command

    out = io.StringIO()
    with redirect_stdout(out):
        call_command("purge")
    assert f"due: {closed_7.pk}" in out.getvalue()


# --- The page (Ade only; the access ladder covers everyone else) ----------------------------


def test_retention_page_shows_periods_holds_and_the_on_hold_notice(closed_7, ade, login):
    retention.place_hold(ade, closed_7, "Police request 2026-11")
    body = login(ade).get(reverse("people:retention")).content.decode()
    assert "On legal hold (1)" in body and "Tyrese Whitlock" in body
    assert "Police request 2026-11" in body
    assert 'name="closed_cases"' in body and 'value="6"' in body


@pytest.mark.parametrize("years", ["0", "101"])
def test_period_form_refuses_out_of_range_naming_the_field(ade, login, years):
    data = {"closed_cases": "6", "declined_referrals": years, "safeguarding_age": "25",
            "training_delegates": "3"}  # fmt: skip
    response = login(ade).post(reverse("people:retention_periods"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "People referred but never taken on" in body
    assert "Enter a whole number from 1 to 100." in body
    assert not RetentionPeriod.objects.exists()


def test_period_form_saves_and_audits_a_change(ade, login):
    data = {"closed_cases": "8", "declined_referrals": "2", "safeguarding_age": "25",
            "training_delegates": "3"}  # fmt: skip
    response = login(ade).post(reverse("people:retention_periods"), data)
    assert response.status_code == 302
    assert retention.periods()["closed_cases"] == 8
    assert AuditEvent.objects.filter(object_type="people.retentionperiod").count() == 1


def test_placing_a_hold_on_an_unknown_record_names_the_field(ade, login):
    response = login(ade).post(reverse("people:retention_hold_new"),
                               {"person": "987654", "reason": "Police request"})  # fmt: skip
    assert response.status_code == 400
    assert "No person has this record number." in response.content.decode()
    assert not LegalHold.objects.exists()


def test_hold_placed_and_lifted_from_the_page(closed_7, ade, login):
    client = login(ade)
    response = client.post(reverse("people:retention_hold_new"),
                           {"person": closed_7.pk, "reason": "Police request 2026-11"})  # fmt: skip
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    client.post(reverse("people:retention_hold_lift", args=[hold.pk]))
    hold.refresh_from_db()
    assert not hold.is_active


def test_preview_shows_initials_and_dates_and_changes_nothing(closed_7, ade, login):
    client = login(ade)
    before = snapshot()
    response = client.post(reverse("people:retention_preview"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing has been changed" in body
    assert f"person {closed_7.pk}" in body and "<td>TW</td>" in body
    assert "Tyrese" not in body and "Whitlock" not in body
    assert snapshot() == before


def test_purge_now_asks_for_the_password_then_runs_as_a_job(closed_7, ade, login, run_jobs):
    client = login(ade)
    url = reverse("people:retention_purge")
    assert client.post(url).url.startswith("/confirm-password/")
    assert Person.objects.get(pk=closed_7.pk).forename == "Tyrese"
    make.confirm_password(client)
    assert "Anonymise 1 record(s) now" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302 and response.url.startswith("/jobs/")
    run_jobs()
    job_page = client.get(response.url).content.decode()
    assert "Open the result" in job_page
    run = PurgeRun.objects.get(dry_run=False)
    assert reverse("people:retention_run", args=[run.pk]) in job_page
    assert Person.objects.get(pk=closed_7.pk).forename == "Removed"
    result = client.get(reverse("people:retention_run", args=[run.pk])).content.decode()
    assert "Tyrese" not in result and '<td class="num">1</td>' in result


# --- Living beside the merge (people.merge moves every record pointing at a person) ---------


def test_merging_a_held_person_moves_the_hold_to_the_kept_record(closed_7, closed_5, ade):
    from throughgate.people import merge

    retention.place_hold(ade, closed_7, "Police request 2026-11")
    merge.merge_people(ade, keep=closed_5, remove=closed_7)
    assert LegalHold.objects.active().get().person_id == closed_5.pk


def test_an_open_safeguarding_concern_stops_the_purge(mo, cara):
    today = timezone.localdate()
    person = closed_case_person(mo, cara, 7, date_of_birth=date(today.year - 30, 1, 1))
    make.make_concern(person, mo)  # still waiting for triage
    assert retention.due_report().total_due == 0


def test_every_free_text_field_of_a_contact_is_blanked_and_no_code_is(db):
    names = {f.name for f in retention.free_text_fields(Contact)}
    assert names == {"summary", "concerns", "next_steps"}
    assert {f.name for f in retention.free_text_fields(Case)} == {"closure_notes"}
