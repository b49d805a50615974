"""Checking and importing one file: every row checked, every problem listed by row and
column, then all of it written in one transaction or none of it.

`run_import` is the one path for the command line, the web page's background job and
the benchmark. It reads the file as a stream in chunks of `CHUNK` rows. For each chunk,
the importing process does what needs the database, for the whole chunk at once: ids
used twice in the file (`_SeenIds`, kept on disk), ids imported before (skipped), the
records the rows refer to (one query per chunk, cached). The rows are then read and
checked (`check_rows`) here or, for a long contacts file, in worker processes
(imports/parallel.py); when committing and nothing has gone wrong so far, the records
that passed are written (`writes`). A problem anywhere stops the writing; the rest of
the file is still checked so that the report is complete, and the transaction is rolled
back at the end. Memory does not grow with the file, only with the records it refers to.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import connection, transaction
from django.utils import timezone

from throughgate.core import audit
from throughgate.core.models import AuditAction
from throughgate.people import linkage
from throughgate.people.models import FoundBy, Person

from . import parallel, writes
from .kinds import KINDS, CellProblem, Context, KindSpec, RowProblems
from .models import ImportRun, RunStatus, Source, SourceMapping, SourceRecord
from .reader import MAX_CELL, Table

CHUNK = 5000
# Ids looked up per query: within SQLite's limit of 32,766 parameters (3.32 and later;
# Django's own 999 applies to its bulk inserts, which the importer does not use).
LOOKUP_BATCH = 5000
# The columns of the record map (SourceRecord) that an import writes, in this order.
RECORD_COLUMNS = ["source_id", "kind", "external_id", "object_id", "run_id"]
MAX_PROBLEMS_KEPT = 10_000  # listed in full up to here; beyond it, counted
Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class Problem:
    row: int  # as the spreadsheet numbers it (0: the file or mapping as a whole)
    column: str  # the file's header ("" for the row as a whole)
    message: str

    def __str__(self) -> str:
        where = f"Row {self.row}" if self.row else "The file"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


@dataclass
class Report:
    rows: int = 0
    added: int = 0
    already: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    committed: bool = False

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(problem)

    def merge(self, problems: list[Problem], count: int) -> None:
        """Another report's problems (`count` of them, `problems` those it kept)."""
        self.problem_count += count
        self.problems.extend(problems[: max(MAX_PROBLEMS_KEPT - len(self.problems), 0)])

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


# --- column mappings ----------------------------------------------------------------------


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def suggest_mapping(
    kind: str, headers: list[str], saved: dict[str, str] | None = None
) -> dict[str, str]:
    """Field -> header: the saved mapping where its headers are still in the file, then
    headers that match a field's name, label or a usual alternative."""
    spec = KINDS[kind]
    by_key = {_key(h): h for h in headers}
    mapping: dict[str, str] = {}
    saved = saved or {}
    for column in spec.columns:
        if saved.get(column.name) in headers:
            mapping[column.name] = saved[column.name]
            continue
        for name in (column.name, column.label, *column.aliases):
            if _key(name) in by_key and by_key[_key(name)] not in mapping.values():
                mapping[column.name] = by_key[_key(name)]
                break
    return mapping


