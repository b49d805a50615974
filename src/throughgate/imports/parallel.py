"""Where the rows of a chunk are read, checked and made ready for the database: in the
importing process, or, for a long file of a kind that allows it, in worker processes.

Checking a contact row costs more than writing it: reading the cells, `Contact.clean`,
and above all encrypting its notes (Fernet, about 12 microseconds a field) are pure
computation. On a machine with two cores or more, a file of `IMPORT_PARALLEL_FROM_ROWS`
rows or more is checked by `IMPORT_WORKERS` worker processes while the importing process
reads the file, looks up references and writes what the workers send back: so the
database writes and the checking overlap, and the checking is shared.

The work is the same either way: `check_rows` (in importer.py) runs in both, on the same
rows with the same lookups, and its problems are the same. What differs is only where:

- the importing process does everything that reads the database (repeated and already
  imported ids, the records other rows refer to, users) and sends each worker, with its
  rows, the looked-up records it has not been sent before;
- a worker never touches the database (any query in one raises), so it needs no
  connection and sees no half-written transaction; it sends back, for each row that
  passed, its values as the database takes them (`writes.prepare`), and the problems;
  on PostgreSQL, given the new records' ids with the chunk, it sends the records and
  their record-map rows as COPY text instead (`writes.copy_text`), which the importing
  process passes on without touching a row;
- results are taken in the order the chunks were sent, so problems, progress and the
  "stop writing at the first problem" rule behave as in one process.

Workers are started with `spawn` (a fresh interpreter that sets Django up again), not
`fork`: the importing process may have threads and open connections. They stop when
their parent does, however it ends (a daemon is stopped at a normal exit; a worker whose
parent was killed notices within seconds); a worker that dies makes the import fail as
a whole, and its transaction is rolled back.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

# In flight per worker: one being checked, one waiting, so a worker never waits for the
# importing process to send the next chunk.
IN_FLIGHT = 2


@dataclass
class Chunk:
    """Rows to check (row number, cells), and the records they refer to that the
    checker has not had before (kind -> source id -> record, or None: not found)."""

    rows: list[tuple[int, list[Any]]]
    refs: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: list[int] | None = None  # for the rows' new records, when given (PostgreSQL)


@dataclass
class Checked:
    """What checking a chunk found: its problems (and how many, when more than were
    kept), then, for each row that passed, its source id and row number and either the
    record (`objs`, checked in this process) or its values ready for the database
    (`rows`, from a worker; see writes.prepare)."""

    problems: list[Any]
    problem_count: int
    passed: list[tuple[str, int]]
    objs: list[Any] | None = None
    rows: list[list[Any]] | None = None
    # Or, from a chunk sent with ids: the records and their record map rows as COPY
    # text (writes.copy_text), and the ids the records took.
    copy: bytes | None = None
    records_copy: bytes | None = None
    ids: list[int] | None = None


Checker = Callable[[Chunk], Checked]


def worker_count() -> int:
    configured = getattr(settings, "IMPORT_WORKERS", None)
    if configured is not None:
        return max(0, int(configured))
    # The importing process mostly waits (for the workers, and on the database's own
    # writing), so there is a worker for each core, up to four; with one core, none.
    cores = os.cpu_count() or 1
    return min(cores, 4) if cores > 1 else 0


def use_workers(parallel_kind: bool, estimated_rows: int) -> int:
    """How many worker processes to check a file with (0: check it in this process)."""
    if not parallel_kind:
        return 0
    if estimated_rows < getattr(settings, "IMPORT_PARALLEL_FROM_ROWS", 50_000):
        return 0
    return worker_count()


# Python's cyclic garbage collector runs after every 700 new container objects, and each
# run looks at every young object still alive: a chunk's thousands of rows, records and
# their values, which are all alive until the chunk is done (and are freed by reference
# counting, not by the collector). While rows are checked it runs after 100,000 instead:
# measured, a contact row costs about 15% less to check (docs/performance.md).
FEWER_COLLECTIONS = (100_000, 20, 20)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's garbage collector less often for the duration (see FEWER_COLLECTIONS);
    as it was afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(*FEWER_COLLECTIONS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class InProcess:
    """Checks each chunk at once, here."""

    def __init__(self, check: Checker):
        self.check = check

    def submit(self, chunk: Chunk) -> Iterator[Checked]:
        yield self.check(chunk)

    def finish(self) -> Iterator[Checked]:
        return iter(())

    def close(self) -> None:
        pass


class Workers:
    """Checks chunks in `n` worker processes, round robin; results in sending order.

    Each worker has a queue in and a queue out (multiprocessing queues, whose feeder
    threads send in the background: a chunk and a result, each a few hundred kilobytes,
    can be on their way both ways at once without either side waiting on the other)."""

    def __init__(self, n: int, setup: dict[str, Any]):
        context = multiprocessing.get_context("spawn")
        self.inboxes: list[Any] = []
        self.outboxes: list[Any] = []
        self.processes: list[Any] = []
        self.sent: list[dict[str, set[str]]] = []
        # Plain values go with the process; the rest (records, Django objects) only once
        # Django is set up there, as the first message.
        payload = {
            "field_encryption_keys": list(settings.FIELD_ENCRYPTION_KEYS),
            "vendor": connection.vendor,
            "time_zone": timezone.get_current_timezone_name(),
        }
        for _ in range(n):
            inbox, outbox = context.Queue(), context.Queue()
            process = context.Process(
                target=_serve, args=(inbox, outbox, payload), daemon=True, name="import-checker"
            )
            process.start()
            inbox.put(setup)
            self.inboxes.append(inbox)
            self.outboxes.append(outbox)
            self.processes.append(process)
            self.sent.append({})
        self.waiting: deque[int] = deque()  # worker of each chunk in flight, oldest first
        self.next = 0

    def submit(self, chunk: Chunk) -> Iterator[Checked]:
        while len(self.waiting) >= IN_FLIGHT * len(self.inboxes):
            yield self._receive()
        worker = self.next
        self.next = (self.next + 1) % len(self.inboxes)
        sent = self.sent[worker]
        refs = {}
        for kind, found in chunk.refs.items():
            had = sent.setdefault(kind, set())
            refs[kind] = {k: v for k, v in found.items() if k not in had}
            had.update(refs[kind])
        self.inboxes[worker].put(Chunk(chunk.rows, refs, chunk.ids))
        self.waiting.append(worker)

    def finish(self) -> Iterator[Checked]:
        while self.waiting:
            yield self._receive()

    def _receive(self) -> Checked:
        worker = self.waiting.popleft()
        while True:
            try:
                answer = self.outboxes[worker].get(timeout=5)
                break
            except queue.Empty:
                if not self.processes[worker].is_alive():
                    raise RuntimeError(
                        "An import checker process stopped unexpectedly; nothing was imported."
                    ) from None
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        for box in self.inboxes + self.outboxes:
            box.close()
            box.cancel_join_thread()  # whatever was not read is not wanted


class DatabaseUnavailable(RuntimeError):
    pass


def _no_queries(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    raise DatabaseUnavailable(
        "An import checker process does not read the database; the importing process "
        f"looks up what rows need and sends it (tried: {sql[:80]})"
    )


def _serve(inbox: Any, outbox: Any, payload: dict[str, Any]) -> None:
    """A worker's life: set Django up, then check chunks until told to stop."""
    import django

    django.setup()
    from django.db import connections

    settings.FIELD_ENCRYPTION_KEYS = payload["field_encryption_keys"]
    timezone.activate(payload["time_zone"])  # as the importing process has it
    for alias in connections:
        connections[alias].execute_wrappers.append(_no_queries)

    from .importer import worker_checker

    parent = multiprocessing.parent_process()

    def next_message() -> Any:
        # A parent killed outright (SIGKILL, out of memory) sends no "stop": so look up
        # every few seconds, rather than wait for ever beside a queue no one will fill.
        while True:
            try:
                return inbox.get(timeout=2)
            except queue.Empty:
                if parent is not None and not parent.is_alive():
                    return None

    setup = next_message()
    if setup is None:
        return
    check = worker_checker({**setup, "vendor": payload["vendor"]})
    # What Django and the setup made lives as long as the worker: out of the collector's
    # sight for good, and the collector itself seldom (FEWER_COLLECTIONS).
    gc.freeze()
    gc.set_threshold(*FEWER_COLLECTIONS)
    while (chunk := next_message()) is not None:
        try:
            answer: Any = check(chunk)
        except Exception as exc:  # sent back and raised in the importing process
            answer = exc
        if isinstance(answer, Exception):
            try:
                pickle.dumps(answer)
            except Exception as exc:  # an exception that cannot be pickled: its text
                answer = RuntimeError(f"{type(answer).__name__}: {answer} ({exc})")
        outbox.put(answer)
