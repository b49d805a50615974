"""Tamper-evident audit (issue 9): every event is chained to the one before by hash, and
`throughgate audit verify` fails on a tampered database and passes on a clean one."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from throughgate.cli import main
from throughgate.core import audit
from throughgate.core.audit_verify import verify_database
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.engines.audit_chain import GENESIS_HASH, HASHED_FIELDS, event_hash

from . import make


def on_sqlite(test):
    """Copies the SQLite database file; committed (transaction=True), because SQLite's
    backup cannot read the test database while the test's own transaction is open."""
    skip = pytest.mark.skipif(connection.vendor != "sqlite", reason="copies a SQLite file")
    return skip(pytest.mark.django_db(transaction=True)(test))


def chain() -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("seq"))


def verify_cli(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["audit", "verify", *args])
    out, err = capsys.readouterr()
    return status, out.strip(), err.strip()


def raw_sql(sql: str, params: list | tuple = ()) -> None:
    """Tamper the way someone with the database password would: under the app."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def casework(mo_case, mo, cara):
    """Real events from real actions: a case opened by Cara, contacts logged by Mo."""
    make.make_contact(mo_case, mo)
    make.make_contact(mo_case, mo, days_ago=1)
    make.make_family_member(mo_case.person, cara)
    return chain()


# --- writing ------------------------------------------------------------------------------


def test_the_model_hashes_every_field_it_has():
    stored = {f.attname for f in AuditEvent._meta.concrete_fields}
    assert stored - {"id", "prev_hash", "hash"} == set(HASHED_FIELDS)


def test_actions_write_a_gapless_chain_that_verifies(casework, capsys):
    assert len(casework) >= 6
    assert [e.seq for e in casework] == list(range(1, len(casework) + 1))
    assert [e.id for e in casework] == sorted(e.id for e in casework)
    assert casework[0].prev_hash == GENESIS_HASH
    for before, event in zip(casework, casework[1:], strict=False):
        assert event.prev_hash == before.hash
    last = casework[-1]
    status, out, err = verify_cli(capsys)
    assert (status, err) == (0, "")
    assert out == (
        f"Audit chain intact: {len(casework)} events, last seq {last.seq}, last hash {last.hash}"
    )


def test_the_stored_hash_is_the_hash_of_what_the_database_gives_back(mo, casework):
    # An int object id, an IPv6 address in long form and a time in another zone are all
    # stored in a normal form: the hash must be of that form, not of what was passed in.
    token = audit.set_request_info(
        audit.RequestInfo("2001:0db8:0000:0000:0000:0000:0000:0001", "/x/")
    )
    try:
        event = audit.record(mo, AuditAction.VIEW, object_type="test.thing", object_id=12)
    finally:
        audit.reset_request_info(token)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                at=timezone.now().astimezone(timezone.get_fixed_timezone(330)),
                action="view",
                object_type="test.thing",
                object_id=13,
            )
        ]  # fmt: skip
    )
    fresh = AuditEvent.objects.get(pk=event.pk)
    assert (fresh.object_id, fresh.ip_address) == ("12", "2001:db8::1")
    assert verify_database().ok


def test_bulk_create_and_create_also_join_the_chain(casework):
    """The demo seeder bulk-creates contact events; nothing can bypass the chain."""
    before = casework[-1].seq
    now = timezone.now()
    made = AuditEvent.objects.bulk_create(
        [
            AuditEvent(at=now, action="create", object_type="casework.contact", object_id=str(n))
            for n in range(3)
        ]  # fmt: skip
    )
    one = AuditEvent.objects.create(action="view", object_type="people.person", object_id="9")
    assert [e.seq for e in made] == [before + 1, before + 2, before + 3]
    assert one.seq == before + 4 and all(e.pk for e in made)
    assert verify_database().ok


def test_an_event_cannot_be_appended_twice(casework):
    with pytest.raises(ValueError, match="already in the chain"):
        audit.append([casework[0]])


def test_events_recorded_in_nested_transactions_chain_in_order(mo_case, cara):
    start = AuditEvent.objects.count()
    with transaction.atomic():
        first = audit.record(cara, AuditAction.VIEW, mo_case)
        with transaction.atomic():
            second = audit.record(cara, AuditAction.VIEW, mo_case.person)
            with transaction.atomic():
                third = audit.record(cara, AuditAction.SEARCH, summary="3 results")
    assert (first.seq, second.seq, third.seq) == (start + 1, start + 2, start + 3)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert verify_database().ok


def test_an_event_rolled_back_with_its_change_leaves_no_gap(mo_case, cara):
    with transaction.atomic():
        kept = audit.record(cara, AuditAction.VIEW, mo_case)
        try:
            with transaction.atomic():
                audit.record(cara, AuditAction.UPDATE, mo_case, fields=["phase"])
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
        after = audit.record(cara, AuditAction.VIEW, mo_case)
    assert after.seq == kept.seq + 1 and after.prev_hash == kept.hash
    assert verify_database().ok


# --- verify: a clean database passes, a tampered one fails ----------------------------------


@pytest.mark.parametrize(
    "tamper, message",
    [
        ("UPDATE core_auditevent SET summary = 'nothing to see' WHERE seq = 3",
         "event {id3} (seq 3) was changed after it was written"),
        ("UPDATE core_auditevent SET actor_username = 'kim' WHERE seq = 3",
         "event {id3} (seq 3) was changed after it was written"),
        ("DELETE FROM core_auditevent WHERE seq = 3",
         "events after seq 2 are missing: the next is seq 4"),
        ("DELETE FROM core_auditevent WHERE seq = 1",
         "events before seq 2 are missing: the chain starts at seq 2"),
    ],
)  # fmt: skip
def test_verify_fails_on_a_tampered_database(casework, capsys, tamper, message):
    raw_sql(tamper)
    status, out, err = verify_cli(capsys)
    assert (status, out) == (1, "")
    id3 = casework[2].id
    assert err == f"throughgate: audit chain broken: {message.format(id3=id3)}"


def test_verify_catches_a_forged_event_inserted_at_the_end(casework, capsys):
    last = casework[-1]
    forged = {name: getattr(last, name) for name in HASHED_FIELDS}
    forged.update(seq=last.seq + 1, summary="forged", at=last.at + timedelta(seconds=1))
    # A hash the forger computed correctly for their content, but on a made-up link;
    # written past the chain's lock, as a raw INSERT would be.
    forged_hash = event_hash(forged, "e" * 64)
    AuditEvent._base_manager.bulk_create(
        [AuditEvent(**forged, prev_hash="e" * 64, hash=forged_hash)]
    )
    status, _, err = verify_cli(capsys)
    assert status == 1
    assert f"(seq {last.seq + 1})" in err and "does not follow seq" in err


def test_a_kept_hash_catches_a_rewritten_chain(casework, capsys):
    status, out, _ = verify_cli(capsys)
    anchor_seq, anchor_hash = casework[-1].seq, out.rsplit(" ", 1)[-1]
    assert (status, anchor_hash) == (0, casework[-1].hash)
    assert verify_cli(capsys, "--at-seq", str(anchor_seq), "--expect-hash", anchor_hash)[:2] == (
        0,
        f"Audit chain intact: {anchor_seq} events, last seq {anchor_seq}, last hash "
        f"{anchor_hash}\nSeq {anchor_seq} still has the expected hash.",
    )
    # Someone with write access edits seq 2 and recomputes every hash after it.
    prev = casework[0].hash
    for event in casework[1:]:
        if event.seq == 2:
            event.summary = "nothing to see"
        event.prev_hash, event.hash = prev, event_hash(audit.chain_content(event), prev)
        prev = event.hash
        raw_sql("UPDATE core_auditevent SET summary = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [event.summary, event.prev_hash, event.hash, event.id])  # fmt: skip
    assert verify_cli(capsys)[0] == 0  # the chain alone cannot tell: see the docs
    status, _, err = verify_cli(capsys, "--at-seq", str(anchor_seq), "--expect-hash", anchor_hash)
    assert status == 1
    assert f"(seq {anchor_seq}) has hash {prev}, not the expected {anchor_hash}" in err


def test_verify_from_a_seq(casework, capsys):
    status, out, _ = verify_cli(capsys, "--from-seq", "3", "--quiet")
    assert (status, out) == (0, "")
    status, out, _ = verify_cli(capsys, "--from-seq", "3")
    assert out.startswith(f"Audit chain intact from seq 3: {len(casework) - 2} events")
    raw_sql("UPDATE core_auditevent SET summary = 'x' WHERE seq = 2")
    assert verify_cli(capsys, "--from-seq", "3")[0] == 0  # before the start: not looked at
    assert verify_cli(capsys, "--from-seq", "2")[0] == 1


def test_verify_an_empty_trail(db, capsys):
    assert verify_cli(capsys) == (0, "Audit chain intact: no events.", "")


def test_verify_usage_errors(db, capsys):
    status, _, err = verify_cli(capsys, "--at-seq", "3")
    assert status == 2 and "--at-seq and --expect-hash go together" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "verify", "--at-seq", "3", "--expect-hash", "abc"])
    assert exit_info.value.code == 2
    assert "is not a SHA-256 hash" in capsys.readouterr().err
    status, _, err = verify_cli(capsys, "--database", "/no/such/file.sqlite3")
    assert status == 1 and "no database of that name in the settings, and no such file" in err


# --- verify a copy of the database file (SQLite) --------------------------------------------


def copy_database(tmp_path: Path, name: str = "copy.sqlite3") -> Path:
    target = tmp_path / name
    destination = sqlite3.connect(target)
    try:
        connection.ensure_connection()
        connection.connection.backup(destination)
    finally:
        destination.close()
    return target


def tamper_file(path: Path, sql: str, params: tuple = ()) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute(sql, params)
        db.commit()
    finally:
        db.close()


@on_sqlite
def test_a_clean_copy_of_the_database_file_passes(casework, capsys, tmp_path):
    copy = copy_database(tmp_path)
    before = copy.read_bytes()
    status, out, err = verify_cli(capsys, "--database", str(copy))
    assert (status, err) == (0, "")
    assert out.startswith(f"Audit chain intact: {len(casework)} events")
    assert copy.read_bytes() == before  # opened read-only


@on_sqlite
@pytest.mark.parametrize(
    "tamper, message",
    [
        ("UPDATE core_auditevent SET summary = 'nothing to see' WHERE seq = 2",
         "event {id2} (seq 2) was changed after it was written"),
        ("DELETE FROM core_auditevent WHERE seq = 2",
         "events after seq 1 are missing: the next is seq 3"),
        ("INSERT INTO core_auditevent (seq, at, actor_id, actor_username, action, object_type,"
         " object_id, fields, summary, path, prev_hash, hash) SELECT seq + 1, at, actor_id,"
         " actor_username, action, object_type, object_id, fields, 'forged', path, hash, hash"
         " FROM core_auditevent ORDER BY seq DESC LIMIT 1",
         "(seq {next}) was changed after it was written"),
    ],
)  # fmt: skip
def test_a_tampered_copy_of_the_database_file_fails(casework, capsys, tmp_path, tamper, message):
    copy = copy_database(tmp_path)
    tamper_file(copy, tamper)
    status, out, err = verify_cli(capsys, "--database", str(copy))
    assert (status, out) == (1, "")
    expected = message.format(id2=casework[1].id, next=casework[-1].seq + 1)
    assert err.startswith("throughgate: audit chain broken: ") and err.endswith(expected)
    assert verify_cli(capsys)[0] == 0  # the live database is untouched


@on_sqlite
def test_a_file_that_is_not_a_database_is_refused(db, capsys, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database")
    assert verify_cli(capsys, "--database", str(junk)) == (
        1,
        "",
        f"throughgate: {junk}: not a SQLite database file",
    )


# --- existing events, and concurrent writers ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_events_written_before_it(capsys):
    """A database from before the chain: its events are numbered in (at, id) order."""
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([("core", "0001_initial")])
    try:
        old_apps = executor.loader.project_state(("core", "0001_initial")).apps
        OldEvent = old_apps.get_model("core", "AuditEvent")
        now = timezone.now()
        # Written out of time order (a clock step, a late import): ids 1..5, times shuffled.
        for minutes in (3, 1, 4, 1, 5):
            at = now + timedelta(minutes=minutes)
            OldEvent.objects.create(at=at, action="view", object_type="t", object_id=minutes)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
    events = chain()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert [e.object_id for e in events] == ["1", "1", "3", "4", "5"]
    assert events[0].id < events[1].id  # equal times: by id
    assert verify_cli(capsys)[0] == 0
    new = audit.record(None, AuditAction.LOGIN_FAILED, object_type="accounts.user")
    assert new.seq == 6 and new.prev_hash == events[-1].hash
    assert verify_database().ok


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite runs one writer at a time (BEGIN IMMEDIATE) and its in-memory test "
    "database is one shared-cache connection: threads would only test SQLite's own lock",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_gapless_chain():
    """Two threads, each with its own connection, 20 transactions of two events each."""
    from django.db import connections

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait()
            for n in range(20):
                with transaction.atomic():
                    audit.record(None, AuditAction.VIEW, object_type="test.thing",
                                 object_id=f"{name}-{n}")  # fmt: skip
                    audit.record(None, AuditAction.UPDATE, object_type="test.thing",
                                 object_id=f"{name}-{n}", fields=["x"])  # fmt: skip
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    events = chain()
    assert [e.seq for e in events] == list(range(1, 81))
    # Each transaction's two events sit together: the lock is held to the commit.
    for view, update in zip(events[::2], events[1::2], strict=True):
        assert view.object_id == update.object_id
    report = verify_database()
    assert report.ok and report.checked == 80
