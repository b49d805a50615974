"""`throughgate manage link_people`: the periodic duplicate check over everyone.

Runs the same review as the background job ("people.linkage_review") in this
process and prints what it found; schedule it (cron, a systemd timer) nightly or
weekly. New pairs appear on the "Possible duplicate people" page for an admin."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from throughgate.people import linkage


class Command(BaseCommand):
    help = "Look for duplicate person records and list new pairs for an admin to decide."

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options.get("verbosity", 1)

        def progress(percent: int, step: str) -> None:
            if verbosity > 1:
                self.stdout.write(f"{percent:3d}% {step}")

        result = linkage.review_everyone(None, progress)
        self.stdout.write(
            f"Compared {result.people:,} people ({result.comparisons:,} pairs of names) in "
            f"{result.seconds:.1f} s: {result.pairs:,} possible duplicate(s), "
            f"{result.new:,} new."
        )
