"""The funder / board report (issue 8, acceptance 1): figures checked against a
hand-counted fixture, small numbers hidden on the page, in the CSV, the XLSX and the PDF,
and the suppression rules themselves (engines.disclosure) with a property test."""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import make
from throughgate.casework import actions as casework_actions
from throughgate.casework import safeguarding
from throughgate.casework.models import ProgrammeKind
from throughgate.core.models import AuditAction, AuditEvent, Job, JobStatus
from throughgate.custody import actions as custody_actions
from throughgate.custody.models import ItemKind, ItemStatus
from throughgate.engines.disclosure import Mark, mark_count, mark_table, pinned_cells, share
from throughgate.engines.funder_periods import financial_year, last_full_quarter, mature_cohort
from throughgate.engines.reoffending import is_mature
from throughgate.reports import funder
from throughgate.reports.figures import REGISTRY, Period
from throughgate.reports.models import FunderReportFile

THRESHOLD = 5
SMALL = "<5"


# --- Suppression rules (pure) -----------------------------------------------------------


def test_a_count_from_one_to_four_is_shown_as_less_than_five_and_zero_is_shown():
    assert [str(mark_count(n, THRESHOLD)) for n in (0, 1, 4, 5, 1234)] == [
        "0", SMALL, SMALL, "5", "1,234",
    ]  # fmt: skip


def test_one_small_cell_beside_a_visible_total_takes_the_next_smallest_with_it():
    table = mark_table([12, 3, 7, 0], THRESHOLD)
    assert [str(c) for c in table.cells] == ["12", SMALL, "[c]", "0"]
    assert str(table.total) == "22"


def test_cells_that_the_total_and_the_markers_pin_down_hide_the_total_too():
    # 7 = a + b + c with a, b in 1..4 and c >= 5 has one answer: 1 + 1 + 5.
    table = mark_table([5, 1, 1], THRESHOLD)
    assert [str(c) for c in table.cells] == ["[c]", SMALL, SMALL]
    assert table.total.hidden


def test_a_percentage_is_hidden_when_its_count_or_its_total_is():
    shown, small = mark_count(40, THRESHOLD), mark_count(3, THRESHOLD)
    assert share(mark_count(30, THRESHOLD), shown) == "75%"
    assert share(small, shown) == "[c]"
    assert share(shown, Mark(40, "complement", THRESHOLD)) == "[c]"
    assert share(mark_count(0, THRESHOLD), mark_count(0, THRESHOLD)) == "–"


def _possible_values(table, cap):
    """Every assignment of the hidden cells a reader could believe: within what each marker
    says, adding up (with the visible cells) to the visible total. Brute force."""
    hidden = [i for i, c in enumerate(table.cells) if c.hidden]
    rest = table.total.value - sum(c.value for c in table.cells if not c.hidden)
    ranges = []
    for i in hidden:
        low, high = table.cells[i].bounds()
        ranges.append(range(int(low), int(min(high, cap)) + 1))
    return hidden, [combo for combo in itertools.product(*ranges) if sum(combo) == rest]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=4))
def test_no_small_cell_survives_and_no_hidden_cell_can_be_worked_out(values):
    table = mark_table(values, THRESHOLD)
    for value, cell in zip(values, table.cells, strict=True):
        assert cell.value == value
        if 0 < value < THRESHOLD:
            assert cell.hidden and str(cell) == SMALL
        if not cell.hidden:
            assert str(cell) == f"{value:,}"
    if 0 < table.total.value < THRESHOLD:
        assert table.total.hidden
    if table.total.hidden:
        return
    hidden = [c for c in table.cells if c.hidden]
    assert len(hidden) != 1, "one hidden cell is the total minus the visible ones"
    assert pinned_cells(table.cells, table.total) == []
    # And independently of pinned_cells: each hidden cell could be at least two values.
    positions, worlds = _possible_values(table, cap=table.total.value)
    assert worlds, "the true values must be among the possible ones"
    for k in range(len(positions)):
        assert len({world[k] for world in worlds}) >= 2


@given(st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=12))
def test_large_tables_keep_every_small_cell_hidden(values):
    table = mark_table(values, THRESHOLD)
    assert all(c.hidden for c in table.cells if 0 < c.value < THRESHOLD)
    assert table.total.hidden or pinned_cells(table.cells, table.total) == []


