"""`throughgate backup` and `throughgate restore`, run for real: the command in a
subprocess against its own file-based SQLite database (the suite's own is in memory)
and against scratch PostgreSQL databases made and dropped here, with data made by
the same actions the app uses (tests/make.py). Nothing is mocked.

The PostgreSQL tests skip on a machine without pg_dump or a server on 127.0.0.1:5432
(trust authentication for `postgres`), and fail instead in CI (env CI set), like the
browser tests, so a green CI run means the PostgreSQL round trip really ran.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pty
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "test-only-secret-key-not-for-production-0123456789abcdef"
PG_SERVER = "host=127.0.0.1 port=5432 user=postgres connect_timeout=5"
PG_URL = "postgres://postgres@127.0.0.1:5432/{}"

# Run in the subprocess by `throughgate manage shell -c`: one process (Django starts
# once) migrates the new database and fills it through the app's own actions.
MIGRATE_AND_MAKE_DATA = """
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from tests import make
from throughgate.accounts.roles import Role
team = make.make_team("Custody team")
cara = make.make_user("cara", Role.COORDINATOR, team, first_name="Cara", last_name="Jones")
mo = make.make_user("mo", Role.MENTOR, team, first_name="Mo", last_name="Ahmed")
case = make.make_case(mentor=mo, actor=cara)
make.make_contact(case)
make.make_family_member(case.person, cara)
make.make_plan(case, cara)
make.make_person(cara, forename="Aisha", surname="Khan")
"""
# What goes wrong after the backup: an edit, a deletion and an addition.
DAMAGE = [
    "UPDATE people_person SET surname = 'Changed'",
    "DELETE FROM casework_contact_family_members",
    "DELETE FROM casework_contact",
    "INSERT INTO accounts_team (name) VALUES ('Extra team')",
]


def cli_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY_FILE"}}
    env.update(THROUGHGATE_DATA_DIR=str(data_dir), SECRET_KEY=SECRET_KEY, DEBUG="true",
               HTTPS="off")  # fmt: skip
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "throughgate", *args]


def run_cli(env: dict[str, str], *args: str, stdin: Any = subprocess.DEVNULL):
    return subprocess.run(
        command(*args), cwd=ROOT, env=env, stdin=stdin, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def finish(process: subprocess.Popen[str]) -> None:
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, f"setting up the database failed:\n{out}\n{err}"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def written_backup(result: subprocess.CompletedProcess[str]) -> Path:
    assert result.returncode == 0, result.stderr
    found = re.search(r"Backup written to (.+) \((\d[\d.,]* (?:bytes|KB|MB|GB))\)\.", result.stdout)
    assert found, result.stdout
    return Path(found.group(1))


def assert_private_and_alone(backup: Path) -> None:
    """0600 (it holds personal data), and no half-written temporary file beside it."""
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert sorted(p.name for p in backup.parent.iterdir()) == [backup.name]


def sqlite_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sqlite_sequence included): "exactly back" means this."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                for t in sorted(tables)}  # fmt: skip
    finally:
        conn.close()


def sqlite_execute(path: Path, statements: list[str]) -> None:
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


# --- Set-up: one migrated database per engine, made in parallel -----------------------------


def postgres_problem() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None."""
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        return "pg_dump/pg_restore are not on PATH (apt-get install postgresql-client)"
    import psycopg

    try:
        psycopg.connect(PG_SERVER + " dbname=postgres").close()
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL server answers on 127.0.0.1:5432 as postgres ({exc})".strip()
    return None


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_SERVER + " dbname=postgres", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def pg_rows(name: str) -> dict[str, Any]:
    """A digest of every row of every table, and every sequence's position."""
    import psycopg

    with psycopg.connect(PG_SERVER + f" dbname={name}") as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]  # fmt: skip
        found: dict[str, Any] = {}
        every_row = "md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
        for table in tables:
            found[table] = conn.execute(f'SELECT count(*), {every_row} FROM "{table}" t').fetchone()
        found["sequences"] = conn.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
            "ORDER BY 1"
        ).fetchall()
    return found


