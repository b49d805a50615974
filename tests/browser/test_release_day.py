"""Acceptance (issue 3): Cara, on a laptop, opens the release calendar, sees a flagged
release, arranges the gate meeting and works through the checklist; Mo then sees the
gate meeting on his phone's home page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import make
from throughgate.casework.models import Case
from throughgate.custody import actions as custody_actions
from throughgate.custody.establishments import load_register
from throughgate.custody.models import (
    CustodyEpisode,
    Establishment,
    ItemKind,
    ItemOwner,
    ItemStatus,
    PlanItem,
)

from .conftest import assert_no_horizontal_scroll, axe_check, login_as


@dataclass
class Release:
    case: Case
    episode: CustodyEpisode

    @property
    def day(self) -> date:
        assert self.episode.expected_release_date is not None
        return self.episode.expected_release_date

    def item(self, kind: str) -> PlanItem:
        return PlanItem.objects.get(plan__case=self.case, plan__episode=self.episode, kind=kind)


def _isis() -> Establishment:
    # The register is loaded by a data migration, but a live-server test's database is
    # flushed after every test, so an earlier browser test may have emptied the table.
    if not Establishment.objects.filter(code="ISI").exists():
        load_register(Establishment)
    return Establishment.objects.get(code="ISI")


def _in_custody(cara, mentor, forename: str, surname: str, crd_in_days: int) -> Release:
    """An open custody case of `mentor`'s, in HMP/YOI Isis since 200 days ago, with a
    CRD about `crd_in_days` ahead and a fresh release-day plan (nothing done yet)."""
    today = timezone.localdate()
    person = make.make_person(
        cara, forename=forename, surname=surname, date_of_birth=date(2006, 9, 2)
    )
    case = make.make_case(
        mentor=mentor,
        person=person,
        actor=cara,
        opened_days_ago=210,
        referral_date=today - timedelta(days=220),
        referring_organisation="HMP/YOI Isis",
    )
    received = today - timedelta(days=200)
    episode = custody_actions.start_custody_episode(
        cara,
        person,
        _isis(),
        received,
        sentence_type="determinate",
        key_dates={"sentence_date": received, "crd": today + timedelta(days=crd_in_days)},
    )
    custody_actions.create_release_plan(cara, case, episode)
    return Release(case, episode)


@pytest.fixture(autouse=True)
def cleared_for_isis(mo, kim, cara):
    for mentor in (mo, kim):
        make.make_mentor(mentor, cara, cleared=[_isis()])


@pytest.fixture
def tyrone(cara, mo, programme) -> Release:
    """Mo's mentee Tyrone Campbell, due out of Isis in about ten days; nothing arranged."""
    return _in_custody(cara, mo, "Tyrone", "Campbell", crd_in_days=10)


@pytest.fixture
def leon(cara, kim, programme) -> Release:
    """Kim's mentee Leon Grant, due out in about three weeks, with everything sorted:
    every item done or not needed, and Kim meeting him at the gate at 09:00."""
    release = _in_custody(cara, kim, "Leon", "Grant", crd_in_days=21)
    gate_at = timezone.make_aware(datetime.combine(release.day, time(9, 0)))
    for item in PlanItem.objects.filter(plan__case=release.case):
        if item.kind == ItemKind.GATE_MEETING:
            data = {"appointment_at": gate_at, "assignee": kim}  # to be held on the day
        elif item.kind == ItemKind.DEBTS:
            data = {"status": ItemStatus.NOT_NEEDED}
        else:
            data = {"status": ItemStatus.DONE}
        custody_actions.update_plan_item(cara, item, data)
    return release


def _row(page: Page, release: Release):
    return page.locator(f"#release-{release.episode.pk}")


def _item_row(page: Page, title: str):
    return page.locator("table.plan tbody tr").filter(has=page.get_by_text(title, exact=True))


