"""The idle time-out and "Confirm it's you", as a mentor on a phone and a manager on a
laptop see them."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import make
from throughgate.accounts import session_limits

from .conftest import axe_check, login_as


def make_idle(page: Page, minutes: int) -> None:
    """Write the browser's session back as if its last request was `minutes` ago."""
    (cookie,) = [c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    session = import_module(settings.SESSION_ENGINE).SessionStore(cookie["value"])
    session[session_limits.LAST_SEEN] = int(timezone.now().timestamp()) - minutes * 60
    session.save()


def test_mentor_back_after_lunch_is_told_why_and_returns_to_the_same_page(
    phone_page: Page, live_server, mo, cara, programme
):
    case = make.make_case(mentor=mo, actor=cara)
    login_as(phone_page, live_server, "mo")
    phone_page.goto(f"{live_server.url}/cases/{case.pk}/")
    make_idle(phone_page, 45)

    phone_page.reload()
    expect(phone_page).to_have_url(f"{live_server.url}/login/?next=/cases/{case.pk}/")
    expect(phone_page.get_by_role("status")).to_have_text(
        "You were logged out after 30 minutes without activity. Log in again to carry on."
    )
    axe_check(phone_page)

    phone_page.get_by_label("Username").fill("mo")
    phone_page.get_by_label("Password").fill(make.PASSWORD)
    phone_page.get_by_role("button", name="Log in", exact=True).click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    phone_page.get_by_label("Code").fill(make.current_code(make.authenticator_app(mo)))
    phone_page.get_by_role("button", name="Continue").click()
    expect(phone_page).to_have_url(f"{live_server.url}/cases/{case.pk}/")


def test_manager_confirms_the_password_before_the_audit_csv_downloads(page: Page, live_server, ade):
    page.goto(f"{live_server.url}/login/")  # a forced log-in: no password typed yet
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": forced_session(ade)}
    page.context.add_cookies([{**cookie, "url": live_server.url}])
    page.goto(f"{live_server.url}/audit/")
    page.get_by_role("link", name="Download as CSV").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    axe_check(page)

    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("That is not the password for this account")
    axe_check(page)

    page.get_by_label("Password").fill(make.PASSWORD)
    with page.expect_download() as download:
        page.get_by_role("button", name="Confirm").click()
    assert download.value.suggested_filename == "audit-trail.csv"


def forced_session(user: Any) -> str:
    """A session logged in without typing the password (as after a long day's work),
    its two-factor code given."""
    from django.contrib.auth import login
    from django.http import HttpRequest

    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    login(request, user, "django.contrib.auth.backends.ModelBackend")
    from django_otp import DEVICE_ID_SESSION_KEY

    request.session[DEVICE_ID_SESSION_KEY] = make.authenticator_app(user).persistent_id
    request.session.save()
    return request.session.session_key
