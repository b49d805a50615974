"""Custody and through the gate: key dates and their history, the release-day plan,
the phases the facts move a case through, transfers, and the mentor's calendar.

Expected release dates are computed (weekends, Fridays and bank holidays move
them), so tests read them from the episode rather than from the CRD they set.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from throughgate.casework.models import Case, PhaseChange
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.custody import actions
from throughgate.custody.models import (
    CalendarToken,
    CustodyEpisode,
    Establishment,
    ItemKind,
    KeyDateChange,
    PlanItem,
    ReleasePlan,
    Transfer,
)

from . import make

TODAY = timezone.localdate
ISIS_GATE = "Western Way, Thamesmead, London, SE28 0NZ"
FELTHAM_GATE = "Bedfont Road, Feltham, TW13 4ND"


def days(n: int) -> date:
    return TODAY() + timedelta(days=n)


def at(day: date, hour: int = 8, minute: int = 30) -> datetime:
    """A London wall-clock time on `day`, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def phase_of(case: Case) -> tuple[str, date]:
    case = Case.objects.get(pk=case.pk)
    return case.phase, case.phase_since


def gate_of(plan: ReleasePlan) -> PlanItem:
    return plan.items.get(kind=ItemKind.GATE_MEETING)


def arrange_gate(plan: ReleasePlan, actor: Any, when: datetime | None = None) -> PlanItem:
    """The gate meeting at 08:30 on the expected release day (or `when`)."""
    when = when or at(plan.episode.expected_release_date)
    actions.update_plan_item(actor, gate_of(plan), {"appointment_at": when})
    return gate_of(plan)


def mentee(mentor: Any, cara: Any, forename: str, surname: str) -> Case:
    person = make.make_person(cara, forename=forename, surname=surname)
    return make.make_case(mentor=mentor, actor=cara, person=person)


@pytest.fixture
def tyrese(mo, cara, programme) -> ReleasePlan:
    """Mo's mentee Tyrese Whitlock: at HMP/YOI Isis since 100 days ago, due out within
    three weeks, with the standard release-day plan."""
    return make.make_plan(mentee(mo, cara, "Tyrese", "Whitlock"), cara, release_in=20)


# --- Acceptance 3: a release date moves, the plan follows, the history stays -------------


def test_changing_the_release_date_moves_open_plan_items_and_keeps_dated_history(tyrese, cara):
    episode = tyrese.episode
    gate = arrange_gate(tyrese, cara)
    done = tyrese.items.get(kind=ItemKind.ID)
    actions.update_plan_item(cara, done, {"status": "done"})
    not_needed = tyrese.items.get(kind=ItemKind.GP)
    actions.update_plan_item(cara, not_needed, {"status": "not_needed"})
    before = {i.pk: (i.due_date, i.appointment_at) for i in tyrese.items.all()}
    old_crd, old_expected = episode.crd, episode.expected_release_date

    changed = actions.update_key_dates(
        cara, episode, {"crd": old_crd + timedelta(days=7)}, "Added days"
    )

    assert changed == ["crd"]
    episode.refresh_from_db()
    moved = (episode.expected_release_date - old_expected).days
    assert moved > 0
    for item in tyrese.items.all():
        old_due, old_at = before[item.pk]
        if item.pk in (done.pk, not_needed.pk):
            assert (item.due_date, item.appointment_at) == (old_due, old_at), item
        else:
            assert item.due_date == old_due + timedelta(days=moved), item
    gate.refresh_from_db()
    assert timezone.localtime(gate.appointment_at) == at(old_expected + timedelta(days=moved))

    history = KeyDateChange.objects.filter(episode=episode, reason="Added days")
    assert {(h.field, h.old_value, h.new_value) for h in history} == {
        ("crd", old_crd, old_crd + timedelta(days=7)),
        ("expected_release_date", old_expected, episode.expected_release_date),
    }
    for entry in history:
        assert entry.changed_by == cara
        assert timezone.now() - entry.changed_at < timedelta(minutes=1)
    event = AuditEvent.objects.get(
        action=AuditAction.UPDATE, object_type="custody.custodyepisode", summary="key dates"
    )
    assert event.fields == ["crd"] and event.actor == cara


