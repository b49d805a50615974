"""Checking and importing as background jobs: a file of a million rows takes minutes,
longer than a web request may. The uploaded file waits in DATA_DIR/job-files (mode 0600,
a random name; outcomes.jobs keeps it) until it has been imported, and is then removed.

A worker killed mid-import leaves nothing: run_import's work is one transaction. The
job is put back on the queue (core.jobs.requeue_stalled) and the next run starts clean.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse

from throughgate.core import jobs
from throughgate.core.models import Job

from . import importer
from .models import ImportRun, RunStatus
from .reader import FileProblem, open_table

KIND = "import"


def start(actor: Any, run: ImportRun, *, commit: bool) -> Job:
    title = (
        f"{'Import' if commit else 'Check'} {run.get_kind_display().lower()} from {run.file_name}"
    )
    ImportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.COMMITTING if commit else RunStatus.CHECKING
    )
    back = reverse("imports:run", args=[run.pk])
    return jobs.start(actor, KIND, title, {"run": run.pk, "commit": commit}, back)


def discard_file(run: ImportRun) -> None:
    if run.file_path:
        Path(run.file_path).unlink(missing_ok=True)
        run.file_path = ""
        run.save(update_fields=["file_path"])


@jobs.handler(KIND)
def run(job: Job, progress: jobs.Progress) -> str:
    found = ImportRun.objects.select_related("source").filter(pk=job.params["run"]).first()
    if found is None:
        raise ValidationError("This import no longer exists.")
    commit = bool(job.params.get("commit"))
    if not found.file_path or not Path(found.file_path).exists():
        raise ValidationError("The uploaded file is no longer there; upload it again.")
    progress(1, "Opening the file")
    try:
        table = open_table(found.file_path, found.file_name)
    except FileProblem as exc:
        importer.file_problem(found, exc.message)
        return reverse("imports:run", args=[found.pk])
    try:
        report = importer.run_import(found, table, job.created_by, commit=commit, progress=progress)
    except FileProblem as exc:
        importer.file_problem(found, exc.message)
        return reverse("imports:run", args=[found.pk])
    finally:
        table.close()
    if report.committed:
        discard_file(found)
    return reverse("imports:run", args=[found.pk])
