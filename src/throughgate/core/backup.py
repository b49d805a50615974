"""Backing up and restoring the whole database: `throughgate backup` and `throughgate restore`.

SQLite is copied with SQLite's own online backup API, never as a plain file copy:
a file copy taken while the app is writing (or with changes still in the WAL file
beside it) can be torn or stale, while the backup API reads one consistent snapshot
and, in WAL mode, lets the app carry on writing meanwhile. PostgreSQL is dumped with
`pg_dump --format=custom` (also a consistent snapshot) and restored with `pg_restore`
in one transaction, so a failed restore leaves the database as it was.

A backup holds everyone's personal data, so it is written 0600, under a hidden
temporary name in the same folder, and renamed into place only once it is complete
and checked: a file with the final name is always a whole, readable backup.

Connection details for pg_dump and pg_restore come from Django's DATABASES setting
and go to them through libpq's PG* environment variables; the password in
particular never appears on a command line, where other users could read it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SQLITE = "django.db.backends.sqlite3"
POSTGRESQL = "django.db.backends.postgresql"
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"  # pg_dump's custom format
SUFFIXES = {SQLITE: ".sqlite3", POSTGRESQL: ".dump"}
ENGINE_NAMES = {SQLITE: "SQLite", POSTGRESQL: "PostgreSQL"}
KIND_NAMES = {
    SQLITE: "a SQLite database (a backup of a SQLite installation)",
    POSTGRESQL: "a PostgreSQL pg_dump archive (a backup of a PostgreSQL installation)",
}
# Django's OPTIONS for PostgreSQL that libpq also reads from the environment.
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "options": "PGOPTIONS",
}
CLIENT_PACKAGES = (
    "install the PostgreSQL client tools: `apt-get install postgresql-client` (Debian, "
    "Ubuntu), `dnf install postgresql` (Fedora, Red Hat) or `brew install libpq` (macOS)"
)


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the user."""


@dataclass(frozen=True)
class Contents:
    """How much a database holds: what a restore would replace."""

    people: int
    users: int

    @property
    def empty(self) -> bool:
        return not (self.people or self.users)

    def __str__(self) -> str:
        return f"{_plural(self.people, 'person record')} and {_plural(self.users, 'staff account')}"


@dataclass(frozen=True)
class MigrationReport:
    backup_newest: str  # "app 0003_name", or "" when the table is empty
    code_newest: str
    pending: tuple[str, ...]  # in the code, not applied in the restored database
    unknown: tuple[str, ...]  # applied in the restored database, not in the code


