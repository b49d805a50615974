"""Small helpers every app's views share. No app imports: roles are passed in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import jobs
from .access import get_visible_or_404
from .concurrency import StaleRecord, VersionedFormMixin
from .models import Job, JobStatus


def only_for(check: Callable[[Any], bool]) -> Callable:
    """A page some roles cannot use at all answers 404, as for a hidden record."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise Http404("Page not found")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def attach_errors(form: Form, error: ValidationError, *more_forms: Form) -> None:
    """Put an action's ValidationError on the form: on the named field where the form
    has it, at the top otherwise, so nothing the action says is lost.

    A page with several forms passes them all: each message goes once, to the form
    holding its field, and a message with no such field to the top of the first form.

    When the record changed after the form was opened (core.concurrency), the form's
    hidden version moves on to the record's current one, so that saving again — after
    checking — keeps the user's values.
    """
    forms = [form, *more_forms]
    if isinstance(error, StaleRecord):
        for each in forms:
            if isinstance(each, VersionedFormMixin):
                each.refresh_version(error.current_version)
    by_field = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    for field, field_messages in by_field.items():
        holder = next((f for f in forms if field in f.fields), None)
        for message in field_messages:
            if holder is None:
                form.add_error(None, message)
            else:
                holder.add_error(field, message)


def paginate(request: HttpRequest, items: Any, per_page: int = 50) -> Page:
    paginator = Paginator(items, per_page)
    return paginator.get_page(request.GET.get("page"))


@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A background job's progress, for the person who started it; reloads itself every
    few seconds until the job ends, then links to what it made or says why not."""
    job = jobs.live(get_visible_or_404(Job, request.user, pk=pk))
    return render(request, "core/job.html", {"job": job, "refresh_seconds": 2})


@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_visible_or_404(Job, request.user, pk=pk)
    if job.status != JobStatus.FAILED:
        messages.error(request, "Only a job that failed can be tried again.")
        return redirect("job", pk=job.pk)
    jobs.retry(job)
    messages.success(request, "It will run again shortly.")
    return redirect("job", pk=job.pk)