def test_the_date_history_is_shown_on_the_custody_page(tyrese, cara, login):
    episode = tyrese.episode
    actions.update_key_dates(
        cara, episode, {"crd": episode.crd + timedelta(days=7)}, "Added days for a fight"
    )
    body = login(cara).get(reverse("custody:episode_detail", args=[episode.pk])).content.decode()
    assert "Added days for a fight" in body and "Cara Jones" in body


def test_a_gate_meeting_keeps_its_wall_clock_time_when_the_release_moves_across_a_clock_change(
    mo, cara, programme
):
    """Release in mid-October, moved three weeks into November: past the end of British
    Summer Time. The gate meeting stays at 08:30 London time, not 07:30."""
    year = TODAY().year + 1
    crd = date(year, 10, 14)
    case = mentee(mo, cara, "Leon", "Ashdown")
    plan = make.make_plan(case, cara, crd=crd, led=date(year + 1, 4, 1), sed=date(year + 1, 4, 1))
    old_expected = plan.episode.expected_release_date
    gate = arrange_gate(plan, cara)
    actions.update_key_dates(cara, plan.episode, {"crd": crd + timedelta(days=21)}, "Added days")
    plan.episode.refresh_from_db()
    moved = (plan.episode.expected_release_date - old_expected).days
    assert moved > 0
    gate.refresh_from_db()
    local = timezone.localtime(gate.appointment_at)
    assert (local.date(), local.time()) == (old_expected + timedelta(days=moved), time(8, 30))


def test_changing_a_release_date_needs_a_reason(tyrese, cara):
    episode = tyrese.episode
    items = list(tyrese.items.values_list("due_date", flat=True))
    history = KeyDateChange.objects.count()
    with pytest.raises(ValidationError) as refused:
        actions.update_key_dates(cara, episode, {"crd": episode.crd + timedelta(days=7)}, "  ")
    assert "reason" in refused.value.message_dict
    assert CustodyEpisode.objects.get(pk=episode.pk).crd == episode.crd
    assert list(tyrese.items.values_list("due_date", flat=True)) == items
    assert KeyDateChange.objects.count() == history


def test_saving_the_same_dates_changes_nothing_and_needs_no_reason(tyrese, cara):
    history = KeyDateChange.objects.count()
    assert actions.update_key_dates(cara, tyrese.episode, {"crd": tyrese.episode.crd}, "") == []
    assert KeyDateChange.objects.count() == history


# --- The phases the facts move a case through ---------------------------------------------


def test_recording_custody_then_release_moves_the_case_in_then_through_the_gate(mo_case, cara):
    episode = make.make_episode(mo_case.person, cara, days_in=100)
    assert phase_of(mo_case)[0] == "in_custody"

    actions.record_release(cara, episode, days(-20))

    assert phase_of(mo_case) == ("through_the_gate", days(-20))
    last = PhaseChange.objects.filter(case=mo_case).order_by("-changed_on", "-id").first()
    assert (last.to_phase, last.changed_on) == ("through_the_gate", days(-20))
    assert last.recorded_by == cara
    assert CustodyEpisode.objects.get(pk=episode.pk).released_on == days(-20)


@pytest.mark.parametrize(
    ("days_after_release", "attendance", "phase"),
    [
        pytest.param(14, "attended", "community", id="seen-at-two-weeks-is-in-the-community"),
        pytest.param(16, "late", "community", id="seen-late-after-two-weeks-counts"),
        pytest.param(10, "attended", "through_the_gate", id="seen-at-ten-days-is-not-yet"),
        pytest.param(14, "did_not_attend", "through_the_gate", id="a-missed-contact-is-not"),
    ],
)
def test_a_contact_two_weeks_after_release_settles_the_case_into_the_community(
    days_after_release, attendance, phase, mo_case, mo, cara
):
    episode = make.make_episode(mo_case.person, cara, days_in=100)
    actions.record_release(cara, episode, days(-20))
    extra = {"non_attendance_reason": "no_show"} if attendance == "did_not_attend" else {}
    make.make_contact(mo_case, mo, days_ago=20 - days_after_release, attendance=attendance, **extra)
    assert phase_of(mo_case)[0] == phase
    if phase == "community":
        assert phase_of(mo_case)[1] == days(days_after_release - 20)


