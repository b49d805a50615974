"""Ade finds a planted duplicate on the "Possible duplicate people" page, compares the two
records side by side, keeps the older record with the newer one's spelling of the name,
and merges: the kept record now has both names, and the pair has left the list."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Page, expect

from tests import make
from throughgate.people import linkage
from throughgate.people.models import Person

from .conftest import axe_check, login_as


def test_admin_merges_a_planted_duplicate(page: Page, live_server, ade, cara, transactional_db):
    born = date(2006, 3, 12)
    jon = make.make_person(cara, forename="Jon", surname="Smyth", date_of_birth=born)
    john = make.make_person(
        cara, forename="John", surname="Smith", date_of_birth=born, postcode="SE15 4QF"
    )
    make.make_person(cara, forename="Kai", surname="Rivers", date_of_birth=born)
    assert linkage.review_everyone(ade).new == 1

    login_as(page, live_server, "ade")
    page.goto(f"{live_server.url}/people/duplicates/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Possible duplicate people")
    axe_check(page)
    page.get_by_role("link", name="Compare Jon Smyth and John Smith").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Are these the same person?")
    axe_check(page)

    # Keep Jon's record (the older one) but take John's spelling of both names.
    page.get_by_role("group", name="Which record stays").get_by_label(
        f"Record {jon.pk} (Jon Smyth)"
    ).check()
    page.get_by_role("group", name="First name: keep which value").get_by_label(
        f"record {john.pk}"
    ).check()
    page.get_by_role("group", name="Last name: keep which value").get_by_label(
        f"record {john.pk}"
    ).check()
    page.get_by_role("button", name="Merge into one record").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("John Smith")
    expect(page.get_by_text(f"record {john.pk} is now part of this record")).to_be_visible()
    assert page.url.endswith(f"/people/{jon.pk}/")
    assert not Person.objects.filter(pk=john.pk).exists()
    kept = Person.objects.get(pk=jon.pk)
    assert (kept.forename, kept.surname, kept.postcode) == ("John", "Smith", "SE15 4QF")
    assert {(a.forename, a.surname) for a in kept.aliases.all()} == {("Jon", "Smyth")}

    page.goto(f"{live_server.url}/people/duplicates/")
    expect(page.get_by_text("No possible duplicates to decide.")).to_be_visible()
