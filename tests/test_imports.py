"""Spreadsheet import (issue 8): every problem listed by row and column, all-or-nothing,
idempotent on the source's own ids, the same rules as the app's actions."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from openpyxl import Workbook

from throughgate.casework.models import Case, Contact, PhaseChange
from throughgate.core.models import AuditEvent
from throughgate.imports import importer
from throughgate.imports.kinds import read_date
from throughgate.imports.models import ImportRun, RunStatus, Source, SourceRecord
from throughgate.imports.reader import FileProblem, open_table
from throughgate.people.models import NameIndex, Person

from . import make

PEOPLE_HEADERS = ["ID", "First name", "Last name", "DOB", "Prison number"]
CASE_HEADERS = ["Case ID", "Person ID", "Programme", "Opened", "Phase", "Mentor"]
CONTACT_HEADERS = ["Contact ID", "Case ID", "When", "How", "Minutes", "What happened"]


def write_csv(path: Path, headers: list[str], rows: list[list[Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, headers: list[str], rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def import_file(
    actor: Any,
    source: Source,
    kind: str,
    path: Path,
    *,
    commit: bool,
    mapping: dict[str, str] | None = None,
    on_rows: Any = None,
) -> importer.Report:
    table = open_table(path)
    run = ImportRun.objects.create(
        source=source,
        kind=kind,
        file_name=path.name,
        headers=table.headers,
        columns=mapping or importer.suggest_mapping(kind, table.headers),
        status=RunStatus.UPLOADED,
    )
    try:
        return importer.run_import(run, table, actor, commit=commit, on_rows=on_rows)
    finally:
        table.close()


def people_rows(n: int) -> list[list[Any]]:
    return [[f"P{i}", f"Young{i}", "Person", "14/02/2006", ""] for i in range(n)]


@pytest.fixture
def source(ade):
    return Source.objects.create(name="Old spreadsheets 2010-2024", created_by=ade)


@pytest.fixture
def cases(ade, mo, programme, source, tmp_path):
    """Two people and their cases, imported from the old spreadsheets (Mo mentors both)."""
    opened = (timezone.localdate() - timedelta(days=200)).strftime("%d/%m/%Y")
    people = write_csv(tmp_path / "people.csv", PEOPLE_HEADERS, people_rows(2))
    assert import_file(ade, source, "people", people, commit=True).added == 2
    rows = [[f"C{i}", f"P{i}", programme.name, opened, "community", "mo"] for i in range(2)]
    path = write_csv(tmp_path / "cases.csv", CASE_HEADERS, rows)
    report = import_file(ade, source, "cases", path, commit=True)
    assert report.ok, report.problems
    return path


def contact_rows(n: int) -> list[list[Any]]:
    when = timezone.localdate() - timedelta(days=30)
    return [
        [f"K{i}", f"C{i % 2}", f"{when:%d/%m/%Y} 10:30", "phone", "30", f"Talked {i}"]
        for i in range(n)
    ]


def test_a_thousand_contacts_with_three_bad_rows_report_exactly_those_and_commit_nothing(
    ade, source, cases, tmp_path
):
    rows = contact_rows(1000)
    rows[14][2] = "31/02/2025 10:00"  # row 16 of the sheet: no such day
    rows[499][3] = "carrier pigeon"  # row 501: not a way of meeting
    rows[997][1] = "C99"  # row 999: no such case
    path = write_csv(tmp_path / "contacts.csv", CONTACT_HEADERS, rows)

    report = import_file(ade, source, "contacts", path, commit=True)

    assert not report.committed and report.added == 0 and report.rows == 1000
    assert [(p.row, p.column) for p in report.problems] == [
        (16, "When"),
        (501, "How"),
        (999, "Case ID"),
    ]
    assert str(report.problems[0]).startswith("Row 16, column 'When': 31/02/2025 10:00 is not a")
    assert "carrier pigeon is not one of: prison_visit, phone" in report.problems[1].message
    assert "no case record has id C99" in report.problems[2].message
    assert Contact.objects.count() == 0
    assert not SourceRecord.objects.filter(kind="contacts").exists()
    assert ImportRun.objects.latest("pk").status == RunStatus.REFUSED

    # Fixed and run again: all 1,000 come in; once more: nothing is added or changed.
    rows[14][2], rows[499][3], rows[997][1] = rows[13][2], "phone", "C1"
    write_csv(path, CONTACT_HEADERS, rows)
    report = import_file(ade, source, "contacts", path, commit=True)
    assert report.committed and report.added == 1000 and report.problems == []
    assert Contact.objects.count() == 1000
    stamp = list(Contact.objects.order_by("pk").values_list("pk", "updated_at"))

    again = import_file(ade, source, "contacts", path, commit=True)
    assert again.committed and again.added == 0 and again.already == 1000
    assert list(Contact.objects.order_by("pk").values_list("pk", "updated_at")) == stamp


def test_an_xlsx_file_is_checked_and_imported_like_a_csv(ade, source, cases, tmp_path):
    when = timezone.localtime() - timedelta(days=10)
    rows = [
        ["X1", "C0", when.replace(tzinfo=None), "Phone call", 20, "Spoke about college"],
        ["X2", "C1", "not a date", "video", 20, "Video call"],
        ["X3", "C1", when.replace(tzinfo=None), "video", "", ""],
    ]
    path = write_xlsx(tmp_path / "contacts.xlsx", CONTACT_HEADERS, rows)
    report = import_file(ade, source, "contacts", path, commit=False)
    assert [str(p) for p in report.problems] == [
        "Row 3, column 'When': not a date is not a date and time "
        "(use 31/12/2024 14:30 or 2024-12-31 14:30)",
        "Row 4, column 'What happened': this is empty; it is needed",
    ]
    rows[1][2], rows[2][5] = when.replace(tzinfo=None), "Missed the bus, rearranged"
    write_xlsx(path, CONTACT_HEADERS, rows)
    assert import_file(ade, source, "contacts", path, commit=True).added == 3
    record = SourceRecord.objects.get(kind="contacts", external_id="X1")
    contact = Contact.objects.get(pk=record.object_id)
    assert contact.summary == "Spoke about college"  # written through its field's own prep
    with connection.cursor() as cursor:  # ... which encrypts it: not in clear in the table
        cursor.execute("SELECT summary FROM casework_contact WHERE id = %s", [contact.pk])
        assert "college" not in str(cursor.fetchone()[0])
    assert contact.mode == "phone" and contact.staff.username == "mo"


def test_a_dry_run_writes_nothing_but_its_report(ade, source, cases, tmp_path):
    path = write_csv(tmp_path / "contacts.csv", CONTACT_HEADERS, contact_rows(10))
    report = import_file(ade, source, "contacts", path, commit=False)
    assert report.ok and not report.committed and report.rows == 10
    assert Contact.objects.count() == 0
    assert ImportRun.objects.latest("pk").status == RunStatus.CHECKED


def test_rows_are_checked_by_the_models_own_rules(ade, source, cases, tmp_path):
    """Contact.clean: not before the case opened; did-not-attend needs a reason."""
    rows = contact_rows(2)
    rows[0][2] = "01/01/2001 10:00"
    path = tmp_path / "contacts.csv"
    write_csv(path, [*CONTACT_HEADERS, "Attended"], [rows[0] + ["yes"], rows[1] + ["No"]])
    report = import_file(ade, source, "contacts", path, commit=False)
    assert [(p.row, p.column) for p in report.problems] == [
        (2, "When"),
        (3, "(Why not?: not in the file)"),
    ]
    assert "before the case began" in report.problems[0].message


def test_people_import_normalises_identifiers_and_catches_duplicates_in_the_file(
    ade, source, tmp_path
):
    rows = people_rows(3)
    rows[0][4] = "a1234bc"
    rows[2][4] = "A1234BC"
    rows[1][3] = "31/02/2009"
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADERS, rows)
    report = import_file(ade, source, "people", path, commit=True)
    assert [str(p) for p in report.problems] == [
        "Row 3, column 'DOB': 31/02/2009 is not a date (use a date like 31/12/2009 or 2009-12-31)",
        "Row 4, column 'Prison number': another row of this file has this prison number (row 2)",
    ]
    assert Person.objects.count() == 0
    rows[1][3], rows[2][4] = "2009-02-28", ""
    write_csv(path, PEOPLE_HEADERS, rows)
    assert import_file(ade, source, "people", path, commit=True).added == 3
    assert Person.objects.get(forename="Young0").prison_number == "A1234BC"
    assert NameIndex.objects.filter(person__forename="Young1").exists()  # found by search


def test_cases_open_with_their_phase_history_and_the_import_is_audited_once(
    ade, source, cases, programme
):
    assert Case.objects.count() == 2
    case = Case.objects.get(pk=SourceRecord.objects.get(kind="cases", external_id="C0").object_id)
    assert case.mentor.username == "mo" and case.phase == "community"
    assert PhaseChange.objects.filter(case=case).count() == 1
    events = AuditEvent.objects.filter(object_type="imports.importrun")
    assert events.count() == 2  # the people run and the cases run: one event each
    assert "Imported 2 cases" in events.first().summary
    run = ImportRun.objects.get(pk=events.first().object_id)
    assert set(run.records.values_list("object_id", flat=True)) == set(
        Case.objects.values_list("pk", flat=True)
    )


def test_a_case_mentor_must_be_an_active_mentor(ade, cara, source, programme, tmp_path):
    write_csv(tmp_path / "p.csv", PEOPLE_HEADERS, people_rows(1))
    import_file(ade, source, "people", tmp_path / "p.csv", commit=True)
    path = write_csv(
        tmp_path / "c.csv", CASE_HEADERS, [["C0", "P0", programme.name, "01/01/2024", "", "cara"]]
    )
    report = import_file(ade, source, "cases", path, commit=False)
    assert [(p.row, p.column) for p in report.problems] == [(2, "Mentor")]


def test_a_source_id_twice_in_one_file_is_a_problem(ade, source, tmp_path):
    rows = people_rows(3)
    rows[2][0] = "P0"
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADERS, rows)
    report = import_file(ade, source, "people", path, commit=False)
    assert [str(p) for p in report.problems] == ["Row 4, column 'ID': id P0 is also on row 2"]


# --- the file and the mapping -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"\n\n", "The file is empty"),
        (b"P1,Young,Person,14/02/2006\n", "The first row looks like data"),
        (b"ID,Name,ID\n1,a,b\n", "Two columns are called 'ID'"),
        (b"ID,,Name\n", "Column 2 of the header row has no name"),
    ],
)
def test_an_unreadable_file_says_why(tmp_path, content, message):
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    with pytest.raises(FileProblem, match=message):
        open_table(path)


def test_a_file_not_in_utf8_names_the_row(tmp_path):
    path = tmp_path / "file.csv"
    path.write_bytes("ID,Name\n1,Zoë\n".encode("cp1252"))
    # Text is decoded a block at a time, so a small file is refused as it is opened.
    with pytest.raises(FileProblem, match="Line 2 has characters that are not UTF-8"):
        list(open_table(path).rows)


def test_a_line_not_in_utf8_far_down_a_long_file_is_named(tmp_path):
    path = tmp_path / "file.csv"
    lines = ["ID,Name"] + [f"{i},Name {i}" for i in range(20_000)]
    lines[15_000] = "15000,Zoë"
    path.write_bytes("\n".join(lines).encode("utf-8").replace("Zo\u00eb".encode(), b"Zo\xeb"))
    table = open_table(path)
    read = 0
    with pytest.raises(FileProblem, match="Line 15001 has characters that are not UTF-8"):
        for _ in table.rows:
            read += 1
    assert 10_000 < read < 15_000  # the rows before it were read


def test_a_huge_cell_is_reported_on_its_row(ade, source, tmp_path):
    rows = people_rows(2)
    rows[1][1] = "x" * 20_000
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADERS, rows)
    report = import_file(ade, source, "people", path, commit=False)
    assert [str(p) for p in report.problems] == [
        "Row 3, column 'First name': the cell is 20,000 characters long; at most 10,000 are read"
    ]


def test_a_spreadsheet_that_is_not_one(tmp_path):
    path = tmp_path / "file.xlsx"
    path.write_bytes(b"ID,Name\n")
    with pytest.raises(FileProblem, match="not an Excel .xlsx workbook"):
        open_table(path)


def test_the_mapping_is_suggested_from_headers_and_checked():
    headers = ["Contact ID", "Case", "When", "How", "Notes"]
    mapping = importer.suggest_mapping("contacts", headers)
    assert mapping == {
        "source_id": "Contact ID",
        "case_id": "Case",
        "occurred_at": "When",
        "mode": "How",
        "summary": "Notes",
    }
    assert importer.check_mapping("contacts", headers, mapping) == {}
    twice = {**mapping, "next_steps": "Notes"}
    assert importer.check_mapping("contacts", headers, twice) == {
        "next_steps": "Column 'Notes' is already chosen for 'What happened'; a column can "
        "hold one field."
    }
    missing = {k: v for k, v in mapping.items() if k != "occurred_at"}
    assert "it is needed" in importer.check_mapping("contacts", headers, missing)["occurred_at"]


def test_a_saved_mapping_is_offered_before_matching_names():
    headers = ["Ref", "Case", "When", "How", "Notes", "Contact ID"]
    saved = {"source_id": "Ref"}
    assert importer.suggest_mapping("contacts", headers, saved)["source_id"] == "Ref"


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("01/03/2024", date(2024, 3, 1)),
        ("1/3/2024", date(2024, 3, 1)),
        ("2024-03-01 00:00:00", date(2024, 3, 1)),
    ],
)
def test_dates_are_read_day_first_or_iso(text, day):
    assert read_date(text) == day


def test_imported_people_are_checked_for_duplicates_of_people_already_known(
    ade, cara, source, tmp_path, run_jobs, django_capture_on_commit_callbacks
):
    """Old spreadsheets hold young people the charity already knows under other
    spellings: after the import commits, the worker's linkage finds them."""
    from throughgate.people.models import DuplicateCandidate, FoundBy

    rows = people_rows(2)
    known = make.make_person(cara, forename="Jon", surname="Smyth", date_of_birth=date(2007, 3, 14))
    rows[0][1], rows[0][2], rows[0][3] = "John", "Smith", "14/03/2007"
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADERS, rows)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_file(ade, source, "people", path, commit=True).added == 2
    run_jobs()
    (pair,) = DuplicateCandidate.objects.filter(found_by=FoundBy.IMPORT)
    imported = Person.objects.get(forename="John", surname="Smith")
    assert {pair.person_a_id, pair.person_b_id} == {known.pk, imported.pk}