def test_a_recall_moves_a_case_in_the_community_back_into_custody(mo_case, mo, cara):
    first = make.make_episode(mo_case.person, cara, days_in=100)
    actions.record_release(cara, first, days(-20))
    make.make_contact(mo_case, mo, days_ago=5)
    assert phase_of(mo_case)[0] == "community"

    make.make_episode(mo_case.person, cara, days_in=1, sentence_type="recall", sentence_date=None)

    assert phase_of(mo_case) == ("in_custody", days(-1))
    phases = PhaseChange.objects.filter(case=mo_case).order_by("changed_on", "id")
    assert list(phases.values_list("to_phase", flat=True)) == [
        "referred", "in_custody", "through_the_gate", "community", "in_custody",
    ]  # fmt: skip


# --- Transfers ---------------------------------------------------------------------------


def test_a_transfer_moves_the_episode_and_its_gate_meeting_to_the_new_prison(tyrese, cara):
    episode = tyrese.episode
    assert gate_of(tyrese).place == ISIS_GATE
    feltham = Establishment.objects.get(code="FMI")

    actions.record_transfer(cara, episode, feltham, days(-3))

    assert CustodyEpisode.objects.get(pk=episode.pk).establishment == feltham
    transfer = Transfer.objects.get(episode=episode)
    assert (transfer.from_establishment.code, transfer.to_establishment.code) == ("ISI", "FMI")
    assert (transfer.transferred_on, transfer.recorded_by) == (days(-3), cara)
    assert gate_of(tyrese).place == FELTHAM_GATE


@pytest.mark.parametrize(
    ("prison", "moved_on", "field"),
    [
        pytest.param("ISI", -3, "to_establishment", id="to-the-same-prison"),
        pytest.param("FMI", 1, "transferred_on", id="dated-in-the-future"),
        pytest.param("FMI", -101, "transferred_on", id="dated-before-they-arrived"),
    ],
)
def test_an_impossible_transfer_is_refused(prison, moved_on, field, tyrese, cara):
    episode = tyrese.episode
    with pytest.raises(ValidationError) as refused:
        actions.record_transfer(
            cara, episode, Establishment.objects.get(code=prison), days(moved_on)
        )
    assert field in refused.value.message_dict
    assert not Transfer.objects.exists()
    assert CustodyEpisode.objects.get(pk=episode.pk).establishment_id == "ISI"
    assert gate_of(tyrese).place == ISIS_GATE


def test_a_second_transfer_cannot_be_dated_before_the_first(tyrese, cara):
    episode = tyrese.episode
    actions.record_transfer(cara, episode, Establishment.objects.get(code="FMI"), days(-10))
    with pytest.raises(ValidationError) as refused:
        actions.record_transfer(cara, episode, Establishment.objects.get(code="ISI"), days(-20))
    assert "transferred_on" in refused.value.message_dict


# --- The release-day plan ------------------------------------------------------------------

STANDARD_CHECKLIST = {
    # kind: (who usually owns it, days before release it is due)
    "accommodation": ("probation", 14),
    "id": ("prison", 28),
    "bank_account": ("prison", 21),
    "benefits": ("prison", 7),
    "gp": ("mentor", 7),
    "prescriptions": ("prison", 3),
    "probation": ("probation", 7),
    "phone": ("mentor", 3),
    "travel": ("mentor", 3),
    "clothes": ("family", 7),
    "debts": ("mentor", 14),
    "subsistence": ("prison", 1),
    "gate_meeting": ("mentor", 7),
}


def test_a_new_plan_has_the_standard_checklist_counted_back_from_the_release(mo_case, mo, cara):
    episode = make.make_episode(mo_case.person, cara, release_in=60)
    release = episode.expected_release_date

    plan = actions.create_release_plan(cara, mo_case, episode)

    items = {item.kind: item for item in plan.items.all()}
    assert set(items) == set(STANDARD_CHECKLIST)
    for kind, (owner, before) in STANDARD_CHECKLIST.items():
        item = items[kind]
        assert (item.owner, item.status) == (owner, "to_do"), kind
        assert item.due_date == release - timedelta(days=before), kind
    gate = items["gate_meeting"]
    assert (gate.assignee, gate.place, gate.appointment_at) == (mo, ISIS_GATE, None)
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="custody.releaseplan", object_id=str(plan.pk)
    ).exists()


def test_a_plan_without_a_release_date_has_no_due_dates(mo_case, cara):
    episode = make.make_episode(mo_case.person, cara, sentence_type="remand", crd=None)
    plan = actions.create_release_plan(cara, mo_case, episode)
    assert set(plan.items.values_list("due_date", flat=True)) == {None}


