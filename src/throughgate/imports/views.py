"""Ade's import pages: upload a file, match its columns, read the check's report, import.

Only the manager / admin imports (personal data in bulk): everyone else gets 404, as for
a page that does not exist. Runs are fetched through ImportRun.objects.visible_to.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from throughgate.accounts import roles
from throughgate.core import audit, jobs
from throughgate.core.access import get_visible_or_404
from throughgate.core.models import AuditAction
from throughgate.core.views import only_for

from . import jobs as import_jobs
from .forms import MappingForm, UploadForm
from .importer import save_mapping, saved_mapping, suggest_mapping
from .kinds import KINDS
from .models import ImportRun, RunStatus, Source
from .reader import FileProblem, check_encoding, open_table

PAGE_PROBLEMS = 500  # the page lists this many problems; the CSV and command line, all


@require_http_methods(["GET", "POST"])
@only_for(roles.is_admin)
def index(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kept = jobs.keep_upload(data["file"])
        try:
            table = open_table(kept["path"], kept["name"])
            table.close()
            check_encoding(kept["path"], kept["name"])
        except FileProblem as exc:
            Path(kept["path"]).unlink(missing_ok=True)
            form.add_error("file", exc.message)
        else:
            with transaction.atomic():
                source = data["source"] or Source.objects.create(
                    name=data["new_source"], created_by=request.user
                )
                run = ImportRun.objects.create(
                    source=source,
                    kind=data["kind"],
                    file_name=kept["name"][:200],
                    file_path=kept["path"],
                    headers=table.headers,
                    status=RunStatus.UPLOADED,
                    started_by=request.user,
                )
                audit.record(
                    request.user,
                    AuditAction.CREATE,
                    run,
                    fields=["file_name", "kind"],
                    summary=f"uploaded {run.file_name} for {source}",
                )
            return redirect("imports:mapping", pk=run.pk)
    runs = ImportRun.objects.visible_to(request.user).select_related("source")[:20]
    return render(
        request,
        "imports/index.html",
        {"form": form, "runs": runs},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@only_for(roles.is_admin)
def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_visible_or_404(ImportRun, request.user, pk=pk)
    if run.status != RunStatus.UPLOADED or not run.file_path:
        messages.info(request, "This file's columns were matched already.")
        return redirect("imports:run", pk=run.pk)
    initial = suggest_mapping(run.kind, run.headers, saved_mapping(run.source, run.kind))
    form = MappingForm(request.POST or None, kind=run.kind, headers=run.headers, initial=initial)
    if request.method == "POST" and form.is_valid():
        columns = form.cleaned_data["mapping"]
        with transaction.atomic():
            save_mapping(run.source, run.kind, columns)
            run.columns = columns
            run.save(update_fields=["columns"])
            audit.record(
                request.user,
                AuditAction.UPDATE,
                run,
                fields=["columns"],
                summary="columns matched; checking",
            )
            job = import_jobs.start(request.user, run, commit=False)
        return redirect("job", pk=job.pk)
    return render(
        request,
        "imports/mapping.html",
        {
            "run": run,
            "form": form,
            "spec": KINDS[run.kind],
            "saved": bool(saved_mapping(run.source, run.kind)),
        },
        status=400 if form.errors else 200,
    )


@require_GET
@only_for(roles.is_admin)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_visible_or_404(ImportRun, request.user, pk=pk)
    return render(
        request,
        "imports/run.html",
        {
            "run": run,
            "problems": run.problems[:PAGE_PROBLEMS],
            "more": max(0, run.problem_count - PAGE_PROBLEMS),
            "can_commit": run.status == RunStatus.CHECKED and bool(run.file_path),
        },
    )


@require_POST
@only_for(roles.is_admin)
def commit(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_visible_or_404(ImportRun, request.user, pk=pk)
    if run.status != RunStatus.CHECKED or not run.file_path:
        messages.error(
            request, "Only a file that has been checked with no problems can be imported."
        )
        return redirect("imports:run", pk=run.pk)
    with transaction.atomic():
        audit.record(
            request.user, AuditAction.UPDATE, run, fields=["status"], summary="import started"
        )
        job = import_jobs.start(request.user, run, commit=True)
    return redirect("job", pk=job.pk)
