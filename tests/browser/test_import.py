"""Acceptance (issue 8): Ade imports a small people file. The first upload has a date that
does not exist; the check names its row and column and nothing is saved. The corrected
file is checked clean (the columns chosen before are offered again) and imported."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from throughgate.people.models import Person

from .conftest import axe_check, login_as

HEADER = "ID,First name,Last name,DOB\n"
BAD = HEADER + "P1,Jo,Bloggs,01/02/2006\nP2,Sam,Oduya,31/02/2009\n"
GOOD = BAD.replace("31/02/2009", "28/02/2009")


def test_ade_imports_a_file_fixing_a_problem_first(
    page: Page, live_server, ade, run_jobs, tmp_path
):
    bad = tmp_path / "old-people.csv"
    bad.write_text(BAD)
    login_as(page, live_server, "ade")
    page.goto(f"{live_server.url}/imports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import from spreadsheets")
    axe_check(page)

    page.get_by_label("Name of a new source").fill("Old spreadsheets 2010-2024")
    page.get_by_label("What the file holds").select_option("people")
    page.get_by_label("The file (.csv or .xlsx)").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and match the columns").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Match the columns of old-people.csv")
    expect(page.get_by_label("Date of birth", exact=True)).to_have_value("DOB")
    axe_check(page)
    page.get_by_role("button", name="Check every row").click()
    expect(page.get_by_role("heading", name="Waiting for the worker")).to_be_visible()
    run_jobs()
    status = page.locator("#job-status")
    expect(status).to_contain_text("Finished", timeout=15_000)
    status.get_by_role("link", name="Open the result").click()

    problems = page.get_by_role("table", name="Problems by row and column")
    expect(problems.get_by_role("row")).to_have_count(2)  # the header and one problem
    expect(problems.get_by_role("row").nth(1)).to_contain_text("3")
    expect(problems.get_by_role("row").nth(1)).to_contain_text("DOB")
    expect(problems.get_by_role("row").nth(1)).to_contain_text("31/02/2009 is not a date")
    expect(page.get_by_role("button", name="Import people")).to_have_count(0)
    axe_check(page)
    assert Person.objects.count() == 0

    good = tmp_path / "old-people-fixed.csv"
    good.write_text(GOOD)
    page.get_by_role("link", name="Upload the corrected file").click()
    page.get_by_label("Where the file comes from").select_option(label="Old spreadsheets 2010-2024")
    page.get_by_label("What the file holds").select_option("people")
    page.get_by_label("The file (.csv or .xlsx)").set_input_files(str(good))
    page.get_by_role("button", name="Upload and match the columns").click()
    expect(page.get_by_text("Your choices from the last import from this source")).to_be_visible()
    page.get_by_role("button", name="Check every row").click()
    run_jobs()
    expect(status).to_contain_text("Finished", timeout=15_000)
    status.get_by_role("link", name="Open the result").click()
    expect(page.get_by_role("heading", name="Ready to import")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Import people").click()
    run_jobs()
    expect(status).to_contain_text("Finished", timeout=15_000)
    status.get_by_role("link", name="Open the result").click()
    expect(page.get_by_text("Status: Imported")).to_be_visible()
    expect(page.get_by_role("table", name="What the file held")).to_contain_text("2")
    assert sorted(Person.objects.values_list("forename", flat=True)) == ["Jo", "Sam"]
