"""How long a log-in lasts, and the password again before personal data is downloaded.

Sessions (accounts.session_limits): a mentor's phone left logged in must not stay
logged in. A session ends after SESSION_IDLE_MINUTES without a request and
SESSION_MAX_HOURS after log-in; the person is told why and, after logging in again,
lands on the page they asked for.

Re-authentication (core.reauth): the Justice Data Lab file and the audit CSV need
the password typed within REAUTH_MINUTES; otherwise "Confirm it's you" first.

Time is moved by writing the session's own timestamps back (or, for a day of
activity, by replacing the middleware's clock), never by sleeping.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.test_settings import GOOD_KEY, load_settings
from throughgate.accounts import session_limits
from throughgate.core import reauth
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.outcomes import views as outcome_views

from . import make

CASELOAD = "/caseload/"
AUDIT_CSV = "/audit/?format=csv"


def move_session_clock(client: Client, key: str, seconds_ago: int) -> None:
    """Pretend the timestamp `key` in the client's session was set `seconds_ago`."""
    session = client.session
    session[key] = int(timezone.now().timestamp()) - seconds_ago
    session.save()


def stored(client: Client, key: str) -> Any:
    return client.session.get(key)


def log_in_through_the_page(client: Client, username: str, next_url: str = "") -> Any:
    data = {"username": username, "password": make.PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data)


# --- The idle time-out -----------------------------------------------------------


def test_mentor_idle_for_30_minutes_is_logged_out_and_told_why(mo, login):
    client = login(mo)
    move_session_clock(client, session_limits.LAST_SEEN, 30 * 60 + 5)
    response = client.get(CASELOAD)
    assert response.status_code == 302
    assert response.url == f"/login/?next={quote(CASELOAD)}"
    page = client.get(response.url).content.decode()
    # In the page's messages area, which screen readers announce (role="status").
    assert '<div class="messages" role="status">' in page
    assert "You were logged out after 30 minutes without activity." in page
    assert client.get(CASELOAD).status_code == 302  # still logged out
    logout = AuditEvent.objects.get(action=AuditAction.LOGOUT, actor=mo)
    assert logout.summary == "idle time-out: 30 minutes without activity"


def test_mentor_active_29_minutes_ago_stays_logged_in(mo, login):
    client = login(mo)
    move_session_clock(client, session_limits.LAST_SEEN, 29 * 60)
    assert client.get(CASELOAD).status_code == 200
    # …and the clock starts again from this request.
    assert int(timezone.now().timestamp()) - stored(client, session_limits.LAST_SEEN) < 5


def test_the_idle_time_out_follows_the_setting(mo, login, settings):
    settings.SESSION_IDLE_MINUTES = 10
    client = login(mo)
    move_session_clock(client, session_limits.LAST_SEEN, 9 * 60)
    assert client.get(CASELOAD).status_code == 200
    move_session_clock(client, session_limits.LAST_SEEN, 10 * 60 + 1)
    response = client.get(CASELOAD, follow=True)
    assert "You were logged out after 10 minutes without activity." in response.content.decode()


def test_last_seen_is_written_at_most_once_a_minute_not_on_every_request(mo, login):
    client = login(mo)
    move_session_clock(client, session_limits.LAST_SEEN, 20)
    before = stored(client, session_limits.LAST_SEEN)
    response = client.get(CASELOAD)
    assert response.status_code == 200
    assert stored(client, session_limits.LAST_SEEN) == before  # no session write
    assert "sessionid" not in response.cookies
    move_session_clock(client, session_limits.LAST_SEEN, 61)
    client.get(CASELOAD)
    assert int(timezone.now().timestamp()) - stored(client, session_limits.LAST_SEEN) < 5


def test_after_logging_in_again_the_mentor_is_back_on_the_page_they_asked_for(mo, mo_case, login):
    client = login(mo)
    move_session_clock(client, session_limits.LAST_SEEN, 45 * 60)
    case_page = f"/cases/{mo_case.pk}/"
    response = client.get(case_page)
    assert response.url == f"/login/?next={quote(case_page)}"
    login_page = client.get(response.url).content.decode()
    assert f'name="next" value="{case_page}"' in login_page
    response = log_in_through_the_page(client, "mo", next_url=case_page)
    assert response.status_code == 302
    assert response.url == case_page
    # After the password, the code from the app, and still on to the page asked for.
    assert client.get(case_page).url == f"/two-factor/?next={quote(case_page, safe='')}"
    response = make.give_code(client, mo, next_url=case_page)
    assert response.url == case_page
    assert client.get(case_page).status_code == 200


