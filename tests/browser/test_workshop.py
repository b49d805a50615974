"""Acceptance: on a 390×844 phone, Pat (prevention facilitator) records a workshop with
its pre/post survey counts, and the reach dashboard's total rises by exactly the
workshop's headcount. Every page on the way is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import make
from throughgate.prevention.defaults import seed_defaults
from throughgate.prevention.models import SurveyQuestion, Workshop, WorkshopTopic

from .conftest import assert_no_horizontal_scroll, axe_check, login_as


@pytest.fixture
def schools(pat):
    """Two schools and one earlier workshop this term, so the total does not start at 0."""
    # The live server's database is flushed after each test, data migrations included.
    seed_defaults(WorkshopTopic, SurveyQuestion)
    lambeth = make.make_venue(pat, name="Lambeth Academy", borough="Lambeth")
    make.make_venue(pat, name="Harris Academy Peckham", borough="Southwark")
    make.make_workshop(pat, lambeth, groups=[("Y9", 12, 13, 0)], held_on=timezone.localdate())
    return lambeth


def reached(page: Page) -> int:
    return int(page.locator("#children-reached").inner_text().replace(",", ""))


def test_facilitator_records_a_workshop_with_survey_counts_on_a_phone(
    phone_page: Page, live_server, schools
):
    page = phone_page
    login_as(page, live_server, "pat")

    page.goto(f"{live_server.url}/prevention/reach/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reach")
    before = reached(page)
    assert before == 25
    assert_no_horizontal_scroll(page)
    axe_check(page)

    page.goto(f"{live_server.url}/prevention/workshops/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a workshop")
    assert_no_horizontal_scroll(page)
    axe_check(page)

    page.get_by_label("School or venue").select_option(label="Harris Academy Peckham")
    page.get_by_role("group", name="Topics").get_by_label("Knife crime").check()
    expect(page.get_by_role("group", name="Who ran it").get_by_label("Pat Tester")).to_be_checked()
    page.get_by_label("Length in minutes").fill("50")
    group = page.get_by_role("group", name="Group 1")
    group.get_by_label("Row 1: year group").select_option(label="Year 8")
    group.get_by_label("Row 1: girls").fill("14")
    group.get_by_label("Row 1: boys").fill("15")
    group.get_by_label("Row 1: other or not recorded").fill("1")
    page.get_by_role("group", name="Teacher's rating").get_by_label("5").check()
    page.get_by_role("button", name="Save and enter survey results").tap()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Survey results")
    expect(page.get_by_role("status")).to_contain_text("Workshop recorded: 30 children.")
    assert_no_horizontal_scroll(page)
    axe_check(page)
    question = page.get_by_role("group", name=re.compile("I know who to tell"))
    question.get_by_label("Answered before").fill("28")
    question.get_by_label("Said yes before").fill("12")
    question.get_by_label("Answered after").fill("29")
    question.get_by_label("Said yes after").fill("25")
    page.get_by_role("button", name="Save survey results").tap()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Harris Academy Peckham")
    survey = page.get_by_role("table", name="Survey answers before and after")
    expect(survey).to_contain_text("43% (12 of 28)")
    expect(survey).to_contain_text("86% (25 of 29)")
    assert_no_horizontal_scroll(page)
    axe_check(page)
    workshop = Workshop.objects.get(venue__name="Harris Academy Peckham")
    assert workshop.headcount == 30

    page.goto(f"{live_server.url}/prevention/reach/")
    assert reached(page) == before + 30
    borough = page.get_by_role("table", name="Children reached by borough")
    expect(borough.get_by_role("row", name=re.compile("Southwark"))).to_contain_text("30")
    assert_no_horizontal_scroll(page)
    axe_check(page)


def test_a_negative_count_is_refused_on_the_phone_naming_the_row(
    phone_page: Page, live_server, schools
):
    page = phone_page
    login_as(page, live_server, "pat")
    page.goto(f"{live_server.url}/prevention/workshops/new/")
    page.get_by_label("School or venue").select_option(label="Lambeth Academy")
    page.get_by_role("group", name="Topics").get_by_label("County lines").check()
    group = page.get_by_role("group", name="Group 1")
    group.get_by_label("Row 1: year group").select_option(label="Year 10")
    group.get_by_label("Row 1: girls").fill("-4")
    page.get_by_role("button", name="Save", exact=True).tap()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Row 1 (Year 10): the number of girls cannot be below zero.")
    axe_check(page)
    assert Workshop.objects.count() == 1  # only the fixture's
