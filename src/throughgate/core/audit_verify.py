"""`throughgate audit verify`: read the audit chain from a database and check it.

The checking itself is `engines.audit_chain.verify`; this module streams the events
to it in seq order, in batches, so memory stays flat however long the trail is.

cli.py imports this module to build its parser, before Django is set up, so Django
is imported inside the functions that use it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from throughgate.engines.audit_chain import GENESIS_HASH, HASHED_FIELDS, Report, verify

CHUNK_SIZE = 2000
FILE_ALIAS = "audit_verify_file"  # the connection opened for `--database FILE`
SQLITE_HEADER = b"SQLite format 3\x00"


class AuditDatabaseError(Exception):
    """The database named cannot be checked (not an alias, not a SQLite file)."""


def seq_number(text: str) -> int:  # argparse turns ArgumentTypeError into exit 2
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is below 1: the chain starts at seq 1")
    return value


def sha256_hex(text: str) -> str:
    value = text.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a SHA-256 hash (64 hexadecimal characters, as verify prints it)"
        )
    return value


@contextmanager
def database(name: str) -> Iterator[str]:
    """The alias to read from: `name` itself if the settings define it, else `name` is
    a SQLite database file (a copy, a backup) opened read-only for the length of the
    `with` block, as a connection of this thread only; the settings are not changed."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.utils import load_backend

    if name in connections.settings:
        yield name
        return
    path = Path(name)
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise AuditDatabaseError(
            f"{name}: no database of that name in the settings, and no such file ({exc.strerror})"
        ) from None
    if header != SQLITE_HEADER:
        raise AuditDatabaseError(f"{name}: not a SQLite database file")
    wanted = {"ENGINE": "django.db.backends.sqlite3", "NAME": f"{path.resolve().as_uri()}?mode=ro"}
    # configure_settings fills in Django's defaults; it insists on a "default" entry.
    settings_dict = connections.configure_settings({DEFAULT_DB_ALIAS: {}, FILE_ALIAS: wanted})
    file_connection = load_backend(wanted["ENGINE"]).DatabaseWrapper(
        settings_dict[FILE_ALIAS], FILE_ALIAS
    )
    connections[FILE_ALIAS] = file_connection
    try:
        yield FILE_ALIAS
    finally:
        file_connection.close()
        del connections[FILE_ALIAS]


def verify_database(
    using: str = "default",
    *,
    from_seq: int | None = None,
    anchors: Mapping[int, str] | None = None,
    progress: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> Report:
    """Check the chain in database `using`, from seq 1 or from `from_seq` (taking the
    stored hash of the event before it as given). `progress` shows a bar on stderr."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    from throughgate.core.models import AuditEvent

    events = AuditEvent.objects.using(using).order_by("seq")
    start_seq: int = 1
    prev_hash: str | None = GENESIS_HASH
    if from_seq is not None and from_seq > 1:
        start_seq = from_seq
        # None when seq from_seq - 1 is gone: then the first event's own link is trusted.
        prev_hash = events.filter(seq=from_seq - 1).values_list("hash", flat=True).first()
        events = events.filter(seq__gte=from_seq)
    last_seq = events.reverse().values_list("seq", flat=True).first() or 0
    rows = events.values("id", "prev_hash", "hash", *HASHED_FIELDS).iterator(chunk_size=chunk_size)
    with tqdm(
        rows,
        total=max(last_seq - start_seq + 1, 0),
        desc="Checking the audit chain",
        unit=" events",
        unit_scale=True,
        file=sys.stderr,
        disable=not progress,
        leave=False,
        dynamic_ncols=True,
    ) as bar:
        return verify(bar, start_seq=start_seq, prev_hash=prev_hash, anchors=anchors)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    if (args.at_seq is None) != (args.expect_hash is None):
        print("throughgate audit verify: error: --at-seq and --expect-hash go together",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.at_seq is not None and args.from_seq is not None and args.at_seq < args.from_seq:
        print("throughgate audit verify: error: --at-seq is before --from-seq", file=sys.stderr)
        return 2
    from throughgate.cli import _setup_django

    _setup_django()
    from django.db import DatabaseError

    anchors = {args.at_seq: args.expect_hash} if args.at_seq is not None else None
    try:
        with database(args.database) as using:
            report = verify_database(
                using,
                from_seq=args.from_seq,
                anchors=anchors,
                progress=not args.quiet and sys.stderr.isatty(),
            )
    except AuditDatabaseError as exc:
        print(f"throughgate: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        print(f"throughgate: cannot read the audit trail from {args.database}: {exc} "
              "(is it migrated? throughgate migrate)", file=sys.stderr)  # fmt: skip
        return 1
    if report.problem is not None:
        print(f"throughgate: audit chain broken: {report.problem.message}", file=sys.stderr)
        return 1
    if not args.quiet:
        where = f" from seq {args.from_seq}" if args.from_seq and args.from_seq > 1 else ""
        if report.last_seq is None:
            print(f"Audit chain intact{where}: no events.")
        else:
            print(f"Audit chain intact{where}: {report.checked} events, last seq "
                  f"{report.last_seq}, last hash {report.last_hash}")  # fmt: skip
        if anchors:
            print(f"Seq {args.at_seq} still has the expected hash.")
    return 0