def check_mapping(kind: str, headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """What is wrong with a mapping, by field: a column not in the file, a column chosen
    for two fields, a required field with no column. Empty when it will do."""
    spec = KINDS[kind]
    problems: dict[str, str] = {}
    known = {c.name for c in spec.columns}
    used: dict[str, str] = {}
    for column in spec.columns:
        header = mapping.get(column.name) or ""
        if not header:
            if column.required:
                problems[column.name] = (
                    f"Choose the column that holds '{column.label}'; it is needed."
                )
            continue
        if header not in headers:
            problems[column.name] = f"The file has no column called '{header}'."
        elif header in used:
            other = spec.column(used[header]).label
            problems[column.name] = (
                f"Column '{header}' is already chosen for '{other}'; a column can hold one field."
            )
        else:
            used[header] = column.name
    for name in set(mapping) - known:
        problems[name] = f"'{name}' is not a field of {kind}."
    return problems


def saved_mapping(source: Source, kind: str) -> dict[str, str]:
    found = SourceMapping.objects.filter(source=source, kind=kind).first()
    return dict(found.columns) if found else {}


def save_mapping(source: Source, kind: str, mapping: dict[str, str]) -> None:
    SourceMapping.objects.update_or_create(
        source=source, kind=kind, defaults={"columns": {k: v for k, v in mapping.items() if v}}
    )


# --- the run ------------------------------------------------------------------------------


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class _Reader:
    """Reads one row's cells into field values, noting problems against the header."""

    def __init__(self, spec: KindSpec, headers: list[str], mapping: dict[str, str]):
        self.spec = spec
        self.mapping = mapping
        self.plan = [
            (
                c,
                headers.index(mapping[c.name]) if mapping.get(c.name) else None,
                mapping.get(c.name, ""),
            )
            for c in spec.columns
        ]
        self.present = [(c, p, h) for c, p, h in self.plan if p is not None]
        self.absent = {c.name: c.default for c, p, _ in self.plan if p is None}
        # Refused by check_mapping before a run; reported on every row if it comes to one.
        self.absent_required = [c for c, p, _ in self.plan if p is None and c.required]

    def header_of(self, name: str) -> str:
        if name == NON_FIELD_ERRORS:
            return ""
        if self.mapping.get(name):
            return self.mapping[name]
        label = next((c.label for c in self.spec.columns if c.name == name), name.replace("_", " "))
        return f"({label}: not in the file)"

    def read(self, number: int, cells: list[Any], report: Report) -> dict[str, Any] | None:
        # Columns not in the file take their defaults at once; the rest are read.
        values = dict(self.absent)
        ok = True
        for column in self.absent_required:
            report.add(Problem(number, f"({column.label})", "this is empty; it is needed"))
            ok = False
        width = len(cells)
        for column, position, header in self.present:
            raw = cells[position] if position < width else None
            if raw is None or (raw.__class__ is str and not raw.strip()):
                if column.required:
                    report.add(Problem(number, header, "this is empty; it is needed"))
                    ok = False
                values[column.name] = column.default
                continue
            if raw.__class__ is str and ("\x00" in raw or len(raw) > MAX_CELL):
                ok = False
                if "\x00" in raw:  # PostgreSQL cannot store it, and no spreadsheet means it
                    report.add(Problem(number, header, "the cell holds a NUL character (\\0)"))
                else:
                    report.add(
                        Problem(
                            number,
                            header,
                            f"the cell is {len(raw):,} characters long; "
                            f"at most {MAX_CELL:,} are read",
                        )
                    )
                continue
            try:
                values[column.name] = column.read(raw)
            except CellProblem as exc:
                report.add(Problem(number, header, str(exc)))
                ok = False
        return values if ok else None

    def cell_reader(self, name: str) -> Callable[[list[Any]], Any]:
        """Reads one column's cell as its field (None when empty or unreadable, which
        `read` reports): for the importing process's lookups before the rows are checked."""
        found = next(((c, p) for c, p, _ in self.present if c.name == name), None)
        if found is None:
            return lambda cells: None
        column, position = found

        def read(cells: list[Any]) -> Any:
            raw = cells[position] if position < len(cells) else None
            if raw is None or (raw.__class__ is str and ("\x00" in raw or len(raw) > MAX_CELL)):
                return None
            try:
                return column.read(raw) or None
            except CellProblem:
                return None

        return read

    def add_problems(self, number: int, problems: dict[str, list[str]], report: Report) -> None:
        for name, messages in problems.items():
            for message in messages:
                report.add(Problem(number, self.header_of(name), message.rstrip(".")))


class _SeenIds:
    """The source ids read so far in this file, and the row each was on: to catch an id
    used twice. Kept on disk, in a private temporary SQLite database that is deleted
    when closed (Python's own sqlite3, whichever database the app uses), so that a
    million ids do not stay in memory for the whole run."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("", isolation_level=None)  # "": a private temporary file
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")

    def earlier_rows(self, read: list[tuple[int, str]]) -> dict[int, int]:
        """Of these (row, id) pairs, in file order: row -> the earlier row of each id
        already seen (in an earlier chunk, or earlier in this one). Remembers the rest."""
        before: dict[str, int] = {}
        ids = list({external for _, external in read})
        for start in range(0, len(ids), LOOKUP_BATCH):
            batch = ids[start : start + LOOKUP_BATCH]
            marks = ",".join("?" * len(batch))
            before.update(
                self.db.execute(f"SELECT id, row FROM seen WHERE id IN ({marks})", batch)  # noqa: S608
            )
        repeats: dict[int, int] = {}
        new: list[tuple[str, int]] = []
        for number, external in read:
            if external in before:
                repeats[number] = before[external]
            else:
                before[external] = number
                new.append((external, number))
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO seen VALUES (?, ?)", new)
        self.db.execute("COMMIT")
        return repeats

    def close(self) -> None:
        self.db.close()


def _record_map(source: Source, kind: str, ids: list[str]) -> dict[str, int]:
    """Source id -> object id, for those of `ids` imported from `source` as `kind`.

    In plain SQL: the ORM builds an IN list of 5,000 parameters one lookup object at a
    time, which on a million-row re-run costs more than the query. SQLite takes the ids
    as parameters (within its limit of 32,766). PostgreSQL takes them as one array, each
    looked up on its own in the (source, kind, id) index: asked for `= ANY(array)`
    instead, its planner read every record of the source and kind for each chunk (a
    whole table's worth, 90 to 300 ms a chunk at a million) rather than 5,000 index
    lookups (13 ms), with or without fresh statistics.
    """
    table = connection.ops.quote_name(SourceRecord._meta.db_table)
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(ids), LOOKUP_BATCH):
            batch = ids[start : start + LOOKUP_BATCH]
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT w.id, (SELECT r.object_id "  # noqa: S608 - names quoted
                    f"FROM {table} r WHERE r.source_id = %s AND r.kind = %s "
                    "AND r.external_id = w.id) FROM unnest(%s::text[]) AS w(id)",
                    [source.pk, kind, batch],
                )
                found.update((e, o) for e, o in cursor.fetchall() if o is not None)
                continue
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"SELECT external_id, object_id FROM {table} "  # noqa: S608 - names quoted
                f"WHERE source_id = %s AND kind = %s AND external_id IN ({marks})",
                [source.pk, kind, *batch],
            )
            found.update(cursor.fetchall())
    return found


def _resolve(ctx: Context, kind: str, wanted: set[str]) -> None:
    """Look up, for a whole chunk at once, the records of `kind` its rows name (cached
    in `ctx.refs`, None for an id no earlier import from the source has)."""
    cache = ctx.refs.setdefault(kind, {})
    wanted = {w for w in wanted if w not in cache}
    if not wanted:
        return
    found = _record_map(ctx.source, kind, sorted(wanted))
    objects = KINDS[kind].load(list(found.values()))
    for external in wanted:
        cache[external] = objects.get(found[external]) if external in found else None


def _already_imported(spec: KindSpec, source: Source, ids: list[str]) -> set[str]:
    return set(_record_map(source, spec.kind, ids))


@contextmanager
def _big_page_cache() -> Iterator[None]:
    """On SQLite, a page cache of `IMPORT_SQLITE_CACHE_MB` for the run (the default is
    2 MB): a contact goes into six indexes at places all over each, and with the small
    cache nearly every insert reads and writes pages through the operating system."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-1024 * int(settings.IMPORT_SQLITE_CACHE_MB)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


@contextmanager
def _references_checked_as_written() -> Iterator[None]:
    """On PostgreSQL, each statement's foreign keys checked when it ends, not all at
    COMMIT (Django makes them DEFERRABLE INITIALLY DEFERRED).

    Deferred, a million contacts' five checks each (case, staff, logged by; the record
    map's source and run) wait in the server's memory and then run one after another at
    COMMIT, on one core, while nothing else is left to do. Checked as each chunk is
    written, they use the time the workers spend checking the next chunks, and the
    server's memory does not grow with the file. Every row written refers only to rows
    already there (a record's children are written after it), so nothing changes but
    when. Set within the import's transaction, and set back at its end (after an error,
    or when the import is refused, there is nothing to set back: the transaction is
    rolled back, and the setting with it)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    if not connection.needs_rollback:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def check_rows(
    spec: KindSpec, reader: _Reader, ctx: Context, chunk: parallel.Chunk
) -> parallel.Checked:
    """Read and check a chunk's rows (already free of repeated and earlier ids, with the
    records they refer to looked up): the problems, and the records that passed."""
    for kind, found in chunk.refs.items():
        ctx.refs.setdefault(kind, {}).update(found)
    report = Report()
    passed: list[tuple[str, int]] = []
    objs: list[Any] = []
    for number, cells in chunk.rows:
        values = reader.read(number, cells, report)
        if values is None:
            continue
        missing = False
        for column, kind in spec.refs.items():
            external = values.get(column)
            if not external:
                continue
            obj = ctx.refs.get(kind, {}).get(external)
            if obj is None:
                missing = True
                report.add(
                    Problem(
                        number,
                        reader.mapping.get(column, column),
                        f"no {KINDS[kind].kind.rstrip('s')} record has id "
                        f"{external} in earlier imports from {ctx.source}",
                    )
                )
            values[f"{column}__obj"] = obj
        if missing:
            continue
        try:
            obj = spec.build(values, number, ctx)
        except RowProblems as exc:
            reader.add_problems(number, exc.problems, report)
            continue
        passed.append((values["source_id"], number))
        objs.append(obj)
    return parallel.Checked(report.problems, report.problem_count, passed, objs=objs)


def _record_rows(
    record: tuple[int, str, int], passed: list[tuple[str, int]], ids: list[int]
) -> list[list[Any]]:
    """The record map's rows (RECORD_COLUMNS) for the rows that passed, by the ids their
    records took; `record` is the run's (source id, kind, run id)."""
    source_id, kind, run_id = record
    return [
        [source_id, kind, external, i, run_id] for (external, _), i in zip(passed, ids, strict=True)
    ]


def worker_checker(setup: dict[str, Any]) -> Callable[[parallel.Chunk], parallel.Checked]:
    """`check_rows` as a worker process runs it: records made ready for the database
    there (`writes.prepare`, which encrypts the notes), so only plain values come back.

    A chunk sent with ids (PostgreSQL, when writing) comes back as COPY text: the
    records with their ids, and their rows of the record map (`setup["record"]`: source
    id, kind, run id), so the importing process passes them on without touching a row."""
    spec = KINDS[setup["kind"]]
    reader = _Reader(spec, setup["headers"], setup["mapping"])
    ctx: Context = setup["ctx"]
    vendor = setup["vendor"]
    record = setup["record"]

    def check(chunk: parallel.Chunk) -> parallel.Checked:
        checked = check_rows(spec, reader, ctx, chunk)
        rows = writes.prepare(checked.objs or [], vendor)
        checked.objs = None
        if chunk.ids is None:
            checked.rows = rows
            return checked
        id_of = dict(zip((number for number, _ in chunk.rows), chunk.ids, strict=True))
        ids = [id_of[number] for _, number in checked.passed]
        try:
            copy = writes.copy_text([[i, *row] for i, row in zip(ids, rows, strict=True)])
            records_copy = writes.copy_text(_record_rows(record, checked.passed, ids))
        except writes.NotCopyText:  # a value for the driver to write: rows, as for SQLite
            checked.rows = rows
            return checked
        checked.copy, checked.records_copy, checked.ids = copy, records_copy, ids
        return checked

    return check


def run_import(
    run: ImportRun,
    table: Table,
    actor: Any,
    *,
    commit: bool,
    progress: Progress | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> Report:
    """Check every row of `table` as `run.kind` with `run.columns`; with `commit`, write
    them all (or, if any row has a problem, nothing). The run row is updated with the
    outcome, outside the import's transaction so that a refused import keeps its report."""
    spec = KINDS[run.kind]
    mapping = dict(run.columns)
    reader = _Reader(spec, table.headers, mapping)
    ctx = Context(actor=actor, source=run.source)
    report = Report()
    seen = _SeenIds()
    writing = commit
    total = max(table.estimated_rows, 1)
    verb = "Importing" if commit else "Checking"
    ImportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.COMMITTING if commit else RunStatus.CHECKING
    )
    id_header = mapping.get("source_id", "")
    # The first import of a kind from a source need not look up each chunk's ids.
    imported_before = SourceRecord.objects.filter(source=run.source, kind=spec.kind).exists()
    # A check writes nothing, so it needs no transaction (and, on SQLite, must not hold the
    # write lock for minutes). An import is one transaction: all of it or none.
    new_people: list[int] = []
    record = (run.source_id, spec.kind, run.pk)  # what each record-map row says of the run
    workers = parallel.use_workers(spec.parallel, table.estimated_rows)
    stage: parallel.InProcess | parallel.Workers
    if workers:
        ctx.load_users()  # the workers cannot look users up; every one is sent
        stage = parallel.Workers(
            workers,
            {
                "kind": spec.kind,
                "headers": table.headers,
                "mapping": mapping,
                "ctx": ctx,
                "record": record,
            },
        )
    else:
        stage = parallel.InProcess(lambda chunk: check_rows(spec, reader, ctx, chunk))
    id_cell = reader.cell_reader("source_id")
    ref_cells = {column: (kind, reader.cell_reader(column)) for column, kind in spec.refs.items()}

    def handle(checked: parallel.Checked) -> None:
        nonlocal writing
        report.merge(checked.problems, checked.problem_count)
        if writing and not report.ok:
            writing = False  # nothing more is written; the rest is only checked
        if not writing or not checked.passed:
            return
        if checked.copy is not None:  # COPY text from a worker, ids and record map in it
            writes.copy_in(spec.model, writes.insert_columns(spec.model), checked.copy)
            writes.copy_in(SourceRecord, RECORD_COLUMNS, checked.records_copy or b"")
            report.added += len(checked.ids or [])
            return
        if checked.objs is not None:
            ids = spec.write(checked.objs, ctx)
        else:
            ids = writes.insert_prepared(spec.model, checked.rows or [])
        writes.insert_rows(SourceRecord, RECORD_COLUMNS, _record_rows(record, checked.passed, ids))
        report.added += len(ids)
        if spec.model is Person:
            new_people.extend(ids)

    try:
        with (
            _big_page_cache(),
            parallel.fewer_collections(),
            # Active, the current time zone is found without the exception Django's
            # lookup raises and catches when none is (a contact's clean() asks for it).
            timezone.override(timezone.get_current_timezone()),
            transaction.atomic() if commit else nullcontext(),
            _references_checked_as_written() if commit else nullcontext(),
        ):
            for chunk in _chunks(table.rows, CHUNK):
                report.rows += len(chunk)
                # What needs the database is done here, for the chunk at once: ids used
                # twice in the file, ids imported before, the records rows refer to.
                ids = [(n, external) for n, cells in chunk if (external := id_cell(cells))]
                repeats = seen.earlier_rows(ids)
                for number, external in ids:
                    if number in repeats:
                        report.add(
                            Problem(
                                number, id_header, f"id {external} is also on row {repeats[number]}"
                            )
                        )
                skip = set(repeats)
                if imported_before:
                    done = _already_imported(
                        spec, run.source, [e for n, e in ids if n not in repeats]
                    )
                    before = [n for n, e in ids if e in done and n not in repeats]
                    report.already += len(before)
                    skip.update(before)
                rows = [(n, cells) for n, cells in chunk if n not in skip] if skip else chunk
                refs: dict[str, dict[str, Any]] = {}
                for kind, read_cell in ref_cells.values():
                    wanted = {external for _, cells in rows if (external := read_cell(cells))}
                    _resolve(ctx, kind, wanted)
                    refs.setdefault(kind, {}).update({w: ctx.refs[kind][w] for w in wanted})
                # Writing on PostgreSQL, a worker is given the new records' ids up front
                # (from the table's sequence; a row that fails leaves its id unused, as a
                # rolled-back insert does) and sends back COPY text (worker_checker).
                reserved = (
                    writes.reserve_ids(spec.model, len(rows))
                    if writing and workers and connection.vendor == "postgresql"
                    else None
                )
                for checked in stage.submit(parallel.Chunk(rows, refs, reserved)):
                    handle(checked)
                if on_rows:
                    on_rows(report.rows)
                if progress:
                    progress(
                        min(99, report.rows * 100 // total),
                        f"{verb}: {report.rows:,} rows read, {report.problem_count:,} problems",
                    )
            for checked in stage.finish():
                handle(checked)
            if commit and report.ok:
                report.committed = True
                audit.record(
                    actor,
                    AuditAction.CREATE,
                    run,
                    summary=f"Imported {report.added:,} {spec.kind} "
                    f"({spec.model._meta.label_lower}) from {run.file_name} for {run.source}; "
                    f"{report.already:,} already there",
                    fields=sorted(k for k, v in mapping.items() if v),
                )
                # Once committed, the worker looks for duplicates of the new people among
                # everyone (the records may be people we already know under other spellings).
                linkage.review_later(actor, new_people, FoundBy.IMPORT)
            else:
                report.added = 0
                if commit:
                    transaction.set_rollback(True)
    finally:
        stage.close()
        seen.close()
    report.problems.sort(key=lambda p: p.row)  # stable: a row's own problems keep their order
    if commit:
        status = RunStatus.COMMITTED if report.committed else RunStatus.REFUSED
    else:
        status = RunStatus.CHECKED if report.ok else RunStatus.PROBLEMS
    run.status = status
    run.rows, run.added, run.already = report.rows, report.added, report.already
    run.problem_count = report.problem_count
    run.problems = [[p.row, p.column, p.message] for p in report.problems]
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "status",
            "rows",
            "added",
            "already",
            "problem_count",
            "problems",
            "finished_at",
        ]
    )
    return report


def file_problem(run: ImportRun, message: str) -> Report:
    """The file could not be read at all: recorded on the run as one problem."""
    report = Report()
    report.add(Problem(0, "", message))
    run.status = RunStatus.PROBLEMS
    run.problem_count = 1
    run.problems = [[0, "", message]]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "problem_count", "problems", "finished_at"])
    return report
