"""Issue 8 in a real browser: Ade answers a subject access request from the person's page
(reference typed, identity check ticked, then the ZIP downloads), and makes an API token,
sees it once, and revokes it. Every page passes axe; the forms are worked by label, as a
screen reader user would."""

from __future__ import annotations

import zipfile

from playwright.sync_api import Page, expect

from tests import make
from throughgate.api.models import ApiToken
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.people import subject_access as sar

from .conftest import axe_check, login_as


def test_ade_exports_everything_held_about_a_person(page: Page, live_server, ade, mo, tmp_path):
    case = make.make_case(mo)
    person = case.person
    login_as(page, live_server, "ade")
    page.goto(f"{live_server.url}/people/{person.pk}/")
    page.get_by_role("link", name="Subject access export").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Subject access export")
    axe_check(page)

    # Nothing ticked or typed: both problems named at the top and beside their fields.
    page.get_by_role("button", name="Confirm and download").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_text("Confirm that you have checked who is asking.").first).to_be_visible()
    axe_check(page)
    assert not AuditEvent.objects.filter(object_type=sar.REQUEST_OBJECT_TYPE).exists()

    page.get_by_label("Request reference").fill("SAR 2026-014, received 20 Nov")
    page.get_by_label("I have checked the requester's identity").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Confirm and download").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.name.startswith(f"subject-access-{person.pk}-") and saved.suffix == ".zip"
    with zipfile.ZipFile(saved) as archive:
        names = set(archive.namelist())
    assert "README.txt" in names and any(n.endswith(".json") for n in names)
    export = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert export.actor == ade and export.person_id == person.pk
    assert "SAR 2026-014" in export.summary


def test_ade_makes_a_token_sees_it_once_and_revokes_it(page: Page, live_server, ade):
    login_as(page, live_server, "ade")
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your API tokens")
    axe_check(page)

    page.get_by_role("button", name="Make a token").click()  # nothing chosen
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    axe_check(page)

    page.get_by_label("What is it for?").fill("Case system sync")
    page.get_by_role("group", name="What may it do?").get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Make a token").click()
    secret = page.get_by_label("Token").input_value()
    assert secret.startswith("tg_")
    axe_check(page)
    token = ApiToken.objects.get(user=ade, name="Case system sync")
    assert token.is_active

    page.goto(f"{live_server.url}/api/tokens/")  # come back later: it is not shown again
    expect(page.get_by_label("Token")).to_have_count(0)
    expect(page.get_by_role("table", name="Your API tokens")).to_contain_text("Case system sync")
    page.get_by_role("button", name="Revoke Case system sync").click()
    expect(page.get_by_text("The token “Case system sync” no longer works.")).to_be_visible()
    axe_check(page)
    token.refresh_from_db()
    assert not token.is_active
