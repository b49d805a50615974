"""Background jobs: long work runs in `throughgate worker`, not in a web request.

The queue is Django's task interface with a database-backed queue (django-tasks and
django-tasks-db), so it needs nothing but the database the app already has. A `Job` row
is what people see: a progress bar, what it is doing now, and what it ended in.

- An app registers a handler for a kind of job with `@handler("evaluation")`. The
  handler gets the job and a `progress(percent, step)` callback, does its work
  all-or-nothing (one transaction for everything it saves), and returns the URL of what
  it made. A `ValidationError` means the input was wrong: the job is *refused* with that
  message and trying again will not help. Any other exception *fails* the job; the page
  offers to try again.
- `start(actor, kind, title, params)` saves the job and puts it on the queue in the same
  transaction, so a job is never queued without its row, nor the reverse.
- A worker that dies mid-job (killed, out of memory, the machine restarted) leaves the
  job "running" with a heartbeat that stops moving: every progress call beats it. Each
  worker, when it starts and between batches, puts such jobs back on the queue
  (`requeue_stalled`), up to `MAX_ATTEMPTS` runs in all. Because the handler's work is
  one transaction, a killed run saved nothing and the next run starts clean.
- Progress said from inside the handler's transaction is written outside it, or nobody
  would see it until the end: the page would sit at "Starting" and the heartbeat would
  stop, so another worker would take a long job for dead. On PostgreSQL it goes through
  a second connection of the job's own; on SQLite, whose one writer at a time is the
  handler's transaction, to a small file beside the database
  (DATA_DIR/job-progress/<id>.json), which `live` reads for the page and the stall check.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from .models import Job, JobStatus

UPLOAD_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")


def upload_folder() -> Path:
    return settings.DATA_DIR / "job-files"


def keep_upload(upload: Any) -> dict[str, str]:
    """Write an uploaded file where a background job can read it: a random name (the
    person's own file name is kept only to name it in messages), mode 0600. The job
    removes it when done with it."""
    name = Path(upload.name or "").name or "uploaded file"
    suffix = Path(name).suffix.lower()  # the readers go by it, and name a wrong one
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(16)}{suffix if UPLOAD_SUFFIX.fullmatch(suffix) else ''}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return {"path": str(path), "name": name}


logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3

Progress = Callable[[int, str], None]
Handler = Callable[[Job, Progress], str]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that does one kind of job."""

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


def stall_after() -> timedelta:
    return timedelta(seconds=settings.JOB_STALL_SECONDS)


def start(actor: Any, kind: str, title: str, params: dict[str, Any], back_url: str = "") -> Job:
    """Save a job and queue it, together."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler for jobs of kind {kind!r}")
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            title=title[:200],
            params=params,
            created_by=actor if getattr(actor, "pk", None) else None,
            step="Waiting for the worker",
        )
        if back_url:
            job.back_url = back_url.replace("{job}", str(job.pk))
            job.save(update_fields=["back_url"])
        _enqueue(job)
    return job


def _enqueue(job: Job) -> None:
    result = run_job.enqueue(job.pk)
    job.task_id = str(result.id)
    job.save(update_fields=["task_id"])


def retry(job: Job) -> Job:
    """Run a failed job again (refused ones are not retried: the input was wrong)."""
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
            status=JobStatus.QUEUED, progress=0, step="Waiting for the worker", message="",
            attempts=0, finished_at=None,
        )  # fmt: skip
        if updated:
            job.refresh_from_db()
            _enqueue(job)
    job.refresh_from_db()
    return job


# Progress from inside the handler's transaction is written outside it at most this often
# (seconds): each write is a commit of its own, and the page looks every two seconds.
OUTSIDE_EVERY = 1.0


def progress_folder() -> Path:
    return settings.DATA_DIR / "job-progress"


def progress_file(job_id: int) -> Path:
    return progress_folder() / f"{job_id}.json"


class _Outside:
    """Writes a job's progress where others see it at once, while the handler's own
    transaction is open: a second connection (PostgreSQL), or a file (SQLite)."""

    def __init__(self, job: Job):
        self.job = job
        self.connection: Any = None
        self.last = float("-inf")

    def write(self) -> None:
        if time.monotonic() - self.last < OUTSIDE_EVERY:
            return
        self.last = time.monotonic()
        job = self.job
        if connection.vendor == "sqlite":
            try:
                _write_progress_file(job)
            except OSError:  # a full disk should not fail the job itself
                logger.warning("could not write the progress of job %s", job.pk, exc_info=True)
            return
        try:
            if self.connection is None:
                self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
                with self.connection.cursor() as cursor:
                    # Progress is not worth waiting for: never behind a lock for long,
                    # never waiting for the disk.
                    cursor.execute("SET lock_timeout = '2s'")
                    cursor.execute("SET synchronous_commit = off")
            quote = self.connection.ops.quote_name
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {quote(Job._meta.db_table)} SET progress = %s, step = %s, "  # noqa: S608
                    "heartbeat_at = %s WHERE id = %s",  # the table's own name, quoted
                    [job.progress, job.step, job.heartbeat_at, job.pk],
                )
        except DatabaseError:
            logger.warning("could not write the progress of job %s", job.pk, exc_info=True)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        progress_file(self.job.pk).unlink(missing_ok=True)


def _write_progress_file(job: Job) -> None:
    path = progress_file(job.pk)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    said = {
        "progress": job.progress,
        "step": job.step,
        "heartbeat_at": job.heartbeat_at.isoformat(),
    }
    partial = path.with_suffix(".part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(said, handle)
    os.replace(partial, path)  # whole or not at all, for a reader in another process


def _progress_said_outside(job_id: int) -> dict[str, Any] | None:
    try:
        said = json.loads(progress_file(job_id).read_text(encoding="utf-8"))
        said["heartbeat_at"] = datetime.fromisoformat(said["heartbeat_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return said


def live(job: Job | None) -> Job | None:
    """`job` as its page shows it: with the progress its handler said from inside its
    transaction on SQLite (the file), where that is newer than the row."""
    if job is None or job.status != JobStatus.RUNNING:
        return job
    said = _progress_said_outside(job.pk)
    if said and (job.heartbeat_at is None or said["heartbeat_at"] > job.heartbeat_at):
        job.progress, job.step = int(said["progress"]), str(said["step"])[:200]
        job.heartbeat_at = said["heartbeat_at"]
    return job


def _progress_of(job: Job) -> tuple[Progress, _Outside]:
    # Transactions already open when the handler starts are not its own (a test's).
    outside, depth = _Outside(job), len(connection.atomic_blocks)

    def progress(percent: int, step: str) -> None:
        now = timezone.now()
        job.progress, job.step, job.heartbeat_at = max(0, min(100, int(percent))), step[:200], now
        if len(connection.atomic_blocks) > depth:
            outside.write()  # in the handler's transaction, no one would see it till the end
        else:
            Job.objects.filter(pk=job.pk).update(
                progress=job.progress, step=job.step, heartbeat_at=now
            )

    return progress, outside


def _finish(job: Job, status: str, **fields: Any) -> None:
    fields = {"status": status, "finished_at": timezone.now(), **fields}
    Job.objects.filter(pk=job.pk).update(**fields)


@task()
def run_job(job_id: int) -> str:
    """The task the worker runs: claim the job, run its handler, record how it ended."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, step="Starting",
        attempts=F("attempts") + 1,
    )  # fmt: skip
    if not claimed:  # already done (or taken by a run that was thought dead): nothing to do
        return "skipped"
    job = Job.objects.get(pk=job_id)
    progress, outside = _progress_of(job)
    try:
        return _run_handler(job, progress)
    finally:
        outside.close()  # after the row says how it ended


