"""Acceptance: Pat, the prevention facilitator, records a course for police officers on
her phone, pastes in the delegates, enters two feedback forms, and sees the course and
its delegates in this quarter's line of the summary of delivery and income."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from throughgate.engines.training import quarter_of
from throughgate.prevention.training.models import Course, Feedback

from .conftest import assert_no_horizontal_scroll, axe_check, login_as


def test_pat_records_a_course_with_delegates_and_feedback_and_sees_it_in_the_summary(
    phone_page: Page, live_server, pat, ade
):
    page = phone_page
    today = timezone.localdate()
    login_as(page, live_server, "pat")
    page.goto(f"{live_server.url}/training/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Training and consultancy")
    axe_check(page)

    # The course: one day, today, for the police.
    page.get_by_role("button", name="Add a course or engagement").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a course or engagement")
    assert_no_horizontal_scroll(page)
    axe_check(page)
    page.get_by_role("group", name="Type").get_by_label("Course", exact=True).check()
    page.get_by_label("Title").fill("Child criminal exploitation: spotting the signs")
    page.get_by_role("group", name="Audience").get_by_label("Police").check()
    page.get_by_label("Client organisation").fill("Metropolitan Police")
    page.get_by_label("First day").fill(today.isoformat())
    page.get_by_label("Fee (£)").fill("350")
    # Pat is ticked as the trainer already; a bad last day first, to see the refusal.
    page.get_by_label("Last day").fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Save").tap()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_contain_text("cannot be before the first")
    axe_check(page)
    page.get_by_label("Last day").fill("")
    page.get_by_role("button", name="Save").tap()

    expect(page.get_by_role("status")).to_have_text("Course added.")
    course = Course.objects.get()
    expect(page).to_have_url(f"{live_server.url}/training/{course.pk}/")
    assert list(course.trainers.all()) == [pat]
    assert_no_horizontal_scroll(page)
    axe_check(page)

    # The delegates, pasted one per line; a blank name is refused by its line.
    page.get_by_role("button", name="Add delegates").tap()
    page.get_by_label("Delegates, one per line").fill(
        "Jo Bloggs, Metropolitan Police, PC\n, Metropolitan Police\nAmir Shah, Metropolitan Police"
    )
    page.get_by_role("group", name="Mark them all as").get_by_label("Attended").check()
    page.get_by_role("button", name="Add delegates").tap()
    expect(page.locator("#error-summary")).to_contain_text("Line 2: Enter the delegate's name.")
    axe_check(page)
    page.get_by_label("Delegates, one per line").fill(
        "Jo Bloggs, Metropolitan Police, PC\nDee Okafor, Metropolitan Police, PCSO\n"
        "Amir Shah, Metropolitan Police, Sergeant"
    )
    page.get_by_role("button", name="Add delegates").tap()
    expect(page.get_by_role("status")).to_have_text("3 delegates added.")
    delegates = page.get_by_role("table", name="Delegates on this course")
    expect(delegates.get_by_role("row")).to_have_count(4)  # the header and three
    expect(page.get_by_text("Attended: 3")).to_be_visible()

    # Two anonymous feedback forms.
    page.get_by_role("button", name="Record feedback").tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record feedback")
    assert_no_horizontal_scroll(page)
    axe_check(page)
    page.get_by_role("group", name="Overall, how good was it?").get_by_label("5").check()
    page.get_by_role("group", name="How relevant was it to your work?").get_by_label("4").check()
    page.get_by_role("button", name="Save and record another").tap()
    expect(page.get_by_role("status")).to_have_text("Feedback saved (1 response).")
    page.get_by_role("group", name="Overall, how good was it?").get_by_label("4").check()
    page.get_by_label("Comments").fill("Practical and honest.")
    page.get_by_role("button", name="Save and finish").tap()
    expect(page).to_have_url(f"{live_server.url}/training/{course.pk}/")
    assert Feedback.objects.filter(course=course).count() == 2
    scores = page.get_by_role("table", name="Feedback scores")
    expect(scores.get_by_role("row", name="Overall, how good was it?")).to_contain_text(
        "4.5 out of 5"
    )
    expect(page.get_by_text("Practical and honest.")).to_be_visible()
    axe_check(page)

    # This quarter's line of the summary counts the course and its three delegates.
    page.get_by_role("link", name="All courses").tap()
    page.get_by_role("link", name="Delivery and income by quarter").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Training: delivery and income by quarter"
    )
    expect(page.get_by_text("April to March", exact=False).first).to_be_visible()
    quarter = quarter_of(today)
    row = page.locator("#quarter-table").get_by_role("row", name=quarter.label)
    cells = row.get_by_role("cell")
    expect(cells.nth(0)).to_have_text("1")  # courses delivered
    expect(cells.nth(2)).to_have_text("3")  # delegates trained
    audience = page.locator("#audience-table").get_by_role("row", name=f"Q{quarter.number}")
    expect(audience.get_by_role("cell").nth(0)).to_have_text("3")  # police
    # The manager's list of outstanding invoices is not Pat's.
    expect(page.get_by_role("heading", name="Outstanding invoices")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    axe_check(page)
