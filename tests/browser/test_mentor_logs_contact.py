"""Acceptance: the demo mentor logs in, finds a mentee, logs a contact on a 390×844
viewport, and sees it on the case timeline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import make

from .conftest import assert_no_horizontal_scroll, axe_check, login_as


@pytest.fixture
def tyrone_case(mo, kim, cara, programme):
    """Mo's mentee Tyrone Campbell (case opened by Cara 50 days ago), beside another
    mentee of Mo's and one of Kim's, so finding him is a real choice."""
    tyrone = make.make_person(
        cara, forename="Tyrone", surname="Campbell", date_of_birth=date(2006, 9, 2)
    )
    case = make.make_case(mentor=mo, person=tyrone, actor=cara, opened_days_ago=50)
    dwayne = make.make_person(cara, forename="Dwayne", surname="Reid")
    make.make_case(mentor=mo, person=dwayne, actor=cara)
    tyler = make.make_person(cara, forename="Tyler", surname="Campbell")
    make.make_case(mentor=kim, person=tyler, actor=cara)
    return case


def _open_contact_form(phone_page: Page, live_server, case) -> None:
    login_as(phone_page, live_server, "mo")
    phone_page.goto(f"{live_server.url}/cases/{case.pk}/contacts/new/")
    expect(phone_page.get_by_role("heading", level=1)).to_contain_text("Log a contact")


def test_mentor_finds_mentee_and_logs_a_contact_on_a_phone(
    phone_page: Page, live_server, tyrone_case
):
    page = phone_page
    login_as(page, live_server, "mo")

    # Mo lands on his caseload: both his mentees, not Kim's.
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    mentees = page.get_by_role("list", name="Mentees")
    expect(mentees.get_by_role("link", name="Tyrone Campbell", exact=True)).to_be_visible()
    expect(mentees.get_by_role("link", name="Dwayne Reid", exact=True)).to_be_visible()
    expect(page.get_by_text("Tyler Campbell")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    axe_check(page)

    # He can also find Tyrone by a misspelt name.
    page.get_by_role("main").get_by_role("link", name="Find a person").tap()
    page.get_by_label("Name, alias, date of birth or prison number").fill("Tyron Cambell")
    page.get_by_role("button", name="Search").tap()
    results = page.get_by_role("table")
    expect(results.get_by_role("link", name="Tyrone Campbell")).to_be_visible()
    expect(results.get_by_text("Tyler Campbell")).to_have_count(0)  # Kim's mentee stays hidden
    assert_no_horizontal_scroll(page)
    axe_check(page)

    # Open the case from the caseload.
    page.get_by_role("link", name="My caseload").tap()
    page.get_by_role("list", name="Mentees").get_by_role("link", name="Tyrone Campbell").tap()
    expect(page).to_have_url(f"{live_server.url}/cases/{tyrone_case.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tyrone Campbell")
    assert_no_horizontal_scroll(page)
    axe_check(page)

    # Log the contact.
    # A link styled (and announced) as a button: the next thing to do, on top.
    page.get_by_role("button", name="Log a contact", exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Log a contact")
    assert_no_horizontal_scroll(page)
    axe_check(page)
    page.get_by_role("group", name="How").get_by_label("Meeting in the community").check()
    page.get_by_role("group", name="Did they attend?").get_by_label("Yes, but late").check()
    summary = "Met at the café by the station; talked about the college course and his CV."
    page.get_by_label("What happened").fill(summary)
    page.get_by_role("button", name="Save contact").tap()

    # Back on the case, with a confirmation and the contact on the timeline.
    expect(page).to_have_url(f"{live_server.url}/cases/{tyrone_case.pk}/")
    expect(page.get_by_role("status")).to_have_text("Contact logged.")
    timeline = page.get_by_role("list", name="Case timeline, newest first")
    expect(timeline.get_by_text(summary)).to_be_visible()
    expect(timeline.get_by_text("Attended, late")).to_be_visible()
    assert tyrone_case.contacts.get().summary == summary
    assert_no_horizontal_scroll(page)
    axe_check(page)


def test_contact_form_errors_are_summarised_on_top_and_shown_by_each_field(
    phone_page: Page, live_server, tyrone_case
):
    page = phone_page
    _open_contact_form(page, live_server, tyrone_case)
    before_opening = tyrone_case.opened_on - timedelta(days=10)
    page.get_by_label("When").fill(f"{before_opening:%Y-%m-%d}T14:00")
    page.get_by_role("group", name="How").get_by_label("Phone call").check()
    page.get_by_label("What happened").fill("")
    page.get_by_role("button", name="Save contact").tap()

    # The summary comes first in the main content, and takes focus so it is heard first.
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    first_in_main = page.evaluate("document.querySelector('main h1').nextElementSibling.id")
    assert first_in_main == "error-summary"
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")

    opened = f"{tyrone_case.opened_on:%d/%m/%Y}"
    when_link = summary.get_by_role("link", name=f"This is before the case began on {opened}")
    summary_link = summary.get_by_role("link", name="What happened: This field is required.")
    expect(when_link).to_have_attribute("href", "#id_occurred_at")
    expect(summary_link).to_have_attribute("href", "#id_summary")

    # Each error sits with its field, and the field says so to a screen reader.
    when_group = page.locator("#id_occurred_at-group")
    expect(when_group.locator(".error-message")).to_contain_text(
        f"This is before the case began on {opened}."
    )
    expect(page.get_by_label("When")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("When")).to_have_accessible_description(
        f"Error: This is before the case began on {opened}."
    )
    expect(page.locator("#id_summary-group .error-message")).to_have_text(
        "Error: This field is required."
    )
    expect(page.get_by_label("What happened")).to_have_attribute("aria-invalid", "true")
    # What was typed is kept.
    expect(page.get_by_role("group", name="How").get_by_label("Phone call")).to_be_checked()

    # Following a summary link goes to the field.
    summary_link.tap()
    expect(page).to_have_url(f"{live_server.url}/cases/{tyrone_case.pk}/contacts/new/#id_summary")
    expect(page.get_by_label("What happened")).to_be_in_viewport()

    assert_no_horizontal_scroll(page)
    axe_check(page)
    assert not tyrone_case.contacts.exists()


def test_contact_in_the_future_is_refused(phone_page: Page, live_server, tyrone_case):
    page = phone_page
    _open_contact_form(page, live_server, tyrone_case)
    tomorrow = timezone.localdate() + timedelta(days=1)
    page.get_by_label("When").fill(f"{tomorrow:%Y-%m-%d}T10:00")
    page.get_by_role("group", name="How").get_by_label("Prison visit").check()
    page.get_by_label("What happened").fill("Visited.")
    page.get_by_role("button", name="Save contact").tap()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#id_occurred_at-group .error-message")).to_contain_text(
        "cannot be logged for a time in the future"
    )
    assert not tyrone_case.contacts.exists()
