"""Acceptance (issue 4): Cara opens a new referral of a young person held in Feltham, sees
the ranked suggestions with their reasons, and accepts one; Mo sees his new mentee on his
phone's home page. Kim, whose Feltham clearance has expired, is not suggested, and the
page says why."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import make
from throughgate.casework.models import AssignedHow, Case
from throughgate.custody.establishments import load_register
from throughgate.custody.models import Establishment
from throughgate.mentors import actions as mentor_actions
from throughgate.mentors.models import LivedExperienceCategory

from .conftest import assert_no_horizontal_scroll, axe_check, login_as


@pytest.fixture
def feltham(transactional_db):
    # Loaded by data migrations, but a live-server test's database is flushed after
    # every test, so an earlier browser test may have emptied these tables.
    if not Establishment.objects.filter(code="FMI").exists():
        load_register(Establishment)
    if not LivedExperienceCategory.objects.exists():
        importlib.import_module("throughgate.mentors.migrations.0002_categories_and_courses").add(
            apps, None
        )
    return Establishment.objects.get(code="FMI")


@pytest.fixture
def referral_from_feltham(cara, programme, feltham):
    person = make.make_person(
        cara, forename="Tyron", surname="Campbell", borough="Southwark", first_language="Somali"
    )
    make.make_episode(person, cara, prison="FMI")
    mentor_actions.set_matching_needs(
        cara, person, LivedExperienceCategory.objects.filter(name="Gang involvement"), ""
    )
    return make.make_referral(
        person=person, actor=cara, referral_date=timezone.localdate() - timedelta(days=1)
    )


def test_coordinator_accepts_a_suggested_mentor_and_the_mentor_sees_the_new_mentee(
    page: Page, phone_page: Page, live_server, cara, mo, kim, feltham, referral_from_feltham
):
    mo_profile = make.make_mentor(
        mo, cara, cleared=[feltham], boroughs_known=["Southwark", "Lambeth"],
        languages=["English", "Somali"], lived_experience=["Custody", "Gang involvement"],
    )  # fmt: skip
    mo_profile.custody_history.add(feltham)
    make.make_mentor(kim, cara, expired=[feltham], gender="female")
    expired_on = timezone.localdate() - timedelta(days=20)

    login_as(page, live_server, "cara")
    page.get_by_role("link", name="Tyron Campbell").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral of Tyron Campbell")

    # Mo is suggested first, with his reasons in plain words.
    accept = page.get_by_role("region", name="Accept")
    choice = accept.get_by_role("group", name="Mentor")
    mo_radio = choice.get_by_role("radio", name="Mo Ahmed")
    expect(mo_radio).to_be_checked()
    expect(choice.locator(".suggestions li").first).to_contain_text(
        "has been in Feltham; shares lived experience: gang involvement; knows Southwark; "
        "speaks Somali; 6 of 6 places free"
    )
    # Kim is not offered, and the page says why.
    expect(choice.get_by_role("radio", name="Kim Walsh")).to_have_count(0)
    why_not = accept.locator("details.excluded")
    why_not.locator("summary").click()
    expect(why_not).to_contain_text(
        f"Kim Walsh: not cleared for {feltham.display_name} "
        f"(clearance expired {expired_on:%d/%m/%Y})"
    )
    axe_check(page)

    accept.get_by_label("Starting phase").select_option(label="In custody")
    accept.get_by_role("button", name="Accept and open a case").click()
    expect(page.get_by_role("status")).to_have_text(
        "Referral accepted: a case is open for Tyron Campbell."
    )
    case = Case.objects.get(referral=referral_from_feltham)
    assert case.mentor == mo
    assignment = case.mentor_assignments.get()
    assert (assignment.how, assignment.rank) == (AssignedHow.SUGGESTED, 1)
    axe_check(page)

    # Mo, on his phone, sees the new mentee at the top of his home page.
    login_as(phone_page, live_server, "mo")
    notice = phone_page.get_by_role("region", name="New mentee")
    expect(notice).to_contain_text("Tyron Campbell")
    expect(notice).to_contain_text("matched with you by Cara Jones")
    expect(notice).to_contain_text("Why you: has been in Feltham")
    assert_no_horizontal_scroll(phone_page)
    axe_check(phone_page)
    notice.get_by_role("button", name="Got it").click()
    expect(phone_page.get_by_role("region", name="New mentee")).to_have_count(0)
    expect(phone_page.get_by_role("link", name="Tyron Campbell")).to_be_visible()
