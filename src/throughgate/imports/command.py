"""`throughgate import SOURCE KIND FILE`: check a file (the default) or import it.

Exit codes: 0 the file is free of problems (and, with --commit, imported); 1 it has
problems (each listed on stderr as "Row N, column 'X': ...") and nothing was imported;
2 the command was used wrongly (no such file, user or kind; a bad mapping file).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# As models.Kind, which cannot be imported before Django is set up (a test checks they agree).
KINDS = ["people", "referrals", "cases", "contacts", "custody", "reoffending"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "source",
        metavar="SOURCE",
        help="the source's name, e.g. \"Old spreadsheets "
        '2010-2024" (made if new; ids are unique within a source)',
    )
    p.add_argument(
        "kind", metavar="KIND", choices=KINDS, help=f"what the file holds: {', '.join(KINDS)}"
    )
    p.add_argument("file", metavar="FILE", help="a .csv (UTF-8) or .xlsx file with a header row")
    p.add_argument(
        "--user",
        required=True,
        metavar="USERNAME",
        help="the manager / admin doing the import (named in the audit trail)",
    )
    p.add_argument(
        "--mapping",
        metavar="M.json",
        help='which column holds each field, as JSON {"field": "Column header"} '
        "(default: the source's saved mapping, then matching header names)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run",
        action="store_true",
        help="check every row and list the problems; save nothing (the default)",
    )
    mode.add_argument(
        "--commit",
        action="store_true",
        help="import the file if no row has a problem (all rows or none)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _fail(message: str, code: int = 2) -> int:
    print(f"throughgate import: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    from django.contrib.auth import get_user_model
    from tqdm import tqdm

    from throughgate.accounts import roles

    from . import importer
    from .models import ImportRun, RunStatus, Source
    from .reader import FileProblem, open_table

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"{args.file}: no such file")
    user = get_user_model().objects.filter(username=args.user, is_active=True).first()
    if user is None:
        return _fail(f"no active user is called {args.user!r}")
    if not roles.is_admin(user):
        return _fail(f"{args.user} is not a manager / admin; only they import personal data")
    given: dict[str, Any] | None = None
    if args.mapping:
        try:
            given = json.loads(Path(args.mapping).read_text(encoding="utf-8"))
        except OSError as exc:
            return _fail(f"{args.mapping}: {exc.strerror}")
        except (ValueError, UnicodeDecodeError) as exc:
            return _fail(f"{args.mapping}: not valid JSON ({exc})")
        if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
            return _fail(f'{args.mapping}: expected one JSON object {{"field": "Column header"}}')
    name = " ".join(args.source.split())
    if not name or len(name) > 100:
        return _fail("give the source a name of 1 to 100 characters")
    try:
        table = open_table(path)
    except FileProblem as exc:
        return _fail(f"{path.name}: {exc.message}", 1)
    try:
        source = Source.objects.filter(name__iexact=name).first()
        saved = importer.saved_mapping(source, args.kind) if source else {}
        mapping = (
            given
            if given is not None
            else importer.suggest_mapping(args.kind, table.headers, saved)
        )
        wrong = importer.check_mapping(args.kind, table.headers, mapping)
        if wrong:
            for field, message in wrong.items():
                print(f"throughgate import: mapping of {field!r}: {message}", file=sys.stderr)
            print(f"The file's columns: {', '.join(table.headers)}", file=sys.stderr)
            return 1
        if source is None:
            source = Source.objects.create(name=name, created_by=user)
            print(f"New source: {source}")
        importer.save_mapping(source, args.kind, mapping)
        run = ImportRun.objects.create(
            source=source,
            kind=args.kind,
            file_name=path.name[:200],
            headers=table.headers,
            columns=mapping,
            status=RunStatus.UPLOADED,
            started_by=user,
        )
        bar = tqdm(
            total=table.estimated_rows or None,
            unit=" rows",
            disable=args.quiet,
            desc="Importing" if args.commit else "Checking",
            file=sys.stderr,
        )
        try:
            report = importer.run_import(
                run, table, user, commit=args.commit, on_rows=lambda n: bar.update(n - bar.n)
            )
        finally:
            bar.close()
    except FileProblem as exc:
        return _fail(f"{path.name}: {exc.message}", 1)
    finally:
        table.close()
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if report.problem_count > len(report.problems):
        print(
            f"... and {report.problem_count - len(report.problems):,} more problems",
            file=sys.stderr,
        )
    print(
        f"{report.rows:,} rows read; {report.already:,} imported before; "
        f"{report.problem_count:,} problems."
    )
    if not report.ok:
        print("Nothing was imported. Fix the rows above and run it again.", file=sys.stderr)
        return 1
    if args.commit:
        print(f"Imported {report.added:,} {args.kind} (import run {run.pk}).")
    else:
        print("No problems. Run it again with --commit to import.")
    return 0
