"""The `throughgate` command.

    throughgate demo            set up a local demo (SQLite, demo data) and serve it
    throughgate serve           serve the app (production: set SECRET_KEY, DATABASE_URL …)
    throughgate worker [--batch]      run background jobs (evaluations …) from the queue
    throughgate migrate         create or update the database tables
    throughgate seed-demo       add the demo charity's data (idempotent)
    throughgate generate --scale charity|region [--seed N]   synthetic data for scale tests
    throughgate createuser      add a staff account
    throughgate load-establishments   refresh the prison register
    throughgate add-instrument FILE   add a questionnaire described as JSON
    throughgate check [--deploy]      Django's system checks
    throughgate manage …        any Django management command
    throughgate match --mentors M.csv --young-people Y.csv [--conflicts C.csv] [--json OUT]
                                batch mentor matching from CSV files (no database)
    throughgate reoffending --people P.csv --events E.csv [--as-of DATE] [--json OUT]
                                MoJ proven reoffending measures from CSV files (no database)
    throughgate evaluate --treated T --pool P --outcome COL …   matched impact evaluation (JDL)
    throughgate audit verify    check the audit trail's hash chain
    throughgate backup [OUTPUT] / restore INPUT --yes   back up or restore the database
    throughgate purge [--dry-run | --yes]   retention: report or anonymise what is due

Exit status: 0 on success, 1 on a failure it can explain, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Sequence
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DEMO_HOST = "127.0.0.1"
DEMO_PORT = 8000


def _version() -> str:
    try:
        return version("throughgate")
    except PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "throughgate.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        print(f"throughgate: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def _data_dir() -> Path:
    return Path(os.environ.get("THROUGHGATE_DATA_DIR") or (Path.cwd() / "var")).resolve()


def _prepare_demo_environment() -> None:
    """Demo mode: DEBUG on, plain HTTP on localhost, a secret key kept in the data folder."""
    os.environ["DEBUG"] = "true"
    os.environ["HTTPS"] = "off"
    # Its log-ins are published in the README, so a second factor would protect nothing;
    # TWO_FACTOR_REQUIRED=true before `throughgate demo` tries it out.
    os.environ.setdefault("TWO_FACTOR_REQUIRED", "false")
    data_dir = _data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("THROUGHGATE_DATA_DIR", str(data_dir))
    if not os.environ.get("SECRET_KEY") and not os.environ.get("SECRET_KEY_FILE"):
        key_file = data_dir / "demo-secret-key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
            key_file.chmod(0o600)
        os.environ["SECRET_KEY_FILE"] = str(key_file)


def _serve(host: str, port: int, threads: int) -> int:
    from waitress import serve

    from throughgate.wsgi import application

    print(f"Throughgate is running at http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    serve(application, host=host, port=port, threads=threads, ident="throughgate")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _prepare_demo_environment()
    _setup_django()
    from django.core.management import call_command

    from throughgate.demo.seed import DEMO_PASSWORD, DEMO_USERS, DemoDataError, seed

    call_command("migrate", interactive=False, verbosity=0)
    try:
        seed(progress=not args.quiet)
    except DemoDataError as exc:
        print(f"throughgate: {exc}", file=sys.stderr)
        return 1
    from throughgate.demo.evaluation import write_comparison_pool

    print(f"\nA made-up national comparison pool to try the impact evaluation with (Outcomes,"
          f" Run an impact evaluation): {write_comparison_pool()}")  # fmt: skip
    print(f"\nDemo log-ins (password for all: {DEMO_PASSWORD}):")
    for username, _first, _last, role_label, _team in DEMO_USERS:
        print(f"  {username:<6} {role_label}")
    from django.conf import settings

    if not settings.TWO_FACTOR_REQUIRED:
        print("Two-factor log-in is off in the demo (TWO_FACTOR_REQUIRED=false); it is on "
              "by default.")  # fmt: skip
    if args.no_serve:
        return 0
    _start_demo_worker()
    return _serve(args.host, args.port, args.threads)


def _start_demo_worker() -> None:
    """The demo runs its background jobs in a thread of the same process, so a newcomer
    still needs one command; production runs `throughgate worker` on its own."""
    import threading

    from throughgate.core import jobs

    def run() -> None:
        from django.db import connection

        try:
            jobs.work(worker_id="demo-worker")
        finally:
            connection.close()

    threading.Thread(target=run, name="throughgate-worker", daemon=True).start()


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 3600 seconds")
    return seconds


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    import logging

    from throughgate.core import jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not args.batch:
        print("Throughgate worker: running background jobs (Ctrl+C to stop)", flush=True)
    jobs.work(batch=args.batch, interval=args.interval, worker_id=args.worker_id, signals=True)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    if args.migrate:
        call_command("migrate", interactive=False, verbosity=1)
    return _serve(args.host, args.port, args.threads)


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=args.verbosity)
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    _setup_django()
    from throughgate.demo.seed import DemoDataError, seed

    try:
        seed(progress=not args.quiet)
    except DemoDataError as exc:
        print(f"throughgate: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    if args.comparison_pool is not None:
        if not args.output:
            print("throughgate generate: error: --comparison-pool needs --output FILE.parquet",
                  file=sys.stderr)  # fmt: skip
            return 2
        from throughgate.engines.generate import write_comparison_pool

        try:
            rows = write_comparison_pool(args.comparison_pool, args.output, seed=args.seed)
        except (OSError, ValueError, ImportError) as exc:
            print(f"throughgate: cannot write {args.output}: {exc}", file=sys.stderr)
            return 1
        if not args.quiet:
            print(f"Wrote {rows} comparison offenders to {args.output}")
    if args.scale is None:
        if args.comparison_pool is None:
            print("throughgate generate: error: give --scale or --comparison-pool",
                  file=sys.stderr)  # fmt: skip
            return 2
        return 0
    _setup_django()
    from throughgate.demo.generate import GenerateError, generate

    try:
        rows = generate(args.scale, seed=args.seed, quiet=args.quiet)
    except GenerateError as exc:
        print(f"throughgate: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        width = max(len(t) for t in rows)
        for table, count in rows.items():
            print(f"{table:<{width}}  {count:>10,}")
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    _setup_django()
    import getpass

    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from throughgate.accounts.models import Team, User

    if User.objects.filter(username=args.username).exists():
        print(f"throughgate: a user called {args.username!r} already exists", file=sys.stderr)
        return 1
    password = os.environ.get("THROUGHGATE_PASSWORD") or getpass.getpass("Password: ")
    user = User(username=args.username, role=args.role, first_name=args.first_name or "",
                last_name=args.last_name or "", email=args.email or "")  # fmt: skip
    try:
        validate_password(password, user)
    except ValidationError as exc:
        print("throughgate: password: " + " ".join(exc.messages), file=sys.stderr)
        return 1
    if args.team:
        user.team, _ = Team.objects.get_or_create(name=args.team)
    user.set_password(password)
    user.save()
    print(f"Created {user.username} ({user.get_role_display()}).")
    return 0


def cmd_two_factor_reset(args: argparse.Namespace) -> int:
    """A lost phone and no recovery codes: forget the user's app, so they set up a new
    one at their next log-in (after their password)."""
    _setup_django()
    from throughgate.accounts import two_factor
    from throughgate.accounts.models import User

    user = User.objects.filter(username=args.username).first()
    if user is None:
        print(f"throughgate: no user called {args.username!r}", file=sys.stderr)
        return 1
    two_factor.reset(None, user)
    print(f"Two-factor log-in reset for {user.username}: they set up a new app at their "
          f"next log-in.")  # fmt: skip
    return 0


def cmd_keys_new(args: argparse.Namespace) -> int:
    """Print a new key for FIELD_ENCRYPTION_KEYS (no database, no settings needed)."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode("ascii"))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """Re-encrypt every encrypted value with the first key listed (docs/security.md)."""
    _setup_django()
    from tqdm import tqdm

    from throughgate.core import audit, encryption
    from throughgate.core.models import AuditAction

    with tqdm(total=encryption.rows_to_check(), unit="row", disable=args.quiet,
              desc="checking" if args.check else "re-encrypting") as bar:  # fmt: skip
        counts = encryption.rotate(check_only=args.check, progress=bar.update)
    print(f"{counts['current']:,} values already under the first key; "
          f"{counts['rotated']:,} {'to re-encrypt' if args.check else 're-encrypted'} from "
          f"an older key; {counts['encrypted']:,} plain "
          f"{'to encrypt' if args.check else 'encrypted'}; "
          f"{counts['undecryptable']:,} under no key listed.")  # fmt: skip
    if not args.check and (counts["rotated"] or counts["encrypted"]):
        audit.record(None, AuditAction.UPDATE, object_type="core.encryption",
                     summary=f"keys rotated: {counts['rotated']} re-encrypted, "
                             f"{counts['encrypted']} encrypted")  # fmt: skip
    if counts["undecryptable"]:
        print("throughgate: some values are under a key that is no longer listed; put it "
              "back after the first key and run again", file=sys.stderr)  # fmt: skip
        return 1
    if args.check and (counts["rotated"] or counts["encrypted"]):
        return 1  # like `--check` elsewhere: 1 means there is work to do
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Anonymise what the retention periods make due (docs/retention.md); a dry run
    (the report only) unless --yes."""
    _setup_django()
    from throughgate.people import retention

    return retention.run_command(args)