def test_periods_last_full_quarter_financial_year_and_the_mature_cohort():
    assert last_full_quarter(date(2026, 11, 27)) == (date(2026, 7, 1), date(2026, 9, 30))
    assert last_full_quarter(date(2026, 1, 5)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert financial_year(date(2026, 2, 3)) == (date(2025, 4, 1), date(2026, 3, 31))
    assert financial_year(date(2026, 4, 1), previous=True) == (date(2025, 4, 1), date(2026, 3, 31))
    first, last = mature_cohort(date(2026, 9, 30))
    assert is_mature(last, date(2026, 9, 30))
    assert not is_mature(last + timedelta(days=1), date(2026, 9, 30))
    assert (last - first).days in (364, 365)


# --- A hand-counted fixture ---------------------------------------------------------------
#
# Period: the last 60 days up to today, custody programme only.
# Referrals dated in the period: 7 (5 accepted, 1 declined, 1 waiting) + 2 on prevention.
# Starts: the 5 accepted. Active caseload: those 5 + 1 opened 200 days ago = 6.
# Contacts attended in the period: 6 community, 2 phone, 3 gate (+1 missed, not counted).
# Releases in the period: 4; met at the gate: 3; accommodation arranged: 2, a plan without
# it: 1, no plan: 1. Concerns: 6; MASH referrals: 1.


@pytest.fixture
def fixture_world(db, mo, cara, sam, ade, fay, team):
    today = timezone.localdate()
    custody = make.make_programme(team=team)
    prevention = make.make_programme("Prevention 1:1", ProgrammeKind.PREVENTION, team=team)
    cases = [
        make.make_case(mentor=mo, actor=cara, programme=custody, opened_days_ago=50 - k,
                       referral_date=today - timedelta(days=55 - k))
        for k in range(5)
    ]  # fmt: skip
    older = make.make_case(mentor=mo, actor=cara, programme=custody, opened_days_ago=200,
                           referral_date=today - timedelta(days=210))  # fmt: skip
    declined = make.make_referral(programme=custody, actor=cara,
                                  referral_date=today - timedelta(days=20))  # fmt: skip
    casework_actions.decline_referral(cara, declined, "out_of_area")
    make.make_referral(programme=custody, actor=cara, referral_date=today - timedelta(days=5))
    for _ in range(2):
        make.make_referral(programme=prevention, actor=cara, source_type="school",
                           referral_date=today - timedelta(days=10))  # fmt: skip

    for k in range(6):
        make.make_contact(cases[k % 5], mo, days_ago=30 - k)
    make.make_contact(cases[0], mo, days_ago=12, mode="phone")
    make.make_contact(older, mo, days_ago=13, mode="phone")
    make.make_contact(cases[1], mo, days_ago=14, attendance="did_not_attend",
                      non_attendance_reason="no_show")  # fmt: skip
    make.make_contact(older, mo, days_ago=100)  # before the period

    # Four releases: cases 0-3 in custody; a plan for three of them.
    for k, case in enumerate(cases[:4]):
        episode = make.make_episode(case.person, cara, days_in=120, release_in=5)
        if k < 3:
            plan = make.make_plan(case, cara, episode=episode)
            if k < 2:
                item = plan.items.get(kind=ItemKind.ACCOMMODATION)
                custody_actions.update_plan_item(cara, item, {"status": ItemStatus.DONE})
        released = today - timedelta(days=8 + k)
        custody_actions.record_release(cara, episode, released)
        if k < 3:
            make.make_contact(case, mo, days_ago=8 + k, mode="gate")

    concerns = [make.make_concern(case.person, sam) for case in [*cases, older]]
    safeguarding.record_mash_referral(sam, concerns[0], {
        "referred_on": today, "local_authority": "Lambeth",
    })  # fmt: skip
    return {"custody": custody, "prevention": prevention, "today": today}


def _figures(world, programmes=None):
    programmes = programmes or type(world["custody"]).objects.filter(pk=world["custody"].pk)
    period = Period(world["today"] - timedelta(days=59), world["today"])
    return {f.key: dict(f.compute(period, programmes).rows) for f in REGISTRY}


def test_figures_match_the_hand_count(fixture_world):
    figures = _figures(fixture_world)
    referrals = figures["referrals"]
    assert sum(referrals.values()) == 7
    assert referrals["Accepted"] == 5
    assert referrals["Declined"] == 1
    assert referrals["Waiting for triage"] == 1
    assert figures["starts"] == {"Custody to community": 5}
    assert figures["caseload"] == {"Custody to community": 6}
    contacts = {k: v for k, v in figures["contacts"].items() if v}
    assert contacts == {"Meeting in the community": 6, "Phone call": 2,
                        "Gate meeting (release day)": 3}  # fmt: skip
    assert figures["gate_meetings"] == {"Met at the gate": 3, "Not met at the gate": 1}
    assert figures["accommodation"] == {
        "Accommodation arranged": 2,
        "Plan, accommodation not arranged": 1,
        "No release-day plan recorded": 1,
    }
    assert figures["safeguarding"] == {"Concerns raised": 6, "MASH referrals": 1,
                                       "NRM referrals": 0}  # fmt: skip


def test_programmes_filter_the_figures(fixture_world):
    prevention = type(fixture_world["custody"]).objects.filter(pk=fixture_world["prevention"].pk)
    figures = _figures(fixture_world, prevention)
    assert sum(figures["referrals"].values()) == 2
    assert figures["starts"] == {"Prevention 1:1": 0}
    assert figures["gate_meetings"] == {"Met at the gate": 0, "Not met at the gate": 0}


def _query(world):
    start = world["today"] - timedelta(days=59)
    return {"start": start.isoformat(), "end": world["today"].isoformat(),
            "programmes": [world["custody"].pk]}  # fmt: skip


def _table_cells(html, figure_key):
    section = html.split(f'id="figure-{figure_key}"')[1].split("</section>")[0]
    return [unescape(c) for c in re.findall(r'<td class="count">([^<]*)</td>', section)]


def test_page_shows_small_counts_as_less_than_five_with_definitions(fixture_world, fay, login):
    response = login(fay).get(reverse("reports:funder"), _query(fixture_world))
    assert response.status_code == 200
    html = response.content.decode()
    for entry in REGISTRY:
        assert escape(entry.definition) in html  # every figure shows what it counts
    # Contacts: 6 community shown, 2 phone and 3 gate hidden, the total 11 shown.
    contacts = _table_cells(html, "contacts")
    assert "6" in contacts and "11" in contacts and contacts.count(SMALL) == 2
    # 3 of 4 releases met at the gate: all hidden, and so is the percentage.
    gate = _table_cells(html, "gate_meetings")
    assert gate.count(SMALL) == 3 and "75%" not in gate
    assert "A count from 1 to 4" in html  # the legend


def _csv_rows(client, world):
    response = client.get(reverse("reports:funder_csv"), _query(world))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def _figure_rows(rows):
    """The rows of figures (between the header and the key), as (figure, row, count)."""
    start = rows.index(funder.HEADER) + 1
    end = rows.index(["Key"])
    return [r for r in rows[start:end] if r]


def test_csv_has_no_count_from_one_to_four_and_is_audited(fixture_world, fay, login):
    before = AuditEvent.objects.filter(action=AuditAction.EXPORT).count()
    rows = _figure_rows(_csv_rows(login(fay), fixture_world))
    counts = [r[3] for r in rows]
    assert SMALL in counts
    assert not {c for c in counts if c.isdigit() and 1 <= int(c) <= 4}
    by_row = {(r[1], r[2]): r[3] for r in rows}
    assert by_row[("Contacts delivered, by how", "Meeting in the community")] == "6"
    assert by_row[("Contacts delivered, by how", "Phone call")] == SMALL
    assert by_row[("Met at the gate", "Releases")] == SMALL
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == before + 1
    assert "Custody to community" in event.summary and "Funder report CSV" in event.summary


def test_xlsx_read_back_has_no_count_from_one_to_four(fixture_world, ade, login):
    from openpyxl import load_workbook

    response = login(ade).get(reverse("reports:funder_xlsx"), _query(fixture_world))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    rows = [[("" if v is None else v) for v in r] for r in rows]
    header = rows.index(funder.HEADER)
    key = next(i for i, r in enumerate(rows) if r[0] == "Key")
    counts = [r[3] for r in rows[header + 1 : key] if any(r)]
    assert SMALL in counts
    assert not [c for c in counts if isinstance(c, int) and 1 <= c <= 4]
    assert not [c for c in counts if isinstance(c, str) and c.strip().isdigit()]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            assert not (isinstance(cell.value, str) and cell.value[:1] in "=+-@")


def test_pdf_is_made_in_the_background_and_is_a_real_pdf(fixture_world, fay, login, run_jobs):
    from pypdf import PdfReader

    client = login(fay)
    response = client.post(reverse("reports:funder_pdf"), _query(fixture_world))
    job = Job.objects.get(kind="funder_report_pdf")
    assert response.status_code == 302 and response.url == reverse("job", kwargs={"pk": job.pk})
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.message
    download = client.get(job.result_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(download.content)).pages)
    assert "Funder and board report" in text
    assert "Met at the gate" in text
    assert SMALL in text
    kept = FunderReportFile.objects.get()
    assert AuditEvent.objects.filter(
        action=AuditAction.EXPORT, object_type="reports.funderreportfile",
        object_id=str(kept.pk), summary__contains="Custody to community",
    ).exists()  # fmt: skip


