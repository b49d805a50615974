"""Checking and importing one file: every row checked, every problem listed by row and
column, then all of it written in one transaction or none of it.

`run_import` is the one path for the command line, the web page's background job and
the benchmark. It reads the file as a stream in chunks of `CHUNK` rows: per chunk it
reads the cells, looks up the records other rows refer to (one query per chunk, cached),
skips rows imported before, checks each record, and, when committing and nothing has
gone wrong so far, writes the chunk (`writes.insert`). A problem anywhere stops the
writing; the rest of the file is still checked so that the report is complete, and the
transaction is rolled back at the end. Memory stays flat but for the source ids seen
(to catch an id used twice in one file) and the referred-to records' cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils import timezone

from throughgate.core import audit
from throughgate.core.models import AuditAction
from throughgate.people import linkage
from throughgate.people.models import FoundBy, Person

from . import writes
from .kinds import KINDS, CellProblem, Context, KindSpec, RowProblems
from .models import ImportRun, RunStatus, Source, SourceMapping, SourceRecord
from .reader import MAX_CELL, Table

CHUNK = 5000
# Ids looked up per query: within SQLite's limit of 32,766 parameters (3.32 and later;
# Django's own 999 applies to its bulk inserts, which the importer does not use).
LOOKUP_BATCH = 5000
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

    def header_of(self, name: str) -> str:
        if name == NON_FIELD_ERRORS:
            return ""
        if self.mapping.get(name):
            return self.mapping[name]
        label = next((c.label for c in self.spec.columns if c.name == name), name.replace("_", " "))
        return f"({label}: not in the file)"

    def read(self, number: int, cells: list[Any], report: Report) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        ok = True
        width = len(cells)
        for column, position, header in self.plan:
            raw = cells[position] if position is not None and position < width else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if column.required:
                    report.add(
                        Problem(
                            number, header or f"({column.label})", "this is empty; it is needed"
                        )
                    )
                    ok = False
                values[column.name] = column.default
                continue
            if isinstance(raw, str) and "\x00" in raw:
                # PostgreSQL cannot store it, and no spreadsheet means it.
                report.add(Problem(number, header, "the cell holds a NUL character (\\0)"))
                ok = False
                continue
            if isinstance(raw, str) and len(raw) > MAX_CELL:
                report.add(
                    Problem(
                        number,
                        header,
                        f"the cell is {len(raw):,} characters long; at most {MAX_CELL:,} are read",
                    )
                )
                ok = False
                continue
            try:
                values[column.name] = column.read(raw)
            except CellProblem as exc:
                report.add(Problem(number, header, str(exc)))
                ok = False
        return values if ok else None

    def add_problems(self, number: int, problems: dict[str, list[str]], report: Report) -> None:
        for name, messages in problems.items():
            for message in messages:
                report.add(Problem(number, self.header_of(name), message.rstrip(".")))


def _resolve(spec: KindSpec, ctx: Context, chunk: list[tuple[int, dict[str, Any]]]) -> None:
    """Look up, for the whole chunk at once, the records its references name."""
    for column, kind in spec.refs.items():
        cache = ctx.refs.setdefault(kind, {})
        wanted = {v[column] for _, v in chunk if v.get(column) and v[column] not in cache}
        if not wanted:
            continue
        found: dict[str, int] = {}
        wanted_list = sorted(wanted)
        for start in range(0, len(wanted_list), LOOKUP_BATCH):
            found.update(
                SourceRecord.objects.filter(
                    source=ctx.source,
                    kind=kind,
                    external_id__in=wanted_list[start : start + LOOKUP_BATCH],
                ).values_list("external_id", "object_id")
            )
        objects = KINDS[kind].load(list(found.values()))
        for external in wanted:
            cache[external] = objects.get(found[external]) if external in found else None


def _already_imported(spec: KindSpec, source: Source, ids: list[str]) -> set[str]:
    done: set[str] = set()
    for start in range(0, len(ids), LOOKUP_BATCH):
        done.update(
            SourceRecord.objects.filter(
                source=source, kind=spec.kind, external_id__in=ids[start : start + LOOKUP_BATCH]
            ).values_list("external_id", flat=True)
        )
    return done


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
    seen: dict[str, int] = {}
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
    with transaction.atomic() if commit else nullcontext():
        for chunk in _chunks(table.rows, CHUNK):
            read: list[tuple[int, dict[str, Any]]] = []
            for number, cells in chunk:
                report.rows += 1
                values = reader.read(number, cells, report)
                if values is None:
                    continue
                external = values["source_id"]
                if external in seen:
                    report.add(
                        Problem(number, id_header, f"id {external} is also on row {seen[external]}")
                    )
                    continue
                seen[external] = number
                read.append((number, values))
            done = (
                _already_imported(spec, run.source, [v["source_id"] for _, v in read])
                if imported_before
                else set()
            )
            report.already += len(done)
            fresh = [(n, v) for n, v in read if v["source_id"] not in done]
            _resolve(spec, ctx, fresh)
            built: list[tuple[str, Any]] = []
            for number, values in fresh:
                missing = False
                for column, kind in spec.refs.items():
                    external = values.get(column)
                    if not external:
                        continue
                    obj = ctx.refs[kind].get(external)
                    if obj is None:
                        missing = True
                        report.add(
                            Problem(
                                number,
                                mapping.get(column, column),
                                f"no {KINDS[kind].kind.rstrip('s')} record has id "
                                f"{external} in earlier imports from {run.source}",
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
                built.append((values["source_id"], obj))
            if writing and not report.ok:
                writing = False  # nothing more is written; the rest is only checked
            if writing and built:
                objs = [obj for _, obj in built]
                ids = spec.write(objs, ctx)
                writes.insert_rows(
                    SourceRecord,
                    ["source_id", "kind", "external_id", "object_id", "run_id"],
                    [
                        [run.source_id, spec.kind, external, pk, run.pk]
                        for (external, _), pk in zip(built, ids, strict=True)
                    ],
                )
                report.added += len(objs)
                if spec.model is Person:
                    new_people.extend(ids)
            if on_rows:
                on_rows(report.rows)
            if progress:
                progress(
                    min(99, report.rows * 100 // total),
                    f"{verb}: {report.rows:,} rows read, {report.problem_count:,} problems",
                )
        if commit and report.ok:
            report.committed = True
            audit.record(
                actor,
                AuditAction.CREATE,
                run,
                summary=f"Imported {report.added:,} {spec.kind} ({spec.model._meta.label_lower}) "
                f"from {run.file_name} for {run.source}; {report.already:,} already there",
                fields=sorted(k for k, v in mapping.items() if v),
            )
            # Once committed, the worker looks for duplicates of the new people among
            # everyone (the records may be people we already know under other spellings).
            linkage.review_later(actor, new_people, FoundBy.IMPORT)
        else:
            report.added = 0
            if commit:
                transaction.set_rollback(True)
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
