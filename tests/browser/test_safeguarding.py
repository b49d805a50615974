"""Acceptance: a mentor raises a safeguarding concern on his phone; the safeguarding lead
sees it at once on her start page, triages it and records the MASH referral; a concern
left untriaged for 24 hours shows as overdue on the lead's and the manager's home pages
(a controlled clock: time-machine moves the clock of the whole process, the live
server's thread included)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import make
from throughgate.casework.models import SafeguardingConcern
from throughgate.casework.safeguarding_models import ConcernStatus
from throughgate.people.models import Person

from .conftest import assert_no_horizontal_scroll, axe_check, login_as


@pytest.fixture
def tyrone_case(mo, kim, cara, sam, ade, programme):
    """Mo's mentee Tyrone Campbell, and Kim's mentee Dami Reid, both opened by Cara."""
    tyrone = make.make_person(
        cara, forename="Tyrone", surname="Campbell", date_of_birth=date(2008, 9, 2)
    )
    case = make.make_case(mentor=mo, person=tyrone, actor=cara)
    dami = make.make_person(cara, forename="Dami", surname="Reid")
    make.make_case(mentor=kim, person=dami, actor=cara)
    return case


def test_mentor_raises_a_concern_and_the_lead_refers_it_to_the_mash(
    phone_page: Page, page: Page, live_server, tyrone_case
):
    # Mo, on his phone, raises a concern from Tyrone's case.
    phone = phone_page
    login_as(phone, live_server, "mo")
    phone.get_by_role("list", name="Mentees").get_by_role("link", name="Tyrone Campbell").tap()
    phone.get_by_role("link", name="Raise a safeguarding concern").tap()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Raise a safeguarding concern")
    expect(phone.get_by_text("If a child is in immediate danger, call 999 now.")).to_be_visible()
    assert_no_horizontal_scroll(phone)
    axe_check(phone)
    seen = "Picked up from the gate by two older lads in a car; says he's 'going OT' this week."
    phone.get_by_label("What did you see or hear?").fill(seen)
    phone.get_by_label("What kind of concern?").select_option(label="County lines")
    phone.get_by_label("What have you done already?").fill("Talked with him; rang his mum.")
    phone.get_by_role("button", name="Send the concern").tap()
    expect(phone.get_by_role("status")).to_contain_text("Concern sent to the safeguarding lead")
    expect(phone.get_by_text(seen)).to_be_visible()
    assert_no_horizontal_scroll(phone)
    axe_check(phone)
    concern = SafeguardingConcern.objects.get()
    assert concern.raised_by.username == "mo" and concern.category == "county_lines"

    # Sam logs in and her start page shows it at once, waiting for triage.
    login_as(page, live_server, "sam")
    expect(page.get_by_role("heading", level=1)).to_have_text("Safeguarding concerns")
    waiting = page.get_by_role("table", name="Waiting for triage (1)")
    expect(waiting.get_by_text("County lines")).to_be_visible()
    axe_check(page)
    waiting.get_by_role("link", name="Tyrone Campbell").click()
    expect(page.get_by_text(seen)).to_be_visible()
    axe_check(page)

    # She triages it (refer to the MASH) ...
    page.get_by_role("button", name="Triage").click()
    page.get_by_label("Refer to the MASH (children's social care)").check()
    page.get_by_label("Why (rationale)").fill("Indicators of county lines; referring today.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Decision recorded.")

    # ... and records the MASH referral.
    page.get_by_role("link", name="Record a MASH referral").click()
    axe_check(page)
    page.get_by_label("Local authority").fill("Lambeth")
    page.get_by_label("MASH reference").fill("LAM-4471")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("MASH referral saved.")
    expect(page.get_by_text("to Lambeth (ref. LAM-4471)")).to_be_visible()
    axe_check(page)
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.OPEN
    assert concern.mash_referral.referred_on == timezone.localdate()


def test_a_concern_untriaged_for_24_hours_is_overdue_on_the_leads_and_managers_home_pages(
    page: Page, live_server, tyrone_case, kim
):
    dami = Person.objects.get(forename="Dami", surname="Reid")
    make.make_concern(dami, kim, what_happened="Came in with a black eye and wouldn't say why.")

    # A day later it is still due, not overdue.
    with time_machine.travel(timezone.now() + timedelta(hours=23), tick=True):
        login_as(page, live_server, "sam")
        expect(page.get_by_role("heading", level=1)).to_have_text("Safeguarding concerns")
        expect(page.get_by_text("Overdue by")).to_have_count(0)
        expect(page.get_by_text("Due in under an hour")).to_be_visible()

    # Past 24 hours: overdue, at the top of Sam's start page and on Ade's.
    with time_machine.travel(timezone.now() + timedelta(hours=26, minutes=10), tick=True):
        page.context.clear_cookies()
        login_as(page, live_server, "sam")
        expect(page.get_by_role("heading", level=1)).to_have_text("Safeguarding concerns")
        expect(page.get_by_text("Overdue: 1 concern waited more than 24 hours")).to_be_visible()
        waiting = page.get_by_role("table", name="Waiting for triage (1)")
        expect(waiting.get_by_text("Overdue by 2 hours")).to_be_visible()
        axe_check(page)

        page.context.clear_cookies()
        login_as(page, live_server, "ade")
        expect(page.get_by_role("heading", level=1)).to_have_text("Referrals")
        panel = page.get_by_role("region", name="Overdue: 1 safeguarding concern")
        expect(panel).to_be_visible()
        expect(panel.get_by_text("Overdue by 2 hours")).to_be_visible()
        expect(panel.get_by_role("link", name="Dami Reid")).to_be_visible()
        axe_check(page)