def cmd_load_establishments(args: argparse.Namespace) -> int:
    _setup_django()
    from throughgate.custody.establishments import load_register
    from throughgate.custody.models import Establishment

    created, updated = load_register(Establishment)
    print(f"Prison register: {created} added, {updated} updated.")
    return 0


def cmd_add_instrument(args: argparse.Namespace) -> int:
    import json

    _setup_django()
    from django.core.exceptions import ValidationError

    from throughgate.casework.support import add_instrument

    try:
        with open(args.file, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        print(f"throughgate: {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    except json.JSONDecodeError as exc:
        print(f"throughgate: {args.file}: not valid JSON ({exc})", file=sys.stderr)
        return 1
    if not isinstance(data, dict):
        print(f"throughgate: {args.file}: expected one JSON object", file=sys.stderr)
        return 1
    try:
        definition = add_instrument(None, data)
    except ValidationError as exc:
        print(f"throughgate: {args.file}: {' '.join(exc.messages)}", file=sys.stderr)
        return 1
    print(f"Added {definition.name} ({definition.items.count()} questions).")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=args.deploy, fail_level="WARNING")
    except SystemCheckError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["throughgate manage", *args.rest])
    return 0


def _write_json(target: str, payload: object) -> bool:
    """Write a file command's JSON answer to `target` ("-" for standard output)."""
    import json

    text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    if target == "-":
        sys.stdout.write(text)
        return True
    try:
        Path(target).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"throughgate: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return False
    return True


