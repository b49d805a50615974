"""`throughgate manage outcome_figures [--as-of YYYY-MM-DD] [--queue]`: work out the
outcomes dashboard's stored figures now (nightly, from cron), or queue the background job."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from throughgate.outcomes import figures


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of: {text!r} is not a date like 2026-11-27") from None


class Command(BaseCommand):
    help = "Work out the reoffending figures the outcomes dashboard shows."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--as-of", default="", help="the day to measure on (default today)")
        parser.add_argument(
            "--queue", action="store_true", help="queue the job for the worker instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = _day(options["as_of"]) if options["as_of"] else timezone.localdate()
        if options["queue"]:
            job = figures.recalculate(None, as_of)
            self.stdout.write(f"Queued: job {job.pk}, figures as of {as_of.isoformat()}")
            return
        saved = figures.recalculate_now(None, as_of)
        self.stdout.write(f"Saved {len(saved)} breakdowns as of {as_of.isoformat()}")