def pg_execute(name: str, statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(PG_SERVER + f" dbname={name}") as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


class Setups:
    """The SQLite and PostgreSQL databases every test copies; both are built at once
    (migrating takes several seconds each, so the two overlap)."""

    def __init__(self, folder: Path) -> None:
        self.sqlite_dir = folder / "sqlite-template"
        self.sqlite_dir.mkdir()
        self.sqlite_db = self.sqlite_dir / "throughgate.sqlite3"
        self._sqlite: subprocess.Popen[str] | None = self._start(cli_env(self.sqlite_dir))
        self.pg_problem = postgres_problem()
        self.pg_databases: list[str] = []
        self._pg: subprocess.Popen[str] | None = None
        if self.pg_problem is None:
            self.pg_template = self.new_pg_database()
            self._pg = self._start(cli_env(folder, PG_URL.format(self.pg_template)))

    @staticmethod
    def _start(env: dict[str, str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            command("manage", "shell", "--no-imports", "-c", MIGRATE_AND_MAKE_DATA),
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def new_pg_database(self, template: str | None = None) -> str:
        name = f"tg_backup_test_{uuid.uuid4().hex[:12]}"
        pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.pg_databases.append(name)
        return name

    def sqlite(self) -> Path:
        if self._sqlite is not None:
            process, self._sqlite = self._sqlite, None
            finish(process)
        return self.sqlite_db

    def postgresql(self) -> str:
        if self.pg_problem is not None:
            if os.environ.get("CI"):
                pytest.fail(f"the PostgreSQL backup tests must run in CI: {self.pg_problem}",
                            pytrace=False)  # fmt: skip
            pytest.skip(self.pg_problem)
        if self._pg is not None:
            process, self._pg = self._pg, None
            finish(process)
        return self.pg_template

    def close(self) -> None:
        for process in (self._sqlite, self._pg):
            if process is not None:
                process.kill()
                process.communicate()
        for name in self.pg_databases:
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def setups(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setups]:
    made = Setups(tmp_path_factory.mktemp("backup"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def sqlite_backup(setups: Setups, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup of the SQLite template, made once by the command, for tests to restore."""
    target = tmp_path_factory.mktemp("shared-backup") / "throughgate.sqlite3"
    return written_backup(run_cli(cli_env(setups.sqlite().parent), "backup", str(target)))


@pytest.fixture
def site(setups: Setups, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A SQLite installation of its own, holding 2 people, 2 staff accounts, a case …"""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(setups.sqlite(), data_dir / "throughgate.sqlite3")
    return cli_env(data_dir), data_dir / "throughgate.sqlite3"


@pytest.fixture
def pg_site(setups: Setups, tmp_path: Path) -> tuple[dict[str, str], str]:
    """The PostgreSQL installation: the template database itself, to spare the server a
    copy (every test leaves it as it found it, or restores it)."""
    name = setups.postgresql()
    return cli_env(tmp_path, PG_URL.format(name)), name


# --- SQLite ------------------------------------------------------------------------------


def test_sqlite_backup_and_restore_bring_every_row_back(site):
    env, database = site
    made = sqlite_rows(database)
    assert len(made["people_person"]) == 2 and len(made["casework_contact"]) == 1

    backup = written_backup(run_cli(env, "backup"))
    assert backup.parent == database.parent / "backups"
    assert re.fullmatch(r"throughgate-\d{8}-\d{6}\.sqlite3", backup.name)
    assert_private_and_alone(backup)
    assert sqlite_rows(backup) == made

    sqlite_execute(database, DAMAGE)
    damaged = sqlite_rows(database)
    assert damaged != made

    refused = run_cli(env, "restore", str(backup))
    assert refused.returncode == 1
    assert "already holds 2 person records and 2 staff accounts" in refused.stderr
    assert "Add --yes" in refused.stderr
    assert sqlite_rows(database) == damaged

    restored = run_cli(env, "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "it now holds 2 person records and 2 staff accounts" in restored.stdout
    assert "(up to date)" in restored.stdout and restored.stderr == ""
    assert sqlite_rows(database) == made


def test_sqlite_backup_is_taken_online_while_the_app_is_writing(site):
    """The backup API reads a consistent snapshot beside an open write transaction
    (WAL mode): it neither waits for the writer nor copies its uncommitted rows."""
    env, database = site
    committed = sqlite_rows(database)
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO accounts_team (name) VALUES ('Uncommitted team')")
        quiet = run_cli(env, "backup", "--quiet", str(database.parent))
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    [backup] = database.parent.glob("throughgate-*.sqlite3")  # written into the folder given
    assert sqlite_rows(backup) == committed


def test_sqlite_restore_into_a_new_installation_needs_no_confirmation(sqlite_backup, tmp_path):
    new_dir = tmp_path / "new-server"
    new_dir.mkdir()
    restored = run_cli(cli_env(new_dir), "restore", str(sqlite_backup))
    assert restored.returncode == 0, restored.stderr
    assert sqlite_rows(new_dir / "throughgate.sqlite3") == sqlite_rows(sqlite_backup)
    assert stat.S_IMODE((new_dir / "throughgate.sqlite3").stat().st_mode) == 0o600


def test_sqlite_restore_at_a_terminal_asks_first(site, sqlite_backup):
    env, database = site
    backup = sqlite_backup
    sqlite_execute(database, DAMAGE)
    damaged = sqlite_rows(database)
    for answer, returncode in ((b"no\n", 1), (b"yes\n", 0)):
        main, terminal = pty.openpty()
        try:
            os.write(main, answer)  # typed ahead; read once the question is asked
            result = run_cli(env, "restore", str(backup), stdin=terminal)
        finally:
            os.close(terminal)
            os.close(main)
        assert "already holds 2 person records" in result.stderr
        assert "Type yes to go ahead" in result.stderr
        assert result.returncode == returncode, result.stderr
        if answer == b"no\n":
            assert "cancelled" in result.stderr
            assert sqlite_rows(database) == damaged
    assert sqlite_rows(database) == sqlite_rows(backup)


def test_restore_refuses_a_damaged_or_wrong_kind_file_and_leaves_the_database_alone(
    site, sqlite_backup, tmp_path
):
    env, database = site
    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(sqlite_backup.read_bytes())
    data[4096 * 3 : 4096 * 6] = b"\xa5" * (4096 * 3)  # three pages of b-trees overwritten
    damaged.write_bytes(bytes(data))
    pg_archive = tmp_path / "throughgate-20250101-020000.dump"
    pg_archive.write_bytes(b"PGDMP\x01\x0f\x00" + bytes(200))
    before = file_digest(database)
    for path, message in [
        (damaged, f"{damaged} is damaged"),
        (pg_archive, f"{pg_archive} is a PostgreSQL pg_dump archive (a backup of a PostgreSQL "
                     "installation), but this installation uses SQLite"),
    ]:  # fmt: skip
        result = run_cli(env, "restore", str(path), "--yes")
        assert result.returncode == 1, path
        assert message in result.stderr
        assert "Traceback" not in result.stderr
    assert file_digest(database) == before


# The checks behind those refusals, called directly: no Django set-up, milliseconds each.


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "it is an empty file"),
        (b"name,date_of_birth\nJordan,2006-05-17\n", "neither a SQLite database nor a pg_dump"),
        (gzip.compress(b"SQLite format 3\x00"), "gzip-compressed: decompress it first"),
        (b"age-encryption.org/v1\n-> X25519 abc", "encrypted with age: decrypt it first"),
        (b"--\n-- PostgreSQL database dump\n--\n", "a plain-SQL pg_dump script"),
    ],
)
def test_a_file_that_is_no_backup_is_named_for_what_it_is(tmp_path, content, message):
    from throughgate.core.backup import BackupError, identify_backup

    path = tmp_path / "backup.sqlite3"
    path.write_bytes(content)
    with pytest.raises(BackupError, match=re.escape(message)):
        identify_backup(path)
    with pytest.raises(BackupError, match="is a folder, not a backup file"):
        identify_backup(tmp_path)


def test_a_sqlite_file_must_be_whole_and_throughgates_own(tmp_path, sqlite_backup):
    from throughgate.core.backup import BackupError, _check_sqlite_file

    _check_sqlite_file(sqlite_backup, "the backup")  # the real thing passes
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(sqlite_backup.read_bytes()[: 4096 * 40])
    foreign = tmp_path / "other-app.sqlite3"
    sqlite_execute(foreign, ["CREATE TABLE notes (text)", "INSERT INTO notes VALUES ('hi')"])
    other_django = tmp_path / "other-django.sqlite3"
    sqlite_execute(other_django, [
        "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app, name, applied)",
        "INSERT INTO django_migrations (app, name, applied) VALUES ('blog', '0001_initial', 0)",
    ])  # fmt: skip
    for path, message in [
        (truncated, "is damaged"),
        (foreign, "not a Throughgate one (it has no django_migrations table)"),
        (other_django, "a Django database but not a Throughgate one"),
    ]:
        with pytest.raises(BackupError, match=re.escape(message)):
            _check_sqlite_file(path, str(path))


def test_backup_never_overwrites_an_earlier_backup(tmp_path):
    from throughgate.core.backup import SQLITE, BackupError, _output_path

    earlier = tmp_path / "nightly.sqlite3"
    earlier.write_bytes(b"the only good backup")
    with pytest.raises(BackupError, match="already exists; give a new file name or a folder"):
        _output_path(str(earlier), SQLITE)
    assert earlier.read_bytes() == b"the only good backup"
    with pytest.raises(BackupError, match="is not a folder; create it first"):
        _output_path(str(tmp_path / "missing" / "x.sqlite3"), SQLITE)


def test_backup_without_pg_dump_names_the_package_to_install(tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    env = cli_env(tmp_path, PG_URL.format("throughgate")) | {"PATH": str(tmp_path / "empty")}
    result = run_cli(env, "backup", str(backups))
    assert result.returncode == 1
    assert "pg_dump was not found on PATH" in result.stderr
    assert "apt-get install postgresql-client" in result.stderr
    assert list(backups.iterdir()) == []


# --- PostgreSQL ------------------------------------------------------------------------------


def major_version(text: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)?", text)
    assert found, text
    return int(found.group(1))


def test_pg_dump_is_at_least_as_new_as_the_server(setups):
    import psycopg

    setups.postgresql()
    tool = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True, check=True)
    with psycopg.connect(PG_SERVER + " dbname=postgres") as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    assert major_version(tool.stdout.split(")")[1]) >= major_version(server), (
        f"{tool.stdout.strip()} cannot dump a PostgreSQL {server} server"
    )


def test_postgresql_backup_and_restore_bring_every_row_back(pg_site, setups, tmp_path):
    env, name = pg_site
    made = pg_rows(name)
    assert made["people_person"][0] == 2 and made["casework_contact"][0] == 1

    backup = written_backup(run_cli(env, "backup"))
    assert backup.parent == tmp_path / "backups"
    assert re.fullmatch(r"throughgate-\d{8}-\d{6}\.dump", backup.name)
    assert backup.read_bytes()[:5] == b"PGDMP"
    assert_private_and_alone(backup)

    pg_execute(name, DAMAGE)
    damaged = pg_rows(name)
    assert damaged != made

    refused = run_cli(env, "restore", str(backup))
    assert refused.returncode == 1
    assert "already holds 2 person records and 2 staff accounts" in refused.stderr
    assert pg_rows(name) == damaged

    restored = run_cli(env, "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "it now holds 2 person records and 2 staff accounts" in restored.stdout
    assert "(up to date)" in restored.stdout and restored.stderr == ""
    assert pg_rows(name) == made

    # A new server: an empty database restores without being asked.
    empty = setups.new_pg_database()
    fresh = run_cli(cli_env(tmp_path, PG_URL.format(empty)), "restore", str(backup))
    assert fresh.returncode == 0, fresh.stderr
    assert pg_rows(empty) == made

    # A cut-off copy of the archive is caught before anything is touched.
    from throughgate.core.backup import BackupError, _pg_archive_listing

    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(backup.read_bytes()[:20_000])
    pg_restore = shutil.which("pg_restore") or "pg_restore"
    with pytest.raises(BackupError, match="as a pg_dump archive failed; pg_restore said:"):
        _pg_archive_listing(pg_restore, truncated)
    # So is an archive from a newer pg_dump (format 1.99), with what to do about it.
    future = tmp_path / "future.dump"
    future.write_bytes(backup.read_bytes()[:6] + b"\x63" + backup.read_bytes()[7:])
    with pytest.raises(BackupError, match=r"unsupported version \(1\.99\)(.|\n)*newer pg_dump"):
        _pg_archive_listing(pg_restore, future)


def test_postgresql_refuses_a_sqlite_backup_and_reports_pg_dump_failures(pg_site, tmp_path):
    env, name = pg_site
    before = pg_rows(name)
    sqlite_backup = tmp_path / "throughgate-20250101-020000.sqlite3"
    sqlite_execute(sqlite_backup, ["CREATE TABLE django_migrations (app, name, applied)"])
    result = run_cli(env, "restore", str(sqlite_backup), "--yes")
    assert result.returncode == 1
    assert (f"{sqlite_backup} is a SQLite database (a backup of a SQLite installation), "
            "but this installation uses PostgreSQL") in result.stderr  # fmt: skip
    assert pg_rows(name) == before

    out = tmp_path / "out"
    out.mkdir()
    missing = cli_env(tmp_path, PG_URL.format(f"{name}_missing"))
    result = run_cli(missing, "backup", str(out))
    assert result.returncode == 1
    assert "pg_dump said:" in result.stderr and "does not exist" in result.stderr
    assert list(out.iterdir()) == []