# --- The absolute cap --------------------------------------------------------------


def test_a_session_ends_8_hours_after_log_in_even_when_busy(mo, login):
    client = login(mo)
    move_session_clock(client, session_limits.LOGIN_AT, 8 * 3600 + 1)
    move_session_clock(client, session_limits.LAST_SEEN, 10)  # active a moment ago
    response = client.get(CASELOAD, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/login/?next={quote(CASELOAD)}"
    assert "You were logged out because you had been logged in for 8 hours." in page
    logout = AuditEvent.objects.get(action=AuditAction.LOGOUT, actor=mo)
    assert logout.summary == "session limit: 8 hours since log-in"


def test_a_day_of_steady_work_ends_at_the_cap_not_before(mo, login, monkeypatch):
    client = login(mo)
    start = stored(client, session_limits.LOGIN_AT)
    clock = {"now": start}
    monkeypatch.setattr(session_limits, "_now", lambda: clock["now"])
    for minute in range(20, 8 * 60, 20):  # a page every 20 minutes, all day
        clock["now"] = start + minute * 60
        assert client.get(CASELOAD).status_code == 200, f"logged out after {minute} minutes"
    clock["now"] = start + 8 * 3600
    assert client.get(CASELOAD).status_code == 302


def test_a_session_from_before_the_limits_starts_its_clocks_instead_of_ending(mo, login):
    client = login(mo)
    session = client.session
    del session[session_limits.LOGIN_AT], session[session_limits.LAST_SEEN]
    session.save()
    assert client.get(CASELOAD).status_code == 200
    assert isinstance(stored(client, session_limits.LOGIN_AT), int)


# --- Re-authentication before downloads ----------------------------------------------


@pytest.fixture
def ready_jdl(monkeypatch, programme):
    """A Justice Data Lab check with enough participants to download (the real
    60-person build is exercised in test_outcomes.py)."""
    rows = [["Surname", "Forename", "2006-01-01", "Male", "2024-01-01", "", "", "X", "A1"]] * 60
    monkeypatch.setattr(
        outcome_views.jdl,
        "build",
        lambda *args: SimpleNamespace(rows=rows, problems=[], ready=True),
    )
    today = timezone.localdate().isoformat()
    query = f"programme={programme.pk}&index_from=2020-01-01&index_to={today}&download=1"
    return f"{reverse('outcomes:jdl_export')}?{query}"


def exports() -> int:
    return AuditEvent.objects.filter(action=AuditAction.EXPORT).count()


@pytest.mark.parametrize("export", ["jdl", "audit"])
def test_an_export_without_a_recent_password_asks_for_it_and_downloads_nothing(
    export, ade, login, ready_jdl
):
    url = ready_jdl if export == "jdl" else AUDIT_CSV
    response = login(ade).get(url)
    assert response.status_code == 302
    assert response.url == f"/confirm-password/?next={quote(url, safe='')}"
    assert not response.get("Content-Disposition")
    assert exports() == 0


def test_the_confirm_page_says_what_and_why(ade, login):
    response = login(ade).get("/confirm-password/", {"next": AUDIT_CSV})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Confirm it's you</h1>" in page
    assert 'autocomplete="current-password"' in page
    assert 'name="next" value="/audit/?format=csv"' in page


@pytest.mark.parametrize("export", ["jdl", "audit"])
def test_the_right_password_goes_back_to_the_export_which_now_downloads(
    export, ade, login, ready_jdl
):
    url = ready_jdl if export == "jdl" else AUDIT_CSV
    client = login(ade)
    confirm = client.get(url).url
    response = client.post(confirm, {"password": make.PASSWORD, "next": url})
    assert response.status_code == 302
    assert response.url == url
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert exports() == 1
    confirmed = AuditEvent.objects.get(
        action=AuditAction.LOGIN, actor=ade, summary__startswith="password confirmed"
    )
    assert confirmed.summary == f"password confirmed, for {url.split('?')[0]}"
    assert confirmed.path == "/confirm-password/"


def test_a_wrong_password_is_refused_next_to_the_field_audited_and_counted(ade, login):
    client = login(ade)
    response = client.post("/confirm-password/", {"password": "not-my-password", "next": AUDIT_CSV})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page  # the summary on top…
    assert 'id="id_password_error"' in page  # …and the message by the field
    assert "That is not the password for this account." in page
    assert not stored(client, reauth.PASSWORD_AT)
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.actor == ade
    assert failed.summary == "username 'ade' (confirming the password)"
    assert "not-my-password" not in failed.summary
    attempt = AccessAttempt.objects.get(username="ade")
    assert attempt.failures_since_start == 1
    assert "not-my-password" not in attempt.post_data
    assert client.get(AUDIT_CSV).status_code == 302  # still not allowed


def test_repeated_wrong_passwords_lock_the_account_and_end_the_session(ade, login, settings):
    client = login(ade)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/confirm-password/", {"password": "guess"}).status_code == 400
    response = client.post("/confirm-password/", {"password": "guess"})
    assert "Too many failed log-ins" in response.content.decode()
    assert client.get(CASELOAD).status_code == 302  # logged out
    logout = AuditEvent.objects.get(action=AuditAction.LOGOUT, actor=ade)
    assert logout.summary == "locked out while confirming the password"
    # Locked: even the right password does not log in from here.
    assert log_in_through_the_page(Client(), "ade").status_code != 302


def test_after_reauth_minutes_the_password_is_asked_for_again(ade, login, settings):
    client = make.confirm_password(login(ade))
    assert client.get(AUDIT_CSV).status_code == 200
    move_session_clock(client, reauth.PASSWORD_AT, settings.REAUTH_MINUTES * 60 - 10)
    assert client.get(AUDIT_CSV).status_code == 200
    move_session_clock(client, reauth.PASSWORD_AT, settings.REAUTH_MINUTES * 60)
    response = client.get(AUDIT_CSV)
    assert response.status_code == 302
    assert response.url.startswith("/confirm-password/")


def test_logging_in_with_the_password_counts_as_confirming_it(ade, db):
    client = Client()
    assert log_in_through_the_page(client, "ade").status_code == 302
    make.give_code(client, ade)  # the second step of logging in asks for no password
    assert client.get(AUDIT_CSV).status_code == 200


@pytest.mark.parametrize(
    "evil",
    ["https://evil.example/phish", "//evil.example/phish", "http://testserver.evil.example/",
     "javascript:alert(1)"],
)  # fmt: skip
def test_an_open_redirect_in_next_is_refused(evil, ade, login):
    client = login(ade)
    page = client.get("/confirm-password/", {"next": evil}).content.decode()
    assert "evil" not in page and "javascript" not in page
    response = client.post("/confirm-password/", {"password": make.PASSWORD, "next": evil})
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_the_confirm_page_needs_a_log_in(db):
    response = Client().get("/confirm-password/", {"next": AUDIT_CSV})
    assert response.status_code == 302
    assert response.url.startswith("/login/?next=")


# --- Settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SESSION_IDLE_MINUTES": "half an hour"}, "SESSION_IDLE_MINUTES='half an hour' is not"),
        ({"SESSION_IDLE_MINUTES": "2"}, "SESSION_IDLE_MINUTES='2' must be at least 5"),
        ({"SESSION_MAX_HOURS": "0"}, "SESSION_MAX_HOURS='0' must be at least 1"),
        ({"SESSION_IDLE_MINUTES": "90", "SESSION_MAX_HOURS": "1"}, "longer than SESSION_MAX_HOURS"),
        ({"REAUTH_MINUTES": "0"}, "REAUTH_MINUTES='0' must be at least 1"),
    ],
)
def test_bad_session_settings_stop_start_up_naming_the_variable(tmp_path, env, named):
    result = load_settings(tmp_path, SECRET_KEY=GOOD_KEY, **env)
    assert result.returncode != 0
    assert named in result.stderr
