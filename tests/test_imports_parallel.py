"""A long contacts file is checked in worker processes (imports/parallel.py): the same
problems, the same records, nothing written when a worker dies, and the ids seen kept
on disk, not in memory, with a repeat still named by its earlier row."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from throughgate.casework.models import Case, Contact
from throughgate.imports import importer, parallel, writes
from throughgate.imports.models import Source, SourceRecord

from . import test_imports
from .test_imports import CONTACT_HEADERS, contact_rows, import_file, write_csv

source = test_imports.source  # the same fixtures: a source, and two cases imported from it
cases = test_imports.cases

HEADERS = [*CONTACT_HEADERS, "Staff"]


def rows_with_staff(n: int) -> list[list[str]]:
    return [[*row, "mo" if i % 3 else ""] for i, row in enumerate(contact_rows(n))]


@pytest.fixture
def in_workers(settings, monkeypatch):
    """Worker processes for any file, and small chunks, so that the 400 rows below go
    round the workers several times."""
    settings.IMPORT_WORKERS = 2
    settings.IMPORT_PARALLEL_FROM_ROWS = 1
    monkeypatch.setattr(importer, "CHUNK", 50)
    used: list[int] = []
    real = parallel.Workers.__init__

    def counting(self, n, setup):  # type: ignore[no-untyped-def]
        used.append(n)
        real(self, n, setup)

    monkeypatch.setattr(parallel.Workers, "__init__", counting)
    return used


def problems(report: importer.Report) -> list[str]:
    return [str(p) for p in report.problems]


def stored(source: Source) -> list[tuple]:
    ids = dict(
        SourceRecord.objects.filter(source=source, kind="contacts").values_list(
            "object_id", "external_id"
        )
    )
    return sorted(
        (
            ids[c.pk],
            c.case_id,
            c.occurred_at,
            c.mode,
            c.duration_minutes,
            c.summary,
            c.staff_id,
            c.logged_by_id,
        )
        for c in Contact.objects.filter(pk__in=ids)
    )


def test_workers_find_the_same_problems_as_one_process(
    ade, source, cases, tmp_path, settings, in_workers, monkeypatch
):
    rows = rows_with_staff(400)
    rows[14][2] = "31/02/2025 10:00"  # row 16: no such day
    rows[120][3] = "carrier pigeon"  # row 122
    rows[260][1] = "C99"  # row 262: no such case
    rows[301][6] = "nobody"  # row 303: no such user (the workers have every user's name)
    rows[380][0] = "K7"  # row 382: an id first used on row 9, seven chunks before
    path = write_csv(tmp_path / "contacts.csv", HEADERS, rows)

    in_parallel = import_file(ade, source, "contacts", path, commit=True)
    assert in_workers == [2]
    settings.IMPORT_WORKERS = 0
    here = import_file(ade, source, "contacts", path, commit=True)
    assert in_workers == [2]  # the second run did not use workers

    assert problems(in_parallel) == problems(here)
    assert [(p.row, p.column) for p in in_parallel.problems] == [
        (16, "When"),
        (122, "How"),
        (262, "Case ID"),
        (303, "Staff"),
        (382, "Contact ID"),
    ]
    assert "no user is called nobody" in in_parallel.problems[3].message
    assert in_parallel.problems[4].message == "id K7 is also on row 9"
    assert not in_parallel.committed and Contact.objects.count() == 0


def test_workers_write_the_same_contacts_as_one_process(
    ade, mo, source, cases, tmp_path, settings, in_workers, monkeypatch
):
    rows = rows_with_staff(400)
    # Ids with the characters COPY's text format escapes (on PostgreSQL the workers
    # write the record map as COPY text): they must come back as they were.
    rows[3][0], rows[77][0], rows[301][0] = "K\tab\t3", "K back\\slash 77", "K\r\nline 301"
    path = write_csv(tmp_path / "contacts.csv", HEADERS, rows)
    copied: list[str] = []
    real_copy_in = writes.copy_in

    def copy_in(model, columns, data):  # type: ignore[no-untyped-def]
        copied.append(model._meta.db_table)
        real_copy_in(model, columns, data)

    monkeypatch.setattr(writes, "copy_in", copy_in)
    report = import_file(ade, source, "contacts", path, commit=True)
    assert in_workers == [2] and report.committed and report.added == 400
    # The workers' COPY text on PostgreSQL (8 chunks, two tables each); rows for SQLite.
    postgres = connection.vendor == "postgresql"
    assert copied == (["casework_contact", "imports_sourcerecord"] * 8 if postgres else [])
    assert (
        SourceRecord.objects.filter(
            source=source, external_id__in=["K\tab\t3", "K back\\slash 77", "K\r\nline 301"]
        ).count()
        == 3
    )

    # The same file from a second source (whose case ids are the same cases), in one process.
    other = Source.objects.create(name="The same file again", created_by=ade)
    for record in SourceRecord.objects.filter(source=source, kind="cases"):
        SourceRecord.objects.create(
            source=other,
            kind="cases",
            external_id=record.external_id,
            object_id=record.object_id,
            run=record.run,
        )
    settings.IMPORT_WORKERS = 0
    assert import_file(ade, other, "contacts", path, commit=True).added == 400

    from_workers, from_here = stored(source), stored(other)
    assert len(from_workers) == 400 and from_workers == from_here
    assert from_workers[0][5].startswith("Talked")  # the note reads back: decrypted
    assert {row[6] for row in from_workers} == {mo.pk}  # empty "Staff": the case's mentor
    with connection.cursor() as cursor:  # encrypted by the workers: not in clear
        cursor.execute("SELECT summary FROM casework_contact")
        assert not [s for (s,) in cursor.fetchall() if "Talked" in s]


def test_a_worker_that_dies_fails_the_import_and_writes_nothing(
    ade, source, cases, tmp_path, in_workers
):
    path = write_csv(tmp_path / "contacts.csv", HEADERS, rows_with_staff(400))

    def kill_after_the_first_chunk(n: int) -> None:
        if n == 100:
            for child in multiprocessing.active_children():
                if child.name == "import-checker":
                    os.kill(child.pid, signal.SIGKILL)

    collector = gc.get_threshold()
    with pytest.raises(RuntimeError, match="checker process stopped unexpectedly"):
        import_file(ade, source, "contacts", path, commit=True, on_rows=kill_after_the_first_chunk)
    assert Contact.objects.count() == 0
    assert not SourceRecord.objects.filter(kind="contacts").exists()
    assert gc.get_threshold() == collector  # as it was, though the import failed


def test_the_garbage_collector_runs_seldom_while_rows_are_checked(
    ade, source, cases, tmp_path, monkeypatch
):
    """Checking a chunk keeps thousands of objects alive until it is done; the collector
    at its usual pace looks at them all again and again, for nothing (docs/performance.md)."""
    path = write_csv(tmp_path / "contacts.csv", HEADERS, rows_with_staff(120))
    monkeypatch.setattr(importer, "CHUNK", 50)
    collector = gc.get_threshold()
    assert collector != parallel.FEWER_COLLECTIONS
    during: list[tuple[int, ...]] = []
    report = import_file(
        ade,
        source,
        "contacts",
        path,
        commit=True,
        on_rows=lambda n: during.append(gc.get_threshold()),
    )
    assert report.committed and report.added == 120
    assert during == [parallel.FEWER_COLLECTIONS] * 3  # after each of the three chunks
    assert gc.get_threshold() == collector


def test_a_worker_process_cannot_read_the_database(db):
    with connection.execute_wrapper(parallel._no_queries):
        with pytest.raises(parallel.DatabaseUnavailable, match="does not read the database"):
            get_user_model().objects.count()


def test_an_id_repeated_far_down_the_file_names_its_first_row(
    ade, source, cases, tmp_path, monkeypatch
):
    monkeypatch.setattr(importer, "CHUNK", 7)  # the two rows many chunks apart
    rows = contact_rows(60)
    rows[55][0] = "K2"  # row 57; K2 is on row 4
    path = write_csv(tmp_path / "contacts.csv", CONTACT_HEADERS, rows)
    report = import_file(ade, source, "contacts", path, commit=False)
    assert problems(report) == ["Row 57, column 'Contact ID': id K2 is also on row 4"]


PARENT = textwrap.dedent(
    """
    import time
    import django

    if __name__ == "__main__":  # a spawned worker imports this file too
        django.setup()
        from throughgate.imports.kinds import Context
        from throughgate.imports.parallel import Chunk, Workers

        setup = {
            "kind": "contacts",
            "headers": [],
            "mapping": {},
            "ctx": Context(None, None),
            "record": (None, "contacts", None),
        }
        workers = Workers(1, setup)
        list(workers.submit(Chunk([])))
        assert [c.passed for c in workers.finish()] == [[]]  # it is up, and waits for more
        print(workers.processes[0].pid, flush=True)
        time.sleep(600)
    """
)


def gone(pid: int) -> bool:
    """Exited (a zombie waiting for init to reap it counts: it runs nothing)."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] in {"Z", "X"}
    except (FileNotFoundError, ProcessLookupError):
        return True


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to see the worker exit")
def test_a_worker_whose_importing_process_is_killed_stops(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = {**os.environ, "THROUGHGATE_DATA_DIR": str(tmp_path), "DEBUG": "true", "HTTPS": "off"}
    env.setdefault("SECRET_KEY", "test-" + "x" * 50)
    parent = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        worker = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert not gone(worker)
    finally:
        parent.kill()  # SIGKILL: no goodbye to the worker
        parent.wait()
    deadline = time.monotonic() + 30
    while not gone(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gone(worker), "the worker outlived the process that started it"


def test_a_value_copy_text_cannot_write_goes_back_as_rows(ade, source, cases, monkeypatch):
    """A worker sent ids (PostgreSQL) whose records hold a value COPY text is not made
    for sends rows instead, which the importing process writes itself."""
    cells = contact_rows(3)
    setup = {
        "kind": "contacts",
        "headers": CONTACT_HEADERS,
        "mapping": importer.suggest_mapping("contacts", CONTACT_HEADERS),
        "ctx": importer.Context(actor=ade, source=source),
        "record": (source.pk, "contacts", 1),
    }
    chunk = parallel.Chunk(
        [(n + 2, row) for n, row in enumerate(cells)],
        {
            "cases": {
                r.external_id: Case.objects.get(pk=r.object_id)
                for r in SourceRecord.objects.filter(source=source, kind="cases")
            }
        },
        ids=[501, 502, 503],
    )
    check = importer.worker_checker({**setup, "vendor": "postgresql"})
    checked = check(chunk)
    assert checked.ids == [501, 502, 503] and checked.rows is None
    assert checked.copy is not None and checked.copy.startswith(b"501\t")
    assert b"\tK1\t502\t" in (checked.records_copy or b"")

    def refuse(rows):  # type: ignore[no-untyped-def]
        raise writes.NotCopyText("a value for the driver")

    monkeypatch.setattr(writes, "copy_text", refuse)
    checked = check(chunk)
    assert checked.copy is None and checked.ids is None
    assert checked.rows is not None and len(checked.rows) == 3
