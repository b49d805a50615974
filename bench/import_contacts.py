"""Import of contact rows from CSV: the bulk importer against the naive per-row ORM save.

    .venv/bin/python bench/import_contacts.py --rows 100000                 # SQLite
    .venv/bin/python bench/import_contacts.py --rows 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/tg_bench_import    # PostgreSQL

Makes a scratch database (a fresh SQLite file in a temporary folder, or the empty
PostgreSQL database given, which it migrates), the people and cases the contacts refer
to (one case per 100 contacts unless --cases says, as an earlier import from the same
source), and a CSV of --rows contacts. Then it times:

- bulk: `imports.importer.run_import(..., commit=True)`, the path the command line and
  the web page use, with every check (cells, Contact.clean, references, repeated ids),
  in one transaction;
- naive: for each row, read it, `Contact.full_clean()`, `save()` and a `SourceRecord`
  row, each in its own transaction; on --naive-rows rows only (default 5,000) and
  extrapolated, which the output says.

Prints rows/s side by side, how many worker processes checked the rows
(imports/parallel.py; IMPORT_WORKERS=0 checks them in the importing process), and the
peak memory: the importing process's maximum resident set, the largest worker's, and,
for the bulk import, tracemalloc's peak of Python allocations during a second, checking
run of the same file, which also shows the check alone.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument(
        "--cases",
        type=int,
        default=0,
        help="cases the contacts belong to (default: one per 100 rows); fix it to compare "
        "memory at two file sizes, since the importer keeps the cases it has looked up",
    )
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="tg-bench-import-"))
    os.environ.update(
        THROUGHGATE_DATA_DIR=str(folder),
        DJANGO_SETTINGS_MODULE="throughgate.settings",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
        DEBUG="false",
        HTTPS="off",
    )
    if not os.environ.get("FIELD_ENCRYPTION_KEYS") and not os.environ.get(
        "FIELD_ENCRYPTION_KEY_FILE"
    ):
        from cryptography.fernet import Fernet  # a throw-away key for throw-away data

        os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from throughgate.accounts.models import Team, User
    from throughgate.accounts.roles import Role
    from throughgate.casework.models import DEFAULT_PHASES, Case, Contact, Programme
    from throughgate.imports import importer, parallel
    from throughgate.imports.kinds import read_choice, read_datetime
    from throughgate.imports.models import ImportRun, RunStatus, Source, SourceRecord
    from throughgate.imports.reader import open_table
    from throughgate.people.models import Person

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    team = Team.objects.create(name="Bench team")
    ade = User.objects.create(username="ade", role=Role.ADMIN)
    mo = User.objects.create(username="mo", role=Role.MENTOR, team=team)
    programme = Programme.objects.create(
        name="Bench", kind="custody", team=team, phases=[str(p) for p in DEFAULT_PHASES["custody"]]
    )
    source = Source.objects.create(name="Old spreadsheets 2010-2024")
    n_cases = args.cases or max(1, args.rows // 100)
    opened = timezone.localdate() - timedelta(days=3000)
    people = Person.objects.bulk_create(
        [
            Person(forename=f"P{i}", surname="Bench", date_of_birth=opened - timedelta(days=6000))
            for i in range(n_cases)
        ],
        batch_size=5000,
    )
    cases = Case.objects.bulk_create(
        [
            Case(
                person=p,
                programme=programme,
                team=team,
                phase="community",
                phase_since=opened,
                opened_on=opened,
                mentor=mo,
            )
            for p in people
        ],
        batch_size=5000,
    )
    seed_run = ImportRun.objects.create(
        source=source, kind="cases", file_name="cases.csv", status=RunStatus.COMMITTED
    )
    SourceRecord.objects.bulk_create(
        [
            SourceRecord(
                source=source, kind="cases", external_id=f"C{i}", object_id=c.pk, run=seed_run
            )
            for i, c in enumerate(cases)
        ],
        batch_size=5000,
    )

    path = folder / "contacts.csv"
    rng = random.Random(8)
    modes = ["phone", "community", "prison_visit", "video", "home_visit"]
    start = datetime.combine(opened, datetime.min.time())
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Contact ID", "Case ID", "When", "How", "Minutes", "What happened"])
        for i in range(args.rows):
            when = start + timedelta(minutes=rng.randrange(2_000 * 24 * 60))
            writer.writerow(
                [
                    f"K{i}",
                    f"C{rng.randrange(n_cases)}",
                    f"{when:%d/%m/%Y %H:%M}",
                    rng.choice(modes),
                    rng.randrange(10, 120),
                    f"Talked about the week ahead, row {i}",
                ]
            )
    print(f"{args.rows:,} contact rows, {n_cases:,} cases; CSV {path.stat().st_size / 1e6:.1f} MB")

    def new_run(table) -> ImportRun:  # type: ignore[no-untyped-def]
        return ImportRun.objects.create(
            source=source,
            kind="contacts",
            file_name=path.name,
            headers=table.headers,
            columns=importer.suggest_mapping("contacts", table.headers),
            status=RunStatus.UPLOADED,
        )

    # --- bulk ---
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = [_cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)]
    server_before = _postgres_cpu() if args.database_url else None
    backend = None  # the server process of this connection (PostgreSQL): its peak memory
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
    table = open_table(path)
    began = time.perf_counter()
    worker_peak = [0]

    def watch_workers(_rows: int) -> None:  # after each chunk: the workers' peak RSS so far
        for child in multiprocessing.active_children():
            if child.name == "import-checker":
                worker_peak[0] = max(worker_peak[0], _peak_rss_kb(child.pid))

    report = importer.run_import(new_run(table), table, ade, commit=True, on_rows=watch_workers)
    bulk_seconds = time.perf_counter() - began
    table.close()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # CPU seconds of the importing process and of its (finished) worker processes.
    own_cpu = _cpu(resource.RUSAGE_SELF) - cpu_before[0]
    workers_cpu = _cpu(resource.RUSAGE_CHILDREN) - cpu_before[1]
    server_after = _postgres_cpu() if args.database_url else None
    backend_peak = _peak_rss_kb(backend) if backend else 0
    assert report.committed and report.added == args.rows, report.problems[:5]
    bulk_rate = args.rows / bulk_seconds

    # The same file again, checking only (every row is "already imported": the lookups
    # of earlier ids), with tracemalloc on: the peak of Python allocations.
    tracemalloc.start()
    table = open_table(path)
    began = time.perf_counter()
    again = importer.run_import(new_run(table), table, ade, commit=False)
    rerun_seconds = time.perf_counter() - began
    table.close()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert again.already == args.rows and again.added == 0

    # --- naive: per row, full_clean + save + its SourceRecord, autocommit ---
    naive_rows = min(args.naive_rows, args.rows)
    read_mode = read_choice(Contact._meta.get_field("mode").choices)
    naive_run = ImportRun.objects.create(
        source=source, kind="contacts", file_name="naive", status=RunStatus.UPLOADED
    )
    case_of = dict(
        SourceRecord.objects.filter(source=source, kind="cases").values_list(
            "external_id", "object_id"
        )
    )
    began = time.perf_counter()
    with open(path, encoding="utf-8", newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            if i >= naive_rows:
                break
            contact = Contact(
                case=Case.objects.get(pk=case_of[row["Case ID"]]),
                staff=mo,
                logged_by=ade,
                occurred_at=read_datetime(row["When"]),
                mode=read_mode(row["How"]),
                duration_minutes=int(row["Minutes"]),
                summary=row["What happened"],
            )
            contact.full_clean()
            with transaction.atomic():
                contact.save()
                SourceRecord.objects.create(
                    source=source,
                    kind="naive",
                    external_id=row["Contact ID"],
                    object_id=contact.pk,
                    run=naive_run,
                )
    naive_seconds = time.perf_counter() - began
    naive_rate = naive_rows / naive_seconds

    print()
    print(f"{'':34}{'rows/s':>12}{'seconds':>12}")
    print(f"{'bulk importer (measured)':34}{bulk_rate:>12,.0f}{bulk_seconds:>12.1f}")
    print(
        f"{'re-run, all already imported':34}"
        f"{args.rows / rerun_seconds:>12,.0f}{rerun_seconds:>12.1f}"
    )
    label = f"naive per-row ORM ({naive_rows:,} rows)"
    print(f"{label:34}{naive_rate:>12,.0f}{naive_seconds:>12.1f}")
    print(
        f"{'naive, extrapolated to all rows':34}{naive_rate:>12,.0f}{args.rows / naive_rate:>12.1f}"
        "  (extrapolated)"
    )
    print(f"speed-up: {bulk_rate / naive_rate:.1f}x")
    workers = parallel.use_workers(True, args.rows)
    print(f"rows checked in {workers} worker processes" if workers else "rows checked in-process")
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    print(
        f"peak RSS: {rss_before * unit / 1e6:.0f} MB before the bulk import, "
        f"{rss_after * unit / 1e6:.0f} MB after"
    )
    print(
        f"CPU per row in the bulk import: {own_cpu / args.rows * 1e6:.0f} us in the importing "
        f"process, {workers_cpu / args.rows * 1e6:.0f} us in worker processes"
    )
    if server_before is not None and server_after is not None:
        print(
            "CPU per row of the PostgreSQL server's processes on this machine: "
            f"{(server_after - server_before) / args.rows * 1e6:.0f} us"
        )
    elif args.database_url:
        print("CPU of the PostgreSQL server: not measured (no postgres process here)")
    if backend_peak:
        print(f"peak RSS of the import's PostgreSQL server process: {backend_peak / 1e3:.0f} MB")
    if worker_peak[0]:
        print(f"peak RSS of the largest worker process: {worker_peak[0] * 1024 / 1e6:.0f} MB")
    print(f"tracemalloc peak during the checking re-run: {traced_peak / 1e6:.1f} MB")
    return 0


def _peak_rss_kb(pid: int) -> int:
    """A process's own peak resident set (VmHWM; Linux), 0 where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _postgres_cpu() -> float | None:
    """CPU seconds used so far by the processes called `postgres` on this machine (a
    local server's backends and helpers; Linux /proc), None where there are none."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _, rest = text.partition(" (")[2].rpartition(") ")
        if name == "postgres":
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
            found = True
    return total / ticks if found else None


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    raise SystemExit(main())
