"""Background jobs (core.jobs): long work runs in `throughgate worker`, shows its progress,
says why it failed, can be tried again, and survives the worker being killed half-way:
the job runs again and what it saves is saved once, never half."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from throughgate.core import jobs
from throughgate.core.models import Job, JobStatus

from .test_backup import PG_URL, ROOT, cli_env, command, pg_admin, run_cli


@pytest.fixture
def handlers(monkeypatch: Any) -> dict[str, Any]:
    """Register test handlers for one test only."""
    registry = dict(jobs.HANDLERS)
    monkeypatch.setattr(jobs, "HANDLERS", registry)
    return registry


def test_a_job_is_queued_with_its_row_and_run_by_the_worker(handlers, ade, run_jobs):
    seen = []

    def count(job: Job, progress: jobs.Progress) -> str:
        progress(50, "Half way")
        seen.append(Job.objects.get(pk=job.pk).step)
        return "/done/"

    handlers["count"] = count
    job = jobs.start(ade, "count", "Counting", {"n": 3})
    assert job.status == JobStatus.QUEUED
    assert DBTaskResult.objects.filter(id=job.task_id, status="READY").exists()

    run_jobs()

    job.refresh_from_db()
    assert seen == ["Half way"]  # progress is written where the page can read it at once
    assert (job.status, job.progress, job.result_url, job.attempts) == (
        JobStatus.SUCCEEDED, 100, "/done/", 1,
    )  # fmt: skip
    assert job.started_at <= job.finished_at
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"


def test_a_worker_waiting_for_jobs_does_not_fill_the_log(handlers, ade, run_jobs, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(3):  # `throughgate worker` looks at the queue every second
        run_jobs()
    handlers["noop"] = lambda job, progress: "/"
    jobs.start(ade, "noop", "Counting", {})
    run_jobs()
    said = [(r.name, r.getMessage()) for r in caplog.records]
    assert not [m for name, m in said if name.startswith("django_tasks_db")], said
    # Each job still says when it starts and how it ended.
    assert [m.rsplit("state=", 1)[1] for name, m in said if name == "django_tasks"] == [
        "RUNNING", "SUCCESSFUL",
    ]  # fmt: skip


def test_a_refused_job_says_why_and_is_not_offered_again(handlers, ade, login, run_jobs):
    def refuse(job: Job, progress: jobs.Progress) -> str:
        raise ValidationError("Row 7: the date of birth is in the future.")

    handlers["refuse"] = refuse
    job = jobs.start(ade, "refuse", "Refusing", {})
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.REFUSED
    assert job.message == "Row 7: the date of birth is in the future."
    page = login(ade).get(reverse("job", args=[job.pk])).content.decode()
    assert "Row 7: the date of birth is in the future." in page and "Try again" not in page
    response = login(ade).post(reverse("job_retry", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.REFUSED


def test_a_failed_job_says_so_and_runs_again_when_asked(handlers, ade, login, run_jobs):
    calls = []

    def flaky(job: Job, progress: jobs.Progress) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the network went away")
        return "/second-time/"

    handlers["flaky"] = flaky
    job = jobs.start(ade, "flaky", "Flaky", {})
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "ConnectionError" in job.message and "Nothing was saved" in job.message
    assert DBTaskResult.objects.get(id=job.task_id).status == "FAILED"
    client = login(ade)
    assert "Try again" in client.get(reverse("job", args=[job.pk])).content.decode()

    assert client.post(reverse("job_retry", args=[job.pk])).status_code == 302
    run_jobs()

    job.refresh_from_db()
    assert (job.status, job.result_url, len(calls)) == (JobStatus.SUCCEEDED, "/second-time/", 2)


def test_the_progress_page_shows_the_step_and_updates_itself(handlers, ade, login):
    handlers["noop"] = lambda job, progress: "/"
    job = jobs.start(ade, "noop", "Importing contacts", {})
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, progress=42, step="Checking row 4,200 of 10,000"
    )
    page = login(ade).get(reverse("job", args=[job.pk])).content.decode()
    assert 'value="42" max="100"' in page and "Checking row 4,200 of 10,000" in page
    assert 'hx-trigger="every 2s"' in page and 'aria-live="polite"' in page


def _as_another_process_sees(job_id: int) -> tuple[str, int, str]:
    """The job as its page, in another process, would show it right now."""
    if connection.vendor == "postgresql":
        import psycopg

        db = connection.settings_dict
        with psycopg.connect(
            dbname=db["NAME"], host=db["HOST"] or None, port=db["PORT"] or None,
            user=db["USER"] or None, password=db["PASSWORD"] or None,
        ) as other:  # fmt: skip
            sql = "SELECT status, progress, step FROM core_job WHERE id = %s"
            return other.execute(sql, [job_id]).fetchone()  # type: ignore[return-value]
    # SQLite's test database is in this process's memory: the row as this connection has
    # it (the handler's transaction does not touch it), then the file, as the page reads.
    job = jobs.live(Job.objects.get(pk=job_id))
    assert job is not None
    return (job.status, job.progress, job.step)


@pytest.mark.django_db(transaction=True)
def test_progress_said_inside_the_handlers_transaction_is_seen_outside_it_at_once(
    handlers, ade, run_jobs
):
    seen = []

    def inside(job: Job, progress: jobs.Progress) -> str:
        with transaction.atomic():  # as every handler saves: all or nothing
            progress(40, "Checking row 2,000 of 5,000")
            seen.append(_as_another_process_sees(job.pk))
            # The row itself is left alone inside the transaction: written there, it would
            # be invisible until the end, and on PostgreSQL locked against the second
            # connection that writes it.
            seen.append(Job.objects.values_list("progress", flat=True).get(pk=job.pk))
            progress(45, "Too soon to write again")  # at most once a second outside
            seen.append(_as_another_process_sees(job.pk))
        return "/done/"

    handlers["inside"] = inside
    job = jobs.start(ade, "inside", "Importing contacts", {})
    run_jobs()

    assert seen == [
        (JobStatus.RUNNING, 40, "Checking row 2,000 of 5,000"),
        0 if connection.vendor == "sqlite" else 40,
        (JobStatus.RUNNING, 40, "Checking row 2,000 of 5,000"),
    ]
    job.refresh_from_db()
    assert (job.status, job.progress, job.step) == (JobStatus.SUCCEEDED, 100, "Finished")
    assert not jobs.progress_file(job.pk).exists()  # SQLite's file goes when the job ends


def test_progress_said_outside_the_handlers_transaction_is_written_to_the_row(
    handlers, ade, run_jobs
):
    seen = []

    def outside(job: Job, progress: jobs.Progress) -> str:
        progress(30, "Opening the file")
        seen.append(Job.objects.values_list("progress", "step").get(pk=job.pk))
        return "/done/"

    handlers["outside"] = outside
    job = jobs.start(ade, "outside", "Importing contacts", {})
    run_jobs()
    assert seen == [(30, "Opening the file")]
    assert not jobs.progress_file(job.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_progress_that_cannot_be_written_outside_does_not_fail_the_job(
    handlers, ade, run_jobs, monkeypatch, tmp_path, caplog
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # SQLite's progress file cannot be made beneath a file
    monkeypatch.setattr(jobs, "progress_folder", lambda: blocked / "job-progress")

    def inside(job: Job, progress: jobs.Progress) -> str:
        with transaction.atomic():
            progress(40, "Checking row 2,000 of 5,000")
        return "/done/"

    handlers["inside"] = inside
    job = jobs.start(ade, "inside", "Importing contacts", {})
    run_jobs()
    job.refresh_from_db()
    assert (job.status, job.result_url) == (JobStatus.SUCCEEDED, "/done/")
    if connection.vendor == "sqlite":
        assert "could not write the progress of job" in caplog.text


def test_a_stall_check_leaves_a_job_whose_progress_file_still_beats(handlers, ade):
    handlers["noop"] = lambda job, progress: "/"
    job = jobs.start(ade, "noop", "Importing contacts", {})
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_STALL_SECONDS + 60)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=long_ago, attempts=1
    )
    job.refresh_from_db()
    # A SQLite worker in the middle of its transaction: the row's heartbeat is as old as
    # the claim, the file's is fresh.
    job.progress, job.step, job.heartbeat_at = 70, "Importing: 700,000 rows", timezone.now()
    jobs._write_progress_file(job)

    assert jobs.requeue_stalled() == 0
    page = jobs.live(Job.objects.get(pk=job.pk))
    assert page is not None and (page.status, page.progress) == (JobStatus.RUNNING, 70)

    # The file stops beating too (the worker was killed): the job goes back on the queue.
    later = timezone.now() + timedelta(seconds=settings.JOB_STALL_SECONDS + 1)
    assert jobs.requeue_stalled(now=later) == 1
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    assert not jobs.progress_file(job.pk).exists()


def test_a_job_is_seen_only_by_the_person_who_started_it(handlers, ade, fay, kim, login):
    handlers["noop"] = lambda job, progress: "/"
    job = jobs.start(fay, "noop", "Fay's evaluation", {})
    assert login(fay).get(reverse("job", args=[job.pk])).status_code == 200
    for other in (ade, kim):
        assert login(other).get(reverse("job", args=[job.pk])).status_code == 404
        assert login(other).post(reverse("job_retry", args=[job.pk])).status_code == 404


def test_a_job_whose_worker_died_runs_again_then_gives_up(handlers, ade, run_jobs):
    runs = []
    handlers["noop"] = lambda job, progress: runs.append(1) or "/"
    job = jobs.start(ade, "noop", "Stalls", {})
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_STALL_SECONDS + 1)
    # A worker claimed it and was killed: running, with a heartbeat that stopped.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, heartbeat_at=long_ago,
                                         attempts=1)  # fmt: skip
    recent = jobs.start(ade, "noop", "Still beating", {})
    Job.objects.filter(pk=recent.pk).update(status=JobStatus.RUNNING,
                                            heartbeat_at=timezone.now(), attempts=1)  # fmt: skip

    assert jobs.requeue_stalled() == 1
    assert jobs.requeue_stalled() == 0  # a second worker finds nothing to move

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and "worker stopped" in job.step
    run_jobs()
    job.refresh_from_db()
    assert (job.status, job.attempts, len(runs)) == (JobStatus.SUCCEEDED, 2, 1)
    assert Job.objects.get(pk=recent.pk).status == JobStatus.RUNNING

    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, heartbeat_at=long_ago,
                                         attempts=jobs.MAX_ATTEMPTS)  # fmt: skip
    assert jobs.requeue_stalled() == 0
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and f"each of {jobs.MAX_ATTEMPTS} runs" in job.message


# --- a real worker process, killed half-way ------------------------------------------------

ENQUEUE = "from tests import slow_job; from throughgate.core import jobs; " \
    "print(jobs.start(None, 'test-slow', 'Slow', {'rows': 40}).pk)"  # fmt: skip
WORK = "from tests import slow_job; from throughgate.core import jobs; jobs.work(interval=0.2)"


class Database:
    """A scratch database of the kind the suite runs on, for worker processes to share."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.pg_name = None
        if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
            self.pg_name = f"tg_jobs_test_{uuid.uuid4().hex[:12]}"
            pg_admin(f'CREATE DATABASE "{self.pg_name}"')
            self.env = cli_env(folder, PG_URL.format(self.pg_name))
        else:
            self.env = cli_env(folder)
        self.env["JOB_STALL_SECONDS"] = "10"

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.pg_name:
            import psycopg

            with psycopg.connect(PG_URL.format(self.pg_name)) as conn:
                return conn.execute(sql).fetchall()  # type: ignore[arg-type]
        with sqlite3.connect(self.folder / "throughgate.sqlite3") as conn:
            return conn.execute(sql).fetchall()

    def drop(self) -> None:
        if self.pg_name:
            pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