def test_bad_period_is_refused_with_a_message_next_to_the_field(db, ade, login):
    response = login(ade).get(reverse("reports:funder"), {"start": "2026-06-30",
                                                          "end": "2026-04-01"})  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert "The last day is before the first day." in html
    response = login(ade).get(reverse("reports:funder_csv"), {"start": "not a date"})
    assert response.status_code == 400


def test_default_report_is_the_last_full_quarter(db, ade, login):
    response = login(ade).get(reverse("reports:funder"))
    assert response.status_code == 200
    start, end = last_full_quarter(timezone.localdate())
    assert str(Period(start, end)) in response.content.decode()


def test_mentors_get_404(db, mo, login):
    assert login(mo).get(reverse("reports:funder")).status_code == 404


def _queries(ade, login, world):
    client = login(ade)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("reports:funder"), _query(world)).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_data(fixture_world, ade, mo, cara, login):
    before = _queries(ade, login, fixture_world)
    for k in range(4):
        referred = fixture_world["today"] - timedelta(days=31)
        case = make.make_case(mentor=mo, actor=cara, programme=fixture_world["custody"],
                              opened_days_ago=30, referral_date=referred)  # fmt: skip
        make.make_contact(case, mo, days_ago=3 + k)
    assert _queries(ade, login, fixture_world) == before