def test_a_case_has_one_plan_per_custody_episode_and_only_for_its_own_person(tyrese, mo, cara):
    with pytest.raises(ValidationError, match="already has a release-day plan"):
        actions.create_release_plan(cara, tyrese.case, tyrese.episode)
    other = mentee(mo, cara, "Dami", "Oyelaran")
    with pytest.raises(ValidationError, match="not this young person's"):
        actions.create_release_plan(cara, other, tyrese.episode)


def test_a_gate_meeting_is_done_only_with_a_time_and_who_met_them(tyrese, mo):
    gate = gate_of(tyrese)
    with pytest.raises(ValidationError) as refused:
        actions.update_plan_item(mo, gate, {"status": "done"})
    assert "appointment_at" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        actions.update_plan_item(
            mo, gate, {"status": "done", "appointment_at": at(days(-1)), "assignee": None}
        )
    assert "assignee" in refused.value.message_dict
    assert gate_of(tyrese).status == "to_do"

    actions.update_plan_item(mo, gate, {"status": "done", "appointment_at": at(days(-1))})

    gate = gate_of(tyrese)
    assert (gate.status, gate.completed_on, gate.assignee) == ("done", TODAY(), mo)


def test_an_item_of_your_own_can_be_added_and_not_needed_is_a_status(tyrese, mo):
    item = actions.add_plan_item(
        mo, tyrese, {"label": "Birth certificate", "owner": "agency", "owner_detail": "St Giles"}
    )
    assert (item.kind, item.title, item.status) == ("other", "Birth certificate", "to_do")
    actions.update_plan_item(mo, item, {"status": "not_needed"})
    assert PlanItem.objects.get(pk=item.pk).status == "not_needed"


def test_looking_at_custody_and_the_plan_is_audited(tyrese, sam, login):
    client = login(sam)
    for url in (
        reverse("custody:episode_detail", args=[tyrese.episode.pk]),
        reverse("custody:plan_detail", args=[tyrese.case.pk]),
    ):
        assert client.get(url).status_code == 200
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, actor=sam)
    assert set(views.values_list("object_type", flat=True)) == {
        "custody.custodyepisode",
        "casework.case",
    }
    assert set(views.values_list("person_id", flat=True)) == {tyrese.case.person_id}


# --- The mentor's calendar feed --------------------------------------------------------------


def feed(token: str) -> Any:
    return Client().get(reverse("custody:calendar_feed", args=[token]))


def events(response: Any) -> list[dict[str, str]]:
    calendar = Calendar.from_ical(response.content)
    return [
        {"summary": str(e.get("summary")), "location": str(e.get("location", ""))}
        for e in calendar.walk("VEVENT")
    ]


def test_calendar_feed_has_the_gate_meeting_with_initials_and_the_gate_only(tyrese, mo, cara):
    arrange_gate(tyrese, cara)
    token = actions.create_calendar_token(mo)

    response = feed(token)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert {"summary": "Gate meeting – T.W.", "location": ISIS_GATE} in events(response)
    unfolded = response.content.decode().replace("\r\n ", "")
    assert "Tyrese" not in unfolded and "Whitlock" not in unfolded


def test_calendar_feed_has_no_other_mentors_gate_meetings(tyrese, mo, kim, cara):
    arrange_gate(tyrese, cara)
    arrange_gate(make.make_plan(mentee(kim, cara, "Dami", "Oyelaran"), cara), cara)
    summaries = {e["summary"] for e in events(feed(actions.create_calendar_token(mo)))}
    assert "Gate meeting – T.W." in summaries and "Gate meeting – D.O." not in summaries
    summaries = {e["summary"] for e in events(feed(actions.create_calendar_token(kim)))}
    assert summaries == {"Gate meeting – D.O."}


def test_calendar_feed_lists_first_days_contacts_after_release(mo_case, mo, cara):
    episode = make.make_episode(mo_case.person, cara, days_in=100)
    actions.record_release(cara, episode, days(-2))
    summaries = [e["summary"] for e in events(feed(actions.create_calendar_token(mo)))]
    initials = f"{mo_case.person.forename[0]}.{mo_case.person.surname[0]}."
    assert summaries == [
        f"{label} contact after release – {initials}" for label in ("Day 1", "Day 3", "Week 2")
    ]