def cmd_match(args: argparse.Namespace) -> int:
    # Files in, answer out: no Django, no database, so it runs anywhere the engine does.

    from throughgate.engines.matching_files import (
        MatchFileError,
        match_files,
        result_to_json,
        summary,
    )

    try:
        result = match_files(args.mentors, args.young_people, args.conflicts)
    except (MatchFileError, ValueError) as exc:
        print(f"throughgate: {exc}", file=sys.stderr)
        return 1
    if args.json is None:
        sys.stdout.write(summary(result))
        return 0
    if not _write_json(args.json, result_to_json(result)):
        return 1
    if args.json == "-":
        return 0
    print(f"Assigned {len(result.assignments)} of "
          f"{len(result.assignments) + len(result.unassigned)} young people "
          f"(total cost {result.total_cost}); written to {args.json}")  # fmt: skip
    return 0


def _as_of_date(text: str) -> date:  # argparse turns ArgumentTypeError into exit 2
    from throughgate.engines.reoffending_files import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_reoffending(args: argparse.Namespace) -> int:
    # Files in, answer out: no Django, no database, like `match`.

    from throughgate.engines.reoffending_files import (
        ReoffendingFileError,
        reoffending_files,
        result_to_json,
        summary,
    )

    as_of = args.as_of or date.today()
    try:
        report = reoffending_files(args.people, args.events, as_of)
    except (ReoffendingFileError, ValueError) as exc:
        print(f"throughgate: {exc}", file=sys.stderr)
        return 1
    if args.json is None:
        sys.stdout.write(summary(report))
        return 0
    if not _write_json(args.json, result_to_json(report.overall)):
        return 1
    if args.json == "-":
        return 0
    m = report.overall
    print(f"{m.n_reoffenders} of {m.n_mature} counted people reoffended "
          f"({m.n_people - m.n_mature} not yet 18 months on); written to {args.json}")  # fmt: skip
    return 0


