"""A background job for the worker tests (tests/test_jobs.py): slow enough to be killed
half-way, and all-or-nothing like every real handler. Imported by the worker processes
those tests start, which registers it."""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction

from throughgate.casework.support import add_agency
from throughgate.core import jobs


@jobs.handler("test-slow")
def add_agencies_slowly(job: Any, progress: jobs.Progress) -> str:
    rows = job.params["rows"]
    progress(1, f"Adding {rows} agencies")
    with transaction.atomic():
        for i in range(rows):
            add_agency(None, {"name": f"Agency {i:03d}", "kind": "housing"})
            time.sleep(job.params.get("pause", 0.1))
    return "/agencies/"


@jobs.handler("test-progress")
def add_agencies_saying_how_far(job: Any, progress: jobs.Progress) -> str:
    """As every real handler does: says how far it has got from inside its transaction."""
    rows = job.params["rows"]
    with transaction.atomic():
        for i in range(rows):
            add_agency(None, {"name": f"Agency {i:03d}", "kind": "housing"})
            progress(i * 100 // rows, f"Added {i} of {rows} agencies")
            time.sleep(job.params.get("pause", 0.1))
    return "/agencies/"
