"""Hypothesis over the importer (issue 9: "hypothesis over every form and importer"):
whatever a spreadsheet holds, the importer answers with its report (problems by row and
column) or a clear file problem, never an exception, and a refused import writes nothing.

Files are made from the real column labels of each kind (so cells reach the checks
behind them, not just "unknown column"), with cells drawn from the awkward: dates in
every shape, ids past 2^63, NUL and other control characters, right-to-left text,
formulas, very long text, numbers with commas, blanks. A second test throws raw bytes
at the file reader.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from throughgate.casework.models import Case, Contact, Referral
from throughgate.custody.models import CustodyEpisode
from throughgate.imports.kinds import KINDS
from throughgate.imports.models import Source
from throughgate.imports.reader import FileProblem, open_table
from throughgate.outcomes.models import ReoffendingEvent
from throughgate.people.models import Person

from .test_imports import import_file

CASES_RUN: Counter[str] = Counter()

AWKWARD = st.one_of(
    st.sampled_from([
        "", " ", "0", "-1", "9223372036854775808", "1e309", "NaN", "31/02/2009", "2009-02-29",
        "14/03/2007", "2007-03-14", "03/14/2007", "14.03.2007", "1899-12-31", "2100-01-01",
        "=1+1", "@SUM(A1)", "+44 20 7946 0000", "A1234BC", "a1234bc", "2012/0123456Z",
        "X123456", "yes", "no", "community", "phone", "attended", "male", "1,000", "١٢٣",
        "\x00", "O'Brien-Ó Súilleabháin", "\u202eevil", "x" * 5000, "P1", "P2", "C1",
    ]),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
)  # fmt: skip


@pytest.fixture
def source(ade):
    return Source.objects.create(name="Fuzzed spreadsheets")


def personal_rows() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Person, Referral, Case, Contact, CustodyEpisode, ReoffendingEvent)
    }


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_spreadsheet_makes_the_importer_fail_with_anything_but_its_report(
    kind, data, ade, source, tmp_path
):
    labels = [c.label for c in KINDS[kind].columns]
    headers = data.draw(
        st.lists(st.sampled_from(labels) | st.text(min_size=1, max_size=12), min_size=1,
                 max_size=len(labels) + 2, unique=True),
        label="headers",
    )  # fmt: skip
    rows = data.draw(
        st.lists(st.lists(AWKWARD, min_size=0, max_size=len(headers) + 1), max_size=6),
        label="rows",
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    path = Path(tmp_path) / f"{kind}-{CASES_RUN[kind]}.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    CASES_RUN[kind] += 1
    before = personal_rows()
    try:
        report = import_file(ade, source, kind, path, commit=True)
    except FileProblem as problem:
        assert str(problem)  # a file-level message says what is wrong
        assert personal_rows() == before
        return
    if not report.ok:
        assert personal_rows() == before, "a refused import wrote something"
        for problem in report.problems:
            assert problem.message and problem.row >= 1


@settings(max_examples=150, deadline=None, derandomize=True)
@given(content=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_any_bytes_are_read_as_a_table_or_refused_with_a_message(tmp_path_factory, content, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"upload{suffix}"
    path.write_bytes(content)
    try:
        table = open_table(path)
    except FileProblem as problem:
        assert str(problem)
        return
    try:
        for _number, _cells in table.rows:
            pass
    except FileProblem as problem:
        assert str(problem)
    finally:
        table.close()