def _column_list(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is below 1")
    return value


def _above_zero(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a number above 0")
    return value


def cmd_evaluate(args: argparse.Namespace) -> int:
    # Files in, answer out: no Django, no database, like `match` and `reoffending`.

    from throughgate.engines.evaluation import EvaluationRefused, EvaluationSpec
    from throughgate.engines.evaluation_files import (
        EvaluationFileError,
        evaluate_files,
        result_to_json,
        summary,
    )

    try:
        spec = EvaluationSpec(
            outcome=args.outcome, outcome_type=args.outcome_type, covariates=args.covariates,
            categorical=args.categorical, exact=args.exact, k=args.k, caliper=args.caliper,
            min_treated=args.min_treated, max_smd_after=args.max_smd, phrase=args.phrase,
        )  # fmt: skip
    except ValueError as exc:  # contradictory options: bad usage, like argparse's own errors
        print(f"throughgate evaluate: error: {exc}", file=sys.stderr)
        return 2
    if args.jdl and args.outcome_type != "binary":
        print("throughgate evaluate: error: --jdl needs a binary (0/1) reoffending outcome",
              file=sys.stderr)  # fmt: skip
        return 2
    from throughgate.engines import evaluation_report

    try:
        result = evaluate_files(args.treated, args.pool, spec)
        # The Justice Data Lab's further measures for the same matched groups.
        report = (
            evaluation_report.report_files(args.treated, args.pool, args.outcome, result)
            if args.jdl
            else None
        )
    except EvaluationRefused as exc:
        print(f"throughgate: cannot evaluate: {exc.reason}", file=sys.stderr)
        return 1
    except EvaluationFileError as exc:
        print(f"throughgate: {exc}", file=sys.stderr)
        return 1
    if args.json is None:
        sys.stdout.write(summary(result))
        if report is not None:
            sys.stdout.write(evaluation_report.report_text(report))
        return 0
    answer = result_to_json(result)
    if report is not None:
        answer["report"] = report
    if not _write_json(args.json, answer):
        return 1
    if args.json == "-":
        return 0
    print(f"{result.wording} Written to {args.json}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    _setup_django()
    from throughgate.imports import command

    return command.run(args)


def build_parser() -> argparse.ArgumentParser:
    from throughgate.accounts.roles import Role

    parser = argparse.ArgumentParser(
        prog="throughgate",
        description="Case management and outcome evaluation for peer-led rehabilitation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add_server_options(p: argparse.ArgumentParser, host: str) -> None:
        p.add_argument("--host", default=host, help=f"address to listen on (default {host})")
        p.add_argument("--port", type=int, default=DEMO_PORT, help="port (default 8000)")
        p.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")

    p = sub.add_parser("demo", help="set up and serve a local demo with sample data")
    add_server_options(p, DEMO_HOST)
    p.add_argument("--no-serve", action="store_true", help="set up only; do not start the server")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve the application")
    add_server_options(p, DEMO_HOST)
    p.add_argument("--migrate", action="store_true", help="apply migrations first")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run background jobs from the queue")
    p.add_argument(
        "--batch",
        action="store_true",
        help="stop when the queue is empty instead of waiting for more",
    )
    p.add_argument(
        "--interval",
        type=_positive_seconds,
        default=1.0,
        metavar="SECONDS",
        help="how long to wait between looks at an empty queue (default 1)",
    )
    p.add_argument(
        "--worker-id",
        default="",
        metavar="ID",
        help="name shown in the queue for this worker (default host-pid)",
    )
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("migrate", help="create or update the database tables")
    p.add_argument("-v", "--verbosity", type=int, default=1, choices=[0, 1, 2, 3])
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("seed-demo", help="add the demo charity's data (safe to repeat)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_seed_demo)

    p = sub.add_parser("generate", help="fill an empty database with synthetic data for scale "
                       "tests, or write a comparison pool (docs/scale.md)")  # fmt: skip
    p.add_argument("--scale", choices=["charity", "region", "tiny"], metavar="charity|region",
                   help="charity: 5,000 people, 250,000 contacts; region: 100,000 people, "
                   "5,000,000 contacts (empty database only)")  # fmt: skip
    p.add_argument("--seed", type=int, default=2006, help="random seed (default 2006)")
    p.add_argument("--comparison-pool", type=_whole_number, metavar="N",
                   help="write N invented comparison offenders to --output (no database)",
                   )  # fmt: skip
    p.add_argument("--output", metavar="FILE.parquet", help="where --comparison-pool writes")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or table")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("createuser", help="add a staff account (password from prompt or "
                       "THROUGHGATE_PASSWORD)")  # fmt: skip
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=Role.values)
    p.add_argument("--team", help="team name (created if new)")
    p.add_argument("--first-name")
    p.add_argument("--last-name")
    p.add_argument("--email")
    p.set_defaults(func=cmd_createuser)

    p = sub.add_parser("load-establishments", help="load or refresh the prison register")
    p.set_defaults(func=cmd_load_establishments)

    p = sub.add_parser(
        "add-instrument", help="add a questionnaire described in a JSON file (docs/instruments.md)"
    )
    p.add_argument("file", help="the instrument as JSON")
    p.set_defaults(func=cmd_add_instrument)

    p = sub.add_parser("check", help="run Django's system checks")
    p.add_argument("--deploy", action="store_true", help="include production checks")
    p.set_defaults(func=cmd_check)

    from throughgate.core.backup import cmd_backup, cmd_restore  # Django loads only when run

    p = sub.add_parser("backup", help="back up the database (SQLite online copy or pg_dump)")
    p.add_argument("output", nargs="?", metavar="OUTPUT",
                   help="file or folder to write (default: DATA_DIR/backups/"
                   "throughgate-YYYYMMDD-HHMMSS.sqlite3, or .dump on PostgreSQL)")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the database with a backup")
    p.add_argument("input", metavar="INPUT", help="a file written by `throughgate backup`")
    p.add_argument("--yes", action="store_true",
                   help="replace a database that already holds data without asking")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("match", help="match young people with mentors from CSV files")
    p.add_argument("--mentors", required=True, metavar="M.csv", help="mentors CSV file")
    p.add_argument("--young-people", required=True, metavar="Y.csv",
                   help="young people CSV file")  # fmt: skip
    p.add_argument("--conflicts", metavar="C.csv", help="conflicts CSV file (a_id, b_id)")
    p.add_argument("--json", metavar="OUT", help="write the result as JSON ('-' for stdout)")
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("reoffending", help="proven reoffending measures from CSV files")
    p.add_argument("--people", required=True, metavar="P.csv",
                   help="people CSV file (person_id, index_date, any group columns)")  # fmt: skip
    p.add_argument("--events", required=True, metavar="E.csv",
                   help="events CSV file (person_id, offence_date, disposal_date, "
                   "disposal_type[, custodial])")  # fmt: skip
    p.add_argument("--as-of", type=_as_of_date, metavar="DATE",
                   help="count as on this date (default today)")  # fmt: skip
    p.add_argument("--json", metavar="OUT", help="write the result as JSON ('-' for stdout)")
    p.set_defaults(func=cmd_reoffending)

    p = sub.add_parser("evaluate", help="matched impact evaluation (Justice Data Lab style) "
                       "from CSV or Parquet files")  # fmt: skip
    p.add_argument("--treated", required=True, metavar="T.csv",
                   help="participants, one row each (CSV or Parquet)")  # fmt: skip
    p.add_argument("--pool", required=True, metavar="P.csv|P.parquet",
                   help="people to draw the comparison group from")  # fmt: skip
    p.add_argument("--outcome", required=True, metavar="COL", help="the outcome column")
    p.add_argument("--outcome-type", default="binary", choices=["binary", "count", "continuous"],
                   help="binary (0/1, the default), count or continuous")  # fmt: skip
    p.add_argument("--covariates", type=_column_list, default=(), metavar="A,B,...",
                   help="numeric columns for the propensity model")  # fmt: skip
    p.add_argument("--categorical", type=_column_list, default=(), metavar="X,Y",
                   help="category columns for the model (one-hot)")  # fmt: skip
    p.add_argument("--exact", type=_column_list, default=(), metavar="G,H",
                   help="match only within equal values of these columns")  # fmt: skip
    p.add_argument("--k", type=_whole_number, default=1,
                   help="comparisons per participant, with replacement (default 1)")  # fmt: skip
    p.add_argument("--caliper", type=_above_zero, default=0.2,
                   help="widest match, in SDs of the logit score (default 0.2)")  # fmt: skip
    p.add_argument("--min-treated", type=_whole_number, default=60,
                   help="fewest matched participants to report on (default 60)")  # fmt: skip
    p.add_argument("--max-smd", type=_above_zero, default=0.1,
                   help="refuse when a standardised difference after matching is larger "
                   "(default 0.1)")  # fmt: skip
    p.add_argument("--phrase", default="",
                   help='words for the result, e.g. "would reoffend within a year"')  # fmt: skip
    p.add_argument("--jdl", action="store_true",
                   help="for a 0/1 reoffending outcome, add the Justice Data Lab's further "
                   "measures from the files' offences and days_to_first columns")  # fmt: skip
    p.add_argument("--json", metavar="OUT", help="write the result as JSON ('-' for stdout)")
    p.set_defaults(func=cmd_evaluate)

    from throughgate.imports import command as import_command  # no Django until run

    p = sub.add_parser("import", help="check or import people, referrals, cases, contacts, "
                       "custody dates or reoffending events from a CSV or XLSX file")  # fmt: skip
    import_command.add_arguments(p)
    p.set_defaults(func=cmd_import)

    from throughgate.core import audit_verify  # Django loads only when run

    p = sub.add_parser("audit", help="check the audit trail: audit verify")
    audit_sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = audit_sub.add_parser("verify", help="check that no audit event was changed, deleted "
                             "or inserted (walks the hash chain)")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar, and no output when the chain is intact")  # fmt: skip
    p.add_argument("--database", default="default", metavar="ALIAS|FILE",
                   help="a database alias from the settings, or a SQLite database file "
                   "such as a backup (opened read-only); default: the app's database")  # fmt: skip
    p.add_argument("--from-seq", type=audit_verify.seq_number, metavar="S",
                   help="start at seq S, taking the events before it as sound")  # fmt: skip
    p.add_argument("--at-seq", type=audit_verify.seq_number, metavar="S",
                   help="with --expect-hash: the seq of a hash kept somewhere else")  # fmt: skip
    p.add_argument("--expect-hash", type=audit_verify.sha256_hex, metavar="H",
                   help="the hash seq S had when an earlier verify printed it")  # fmt: skip
    p.set_defaults(func=audit_verify.cmd_audit_verify)

    p = sub.add_parser("two-factor", help="two-factor log-in: two-factor reset NAME")
    tf_sub = p.add_subparsers(dest="two_factor_command", metavar="COMMAND", required=True)
    p = tf_sub.add_parser("reset", help="forget a user's authenticator app and recovery "
                          "codes (a lost phone); they set up a new app at next log-in")  # fmt: skip
    p.add_argument("username", metavar="NAME")
    p.set_defaults(func=cmd_two_factor_reset)

    p = sub.add_parser("keys", help="encryption keys for notes at rest: keys new, keys rotate")
    keys_sub = p.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    p = keys_sub.add_parser("new", help="print a new key for FIELD_ENCRYPTION_KEYS")
    p.set_defaults(func=cmd_keys_new)
    p = keys_sub.add_parser("rotate", help="re-encrypt every note with the first key in "
                            "FIELD_ENCRYPTION_KEYS, so older keys can then be removed")  # fmt: skip
    p.add_argument("--check", action="store_true",
                   help="only count what would change; exit 1 if anything would")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_keys_rotate)

    p = sub.add_parser("purge", help="anonymise records past their retention period: a dry "
                       "run report unless --yes (docs/retention.md)")  # fmt: skip
    which = p.add_mutually_exclusive_group()
    which.add_argument("--dry-run", action="store_true",
                       help="only report what is due (the default without --yes)")  # fmt: skip
    which.add_argument("--yes", action="store_true",
                       help="anonymise the records due (for a nightly timer)")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("manage", help="run any Django management command", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
