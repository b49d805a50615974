"""CSV exports are safe to open in a spreadsheet: text that starts like a formula is
written as text (CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from throughgate.core import audit
from throughgate.core.exports import csv_writer, spreadsheet_safe
from throughgate.core.models import AuditAction

from . import make


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (
            '=HYPERLINK("http://evil.example","Click")',
            '\'=HYPERLINK("http://evil.example","Click")',
        ),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("Jordan", "Jordan"),
        ("", ""),
        (-3, -3),  # a number stays a number
        (None, None),
    ],
)
def test_text_that_would_be_a_formula_is_written_as_text(cell, written):
    assert spreadsheet_safe(cell) == written


def test_the_writer_applies_it_to_every_cell():
    out = io.StringIO()
    csv_writer(out).writerows([["=1+1", "plain"], [5, "@x"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=1+1", "plain"], ["5", "'@x"]]


def test_the_audit_trail_export_cannot_carry_a_formula(ade, login):
    audit.record(ade, AuditAction.EXPORT, object_type="outcomes.jdl", summary="=cmd|' /C calc'!A0")
    response = make.confirm_password(login(ade)).get(reverse("audit_trail"), {"format": "csv"})
    body = b"".join(response.streaming_content if response.streaming else [response.content])
    rows = list(csv.reader(io.StringIO(body.decode())))
    summaries = [row[7] for row in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in summaries
    assert not any(s.startswith("=") for s in summaries)