def _run_handler(job: Job, progress: Progress) -> str:
    try:
        url = HANDLERS[job.kind](job, progress)
    except ValidationError as exc:
        _finish(job, JobStatus.REFUSED, message=" ".join(exc.messages), step="Refused")
        return "refused"
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(
            job, JobStatus.FAILED, step="Failed",
            message=f"It stopped with an error ({type(exc).__name__}). Nothing was saved; "
            "you can try again, and if it fails again tell your administrator.",
        )  # fmt: skip
        raise
    _finish(job, JobStatus.SUCCEEDED, progress=100, step="Finished", result_url=url)
    return "succeeded"


def requeue_stalled(now: Any = None) -> int:
    """Put back on the queue the jobs whose worker stopped mid-run (no heartbeat for
    JOB_STALL_SECONDS); after MAX_ATTEMPTS runs a job fails instead. Returns how many
    were put back. Safe with several workers: each job is moved by one of them only."""
    now = now or timezone.now()
    cutoff = now - stall_after()
    requeued = 0
    for job in Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff):
        said = _progress_said_outside(job.pk)  # SQLite: the handler's transaction is open
        if said and said["heartbeat_at"] >= cutoff:
            continue
        progress_file(job.pk).unlink(missing_ok=True)
        with transaction.atomic():
            if job.attempts >= MAX_ATTEMPTS:
                Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                    status=JobStatus.FAILED, finished_at=now, step="Failed",
                    message=f"The worker stopped during each of {job.attempts} runs. "
                    "Nothing was saved; tell your administrator.",
                )  # fmt: skip
                continue
            moved = Job.objects.filter(
                pk=job.pk, status=JobStatus.RUNNING, heartbeat_at=job.heartbeat_at
            ).update(
                status=JobStatus.QUEUED, progress=0,
                step="The worker stopped during the last run; waiting to run it again",
            )  # fmt: skip
            if moved:
                job.refresh_from_db()
                _enqueue(job)
                requeued += 1
    return requeued


def work(
    *, batch: bool = False, interval: float = 1.0, worker_id: str = "", signals: bool = False
) -> None:
    """The worker loop behind `throughgate worker`: requeue stalled jobs, run everything
    ready (django-tasks-db's worker), sleep, repeat. `batch`: stop once the queue is
    empty."""
    import os
    import socket
    import time

    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["*"], interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=None, excluded_queue_names=[],
        worker_id=(worker_id or f"{socket.gethostname()}-{os.getpid()}")[:64],
    )  # fmt: skip
    if signals:  # Ctrl+C or SIGTERM: finish the job in hand, then stop
        worker.configure_signals()
    while True:
        if requeue_stalled():
            logger.warning("put stalled jobs back on the queue")
        worker.run()
        if batch or not worker.running:
            return
        time.sleep(interval)
