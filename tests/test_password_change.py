"""Changing one's own password, with NCSC's advice: length over symbols, common
passwords refused, no timetable."""

from __future__ import annotations

from throughgate.core.models import AuditAction, AuditEvent

from . import make

NEW = "kettle violin harbour"


def test_mentor_changes_his_password_and_stays_logged_in(mo, login):
    client = login(mo)
    page = client.get("/password/").content.decode()
    assert "three random words" in page
    response = client.post(
        "/password/",
        {"old_password": make.PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    mo.refresh_from_db()
    assert mo.check_password(NEW)
    assert client.get("/caseload/").status_code == 200
    assert AuditEvent.objects.filter(
        actor=mo, action=AuditAction.UPDATE, summary="password changed"
    ).exists()


def test_a_wrong_old_password_is_refused_next_to_its_field(mo, login):
    client = login(mo)
    response = client.post(
        "/password/", {"old_password": "not it", "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and "old password was entered incorrectly" in page
    mo.refresh_from_db()
    assert mo.check_password(make.PASSWORD)


def test_a_short_or_common_new_password_is_refused_saying_why(mo, login):
    client = login(mo)
    for weak, why in (("sunshine", "too short"), ("password1234", "too common")):
        response = client.post(
            "/password/",
            {"old_password": make.PASSWORD, "new_password1": weak, "new_password2": weak},
        )
        assert response.status_code == 400
        assert why in response.content.decode(), weak
    mo.refresh_from_db()
    assert mo.check_password(make.PASSWORD)
