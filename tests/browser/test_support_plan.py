"""Acceptance (issue 5): Mo, on his phone, records a needs assessment and two actions;
later he ticks one action off and records a trust check-in with his mentee; the case
page shows the change in its chart and table."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import make
from throughgate.casework import support
from throughgate.casework.models import Action, InstrumentDefinition, Need

from .conftest import assert_no_horizontal_scroll, axe_check, login_as


@pytest.fixture
def trust_check_in(transactional_db):
    # Shipped by a data migration, but a live-server test's database is flushed after
    # every test, so an earlier browser test may have emptied the table.
    if not InstrumentDefinition.objects.filter(key="trust-check-in").exists():
        importlib.import_module("throughgate.casework.migrations.0004_shipped_instruments").add(
            apps, None
        )
    return InstrumentDefinition.objects.get(key="trust-check-in")


def test_mentor_records_needs_actions_and_a_trust_check_in_on_a_phone(
    phone_page: Page, live_server, mo, cara, trust_check_in
):
    today = timezone.localdate()
    person = make.make_person(cara, forename="Tyron", surname="Campbell")
    case = make.make_case(mentor=mo, person=person, actor=cara, opened_days_ago=60)
    # The first check-in, four weeks in: 3.0 all round.
    support.record_instrument_response(
        mo, case, trust_check_in, today - timedelta(days=30), {f"t{i}": 3 for i in range(1, 11)}
    )
    page = phone_page
    login_as(page, live_server, "mo")
    page.get_by_role("list", name="Mentees").get_by_role("link", name="Tyron Campbell").click()
    page.get_by_role("link", name="Support plan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Support plan")
    axe_check(page)

    # The needs assessment: two pathways filled in, the rest left as they are.
    page.get_by_role("button", name="Assess needs").click()
    accommodation = page.get_by_role("group", name="Accommodation")
    accommodation.get_by_label("Accommodation: status").select_option(label="In progress")
    accommodation.get_by_label("Accommodation: priority").select_option(label="High")
    accommodation.get_by_label("Accommodation: what is needed").fill("A hostel bed on release")
    finance = page.get_by_role("group", name="Finance and ID")
    finance.get_by_label("Finance and ID: what is needed").fill("No ID and no bank account")
    assert_no_horizontal_scroll(page)
    axe_check(page)
    page.get_by_role("button", name="Save the assessment").click()
    expect(page.get_by_role("status")).to_have_text("Needs assessment saved.")
    assert set(Need.objects.filter(case=case).values_list("pathway", flat=True)) == {
        "accommodation", "finance_id",
    }  # fmt: skip

    # Two actions.
    for description, need, days in (
        ("Call the housing officer", "Accommodation", 2),
        ("Order a birth certificate", "Finance and ID", 10),
    ):
        page.get_by_role("button", name="Add an action").click()
        page.get_by_label("What will be done").fill(description)
        page.get_by_label("For which need").select_option(label=need)
        page.get_by_label("Due by").fill((today + timedelta(days=days)).isoformat())
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("Action added.")
    axe_check(page)

    # Later: the first action is done, and Tyron answers the trust check-in.
    page.get_by_role("button", name="Done: Call the housing officer").click()
    expect(page.get_by_role("status")).to_have_text("Done: Call the housing officer")
    assert Action.objects.get(description="Call the housing officer").done_on == today
    page.get_by_role("link", name="Record trust check-in").click()
    for item in trust_check_in.items.all():
        answer = "2" if item.reverse else "5"  # "judges me": not true
        page.get_by_role("group", name=item.text).get_by_label(answer, exact=True).check()
    assert_no_horizontal_scroll(page)
    axe_check(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Trust check-in recorded.")

    # The case page shows the trust trend, as a chart and as numbers.
    page.get_by_role("link", name="Tyron Campbell").click()
    expect(page.locator("#trust-chart")).to_be_visible()
    table = page.get_by_role("table", name="Mean score 1–5 (higher is more trust)")
    expect(table).to_contain_text(f"{today - timedelta(days=30):%-d %b %Y}")
    expect(table).to_contain_text("3.0")
    expect(table).to_contain_text("4.8")  # (8 x 5 + 2 x 4) / 10
    expect(page.get_by_text("2 open needs, 1 open action")).to_be_visible()
    assert_no_horizontal_scroll(page)
    axe_check(page)