def test_coordinator_arranges_the_gate_meeting_and_the_mentor_sees_it(
    page: Page, phone_page: Page, live_server, cara, mo, tyrone, leon
):
    release_day = tyrone.day
    assert release_day.weekday() < 4, "a release is never moved onto a Friday or a weekend"
    gate_time = f"{release_day:%a} {release_day.day} {release_day:%b} 08:30"

    # --- Cara, on a laptop -------------------------------------------------------
    login_as(page, live_server, "cara")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Releases").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Release calendar")
    expect(page).to_have_url(f"{live_server.url}/releases/")

    row = _row(page, tyrone)
    expect(row.get_by_role("link", name="Tyrone Campbell", exact=True)).to_be_visible()
    expect(row).to_contain_text("HMP/YOI Isis")
    expect(row).to_contain_text(str(mo))
    flags = row.locator("ul.flags li")
    expect(flags.filter(has_text="No accommodation for release night")).to_have_count(1)
    expect(flags.filter(has_text="Gate meeting not arranged")).to_have_count(1)
    expect(flags.filter(has_text="13 checklist items outstanding")).to_have_count(1)
    leon_row = _row(page, leon)
    expect(leon_row.get_by_text("All set", exact=True)).to_be_visible()
    expect(leon_row.locator("ul.flags")).to_have_count(0)
    expect(leon_row.get_by_role("cell").nth(4)).to_contain_text(
        f"{leon.day:%a} {leon.day.day} {leon.day:%b} 09:00"
    )
    axe_check(page)

    row.get_by_role("link", name="Release-day plan for Tyrone Campbell").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Release-day plan")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tyrone Campbell")
    expect(page.get_by_role("main")).to_contain_text(f"{release_day:%A} {release_day.day}")
    axe_check(page)
    plan_url = page.url

    # The gate meeting cannot be marked done without a time: the error is summarised
    # on top (and focused) and shown beside the field; nothing is saved.
    page.get_by_role("link", name="Update Gate meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gate meeting")
    axe_check(page)
    page.get_by_role("group", name="Status").get_by_label("Done", exact=True).check()
    page.get_by_role("button", name="Save").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Give the time of the gate meeting.")).to_have_count(1)
    expect(page.locator("#id_appointment_at_error")).to_contain_text(
        "Give the time of the gate meeting."
    )
    expect(page.get_by_label("Date and time")).to_have_attribute("aria-invalid", "true")
    axe_check(page)
    gate = tyrone.item(ItemKind.GATE_MEETING)
    assert gate.status == ItemStatus.TO_DO and gate.appointment_at is None

    # Now arrange it properly: release day, 08:30, Mo meets him; still to happen.
    page.get_by_label("Date and time").fill(f"{release_day:%Y-%m-%d}T08:30")
    page.get_by_label("Who meets them").select_option(label=str(mo))
    page.get_by_role("group", name="Status").get_by_label("To do", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Gate meeting: saved.")
    expect(page).to_have_url(f"{plan_url}#item-{gate.pk}")
    gate_row = _item_row(page, "Gate meeting")
    expect(gate_row).to_contain_text(
        f"{release_day:%a} {release_day.day} {release_day:%b %Y}, 08:30"
    )
    expect(gate_row).to_contain_text(f"Meeting them: {mo}")
    expect(gate_row).to_contain_text("To do")
    gate.refresh_from_db()
    assert timezone.localtime(gate.appointment_at) == timezone.make_aware(
        datetime.combine(release_day, time(8, 30))
    )
    assert gate.assignee == mo and gate.status == ItemStatus.TO_DO

    # Accommodation: St Mungo's has a room for the release night.
    page.get_by_role("link", name="Update Accommodation for release night").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accommodation for release night")
    page.get_by_role("group", name="Status").get_by_label("Done", exact=True).check()
    page.get_by_label("Who does it").select_option(label="Other agency")
    page.get_by_label("Owner's name or agency").fill("St Mungo's")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Accommodation for release night: saved.")

    # ID: he already has his passport.
    page.get_by_role("link", name="Update ID", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ID")
    page.get_by_role("group", name="Status").get_by_label("Not needed", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("ID: saved.")

    accommodation = _item_row(page, "Accommodation for release night")
    expect(accommodation.locator(".tag")).to_have_text("Done")
    expect(accommodation).to_contain_text("Other agency")
    expect(accommodation).to_contain_text("St Mungo's")
    expect(_item_row(page, "ID").locator(".tag")).to_have_text("Not needed")
    axe_check(page)
    assert tyrone.item(ItemKind.ACCOMMODATION).status == ItemStatus.DONE
    assert tyrone.item(ItemKind.ACCOMMODATION).owner == ItemOwner.AGENCY
    assert tyrone.item(ItemKind.ID).status == ItemStatus.NOT_NEEDED

    # Back on the calendar: the meeting time shows and those two flags are gone; the
    # arranged gate meeting no longer counts as still to do (13 - 3 = 10).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Releases").click()
    row = _row(page, tyrone)
    expect(row.get_by_role("cell").nth(4)).to_contain_text(gate_time)
    expect(row.get_by_role("cell").nth(4)).to_contain_text(str(mo))
    flags = row.locator("ul.flags li")
    expect(flags.filter(has_text="No accommodation for release night")).to_have_count(0)
    expect(flags.filter(has_text="Gate meeting not arranged")).to_have_count(0)
    expect(flags.filter(has_text="10 checklist items outstanding")).to_have_count(1)
    expect(_row(page, leon).get_by_text("All set", exact=True)).to_be_visible()
    axe_check(page)

    # --- Mo, on his phone ----------------------------------------------------------
    phone = phone_page
    login_as(phone, live_server, "mo")
    expect(phone.get_by_role("heading", level=1)).to_have_text("My caseload")
    gate_meetings = phone.get_by_role("region", name="Gate meetings")
    expect(gate_meetings).to_be_visible()
    meeting = gate_meetings.get_by_role("article")
    expect(meeting).to_have_count(1)  # Leon's gate meeting is Kim's, not Mo's
    expect(meeting.get_by_role("heading", level=3)).to_have_text(
        f"{release_day:%A} {release_day.day} {release_day:%B}, 08:30"
    )
    expect(meeting.get_by_role("link", name="Tyrone Campbell", exact=True)).to_be_visible()
    expect(meeting).to_contain_text("HMP/YOI Isis")
    expect(meeting).to_contain_text(tyrone.episode.establishment.gate_address)
    assert_no_horizontal_scroll(phone)
    axe_check(phone)