def test_a_nul_character_is_a_problem_named_by_row_and_column_not_a_crash(ade, source, tmp_path):
    """PostgreSQL refuses NUL in text and JSON; the fuzzer found one reaching it."""
    rows = people_rows(2)
    rows[1][1] = "Young\x001"
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADERS, rows)
    report = import_file(ade, source, "people", path, commit=True)
    assert [str(p) for p in report.problems] == [
        "Row 3, column 'First name': the cell holds a NUL character (\\0)"
    ]
    assert Person.objects.count() == 0
    path = write_csv(tmp_path / "nul-header.csv", ["ID", "First\x00name"], [["P1", "Amani"]])
    with pytest.raises(FileProblem, match="Column 2's name holds a NUL character"):
        open_table(path)


def test_on_postgresql_an_import_checks_references_as_it_writes(ade, source, cases, tmp_path):
    """Django's foreign keys are checked at COMMIT; during an import, as each statement
    ends, so a million rows' checks do not pile up for the end (importer.py)."""
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL half runs when DATABASE_URL points at PostgreSQL (CI does)")
    from django.db import IntegrityError, transaction

    run_id = ImportRun.objects.values_list("pk", flat=True).first()

    def refused_at_once() -> bool:
        """A record-map row naming no source, in a savepoint rolled back afterwards:
        is it refused by the INSERT itself, or (deferred) only at COMMIT?"""
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO imports_sourcerecord "
                        "(source_id, kind, external_id, object_id, run_id) "
                        "VALUES (-1, 'people', 'nobody', 1, %s)",
                        [run_id],
                    )
                transaction.set_rollback(True)
        except IntegrityError:
            return True
        return False

    assert not refused_at_once()  # Django's way: deferred
    during: list[bool] = []
    path = write_csv(tmp_path / "contacts.csv", CONTACT_HEADERS, contact_rows(20))
    report = import_file(
        ade,
        source,
        "contacts",
        path,
        commit=True,
        on_rows=lambda n: during.append(refused_at_once()),
    )
    assert report.committed and report.added == 20
    assert during == [True]  # checked as written
    assert not refused_at_once()  # and deferred again afterwards