# --- Helpers ----------------------------------------------------------------------------


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def human_size(n: int) -> str:
    if n < 1024:
        return _plural(n, "byte")
    size, unit = n / 1024, "KB"
    for bigger in ("MB", "GB", "TB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{size:.1f} {unit}"


def _sqlite_uri(path: Path, mode: str) -> str:
    # A URI, so that mode=ro/rw applies: plain connect() would create a missing file.
    return f"{path.resolve().as_uri()}?mode={mode}"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _describe_database(db: dict[str, Any]) -> str:
    if db["ENGINE"] == SQLITE:
        return str(db["NAME"])
    host = db.get("HOST") or "the local socket"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"the PostgreSQL database {db['NAME']!r} on {host}{port}"


def _database() -> dict[str, Any]:
    from django.conf import settings

    db: dict[str, Any] = settings.DATABASES["default"]
    if db["ENGINE"] not in (SQLITE, POSTGRESQL):
        raise BackupError(f"cannot back up a {db['ENGINE']} database")
    if db["ENGINE"] == SQLITE and (
        str(db["NAME"]) in ("", ":memory:") or "mode=memory" in str(db["NAME"])
    ):
        raise BackupError("the database is in memory: there is nothing on disk to back up")
    return db


def _table(app_label: str, model: str) -> str:
    from django.apps import apps

    return str(apps.get_model(app_label, model)._meta.db_table)


# --- PostgreSQL client tools --------------------------------------------------------------


def libpq_environment(db: dict[str, Any]) -> dict[str, str]:
    """The environment for pg_dump/pg_restore to reach Django's database, password included."""
    env = dict(os.environ)
    for key, variable in (
        ("NAME", "PGDATABASE"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
    ):
        if db.get(key):
            env[variable] = str(db[key])
    for option, variable in _LIBPQ_OPTIONS.items():
        value = (db.get("OPTIONS") or {}).get(option)
        if value not in (None, ""):
            env[variable] = str(value)
    return env


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # An argument list and no shell, so file and database names are never shell syntax.
    return subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603


def _client_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found on PATH; {CLIENT_PACKAGES}.")
    return path


def _major_version(tool: str) -> int | None:
    result = _run([tool, "--version"])
    found = re.search(r"\)\s*(\d+)", result.stdout)  # "pg_dump (PostgreSQL) 15.20 (Debian …)"
    return int(found.group(1)) if found else None


def _server_major_version() -> int:
    from django.db import connection

    connection.ensure_connection()
    return int(connection.pg_version) // 10000  # type: ignore[attr-defined]


def _tool_failed(tool: str, result: subprocess.CompletedProcess[str], doing: str) -> BackupError:
    """pg_dump's or pg_restore's own message, with a hint when the versions do not fit."""
    said = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
    message = f"{doing} failed; {Path(tool).name} said:\n{said}"
    name = Path(tool).name
    if "server version mismatch" in said:
        try:
            server = _server_major_version()
        except Exception:  # noqa: BLE001 (the hint is a courtesy; the message above stands)
            server = None
        wanted = f"postgresql-client-{server}" if server else "postgresql-client-NN"
        message += (
            f"\n{name} {_major_version(tool)} is older than the server"
            f"{f' (PostgreSQL {server})' if server else ''}: install client tools at least as "
            f"new as the server (e.g. `apt-get install {wanted}` from apt.postgresql.org) "
            "and put them first on PATH."
        )
    elif "unsupported version" in said:
        message += (
            f"\nThe file was written by a newer pg_dump than this {name} "
            f"({_major_version(tool)}): install newer PostgreSQL client tools to restore it."
        )
    return BackupError(message)


def _pg_archive_listing(tool: str, path: Path) -> str:
    """`pg_restore --list`: reads the whole archive's table of contents, so it also
    proves the file is a complete, readable archive."""
    result = _run([tool, "--list", str(path)])
    if result.returncode != 0:
        raise _tool_failed(tool, result, f"reading {path} as a pg_dump archive")
    return result.stdout


def _pg_archive_tables(listing: str) -> set[str]:
    return set(re.findall(r"^\d+; \d+ \d+ TABLE public (\S+) ", listing, flags=re.MULTILINE))


# --- Backup ---------------------------------------------------------------------------------


def default_backup_name(engine: str) -> str:
    from django.utils import timezone

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return f"throughgate-{stamp}{SUFFIXES[engine]}"


def _output_path(output: str | None, engine: str) -> Path:
    from django.conf import settings

    if output is None:
        folder = Path(settings.DATA_DIR) / "backups"
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError(f"cannot create {folder}: {exc.strerror}") from None
        target = folder / default_backup_name(engine)
    else:
        target = Path(output).expanduser()
        if target.is_dir():
            target = target / default_backup_name(engine)
        elif not target.parent.is_dir():
            raise BackupError(f"{target.parent} is not a folder; create it first")
        elif target.exists():
            # Never overwrite an earlier backup: it may be the only good one.
            raise BackupError(f"{target} already exists; give a new file name or a folder")
    stem, counter = target.stem, 1
    while target.exists():  # two default-named backups within one second
        target = target.with_name(f"{stem}-{counter}{target.suffix}")
        counter += 1
    return target.resolve()


def _check_sqlite_file(path: Path, label: str) -> None:
    """PRAGMA integrity_check, and that the file is a Throughgate database."""
    try:
        conn = sqlite3.connect(_sqlite_uri(path, "ro"), uri=True)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            apps = (
                {row[0] for row in conn.execute("SELECT DISTINCT app FROM django_migrations")}
                if "django_migrations" in tables
                else set()
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            f"{label} is damaged or not a SQLite database: SQLite says {exc}"
        ) from None
    if problems != ["ok"]:
        shown = "; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")
        raise BackupError(f"{label} is damaged: PRAGMA integrity_check reports: {shown}")
    if "django_migrations" not in tables:
        raise BackupError(
            f"{label} is a SQLite database but not a Throughgate one (it has no "
            "django_migrations table)"
        )
    if "people" not in apps:
        raise BackupError(
            f"{label} is a Django database but not a Throughgate one (no migrations of the "
            "people app)"
        )


def _backup_sqlite(db: dict[str, Any], temporary: Path) -> None:
    source_path = Path(db["NAME"])
    if not source_path.is_file():
        raise BackupError(f"there is no database at {source_path} yet; nothing to back up")
    source = sqlite3.connect(_sqlite_uri(source_path, "rw"), uri=True, timeout=20)
    copy = sqlite3.connect(temporary)
    try:
        # All pages in one step: one read transaction, so one consistent snapshot; in WAL
        # mode the app's writers carry on meanwhile (they only wait in rollback mode).
        source.backup(copy)
        # The copy inherits WAL mode; a backup should be one self-contained file.
        copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise BackupError(f"copying {source_path} failed: SQLite says {exc}") from None
    finally:
        copy.close()
        source.close()
    _check_sqlite_file(temporary, f"the copy of {source_path}")


def _backup_postgresql(db: dict[str, Any], temporary: Path) -> None:
    pg_dump = _client_tool("pg_dump")
    pg_restore = _client_tool("pg_restore")
    result = _run(
        [pg_dump, "--format=custom", "--no-password", f"--file={temporary}"],
        env=libpq_environment(db),
    )
    if result.returncode != 0:
        raise _tool_failed(pg_dump, result, f"backing up {_describe_database(db)}")
    _pg_archive_listing(pg_restore, temporary)


def backup(output: str | None = None) -> Path:
    """Back up the configured database to `output` (a file or a folder; default the data
    folder's backups/); returns the finished file's path."""
    db = _database()
    target = _output_path(output, db["ENGINE"])
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as exc:
        raise BackupError(f"cannot write in {target.parent}: {exc.strerror}") from None
    os.close(fd)
    temporary = Path(name)  # mkstemp makes it 0600, whatever the umask
    try:
        if db["ENGINE"] == SQLITE:
            _backup_sqlite(db, temporary)
        else:
            _backup_postgresql(db, temporary)
        os.chmod(temporary, 0o600)
        _fsync(temporary)
        os.replace(temporary, target)
        _fsync(target.parent)  # the rename itself survives a power cut
    finally:
        temporary.unlink(missing_ok=True)
    return target


# --- Restore --------------------------------------------------------------------------------


def identify_backup(path: Path) -> str:
    """The engine a backup file belongs to (SQLITE or POSTGRESQL), or a BackupError that
    says what the file is instead."""
    if path.is_dir():
        raise BackupError(
            f"{path} is a folder, not a backup file (Throughgate writes single-file backups)"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return SQLITE
    if head.startswith(PG_DUMP_MAGIC):
        return POSTGRESQL
    if not head:
        what = "an empty file"
    elif head.startswith(b"\x1f\x8b"):
        what = "gzip-compressed: decompress it first (gunzip)"
    elif head.startswith(b"age-encryption.org/"):
        what = "encrypted with age: decrypt it first (age --decrypt)"
    elif head.startswith(b"-----BEGIN PGP"):
        what = "encrypted with GnuPG: decrypt it first (gpg --decrypt)"
    elif head[257:262] == b"ustar":
        what = "a tar archive (pg_dump --format=tar?), not a custom-format pg_dump archive"
    elif b"PostgreSQL database dump" in head:
        what = "a plain-SQL pg_dump script; restore it with psql, or make a new backup with " \
               "`throughgate backup`"  # fmt: skip
    else:
        what = "neither a SQLite database nor a pg_dump archive"
    raise BackupError(f"{path} is not a Throughgate backup: it is {what}")


def contents() -> Contents:
    """How many people and staff accounts the configured database holds (0 if not set up)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == SQLITE and not Path(db["NAME"]).exists():
        return Contents(people=0, users=0)  # a new install (connecting would create the file)
    tables = set(connection.introspection.table_names())
    found = []
    for app_label, model in (("people", "Person"), ("accounts", "User")):
        table = _table(app_label, model)
        if table not in tables:
            found.append(0)
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            found.append(int(cursor.fetchone()[0]))
    return Contents(people=found[0], users=found[1])


def _restore_sqlite(db: dict[str, Any], source_path: Path) -> None:
    target_path = Path(db["NAME"])
    if target_path.exists() and target_path.samefile(source_path):
        raise BackupError(f"{source_path} is the database itself; give a backup file")
    if not target_path.exists():
        os.close(os.open(target_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(_sqlite_uri(source_path, "ro"), uri=True)
    target = sqlite3.connect(_sqlite_uri(target_path, "rw"), uri=True, timeout=20)
    try:
        # The backup API replaces every page of the target inside one write transaction
        # (all or nothing) and through SQLite's locking, so it is safe beside a running app.
        source.backup(target)
        problems = [row[0] for row in target.execute("PRAGMA quick_check")]
    except sqlite3.Error as exc:
        raise BackupError(f"restoring into {target_path} failed: SQLite says {exc}") from None
    finally:
        target.close()
        source.close()
    if problems != ["ok"]:
        raise BackupError(f"{target_path} failed its check after the restore: {problems[0]}")


def _restore_postgresql(db: dict[str, Any], source_path: Path, listing: str) -> set[str]:
    """pg_restore in one transaction; returns the tables the archive did not replace."""
    from django.db import connection

    before = set(connection.introspection.table_names())
    connection.close()
    pg_restore = _client_tool("pg_restore")
    result = _run(
        [
            pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--exit-on-error", "--no-password", f"--dbname={db['NAME']}", str(source_path),
        ],
        env=libpq_environment(db),
    )  # fmt: skip
    if result.returncode != 0:
        failed = _tool_failed(pg_restore, result, f"restoring into {_describe_database(db)}")
        raise BackupError(f"{failed}\nNothing was changed: the restore runs in one transaction.")
    return before - _pg_archive_tables(listing)


def migration_report() -> MigrationReport:
    """The restored database's migrations against this version of the code."""
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    # "Newest" among Throughgate's own apps: Django's (auth, sessions…) rarely change and
    # would otherwise always be last, telling the reader nothing about the backup's age.
    ours = {c.label for c in apps.get_app_configs() if c.name.startswith("throughgate.")}
    executor = MigrationExecutor(connection)
    loader = executor.loader
    leaves = loader.graph.leaf_nodes()
    full_plan = [m for m, _ in executor.migration_plan(leaves, clean_start=True)]
    code_newest = [m for m in full_plan if m.app_label in ours][-1:]
    newest = executor.recorder.migration_qs.filter(app__in=ours).order_by("-applied", "-id").first()
    applied = set(loader.applied_migrations)
    return MigrationReport(
        backup_newest=f"{newest.app} {newest.name}" if newest else "",
        code_newest=f"{code_newest[0].app_label} {code_newest[0].name}" if code_newest else "",
        pending=tuple(f"{m.app_label} {m.name}" for m, _ in executor.migration_plan(leaves)),
        unknown=tuple(
            f"{app} {name}" for app, name in sorted(applied - set(loader.disk_migrations))
        ),
    )


def restore(
    source: str, *, yes: bool, confirm: Callable[[str], bool] | None
) -> tuple[Contents, MigrationReport, set[str]]:
    """Replace the configured database with the backup `source`.

    Without `yes`, a database that already holds people or accounts is only replaced if
    `confirm(question)` answers True; with no `confirm` (not at a terminal) it is refused.
    Returns what the database holds afterwards, its migrations against the code's, and
    (PostgreSQL) tables the backup did not replace."""
    from django.db import OperationalError, connections

    db = _database()
    path = Path(source).expanduser()
    if not path.exists():
        raise BackupError(f"{path}: no such file")
    kind = identify_backup(path)
    if kind != db["ENGINE"]:
        raise BackupError(
            f"{path} is {KIND_NAMES[kind]}, but this installation uses "
            f"{ENGINE_NAMES[db['ENGINE']]} ({_describe_database(db)}); restore it on a "
            f"{ENGINE_NAMES[kind]} installation, or give a backup made here"
        )
    listing = ""
    if kind == SQLITE:
        _check_sqlite_file(path, str(path))
    else:
        listing = _pg_archive_listing(_client_tool("pg_restore"), path)
        if not {"django_migrations", _table("people", "Person")} <= _pg_archive_tables(listing):
            raise BackupError(
                f"{path} is a pg_dump archive but not of a Throughgate database (it has no "
                "django_migrations or people tables)"
            )
    where = _describe_database(db)
    try:
        before = contents()
    except OperationalError as exc:
        raise BackupError(f"cannot open {where}: {exc}".strip()) from None
    if not before.empty and not yes:
        question = f"{where} already holds {before}; restoring {path} replaces everything in it."
        if confirm is None:
            raise BackupError(f"{question} Add --yes to go ahead.")
        if not confirm(question + " Type yes to go ahead: "):
            raise BackupError("restore cancelled; nothing was changed")
    connections.close_all()
    left_alone: set[str] = set()
    if kind == SQLITE:
        _restore_sqlite(db, path)
    else:
        left_alone = _restore_postgresql(db, path, listing)
    connections.close_all()
    return contents(), migration_report(), left_alone


# --- The two commands (registered in cli.py) --------------------------------------------------


def _ask(question: str) -> bool:
    print(question, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


def cmd_backup(args: argparse.Namespace) -> int:
    from throughgate.cli import _setup_django

    _setup_django()
    try:
        path = backup(args.output)
    except BackupError as exc:
        print(f"throughgate: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the disk filled up while writing
        print(f"throughgate: backup failed: {exc.filename or ''} {exc.strerror}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"Backup written to {path} ({human_size(path.stat().st_size)}).")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from throughgate.cli import _setup_django

    _setup_django()
    at_terminal = sys.stdin is not None and sys.stdin.isatty()
    try:
        after, report, left_alone = restore(
            args.input, yes=args.yes, confirm=_ask if at_terminal else None
        )
    except BackupError as exc:
        print(f"throughgate: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. no permission to write the database file
        print(f"throughgate: restore failed: {exc.filename or ''} {exc.strerror}", file=sys.stderr)
        return 1
    db = _database()
    if not args.quiet:
        print(f"Restored {args.input} into {_describe_database(db)}: it now holds {after}.")
        up_to_date = "" if report.pending or report.unknown else " (up to date)"
        print(
            f"Newest migration in the backup: {report.backup_newest or 'none'}; "
            f"in this version of Throughgate: {report.code_newest or 'none'}{up_to_date}."
        )
    if report.pending:
        print(
            f"throughgate: warning: the backup is older than this version of Throughgate "
            f"({_plural(len(report.pending), 'migration')} not applied, from "
            f"{report.pending[0]}); run `throughgate migrate` before serving it.",
            file=sys.stderr,
        )
    if report.unknown:
        print(
            "throughgate: warning: the backup was made by a newer version of Throughgate "
            f"(it has migrations this version lacks: {', '.join(report.unknown)}); "
            "upgrade Throughgate before serving it.",
            file=sys.stderr,
        )
    if left_alone:
        print(
            "throughgate: warning: these tables are not in the backup and were left as they "
            f"were: {', '.join(sorted(left_alone))}.",
            file=sys.stderr,
        )
    return 0
