"""Who sees what, seen from a real browser; and the log-in page for keyboard users."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests import make
from throughgate.casework import actions

from .conftest import axe_check, login_as


def test_mentor_opening_another_mentors_case_gets_page_not_found(
    page: Page, live_server, mo, kim, cara, programme
):
    mo_case = make.make_case(
        mentor=mo, actor=cara, person=make.make_person(cara, forename="Marcus", surname="Bell")
    )
    login_as(page, live_server, "kim")
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    expect(page.get_by_text("Marcus Bell")).to_have_count(0)

    response = page.goto(f"{live_server.url}/cases/{mo_case.pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text("Marcus Bell")).to_have_count(0)
    axe_check(page)

    # The same for the contact form behind it.
    response = page.goto(f"{live_server.url}/cases/{mo_case.pk}/contacts/new/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")


@pytest.fixture
def referral_history(cara, mo, programme):
    """Seven referrals from prisons, five from Youth Justice Services and two from
    probation (fewer than five: suppressed); four of them accepted as cases."""
    sources = ["prison"] * 7 + ["yjs"] * 5 + ["probation"] * 2
    referrals = [make.make_referral(actor=cara, source_type=s) for s in sources]
    for referral in referrals[:4]:
        actions.accept_referral(cara, referral, mentor=mo)
    return referrals


def test_analyst_sees_the_dashboard_charts_with_their_tables(
    page: Page, live_server, fay, referral_history
):
    login_as(page, live_server, "fay")
    expect(page).to_have_url(f"{live_server.url}/reports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Programme figures")

    # Each figure: an SVG chart with a text alternative, beside a table of its numbers.
    charts = page.locator("svg.chart[role='img']")
    expect(charts).to_have_count(5)
    expect(
        page.get_by_role("img", name="Referrals by source (numbers in the table beside)")
    ).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(5)

    by_source = page.get_by_role("region", name="Referrals by source")
    rows = by_source.get_by_role("row")
    expect(rows.filter(has_text="Prison resettlement team").get_by_role("cell")).to_have_text("7")
    # Two from probation is fewer than five, so it is hidden; so is the next
    # smallest figure (YJS, 5), so the two cannot be worked out from the total.
    expect(rows.filter(has_text="Probation").get_by_role("cell")).to_have_text("[c]")
    expect(rows.filter(has_text="Youth Justice Service").get_by_role("cell")).not_to_have_text("5")
    expect(by_source.get_by_role("img").get_by_text("suppressed")).to_have_count(2)

    # No personal data on an analyst's screen.
    names = {r.person.surname for r in referral_history}
    body = page.locator("body").inner_text()
    assert not [n for n in names if n in body]
    axe_check(page)

    # And no door into the records.
    response = page.goto(f"{live_server.url}/cases/{referral_history[0].case.pk}/")
    assert response is not None and response.status == 404


def test_login_page_passes_axe(page: Page, live_server):
    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    axe_check(page)


def test_failed_login_is_explained_at_the_top_and_passes_axe(page: Page, live_server, mo):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("mo")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in", exact=True).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value("mo")
    axe_check(page)


def test_login_page_keyboard_order_starts_with_the_skip_link(page: Page, live_server):
    page.goto(f"{live_server.url}/login/")
    # The username field has autofocus; start from the top of the page as a
    # keyboard user arriving from elsewhere would, by clicking the page background.
    # Autofocus runs in a task after load: wait for it, or it can land after the
    # click and the first Tab starts from the username field.
    expect(page.get_by_label("Username")).to_be_focused()
    page.mouse.click(2, 2)
    expect(page.get_by_label("Username")).not_to_be_focused()
    focus_order = []
    for _ in range(10):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const el = document.activeElement;
                const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
                return `${el.tagName.toLowerCase()}:${(label || el.textContent).trim()}`;
            }"""
        )
        focus_order.append(focused)
        if focused == "button:Log in":
            break

    assert focus_order[0] == "a:Skip to main content", focus_order
    wanted = ["input:Username", "input:Password", "button:Log in"]
    positions = [focus_order.index(w) for w in wanted if w in focus_order]
    assert len(positions) == 3 and positions == sorted(positions), focus_order

    # The skip link shows when focused and jumps to the main content.
    page.mouse.click(2, 2)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
