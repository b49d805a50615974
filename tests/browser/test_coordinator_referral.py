"""Cara, on a laptop, enters a referral for someone already known under a misspelt
name, is warned, uses the existing record, accepts the referral and matches Mo."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import make
from throughgate.casework import actions as casework_actions
from throughgate.casework.models import Case, Referral
from throughgate.people.models import Person

from .conftest import axe_check, login_as


@pytest.fixture
def john_smith(cara, programme):
    """John Smith, born 14 March 2007, referred to Cara's team last year and declined
    then (so Cara's team already holds his record)."""
    john = make.make_person(cara, forename="John", surname="Smith", date_of_birth=date(2007, 3, 14))
    earlier = make.make_referral(
        person=john, actor=cara, referral_date=timezone.localdate() - timedelta(days=400)
    )
    casework_actions.decline_referral(cara, earlier, "no_capacity")
    return john


def test_coordinator_is_warned_of_a_known_person_and_accepts_the_referral_for_mo(
    page: Page, live_server, cara, mo, john_smith
):
    make.make_mentor(mo, cara)  # ready to be matched
    login_as(page, live_server, "cara")

    # Cara's home is the referral queue.
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals")
    axe_check(page)

    page.get_by_role("button", name="New referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New referral")
    young_person = page.get_by_role("group", name="The young person")
    young_person.get_by_label("First name").fill("Jon")
    young_person.get_by_label("Last name").fill("Smyth")
    young_person.get_by_label("Date of birth").fill("2007-03-14")
    referral = page.get_by_role("group", name="The referral")
    referral.get_by_label("Referred by").select_option(label="Probation")
    referral.get_by_label("Reasons").fill("Released last month; wants help with college.")
    referral.get_by_label("The young person consents to the referral").check()
    page.get_by_role("button", name="Save referral").click()

    # Nothing is saved yet: Cara is asked whether this is John Smith.
    warning = page.get_by_role("region", name="This may be someone we already know")
    expect(warning).to_be_visible()
    expect(warning.get_by_role("link", name="John Smith")).to_be_visible()
    expect(warning).to_contain_text("born 14 Mar 2007")
    assert Person.objects.filter(mentor_profile__isnull=True).count() == 1  # mentors are people too
    assert Referral.objects.count() == 1
    # What she typed is still there.
    expect(page.get_by_label("First name")).to_have_value("Jon")
    axe_check(page)

    choice = warning.get_by_role("group", name="Is this one of these people?")
    choice.get_by_label("John Smith").check()
    page.get_by_role("button", name="Save referral").click()

    # The referral is recorded against the existing John Smith: no second record.
    expect(page.get_by_role("status")).to_have_text("Referral of John Smith recorded.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral of John Smith")
    assert Person.objects.filter(mentor_profile__isnull=True).count() == 1  # mentors are people too
    new_referral = Referral.objects.exclude(status="declined").get()
    assert new_referral.person == john_smith
    assert new_referral.source_type == "probation"
    axe_check(page)

    # Accept it with Mo, the one suggested mentor.
    accept = page.get_by_role("region", name="Accept")
    accept.get_by_role("radio", name=str(mo)).check()
    accept.get_by_role("button", name="Accept and open a case").click()
    page.wait_for_url("**/cases/*/")
    case = Case.objects.get(referral=new_referral)
    expect(page).to_have_url(f"{live_server.url}/cases/{case.pk}/")
    expect(page.get_by_role("status")).to_have_text(
        "Referral accepted: a case is open for John Smith."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("John Smith")
    mentor = page.locator("dl.details dt", has_text="Mentor").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(mentor).to_have_text(str(mo))
    assert case.mentor == mo
    axe_check(page)

    # Back on the queue, nothing is waiting and the decision is listed.
    page.get_by_role("link", name="Referrals").click()
    expect(page.get_by_role("heading", name="Waiting for triage (0)")).to_be_visible()
    axe_check(page)


def test_an_empty_referral_lists_every_problem_in_one_summary(
    page: Page, live_server, cara, programme
):
    login_as(page, live_server, "cara")
    page.goto(f"{live_server.url}/referrals/new/")
    page.get_by_role("button", name="Save referral").click()
    summary = page.locator("#error-summary")
    expect(summary).to_have_count(1)
    expect(summary).to_be_focused()
    for problem in ["First name", "Last name", "Date of birth", "Reasons for referral"]:
        expect(summary.get_by_role("link", name=problem)).to_have_count(1)
    assert Referral.objects.count() == 0
    axe_check(page)
