"""imports/writes.py's COPY text: what PostgreSQL's COPY reads back is what was written,
whatever the text holds; a value it is not made for is refused, not guessed at."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from throughgate.casework.models import Attendance
from throughgate.imports import writes
from throughgate.imports.models import ImportRun, Source, SourceRecord

LONDON = ZoneInfo("Europe/London")


def test_copy_text_escapes_what_the_format_uses_and_writes_each_kind_of_value():
    summer = datetime(2024, 7, 1, 9, 30, tzinfo=LONDON)
    stamped = datetime(2024, 1, 1, 12, 0, 0, 250000, tzinfo=UTC)
    text = writes.copy_text(
        [
            [1, "tab\there", "back\\slash", "new\nline\rreturn", None, True, summer, stamped],
            [2, "plain", "", Attendance.DID_NOT_ATTEND, None, False, date(2024, 2, 29), stamped],
        ]
    )
    assert text.decode("utf-8").split("\n") == [
        "1\ttab\\there\tback\\\\slash\tnew\\nline\\rreturn\t\\N\tt"
        "\t2024-07-01 09:30:00+01:00\t2024-01-01 12:00:00.250000+00:00",
        "2\tplain\t\tdid_not_attend\t\\N\tf\t2024-02-29\t2024-01-01 12:00:00.250000+00:00",
        "",
    ]
    assert writes.copy_text([]) == b""
    assert writes.copy_text([["Siân, née O'Brien"]]) == "Siân, née O'Brien\n".encode()


@pytest.mark.parametrize("value", [1.5, datetime(2024, 1, 1, 9, 0), {"a": 1}, b"bytes"], ids=repr)
def test_copy_text_refuses_a_value_it_is_not_made_for(value):
    # A float's or a dictionary's text is the driver's business; a time without a zone
    # would be read in the server's zone, which is a guess.
    with pytest.raises(writes.NotCopyText):
        writes.copy_text([[1, value]])


@pytest.mark.django_db
def test_copy_text_reads_back_from_postgresql_as_it_was_written(ade):
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL half runs when DATABASE_URL points at PostgreSQL (CI does)")
    source = Source.objects.create(name="Awkward ids", created_by=ade)
    run = ImportRun.objects.create(source=source, kind="people", file_name="x.csv")
    awkward = ["tab\there", "back\\slash", "new\nline", "cr\rhere", "\\N", "Siân", "end\\"]
    rows = [[source.pk, "people", text, i, run.pk] for i, text in enumerate(awkward)]
    writes.copy_in(
        SourceRecord,
        ["source_id", "kind", "external_id", "object_id", "run_id"],
        writes.copy_text(rows),
    )
    stored = dict(
        SourceRecord.objects.filter(source=source).values_list("object_id", "external_id")
    )
    assert [stored[i] for i in range(len(awkward))] == awkward