def test_a_new_calendar_link_stops_the_old_one(mo):
    old = actions.create_calendar_token(mo)
    new = actions.create_calendar_token(mo)
    assert feed(old).status_code == 404
    assert feed(new).status_code == 200
    assert not CalendarToken.objects.filter(token_hash__in=[old, new]).exists()  # hashes only


def test_a_revoked_or_unknown_calendar_link_is_404(mo):
    token = actions.create_calendar_token(mo)
    actions.revoke_calendar_tokens(mo)
    assert feed(token).status_code == 404
    assert feed("not-a-token").status_code == 404
    assert feed(token).content == feed("not-a-token").content


def test_calendar_link_of_a_deactivated_mentor_stops_working(mo):
    token = actions.create_calendar_token(mo)
    mo.is_active = False
    mo.save(update_fields=["is_active"])
    assert feed(token).status_code == 404


def test_mentor_makes_and_turns_off_a_calendar_link_on_the_settings_page(mo, login):
    client = login(mo)
    response = client.post(reverse("custody:calendar_settings"), {"action": "create"})
    assert response.status_code == 200
    path = response.context["new_url"].removeprefix("http://testserver")
    assert Client().get(path).status_code == 200
    client.post(reverse("custody:calendar_settings"), {"action": "revoke"})
    assert Client().get(path).status_code == 404


# --- The mentor's home page --------------------------------------------------------------------


def test_mentors_home_page_shows_the_gate_meeting_and_an_overdue_day_one_contact(
    tyrese, mo, cara, login
):
    gate = arrange_gate(tyrese, cara)
    released = mentee(mo, cara, "Leon", "Ashdown")
    episode = make.make_episode(released.person, cara, days_in=100)
    actions.record_release(cara, episode, days(-2))  # day 1 was yesterday; no contact yet

    response = login(mo).get(reverse("casework:caseload"))

    assert [item.pk for item in response.context["gate_meetings"]] == [gate.pk]
    first_days = [(r["case"].pk, r["follow"].label, r["follow"].status)
                  for r in response.context["first_days"]]  # fmt: skip
    assert first_days[0] == (released.pk, "Day 1", "overdue")
    body = " ".join(response.content.decode().split())
    assert "Gate meetings" in body and ISIS_GATE in body
    assert f'Day 1 contact <span class="tag tag--due">overdue since {days(-1):%a %-d %b}' in body


def test_a_gate_meeting_is_not_on_another_mentors_home_page(tyrese, kim, cara, login):
    arrange_gate(tyrese, cara)
    response = login(kim).get(reverse("casework:caseload"))
    assert list(response.context["gate_meetings"]) == []
    assert "Whitlock" not in response.content.decode()


def test_someone_already_in_custody_cannot_get_a_second_custody_record(mo, cara, programme):
    case = make.make_case(mentor=mo, actor=cara)
    current = make.make_episode(case.person, cara)
    before = CustodyEpisode.objects.count()
    with pytest.raises(ValidationError) as err:
        make.make_episode(case.person, cara)
    assert "already in custody at" in err.value.message_dict["establishment"][0]
    assert CustodyEpisode.objects.count() == before
    actions.record_release(cara, current, timezone.localdate())
    make.make_episode(case.person, cara, days_in=0)  # a recall after release is fine


def test_a_plan_started_before_any_release_date_gets_due_dates_once_one_is_known(mo, cara):
    case = make.make_case(mentor=mo, actor=cara)
    today = timezone.localdate()
    episode = actions.start_custody_episode(
        cara, case.person, Establishment.objects.get(code="ISI"), today - timedelta(days=30),
        sentence_type="remand",
    )  # fmt: skip
    plan = actions.create_release_plan(cara, case, episode)
    assert not plan.items.exclude(due_date=None).exists()
    crd = today + timedelta(days=43)
    actions.update_key_dates(
        cara, episode,
        {"sentence_type": "determinate", "sentence_date": today - timedelta(days=5), "crd": crd},
        "Sentenced",
    )  # fmt: skip
    episode.refresh_from_db()
    release = episode.expected_release_date
    accommodation = plan.items.get(kind="accommodation")
    assert accommodation.due_date == release - timedelta(days=14)
    assert not plan.items.filter(due_date=None).exists()