def test_docs_list_every_registered_figure_with_its_definition():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "reports.md").read_text()
    for entry in REGISTRY:
        assert f"`{entry.key}`" in doc, entry.key
        assert entry.definition in " ".join(doc.split()), entry.key


# --- The demo ----------------------------------------------------------------------------


def test_demo_data_gives_a_sensible_report(db):
    """The report on (a tenth of) the demo: every section has something in it, and
    nothing small escapes into the CSV."""
    from throughgate.demo.seed import seed

    seed(progress=False, scale=0.1)
    today = timezone.localdate()
    start, end = financial_year(today, previous=True)
    report = funder.build(start, today, _all_programmes())
    raw = {f.key: dict(f.counts.rows) for f in report.figures}
    assert sum(raw["referrals"].values()) > 0
    assert sum(raw["starts"].values()) > 0
    assert sum(raw["caseload"].values()) > 0
    assert sum(raw["contacts"].values()) > 0
    assert sum(raw["gate_meetings"].values()) > 0
    assert raw["gate_meetings"]["Met at the gate"] > 0
    assert raw["prevention_reach"]["Workshops held"] > 0
    rows = _figure_rows(list(csv.reader(io.StringIO(funder.as_csv(report)))))
    assert not [r for r in rows if r[3].isdigit() and 1 <= int(r[3]) <= 4]
    assert funder.as_pdf(report).startswith(b"%PDF")
    assert start < end


def _all_programmes():
    from throughgate.casework.models import Programme

    return Programme.objects.all()


# --- Proven reoffending: only the mature cohort ----------------------------------------


def _released_participant(mo, cara, programme, days_ago):
    today = timezone.localdate()
    case = make.make_case(mentor=mo, actor=cara, programme=programme,
                          opened_days_ago=days_ago + 200,
                          referral_date=today - timedelta(days=days_ago + 210))  # fmt: skip
    episode = make.make_episode(case.person, cara, days_in=days_ago + 150, release_in=-days_ago)
    custody_actions.record_release(cara, episode, today - timedelta(days=days_ago))
    return case


def test_reoffending_counts_the_latest_mature_cohort_only(db, mo, cara, team):
    from throughgate.outcomes import actions as outcome_actions

    today = timezone.localdate()
    custody = make.make_programme(team=team)
    # Cohort for a period ending today: index dates 30 to 18 months ago.
    reoffended = _released_participant(mo, cara, custody, days_ago=700)
    _released_participant(mo, cara, custody, days_ago=650)
    too_recent = _released_participant(mo, cara, custody, days_ago=200)
    for case, offence_days_ago in ((reoffended, 600), (too_recent, 150)):
        outcome_actions.record_event(cara, case.person, {
            "disposal_type": "conviction", "source": "probation",
            "offence_date": today - timedelta(days=offence_days_ago),
            "disposal_date": today - timedelta(days=offence_days_ago - 30),
        })  # fmt: skip
    entry = next(f for f in REGISTRY if f.key == "reoffending")
    counts = entry.compute(Period(today - timedelta(days=89), today),
                           type(custody).objects.filter(pk=custody.pk))  # fmt: skip
    assert dict(counts.rows) == {"Proven reoffence": 1, "No proven reoffence": 1}
    shown = funder.present(entry, counts, THRESHOLD)
    assert [str(r.count) for r in shown.rows] == [SMALL, SMALL]
    assert shown.total is not None and str(shown.total.count) == SMALL
    assert [r.percent for r in shown.rows] == ["[c]", "[c]"]
