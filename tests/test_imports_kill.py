"""Issue 9, acceptance 4: killing the worker (SIGKILL) mid-import leaves no partial rows,
and the re-run completes."""

from __future__ import annotations

import signal
import subprocess
import time
from typing import Any

from tests.test_backup import ROOT, command, run_cli
from tests.test_imports import PEOPLE_HEADERS, people_rows, write_csv
from tests.test_jobs import Database, stop, wait_for

ROWS = 30_000
ENQUEUE = """
from throughgate.accounts.models import User
from throughgate.imports import jobs, importer
from throughgate.imports.models import ImportRun, RunStatus, Source
ade = User.objects.create(username="ade", role="admin")
source = Source.objects.create(name="Old spreadsheets")
headers = {headers!r}
run = ImportRun.objects.create(source=source, kind="people", file_name="people.csv",
    file_path={path!r}, headers=headers, status=RunStatus.CHECKED, started_by=ade,
    columns=importer.suggest_mapping("people", headers))
print(jobs.start(ade, run, commit=True).pk)
"""
WORK = "from throughgate.core import jobs; jobs.work(interval=0.2)"


def test_killing_the_worker_mid_import_saves_nothing_and_the_rerun_completes(tmp_path):
    db = Database(tmp_path)
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADERS, people_rows(ROWS))
    workers: list[subprocess.Popen[str]] = []
    try:
        assert run_cli(db.env, "migrate", "-v", "0").returncode == 0
        script = ENQUEUE.format(headers=PEOPLE_HEADERS, path=str(path))
        made = run_cli(db.env, "manage", "shell", "--no-imports", "-c", script)
        assert made.returncode == 0, made.stderr
        job_id = int(made.stdout.strip().splitlines()[-1])

        def job() -> tuple[Any, ...]:
            return db.query(f"SELECT status, attempts FROM core_job WHERE id = {job_id}")[0]

        def count(table: str) -> int:
            return db.query(f"SELECT count(*) FROM {table}")[0][0]

        def start_worker() -> subprocess.Popen[str]:
            process = subprocess.Popen(
                command("manage", "shell", "--no-imports", "-c", WORK),
                cwd=ROOT,
                env=db.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            workers.append(process)
            return process

        first = start_worker()
        wait_for(lambda: job()[0] == "running", 60, "the first worker to start the import")
        time.sleep(1.0)  # part-way through 30,000 rows, written in chunks, not committed
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        assert job() == ("running", 1)
        assert count("people_person") == 0 and count("imports_sourcerecord") == 0
        assert count("people_nameindex") == 0

        start_worker()  # notices the silence after JOB_STALL_SECONDS and runs it again
        # A generous bound: 30,000 rows on a machine busy with other work.
        wait_for(lambda: job()[0] in ("succeeded", "failed", "refused"), 600,
                 "the second worker to finish the import")  # fmt: skip
        assert job() == ("succeeded", 2)
        assert count("people_person") == ROWS and count("imports_sourcerecord") == ROWS
        status, added = db.query("SELECT status, added FROM imports_importrun")[0]
        assert (status, added) == ("committed", ROWS)
    finally:
        stop(*workers)
        db.drop()
