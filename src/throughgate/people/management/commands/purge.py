"""`manage purge [--dry-run | --yes]`: the same as `throughgate purge` (docs/retention.md)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from throughgate.people import retention


class Command(BaseCommand):
    help = "Anonymise records past their retention period (a dry run report unless --yes)."

    def add_arguments(self, parser: Any) -> None:
        retention.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        code = retention.run_command(
            argparse.Namespace(
                yes=options["yes"], dry_run=options["dry_run"], quiet=options["quiet"]
            )  # fmt: skip
        )
        if code:
            raise CommandError("some records could not be anonymised", returncode=code)
