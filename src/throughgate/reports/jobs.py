"""The funder report's PDF as a background job: WeasyPrint takes seconds, so the worker
renders it and keeps it (reports.models.FunderReportFile); the job page links to it."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from throughgate.casework.models import Programme
from throughgate.core import audit, jobs
from throughgate.core.models import AuditAction, Job

from . import funder
from .models import FunderReportFile

KIND = "funder_report_pdf"


def start(actor: Any, start_day: date, end_day: date, programme_ids: list[int]) -> Job:
    params = {"start": start_day.isoformat(), "end": end_day.isoformat(),
              "programmes": sorted(programme_ids)}  # fmt: skip
    title = f"Funder report PDF, {start_day:%-d %b %Y} to {end_day:%-d %b %Y}"
    return jobs.start(actor, KIND, title, params, reverse("reports:funder"))


@jobs.handler(KIND)
def run(job: Job, progress: jobs.Progress) -> str:
    params = job.params
    programmes = Programme.objects.all()
    if params["programmes"]:
        programmes = programmes.filter(pk__in=params["programmes"])
        if programmes.count() != len(params["programmes"]):
            raise ValidationError("A chosen programme no longer exists; choose again.")
    progress(10, "Counting the figures")
    report = funder.build(
        date.fromisoformat(params["start"]), date.fromisoformat(params["end"]), programmes
    )
    progress(40, "Drawing the PDF")
    pdf = funder.as_pdf(report)
    progress(90, "Keeping the file")
    with transaction.atomic():
        kept = FunderReportFile.objects.create(
            job=job,
            name=funder.file_name(report, "pdf"),
            description=report.describe[:300],
            pdf=pdf,
            made_by=job.created_by,
        )
        audit.record(
            job.created_by, AuditAction.EXPORT, kept,
            summary=f"Funder report PDF: {report.describe}",
        )  # fmt: skip
    return reverse("reports:funder_pdf_file", kwargs={"pk": kept.pk})
