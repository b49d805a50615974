"""Two-factor log-in (issue 9): after the password, a code from an authenticator app for
everyone who sees personal data, with single-use recovery codes."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from throughgate import cli
from throughgate.accounts import two_factor
from throughgate.core.models import AuditAction, AuditEvent

from . import make


def password_only(username: str) -> Client:
    """A client that has typed the right password on the log-in page, and nothing more."""
    client = Client()
    response = client.post("/login/", {"username": username, "password": make.PASSWORD})
    assert response.status_code == 302
    return client


def code_from(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def test_a_mentor_with_only_a_password_is_sent_to_set_up_an_app_not_to_his_case(mo, mo_case):
    client = password_only("mo")
    case_page = f"/cases/{mo_case.pk}/"
    response = client.get(case_page)
    assert response.status_code == 302
    assert response.url == f"/two-factor/set-up/?next={quote(case_page, safe='')}"
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(mo_case.pk))


def test_a_mentor_with_an_app_is_asked_for_its_code_before_any_page(mo, mo_case):
    make.authenticator_app(mo)
    client = password_only("mo")
    for page in ("/", "/caseload/", f"/cases/{mo_case.pk}/", f"/people/{mo_case.person_id}/"):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response.url.startswith("/two-factor/?next="), page


def test_the_analyst_who_sees_no_personal_data_needs_no_code(fay):
    client = password_only("fay")
    assert client.get("/reports/").status_code == 200


def test_the_code_from_the_app_opens_the_page_asked_for_and_is_audited(mo, mo_case):
    device = make.authenticator_app(mo)
    client = password_only("mo")
    case_page = f"/cases/{mo_case.pk}/"
    response = client.post("/two-factor/", {"code": code_from(device), "next": case_page})
    assert response.status_code == 302 and response.url == case_page
    assert client.get(case_page).status_code == 200
    assert AuditEvent.objects.filter(
        actor=mo, action=AuditAction.LOGIN, summary="two-factor code from the app"
    ).exists()


def test_a_wrong_code_is_refused_next_to_the_field_and_audited(mo):
    make.authenticator_app(mo)
    client = password_only("mo")
    response = client.post("/two-factor/", {"code": "123 456"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert "That code is not right" in page
    assert client.get("/caseload/").url.startswith("/two-factor/")
    assert AuditEvent.objects.filter(
        actor=mo, action=AuditAction.LOGIN_FAILED, summary="wrong two-factor code (1)"
    ).exists()


def test_five_wrong_codes_end_the_session(mo):
    make.authenticator_app(mo)
    client = password_only("mo")
    for _ in range(4):
        assert client.post("/two-factor/", {"code": "000000"}).status_code == 400
    response = client.post("/two-factor/", {"code": "000000"})
    assert response.status_code == 403
    assert "Too many wrong codes" in response.content.decode()
    assert client.get("/caseload/").url.startswith("/login/")
    assert AuditEvent.objects.filter(
        actor=mo, action=AuditAction.LOGOUT, summary="5 wrong two-factor codes"
    ).exists()


def test_a_code_cannot_be_used_twice(mo):
    device = make.authenticator_app(mo)
    code = make.current_code(device)
    first = password_only("mo")
    assert first.post("/two-factor/", {"code": code}).status_code == 302
    second = password_only("mo")  # someone who watched the code being typed
    assert second.post("/two-factor/", {"code": code}).status_code == 400


def test_setting_up_an_app_shows_a_qr_code_then_ten_recovery_codes(mo):
    client = password_only("mo")
    page = client.get("/two-factor/set-up/?next=/caseload/").content.decode()
    assert "<svg" in page and "QR code for the Throughgate account" in page
    key = re.search(r'class="secret-key"[^>]*>([A-Z2-7 ]+)<', page).group(1)
    assert len(key.replace(" ", "")) >= 32  # a 160-bit secret in base 32
    device = TOTPDevice.objects.get(user=mo, confirmed=False)
    # The same secret on a reload, so a code already scanned keeps working.
    assert key in client.get("/two-factor/set-up/").content.decode()
    response = client.post("/two-factor/set-up/", {"code": code_from(device), "next": "/caseload/"})
    assert response.status_code == 200
    codes = re.findall(
        r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", response.content.decode()
    )
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/caseload/").status_code == 200  # verified by setting up
    assert AuditEvent.objects.filter(actor=mo, summary="authenticator app set up").exists()


def test_a_wrong_code_at_set_up_turns_nothing_on(mo):
    client = password_only("mo")
    client.get("/two-factor/set-up/")
    response = client.post("/two-factor/set-up/", {"code": "12345"})
    assert response.status_code == 400
    assert "Type the 6 digits the app shows" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=mo, confirmed=True).exists()
    assert client.get("/caseload/").status_code == 302


def test_someone_with_only_the_password_cannot_replace_an_existing_app(mo):
    make.authenticator_app(mo)
    client = password_only("mo")
    response = client.get("/two-factor/set-up/")
    assert response.url.startswith("/two-factor/?next=")
    assert TOTPDevice.objects.filter(user=mo).count() == 1


def test_a_recovery_code_works_once(mo):
    make.authenticator_app(mo)
    codes = two_factor.issue_recovery_codes(mo, mo)
    client = password_only("mo")
    typed = codes[3].upper().replace("-", " ")  # typed from paper, any case, a space
    assert client.post("/two-factor/", {"code": typed}).status_code == 302
    assert client.get("/caseload/").status_code == 200
    assert two_factor.recovery_codes_left(mo) == 9
    again = password_only("mo")
    assert again.post("/two-factor/", {"code": codes[3]}).status_code == 400


def test_new_recovery_codes_need_the_password_again_and_replace_the_old(mo, login):
    make.authenticator_app(mo)
    old = two_factor.issue_recovery_codes(mo, mo)
    client = login(mo)
    response = client.post("/two-factor/recovery-codes/")
    assert response.url.startswith("/confirm-password/")
    assert set(StaticToken.objects.filter(device__user=mo).values_list("token", flat=True)) == set(
        old
    )
    make.confirm_password(client)
    response = client.post("/two-factor/recovery-codes/")
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=mo).values_list("token", flat=True)) == set(
        new
    )


def test_manager_resets_a_lost_phone_from_the_command_line(mo, capsys):
    make.authenticator_app(mo)
    two_factor.issue_recovery_codes(mo, mo)
    assert cli.main(["two-factor", "reset", "mo"]) == 0
    assert "reset for mo" in capsys.readouterr().out
    assert two_factor.app_device(mo) is None and two_factor.recovery_codes_left(mo) == 0
    assert AuditEvent.objects.filter(summary="two-factor log-in reset").exists()
    client = password_only("mo")
    assert client.get("/caseload/").url.startswith("/two-factor/set-up/")


def test_resetting_an_unknown_user_fails_with_a_message(db, capsys):
    assert cli.main(["two-factor", "reset", "nobody"]) == 1
    assert "no user called 'nobody'" in capsys.readouterr().err


def test_with_two_factor_turned_off_the_password_is_enough(mo, mo_case, settings):
    settings.TWO_FACTOR_REQUIRED = False
    client = password_only("mo")
    assert client.get(f"/cases/{mo_case.pk}/").status_code == 200


@pytest.mark.parametrize("path", ["/login/", "/healthz"])
def test_pages_without_a_log_in_need_no_code(path, db):
    assert Client().get(path).status_code == 200


def test_a_half_logged_in_mentor_can_log_out(mo):
    make.authenticator_app(mo)
    client = password_only("mo")
    assert client.post("/logout/").status_code == 302
    assert client.get("/two-factor/").url.startswith("/login/")


def test_a_right_code_straight_after_a_wrong_one_waits_its_turn(mo):
    """django-otp doubles the wait after each wrong code, so codes cannot be tried at
    speed; the page says how long to wait rather than calling a right code wrong."""
    device = make.authenticator_app(mo)
    client = password_only("mo")
    right = code_from(device)
    wrong = "000000" if right != "000000" else "111111"
    assert client.post("/two-factor/", {"code": wrong}).status_code == 400
    response = client.post("/two-factor/", {"code": right})
    assert response.status_code == 400
    assert "Too many wrong codes in a row. Wait 1 second," in response.content.decode()
