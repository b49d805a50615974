"""Acceptance (issue 6): Ade, the manager, runs an impact evaluation from the outcomes
dashboard with a comparison file, is told plainly what is wrong with a bad file, and
reads the report: the rates of both groups, the difference, the balance and its love
plot, and both groups' survival curves."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.test_evaluation_web import (  # noqa: F401 - fixtures
    cohort12,
    participants_frame,
    pool_for,
    small_minimum,
)
from throughgate.custody.establishments import load_register
from throughgate.custody.models import Establishment

from .conftest import assert_no_horizontal_scroll, axe_check, login_as


@pytest.fixture
def prisons(transactional_db):
    # Loaded by a data migration, but a live-server test's database is flushed after
    # every test, so an earlier browser test may have emptied the table.
    if not Establishment.objects.filter(code="ISI").exists():
        load_register(Establishment)


@pytest.fixture
def pool_files(prisons, cohort12, programme, tmp_path):  # noqa: F811 - the fixture
    pool = pool_for(participants_frame(programme))
    good = tmp_path / "national-pool.csv"
    pool.to_csv(good, index=False)
    bad = tmp_path / "old-pool.csv"
    pool.drop(columns=["prior_offences"]).to_csv(bad, index=False)
    return good, bad


def test_manager_runs_an_evaluation_and_reads_the_report(
    page: Page, live_server, ade, pool_files, run_jobs
):
    good, bad = pool_files
    login_as(page, live_server, "ade")
    page.get_by_role("navigation").get_by_role("link", name="Outcomes").click()
    page.get_by_role("button", name="Run an impact evaluation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Run an impact evaluation")
    axe_check(page)

    page.get_by_label("A comparison file (CSV or Parquet)").check()
    page.get_by_label("Comparison file", exact=True).set_input_files(str(bad))
    page.get_by_label("Comparisons per participant").fill("5")
    # Nobody in this cohort had been inside before, but some of the pool had: that alone
    # would tell them apart, so it is left out of the model.
    page.get_by_label("Earlier custodial sentences (ended before the index date)").uncheck()
    page.get_by_role("button", name="Run the evaluation").click()
    # It runs in the background worker; the page follows it and says why it was refused.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Impact evaluation of Custody")
    expect(page.get_by_role("heading", name="Waiting for the worker")).to_be_visible()
    axe_check(page)
    run_jobs()
    status = page.locator("#job-status")
    expect(status).to_contain_text("Refused", timeout=15_000)  # the page updates itself
    expect(status.get_by_role("alert")).to_contain_text(
        "old-pool.csv row 1: no column prior_offences"
    )
    status.get_by_role("link", name="Change the choices and run it again").click()

    # The choices are as they were; only the file has to be chosen again.
    expect(page.get_by_label("Comparisons per participant")).to_have_value("5")
    expect(page.get_by_label("Earlier custodial sentences (ended before the index date)")
           ).not_to_be_checked()  # fmt: skip
    page.get_by_label("A comparison file (CSV or Parquet)").check()
    page.get_by_label("Comparison file", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="Run the evaluation").click()
    expect(page.get_by_role("heading", name="Waiting for the worker")).to_be_visible()
    run_jobs()
    expect(status).to_contain_text("Finished", timeout=15_000)
    status.get_by_role("link", name="Open the result").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Impact evaluation: Custody")
    results = page.get_by_role("table", name="Participants against the matched comparison group")
    rate_row = results.get_by_role("row", name="One-year proven reoffending rate")
    expect(rate_row).to_contain_text("25.0%")
    expect(rate_row).to_contain_text("60.0%")
    expect(rate_row).to_contain_text("-35.0 points")
    expect(page.get_by_text("Of 100 typical participants, 25 would be proven")).to_be_visible()
    love = page.get_by_role("img", name="Balance")
    expect(love).to_be_visible()
    survival = page.get_by_role("img", name="Per cent not proven to have reoffended")
    expect(survival).to_be_visible()
    expect(survival).to_contain_text("Matched comparison group")
    checkpoints = page.get_by_role("table", name="Per cent not proven to have reoffended")
    expect(checkpoints.get_by_role("row", name="365")).to_contain_text("75.0%")
    expect(checkpoints.get_by_role("row", name="365")).to_contain_text("40.0%")
    axe_check(page)

    # Back on the dashboard the run is listed, and its link opens it again.
    page.get_by_role("link", name="Back to outcomes").click()
    page.get_by_role("table", name="Recent impact evaluations").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Impact evaluation")


def test_the_report_reads_on_a_phone(phone_page: Page, live_server, ade, pool_files):
    from throughgate.outcomes import actions

    good, _bad = pool_files
    from django.core.files.uploadedfile import SimpleUploadedFile

    from throughgate.casework.models import Programme

    run = actions.run_evaluation(ade, {
        "programme": Programme.objects.get(), "pool_source": "file",
        "pool_file": SimpleUploadedFile(good.name, good.read_bytes()),
        "covariates": ["age_at_index", "prior_offences"], "exact": ["gender"], "k": 5,
        "caliper": 0.2,
    })  # fmt: skip
    login_as(phone_page, live_server, "ade")
    phone_page.goto(f"{live_server.url}/outcomes/evaluations/{run.pk}/")
    expect(phone_page.get_by_role("img", name="Balance")).to_be_visible()
    assert_no_horizontal_scroll(phone_page)