def stop(*processes: subprocess.Popen[str]) -> None:
    """SIGTERM to each process still running (a worker finishes its job in hand), then kill."""
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


def test_killing_the_worker_mid_job_saves_nothing_and_the_next_worker_finishes_it(tmp_path):
    db = Database(tmp_path)
    workers: list[subprocess.Popen[str]] = []
    try:
        assert run_cli(db.env, "migrate", "-v", "0").returncode == 0
        made = run_cli(db.env, "manage", "shell", "--no-imports", "-c", ENQUEUE)
        assert made.returncode == 0, made.stderr
        job_id = int(made.stdout.strip().splitlines()[-1])

        def job() -> tuple[Any, ...]:
            return db.query(f"SELECT status, attempts FROM core_job WHERE id = {job_id}")[0]

        def agencies() -> int:
            return db.query("SELECT count(*) FROM casework_agency")[0][0]

        def start_worker() -> subprocess.Popen[str]:
            process = subprocess.Popen(
                command("manage", "shell", "--no-imports", "-c", WORK), cwd=ROOT, env=db.env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            workers.append(process)
            return process

        first = start_worker()
        wait_for(lambda: job()[0] == "running", 60, "the first worker to start the job")
        time.sleep(1.5)  # 40 agencies at 0.1 s each: some are added, not yet committed
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        assert job() == ("running", 1)  # nobody has noticed yet
        assert agencies() == 0  # the killed run's rows died with its transaction

        start_worker()  # notices the silence after JOB_STALL_SECONDS and runs it again
        wait_for(lambda: job()[0] == "succeeded", 90, "the second worker to finish the job")
        assert job() == ("succeeded", 2)
        assert agencies() == 40
        names = db.query("SELECT count(DISTINCT name) FROM casework_agency")[0][0]
        assert names == 40
    finally:
        stop(*workers)
        db.drop()


def test_the_worker_command_runs_the_queue_and_stops_when_asked(tmp_path):
    db = Database(tmp_path)
    try:
        assert run_cli(db.env, "migrate", "-v", "0").returncode == 0
        made = run_cli(db.env, "manage", "shell", "--no-imports", "-c",
                       ENQUEUE.replace("'rows': 40", "'rows': 2, 'pause': 0"))  # fmt: skip
        assert made.returncode == 0, made.stderr
        # The command itself (no test handler in it) knows nothing of 'test-slow': it runs
        # the job, which fails saying so, and --batch then stops because the queue is empty.
        done = run_cli(db.env, "worker", "--batch")
        assert done.returncode == 0, done.stderr
        status, message = db.query("SELECT status, message FROM core_job")[0]
        assert status == "failed" and "KeyError" in message
        bad = run_cli(db.env, "worker", "--interval", "-1")
        assert bad.returncode == 2 and "--interval" in bad.stderr
    finally:
        db.drop()


READ_PROGRESS = """
import time
from throughgate.core import jobs
from throughgate.core.models import Job
while True:
    job = jobs.live(Job.objects.get(pk={pk}))
    print(job.status, job.progress, flush=True)
    if job.is_finished:
        break
    time.sleep(0.3)
"""


def test_a_long_job_shows_its_progress_as_it_goes_and_is_not_taken_for_dead(tmp_path):
    """Every handler saves in one transaction; a job that runs for longer than
    JOB_STALL_SECONDS (10 s here) still shows its page moving, in another process, and a
    second worker neither takes it for dead nor (PostgreSQL) waits for it to finish."""
    db = Database(tmp_path)
    processes: list[subprocess.Popen[str]] = []
    try:
        assert run_cli(db.env, "migrate", "-v", "0").returncode == 0
        script = ENQUEUE.replace("'test-slow'", "'test-progress'").replace(
            "'rows': 40", "'rows': 80, 'pause': 0.25"
        )  # 20 s, inside one transaction
        made = run_cli(db.env, "manage", "shell", "--no-imports", "-c", script)
        assert made.returncode == 0, made.stderr
        job_id = int(made.stdout.strip().splitlines()[-1])

        def start(*args: str, out: Any = subprocess.DEVNULL) -> subprocess.Popen[str]:
            process = subprocess.Popen(
                command(*args), cwd=ROOT, env=db.env, stdout=out, stderr=subprocess.DEVNULL,
                text=True,
            )  # fmt: skip
            processes.append(process)
            return process

        def job() -> tuple[Any, ...]:
            return db.query(f"SELECT status, attempts FROM core_job WHERE id = {job_id}")[0]

        start("manage", "shell", "--no-imports", "-c", WORK)
        wait_for(lambda: job()[0] == "running", 60, "a worker to start the job")
        reader = start("manage", "shell", "--no-imports", "-c",
                       READ_PROGRESS.format(pk=job_id), out=subprocess.PIPE)  # fmt: skip
        start("manage", "shell", "--no-imports", "-c", WORK)  # a second worker beside it

        if db.pg_name:
            # Past the stall time, the second worker runs another job while this one goes on.
            wait_for(lambda: db.query(f"SELECT progress FROM core_job WHERE id = {job_id}")[0][0]
                     >= 60, 60, "the long job to pass 60%")  # fmt: skip
            quick = run_cli(db.env, "manage", "shell", "--no-imports", "-c",
                            ENQUEUE.replace("'rows': 40", "'rows': 0"))  # fmt: skip
            quick_id = int(quick.stdout.strip().splitlines()[-1])
            wait_for(lambda: db.query(f"SELECT status FROM core_job WHERE id = {quick_id}")[0][0]
                     == "succeeded", 60, "the second worker to run the quick job")  # fmt: skip
            assert job()[0] == "running"

        out, _ = reader.communicate(timeout=120)
        seen = [(status, int(progress)) for status, progress in map(str.split, out.splitlines())]
        running = [progress for status, progress in seen if status == "running"]
        assert len({p for p in running if 0 < p < 100}) >= 3, seen  # it moved, as it went
        assert running == sorted(running), seen
        assert seen[-1] == ("succeeded", 100)
        assert job() == ("succeeded", 1)  # run once: never taken for dead
        assert db.query("SELECT count(*) FROM casework_agency")[0][0] == 80
    finally:
        stop(*processes)
        db.drop()
