"""Training and consultancy for professionals: courses, delegates, feedback, invoices and
the quarterly summary of delivery and income (financial year April–March).

Pat (prevention facilitator) and Ade (manager) run training; only Ade records invoices
and payments; Fay (analyst) sees the quarterly summary only, with small numbers
hidden; mentors, the coordinator and the safeguarding lead see none of it."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from throughgate.core.concurrency import version_of
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.prevention.training import actions
from throughgate.prevention.training.forms import parse_delegates
from throughgate.prevention.training.models import Course, CourseStatus, Delegate, Feedback
from throughgate.prevention.training.summary import csv_rows, year_summary

from . import make

TODAY = timezone.localdate()


def events(action: str, model: str) -> int:
    return AuditEvent.objects.filter(action=action, object_type=f"training.{model}").count()


def course_post(**changes):
    data = {
        "kind": "course",
        "title": "County lines: what schools can do",
        "audience": "teachers",
        "client": "Lambeth Council",
        "client_contact": "Jo Bloggs, DSL lead",
        "start_date": (TODAY - timedelta(days=3)).isoformat(),
        "end_date": "",
        "sessions": "1",
        "hours": "3",
        "fee": "450.00",
        "notes": "",
    }
    data.update(changes)
    return data


# --- Courses ------------------------------------------------------------------------


def test_pat_adds_a_one_day_course_and_it_is_audited(pat, login):
    client = login(pat)
    response = client.post(reverse("training:course_new"), course_post(trainers=[pat.pk]))
    course = Course.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("training:course_detail", args=[course.pk])
    assert course.end_date == course.start_date  # a blank last day means one day
    assert course.fee == Decimal("450.00")
    assert list(course.trainers.all()) == [pat]
    assert course.status_on(TODAY) == CourseStatus.DELIVERED
    assert events(AuditAction.CREATE, "course") == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"start_date": "2026-05-10", "end_date": "2026-05-09"},
            "end_date",
            "The last day (09/05/2026) cannot be before the first (10/05/2026).",
        ),
        ({"fee": "-10"}, "fee", "A fee cannot be negative: enter 0 for free training."),
        ({"title": ""}, "title", "This field is required."),
        ({"trainers": []}, "trainers", "Choose at least one trainer."),
    ],
)
def test_bad_course_is_refused_with_a_message_by_the_field(pat, login, changes, field, message):
    data = course_post(trainers=[pat.pk])
    data.update(changes)
    response = login(pat).post(reverse("training:course_new"), data)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert "There is a problem" in response.content.decode()
    assert not Course.objects.exists()
    assert events(AuditAction.CREATE, "course") == 0


def test_edit_of_a_course_changed_since_it_was_opened_is_refused(pat, ade, login):
    course = make.make_course(pat)
    opened = version_of(course)
    actions.update_course(ade, course, {"title": "Renamed by Ade"})
    data = course_post(title="Renamed by Pat", trainers=[pat.pk], version=opened,
                       start_date=course.start_date.isoformat())  # fmt: skip
    response = login(pat).post(reverse("training:course_edit", args=[course.pk]), data)
    assert response.status_code == 400
    assert "after you opened it" in response.content.decode()
    course.refresh_from_db()
    assert course.title == "Renamed by Ade"


def test_edit_saves_changes_and_audits_the_fields(pat, login):
    course = make.make_course(pat)
    data = course_post(title="New title", trainers=[pat.pk], version=version_of(course),
                       start_date=course.start_date.isoformat(), cancelled="")  # fmt: skip
    response = login(pat).post(reverse("training:course_edit", args=[course.pk]), data)
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.title == "New title"
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="training.course")
    assert "title" in event.get().fields


def test_status_follows_delivery_invoice_payment_and_cancellation(pat, ade):
    planned = make.make_course(pat, start_date=TODAY + timedelta(days=10))
    assert planned.status_on(TODAY) == CourseStatus.PLANNED
    assert planned.status_on(TODAY + timedelta(days=10)) == CourseStatus.DELIVERED
    course = make.make_course(pat)
    assert course.status_on(TODAY) == CourseStatus.DELIVERED
    actions.record_invoice(ade, course, {"invoiced_on": TODAY, "invoice_reference": "INV-1"})
    course.refresh_from_db()
    assert course.status_on(TODAY) == CourseStatus.INVOICED
    actions.record_invoice(ade, course, {"paid_on": TODAY})
    course.refresh_from_db()
    assert course.status_on(TODAY) == CourseStatus.PAID
    actions.update_course(pat, planned, {"cancelled": True})
    planned.refresh_from_db()
    assert planned.status_on(TODAY) == CourseStatus.CANCELLED
    assert set(Course.objects.with_status("paid", TODAY)) == {course}
    assert set(Course.objects.with_status("cancelled", TODAY)) == {planned}


def test_an_invoiced_course_cannot_be_cancelled(pat, ade):
    course = make.make_course(pat)
    actions.record_invoice(ade, course, {"invoiced_on": TODAY, "invoice_reference": "INV-2"})
    with pytest.raises(ValidationError) as raised:
        actions.update_course(pat, course, {"cancelled": True})
    assert "invoiced" in raised.value.message_dict["cancelled"][0]


# --- Invoices and payments ------------------------------------------------------------


def test_ade_records_the_invoice_and_then_the_payment(pat, ade, login):
    course = make.make_course(pat)
    client = login(ade)
    url = reverse("training:invoice", args=[course.pk])
    sent = TODAY - timedelta(days=2)
    response = client.post(url, {"invoiced_on": sent.isoformat(), "invoice_reference": "TG-0042",
                                 "paid_on": "", "version": version_of(course)})  # fmt: skip
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.invoiced_on, course.invoice_reference, course.paid_on) == (sent, "TG-0042", None)
    paid = {"invoiced_on": sent.isoformat(), "invoice_reference": "TG-0042",
            "paid_on": TODAY.isoformat(), "version": version_of(course)}  # fmt: skip
    response = client.post(url, paid)
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.paid_on == TODAY
    assert events(AuditAction.UPDATE, "course") == 2


def test_paid_before_invoiced_is_refused(pat, ade, login):
    course = make.make_course(pat)
    response = login(ade).post(
        reverse("training:invoice", args=[course.pk]),
        {"invoiced_on": TODAY.isoformat(), "invoice_reference": "TG-1",
         "paid_on": (TODAY - timedelta(days=1)).isoformat()},
    )  # fmt: skip
    assert response.status_code == 400
    (message,) = response.context["form"].errors["paid_on"]
    assert "a course cannot be paid before it is invoiced" in message
    course.refresh_from_db()
    assert course.invoiced_on is None and course.paid_on is None


def test_payment_without_an_invoice_is_refused(pat, ade):
    course = make.make_course(pat)
    with pytest.raises(ValidationError) as raised:
        actions.record_invoice(ade, course, {"paid_on": TODAY})
    assert raised.value.message_dict["paid_on"] == ["Record the invoice before the payment."]


def test_invoice_needs_a_reference_and_cannot_be_dated_in_the_future(pat, ade):
    course = make.make_course(pat)
    with pytest.raises(ValidationError) as raised:
        actions.record_invoice(ade, course, {"invoiced_on": TODAY, "invoice_reference": " "})
    assert "invoice reference" in raised.value.message_dict["invoice_reference"][0]
    with pytest.raises(ValidationError) as raised:
        actions.record_invoice(
            ade, course,
            {"invoiced_on": TODAY + timedelta(days=1), "invoice_reference": "X"},
        )  # fmt: skip
    assert raised.value.message_dict["invoiced_on"] == ["The invoice date cannot be in the future."]


def test_pat_can_see_the_course_but_not_record_its_invoice(pat, login):
    course = make.make_course(pat)
    client = login(pat)
    url = reverse("training:invoice", args=[course.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"invoiced_on": TODAY.isoformat(),
                             "invoice_reference": "X"}).status_code == 403  # fmt: skip
    course.refresh_from_db()
    assert course.invoiced_on is None


# --- Delegates ------------------------------------------------------------------------


def test_parse_delegates_keeps_line_numbers_and_reads_commas_or_tabs():
    text = "Jo Bloggs, Met Police, PC\n\n  Sam Smith  \nAli Khan\tLambeth Council\tSocial worker\n"
    assert parse_delegates(text) == [
        {"line": 1, "name": "Jo Bloggs", "organisation": "Met Police", "role": "PC"},
        {"line": 3, "name": "Sam Smith", "organisation": "", "role": ""},
        {"line": 4, "name": "Ali Khan", "organisation": "Lambeth Council", "role": "Social worker"},
    ]


def test_pat_pastes_a_list_of_delegates_and_each_is_audited(pat, login):
    course = make.make_course(pat)
    text = "Jo Bloggs, Met Police, PC\nSam Smith, Met Police, Sergeant, Gangs unit\nAli Khan"
    response = login(pat).post(
        reverse("training:delegates_add", args=[course.pk]),
        {"delegates": text, "attendance": "attended"},
    )
    assert response.status_code == 302
    names = list(course.delegates.values_list("name", "organisation", "role", "attendance"))
    assert names == [
        ("Ali Khan", "", "", "attended"),
        ("Jo Bloggs", "Met Police", "PC", "attended"),
        ("Sam Smith", "Met Police", "Sergeant, Gangs unit", "attended"),
    ]
    assert events(AuditAction.CREATE, "delegate") == 3


def test_an_empty_delegate_name_is_refused_naming_the_line(pat, login):
    course = make.make_course(pat)
    text = "Jo Bloggs, Met Police\n, Met Police, PC\nSam Smith\nJo Bloggs, met police"
    response = login(pat).post(
        reverse("training:delegates_add", args=[course.pk]),
        {"delegates": text, "attendance": "booked"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors["delegates"]
    assert errors == [
        "Line 2: Enter the delegate's name.",
        "Line 4: Jo Bloggs (met police) is already on this course.",
    ]
    assert not Delegate.objects.exists()  # nothing half-saved
    assert events(AuditAction.CREATE, "delegate") == 0


def test_nobody_can_have_attended_a_course_not_yet_started(pat, login):
    course = make.make_course(pat, start_date=TODAY + timedelta(days=5))
    client = login(pat)
    response = client.post(
        reverse("training:delegates_add", args=[course.pk]),
        {"delegates": "Jo Bloggs", "attendance": "attended"},
    )
    assert response.status_code == 400
    (message,) = response.context["form"].errors["attendance"]
    assert message.startswith("Nobody can be marked “attended” yet: the course has not started")
    (booked,) = make.make_delegates(pat, course, ["Jo Bloggs"], attendance="booked")
    response = client.post(
        reverse("training:attendance", args=[course.pk]), {f"attendance-{booked.pk}": "attended"}
    )
    assert response.status_code == 400
    assert "Jo Bloggs: Nobody can be marked" in response.content.decode()
    with pytest.raises(ValidationError):
        actions.update_delegate(pat, booked, {"attendance": "attended"})
    booked.refresh_from_db()
    assert booked.attendance == "booked"


def test_register_saves_attendance_and_audits_each_change(pat, login):
    course = make.make_course(pat)
    jo, sam = make.make_delegates(pat, course, ["Jo Bloggs", "Sam Smith"], attendance="booked")
    response = login(pat).post(
        reverse("training:attendance", args=[course.pk]),
        {f"attendance-{jo.pk}": "attended", f"attendance-{sam.pk}": "booked"},
    )
    assert response.status_code == 302
    jo.refresh_from_db()
    assert jo.attendance == "attended"
    assert events(AuditAction.UPDATE, "delegate") == 1


def test_delegate_edit_corrects_a_name_with_optimistic_locking(pat, ade, login):
    course = make.make_course(pat)
    (jo,) = make.make_delegates(pat, course, [("Jo Blogs", "Met Police", "PC")])
    opened = version_of(jo)
    actions.update_delegate(ade, jo, {"role": "Sergeant"})
    response = login(pat).post(
        reverse("training:delegate_edit", args=[jo.pk]),
        {"name": "Jo Bloggs", "organisation": "Met Police", "role": "PC",
         "attendance": "attended", "version": opened},
    )  # fmt: skip
    assert response.status_code == 400
    jo.refresh_from_db()
    assert (jo.name, jo.role) == ("Jo Blogs", "Sergeant")
    response = login(pat).post(
        reverse("training:delegate_edit", args=[jo.pk]),
        {"name": "Jo Bloggs", "organisation": "Met Police", "role": "Sergeant",
         "attendance": "attended", "version": version_of(jo)},
    )  # fmt: skip
    assert response.status_code == 302
    jo.refresh_from_db()
    assert jo.name == "Jo Bloggs"


# --- Feedback -------------------------------------------------------------------------


def test_feedback_is_recorded_anonymously_and_summarised(pat, login):
    course = make.make_course(pat)
    client = login(pat)
    url = reverse("training:feedback_new", args=[course.pk])
    for overall in (5, 4, 4):
        comments = "Really useful" if overall == 5 else ""
        response = client.post(
            url, {"overall": overall, "relevance": "5", "another": "1", "comments": comments}
        )
        assert response.status_code == 302 and response.url == url
    assert Feedback.objects.filter(course=course).count() == 3
    assert events(AuditAction.CREATE, "feedback") == 3
    page = client.get(reverse("training:course_detail", args=[course.pk]))
    overall = page.context["feedback"][0]["summary"]
    assert (overall.n, overall.distribution) == (3, (0, 0, 0, 2, 1))
    assert overall.mean == pytest.approx(13 / 3)
    assert "Really useful" in page.content.decode()


@pytest.mark.parametrize("score", ["0", "6", "-1", "55"])
def test_a_feedback_score_outside_one_to_five_is_refused(pat, login, score):
    course = make.make_course(pat)
    response = login(pat).post(
        reverse("training:feedback_new", args=[course.pk]),
        {"overall": "4", "trainer_knowledge": score},
    )
    assert response.status_code == 400
    (message,) = response.context["form"].errors["trainer_knowledge"]
    assert message == f"Choose a score from 1 to 5, not {int(score)}."
    assert not Feedback.objects.exists()


def test_feedback_on_a_course_not_yet_started_is_refused(pat):
    course = make.make_course(pat, start_date=TODAY + timedelta(days=2))
    with pytest.raises(ValidationError, match="once the course has started"):
        actions.add_feedback(pat, course, {"overall": 5})


# --- Who sees what --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mo", "kim", "cara", "sam", "fay"])
def test_only_training_staff_see_courses_and_delegates(who, pat, request, login):
    course = make.make_course(pat)
    (delegate,) = make.make_delegates(pat, course, ["Jo Bloggs"])
    client = login(request.getfixturevalue(who))
    for url in (
        reverse("training:course_list"),
        reverse("training:course_detail", args=[course.pk]),
        reverse("training:delegate_edit", args=[delegate.pk]),
        reverse("training:delegates_add", args=[course.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Jo Bloggs" not in response.content.decode()


def test_course_detail_shows_delegates_to_pat_and_writes_a_view_event(pat, login):
    course = make.make_course(pat)
    make.make_delegates(pat, course, [("Jo Bloggs", "Met Police", "PC")])
    response = login(pat).get(reverse("training:course_detail", args=[course.pk]))
    assert response.status_code == 200
    assert "Jo Bloggs" in response.content.decode()
    assert events(AuditAction.VIEW, "course") == 1


@pytest.mark.parametrize(("who", "status"), [("mo", 404), ("cara", 404), ("sam", 404),
                                             ("fay", 200), ("pat", 200), ("ade", 200)])  # fmt: skip
def test_the_summary_is_for_training_staff_and_the_analyst(who, status, request, login):
    response = login(request.getfixturevalue(who)).get(reverse("training:summary"))
    assert response.status_code == status


def test_list_filters_by_audience_kind_status_and_year(pat, ade, login):
    police = make.make_course(pat, audience="police", title="Police course")
    make.make_course(pat, audience="teachers", title="Teachers course")
    later = make.make_course(pat, kind="consultancy", title="Advice",
                             start_date=TODAY + timedelta(days=30))  # fmt: skip
    client = login(pat)
    url = reverse("training:course_list")

    def titles(**query):
        return {c.title for c, _s in client.get(url, query).context["rows"]}

    assert titles(audience="police") == {police.title}
    assert titles(kind="consultancy") == {later.title}
    assert titles(status="planned") == {later.title}
    assert titles(status="delivered") == {"Police course", "Teachers course"}
    assert titles(year="1999", audience="nonsense") == {"Police course", "Teachers course",
                                                         "Advice"}  # fmt: skip


# --- The quarterly summary against a hand-counted fixture ------------------------------


def _course(pat, ade, title, audience, start, end=None, *, kind="course", fee="0",
            attended=0, invoiced=None, paid=None, cancelled=False):  # fmt: skip
    course = make.make_course(pat, title=title, audience=audience, kind=kind, fee=fee,
                              start_date=start, end_date=end or start)  # fmt: skip
    if attended:
        make.make_delegates(pat, course, [f"{title} delegate {i}" for i in range(attended)])
    if invoiced:
        actions.record_invoice(ade, course, {"invoiced_on": invoiced, "invoice_reference": title})
    if paid:
        actions.record_invoice(ade, course, {"paid_on": paid})
    if cancelled:
        actions.update_course(pat, course, {"cancelled": True})
    return course


@pytest.fixture
def year_2025(pat, ade):
    """Financial year 2025–26 (1 April 2025 to 31 March 2026), counted by hand:

    | course | audience | delivered | attended | fee | invoiced | paid |
    | A | teachers | 31 Mar 2025 (last year) | 3 | 100 | — | — |
    | B | police | 1 Apr 2025 (Q1) | 4 (+1 absent, 1 booked) | 500 | 30 Jun (Q1) | 1 Jul (Q2) |
    | C | youth workers | 28 Jun–1 Jul 2025 (Q2, by last day) | 6 | 1,200 | 2 Jul (Q2) | — |
    | D consultancy | teachers | 31 Dec 2025 (Q3) | 2 | 2,000 | 1 Jan 2026 (Q4) | 31 Mar (Q4) |
    | E | social workers | 1 Jan–31 Mar 2026 (Q4) | 5 | 300 | 31 Mar (Q4) | 1 Apr 2026 (next) |
    | F cancelled | police | 15 Feb 2026 | 2 | 999 | — | — |
    | G | teachers | 1 Apr 2026 (next year) | 7 | 100 | — | — |

    Feedback (overall): B gives 5, 5, 4, 4, 3; C gives 2, 4.
    """
    _course(pat, ade, "A", "teachers", date(2025, 3, 31), attended=3, fee="100")
    b = _course(pat, ade, "B", "police", date(2025, 4, 1), attended=4, fee="500",
                invoiced=date(2025, 6, 30), paid=date(2025, 7, 1))  # fmt: skip
    make.make_delegates(pat, b, ["B absent"], attendance="absent")
    make.make_delegates(pat, b, ["B booked"], attendance="booked")
    c = _course(pat, ade, "C", "youth_workers", date(2025, 6, 28), date(2025, 7, 1), attended=6,
                fee="1200", invoiced=date(2025, 7, 2))  # fmt: skip
    _course(pat, ade, "D", "teachers", date(2025, 12, 31), kind="consultancy", attended=2,
            fee="2000", invoiced=date(2026, 1, 1), paid=date(2026, 3, 31))  # fmt: skip
    _course(pat, ade, "E", "social_workers", date(2026, 1, 1), date(2026, 3, 31), attended=5,
            fee="300", invoiced=date(2026, 3, 31), paid=date(2026, 4, 1))  # fmt: skip
    _course(pat, ade, "F", "police", date(2026, 2, 15), attended=2, fee="999", cancelled=True)
    _course(pat, ade, "G", "teachers", date(2026, 4, 1), attended=7, fee="100")
    for score in (5, 5, 4, 4, 3):
        actions.add_feedback(pat, b, {"overall": score})
    for score in (2, 4):
        actions.add_feedback(pat, c, {"overall": score})
    return {"b": b, "c": c}


def test_quarterly_summary_matches_the_hand_count(year_2025):
    s = year_summary(2025, TODAY, suppress=False, with_outstanding=True)
    assert s.label == "2025–26"
    assert [(r.courses, r.consultancy) for r in s.rows] == [(1, 0), (1, 0), (0, 1), (1, 0)]
    assert [r.delegates_total for r in s.rows] == [4, 6, 2, 5]
    assert [r.delegates["police"] for r in s.rows] == [4, 0, 0, 0]
    assert [r.delegates["youth_workers"] for r in s.rows] == [0, 6, 0, 0]
    assert [r.delegates["teachers"] for r in s.rows] == [0, 0, 2, 0]
    assert [r.delegates["social_workers"] for r in s.rows] == [0, 0, 0, 5]
    assert [r.invoiced for r in s.rows] == [500, 1200, 0, 2300]
    assert [r.paid for r in s.rows] == [0, 500, 0, 2000]
    assert (s.total.courses, s.total.consultancy, s.total.delegates_total) == (3, 1, 17)
    assert (s.total.invoiced, s.total.paid) == (Decimal("4000.00"), Decimal("2500.00"))
    assert s.rows[0].feedback.n == 5 and s.rows[0].feedback.mean == pytest.approx(4.2)
    assert s.rows[1].feedback.mean == pytest.approx(3.0)  # staff see a mean of 2
    assert s.total.feedback.mean == pytest.approx(27 / 7)
    # Outstanding (invoiced, not paid) is as of today, whatever the year: C only.
    assert [(o.course.title, o.days) for o in s.outstanding] == [
        ("C", (TODAY - date(2025, 7, 2)).days)
    ]


def test_the_analyst_sees_small_delegate_counts_suppressed(year_2025):
    s = year_summary(2025, TODAY, suppress=True, with_outstanding=False)
    assert [str(r.delegates_cell) for r in s.rows] == ["[c]", "6", "[c]", "5"]
    assert str(s.total.delegates_cell) == "17"
    assert [str(c) for c in s.audience_cells] == ["[c]", "[c]", "6", "5", "0"]
    assert s.outstanding is None
    assert s.rows[0].feedback.mean == pytest.approx(4.2)  # five responses: enough
    assert s.rows[1].feedback.mean_text == "too few responses to summarise"
    assert [r.invoiced for r in s.rows] == [500, 1200, 0, 2300]  # income is not personal


def test_summary_page_for_each_role(year_2025, ade, pat, fay, login):
    url = reverse("training:summary") + "?year=2025"
    body = login(ade).get(url).content.decode()
    assert "Outstanding invoices" in body and "April to March" in body
    assert '<svg class="chart" id="training-income"' in body
    pat_body = login(pat).get(url).content.decode()
    assert "Outstanding invoices" not in pat_body
    fay_page = login(fay).get(url)
    fay_body = fay_page.content.decode()
    assert "[c]" in fay_body and "too few responses to summarise" in fay_body
    assert "Outstanding invoices" not in fay_body
    assert "B delegate" not in fay_body and "Lambeth" not in fay_body


def test_csv_download_has_the_same_figures(year_2025, ade, fay, login):
    url = reverse("training:summary") + "?year=2025&format=csv"
    response = login(ade).get(url)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, q1, *_rest, total = rows
    assert header[:7] == ["Financial year", "Quarter", "From", "To", "Courses delivered",
                          "Consultancy engagements delivered", "Delegates trained"]  # fmt: skip
    assert q1[:7] == ["2025–26", "Q1", "2025-04-01", "2025-06-30", "1", "0", "4"]
    assert total[1] == "Whole year" and total[6] == "17"
    assert total[header.index("Fees invoiced (£)")] == "4000.00"
    fay_rows = list(csv.reader(io.StringIO(login(fay).get(url).content.decode())))
    assert fay_rows[1][6] == "[c]"
    assert not any(h.startswith("Delegates trained:") for h in fay_rows[0])


def test_summary_query_count_does_not_grow_with_the_number_of_courses(year_2025, pat, ade):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            s = year_summary(2025, TODAY, suppress=False, with_outstanding=True)
            csv_rows(s)
        return len(captured)

    before = queries()
    for i in range(15):
        _course(pat, ade, f"More {i}", "police", date(2025, 5, 1) + timedelta(days=i * 20),
                attended=2, fee="100", invoiced=date(2025, 12, 1))  # fmt: skip
    assert queries() == before


def test_summary_ignores_a_bad_year_in_the_query_string(fay, login):
    for bad in ("99999", "abc", "-1", "2025.5"):
        response = login(fay).get(reverse("training:summary"), {"year": bad})
        assert response.status_code == 200


# --- The demo -------------------------------------------------------------------------


def test_demo_training_is_recorded_through_the_actions_and_believable(db):
    from throughgate.demo import seed as demo
    from throughgate.demo.training import set_up_training

    seeder = demo._Seeder(0.1)
    seeder.set_up_staff()
    set_up_training(seeder)
    courses = list(Course.objects.all())
    assert len(courses) >= 10
    statuses = {c.status_on(seeder.today) for c in courses}
    assert {"paid", "invoiced", "planned", "cancelled"} <= statuses
    outstanding = [c for c in courses if c.invoiced_on and not c.paid_on]
    assert any((seeder.today - c.invoiced_on).days > 30 for c in outstanding)
    assert Delegate.objects.filter(attendance="attended").count() > 50
    assert not Delegate.objects.filter(
        attendance__in=["attended", "absent"], course__start_date__gt=seeder.today
    ).exists()
    assert Feedback.objects.exists()
    assert events(AuditAction.CREATE, "course") == len(courses)
    last_year = year_summary(
        seeder.today.year - (1 if seeder.today.month >= 4 else 2), seeder.today,
        suppress=False, with_outstanding=False,
    )  # fmt: skip
    assert last_year.total.delegates_total > 0 and last_year.total.paid > 0
    set_up_training(seeder)  # a second run adds nothing
    assert Course.objects.count() == len(courses)
