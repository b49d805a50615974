"""Background jobs (core.jobs): long work runs in `throughgate worker`, shows its progress,
says why it failed, can be tried again, and survives the worker being killed half-way:
the job runs again and what it saves is saved once, never half."""

from __future__ import annotations

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
        for process in workers:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
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
