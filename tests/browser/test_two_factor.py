"""A mentor's first log-in after two-factor log-in is switched on, on his phone: set up
the app from the QR code's key, keep the recovery codes, and carry on to his caseload."""

from __future__ import annotations

import base64

from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests import make

from .conftest import assert_no_horizontal_scroll, axe_check


def test_mentor_sets_up_an_authenticator_app_on_his_phone(
    phone_page: Page, live_server, mo, mo_case
):
    page = phone_page
    page.goto(f"{live_server.url}/caseload/")
    page.get_by_label("Username").fill("mo")
    page.get_by_label("Password").fill(make.PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor log-in")
    expect(page.get_by_role("img", name="QR code to scan with the app")).to_be_visible()
    axe_check(page)
    assert_no_horizontal_scroll(page)

    # He cannot scan (a cracked camera) and types the key into the app instead.
    key = page.locator(".secret-key").inner_text().replace(" ", "")
    app = TOTP(base64.b32decode(key))
    page.get_by_label("Code from the app").fill("000000" if app.token() != 0 else "111111")
    page.get_by_role("button", name="Turn on two-factor log-in").click()
    expect(page.get_by_role("alert")).to_contain_text("That code does not match")
    axe_check(page)

    page.get_by_label("Code from the app").fill(f"{app.token():06d}")
    page.get_by_role("button", name="Turn on two-factor log-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    axe_check(page)

    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page).to_have_url(f"{live_server.url}/caseload/")
    expect(page.get_by_text(mo_case.person.forename).first).to_be_visible()
