"""Log-in protection and response headers."""

from __future__ import annotations

from django.conf import settings

from . import make


def test_passwords_are_hashed_with_argon2(mo):
    assert mo.password.startswith("argon2")


def test_repeated_failed_log_ins_lock_the_account(mo, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "mo", "password": "not-his-password"})
    response = client.post("/login/", {"username": "mo", "password": make.PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_log_in_resets_the_failure_count(mo, client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/login/", {"username": "mo", "password": "nope"})
    assert client.post("/login/", {"username": "mo", "password": make.PASSWORD}).status_code == 302
    client.post("/logout/")
    client.post("/login/", {"username": "mo", "password": "nope"})
    assert client.post("/login/", {"username": "mo", "password": make.PASSWORD}).status_code == 302


def test_pages_carry_security_headers_and_are_not_cached(mo_case, mo, login):
    response = login(mo).get(f"/cases/{mo_case.pk}/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_log_in_page_needs_no_log_in_and_others_redirect(client):
    assert client.get("/login/").status_code == 200
    response = client.get("/caseload/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/caseload/")


def test_health_check_answers_without_log_in(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_log_out_needs_post(mo, login):
    assert login(mo).get("/logout/").status_code == 405
