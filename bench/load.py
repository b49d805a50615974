"""Load test: 50 staff sessions at once on the demo data (issue 9, acceptance 3).

    .venv/bin/python bench/load.py [--users 50] [--duration 60] [--reuse]
        [--database-url postgres://postgres@127.0.0.1:5432/throughgate_load]

What it does, in order (everything on this machine's loopback, nothing else):

1. Prepares the database: drops and re-creates the PostgreSQL database named by
   --database-url (its name must contain "load", so a real one cannot be wiped by
   mistake), runs `throughgate migrate` and `throughgate seed-demo`. --reuse keeps a
   database prepared earlier (with the same --data-dir, which holds its keys).
2. Adds one staff account per simulated session (about 60% mentors, 20% coordinators,
   20% managers), each with its own authenticator app (django-otp accepts a code once
   per device, so sessions logging in at the same moment cannot share one). Each mentor
   takes over open demo cases from the demo's other mentors (never Mo's or Kim's)
   through casework.actions.assign_mentor, audited as Ade's doing; when there are not
   enough, a young person from a closed case is referred again and accepted with the
   mentor (create_referral, accept_referral).
3. Starts the production-style server, `throughgate serve` (Waitress), as a
   subprocess on a free loopback port with production settings: DEBUG off, two-factor
   log-in on, a fresh SECRET_KEY and field-encryption key kept in --data-dir. HTTPS is
   off only because it is plain HTTP on loopback with no proxy in front.
4. Runs Locust headless (bench/locustfile.py) for --duration seconds: --users sessions
   spawned at --spawn-rate a second, each logging in once through the real log-in form
   and code page, then working as its role does with 1-5 s of thought between pages.
5. Prints requests, failures, p50, p95 and max per page and in total, and the server's
   logged errors. Exit status 1 if any request failed (an HTTP error, or a log-in page
   where a logged-in page was expected) or the server logged an error; 0 otherwise.

The server and Locust run in their own process groups and are stopped in every case.
Needs Locust, a bench extra: .venv/bin/pip install 'locust>=2.20,<3'.
"""

from __future__ import annotations

import argparse
import csv
import ipaddress
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/throughgate_load"
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "throughgate-load"
STOP_GRACE_SECONDS = 10

# Run inside `throughgate manage shell -c` (Django set up, the server's settings):
# the load-test accounts, their authenticator apps and their caseloads, as JSON.
MAKE_ACCOUNTS = """
import json
from datetime import date, timedelta
from django.core.exceptions import ValidationError
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from throughgate.accounts.models import Team, User
from throughgate.accounts.roles import Role
from throughgate.casework import actions
from throughgate.casework.models import Case, Programme, Referral
from throughgate.demo.seed import CUSTODY_PROGRAMME, CUSTODY_TEAM
from throughgate.people.models import Person

ROLES = ROLES_JSON
PASSWORD = PASSWORD_TEXT
team = Team.objects.get(name=CUSTODY_TEAM)
ade = User.objects.get(username="ade")
hashed = make_password(PASSWORD)  # Argon2 is slow on purpose: hash once, share it
accounts = []
with transaction.atomic():
    users = []
    for n, role in enumerate(ROLES, 1):
        user, _ = User.objects.get_or_create(
            username=f"load-{role}-{n:02d}",
            defaults={"role": role, "team": None if role == Role.ADMIN else team,
                      "first_name": role.capitalize(), "last_name": f"Load {n:02d}"},
        )
        user.password = hashed
        user.save(update_fields=["password"])
        TOTPDevice.objects.filter(user=user).delete()  # a fresh app: no code used yet
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        users.append((user, device))
    mentors = [u for u, _ in users if u.role == Role.MENTOR]
    spare = list(Case.objects.open().filter(team=team).exclude(mentor__username__in=["mo", "kim"])
                 .exclude(mentor__username__startswith="load-").order_by("pk"))
    for i, mentor in enumerate(m for m in mentors if not Case.objects.open().filter(mentor=m)):
        for case in spare[i::len(mentors)][:3]:
            actions.assign_mentor(ade, case, mentor)
    # More mentors than open cases to share: a young person from a closed case is
    # referred again and accepted with the mentor, through the same actions.
    programme = Programme.objects.get(name=CUSTODY_PROGRAMME)
    busy = set(Case.objects.open().values_list("person_id", flat=True))
    busy |= set(Referral.objects.filter(status="pending").values_list("person_id", flat=True))
    people = iter(Person.objects.exclude(pk__in=busy).order_by("pk"))
    for mentor in [m for m in mentors if not Case.objects.open().filter(mentor=m)]:
        for person in people:
            data = {"source_type": "probation", "referral_date": date.today() - timedelta(30),
                    "reasons": "Back in touch; asked for a mentor again.",
                    "consent_recorded": True}
            try:
                with transaction.atomic():
                    referral = actions.create_referral(ade, person, programme, data)
                    actions.accept_referral(ade, referral, mentor=mentor,
                                            opened_on=date.today() - timedelta(30))
                break
            except ValidationError:
                continue
    for user, device in users:
        cases = list(Case.objects.open().filter(mentor=user).select_related("person")[:3])
        accounts.append({
            "username": user.username, "password": PASSWORD, "role": user.role,
            "totp_key": device.key, "cases": [c.pk for c in cases],
            "search": cases[0].person.surname if cases else "Smith",
        })
print("ACCOUNTS " + json.dumps(accounts))
"""

STAT_COLUMNS = ("Request Count", "Failure Count", "50%", "95%", "Max Response Time")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def role_mix(users: int) -> list[str]:
    """About 60% mentors, 20% coordinators, 20% managers, interleaved so that every
    role is working from the first seconds of the ramp-up."""
    pattern = ["mentor", "coordinator", "mentor", "admin", "mentor"]
    return [pattern[i % len(pattern)] for i in range(users)]


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def server_env(args: argparse.Namespace) -> dict[str, str]:
    data = args.data_dir
    env = {k: v for k, v in os.environ.items()
           if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_REPLICA_URL"}}  # fmt: skip
    env.update(
        DATABASE_URL=args.database_url,
        THROUGHGATE_DATA_DIR=str(data),
        SECRET_KEY_FILE=str(data / "secret-key"),
        FIELD_ENCRYPTION_KEY_FILE=str(data / "field-encryption-key"),
        DEBUG="false",
        HTTPS="off",  # plain HTTP on loopback only; production keeps it on
        ALLOWED_HOSTS="127.0.0.1,localhost",
        TWO_FACTOR_REQUIRED="false" if args.no_two_factor else "true",
        LOG_LEVEL="WARNING",
    )
    return env


def throughgate(env: dict[str, str], *args: str, timeout: float = 1800) -> str:
    done = subprocess.run(  # noqa: S603 - our own command, with our own arguments
        [sys.executable, "-m", "throughgate", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"load: `throughgate {args[0]}` failed:\n{done.stderr[-3000:]}")
    return done.stdout


def prepare_database(args: argparse.Namespace, env: dict[str, str]) -> None:
    import psycopg
    from cryptography.fernet import Fernet

    url = urlsplit(args.database_url)
    name = url.path.lstrip("/")
    if "load" not in name:
        raise SystemExit(f"load: refusing to re-create database {name!r}: its name must "
                         "contain 'load' (or pass --reuse)")  # fmt: skip
    args.data_dir.mkdir(parents=True, exist_ok=True)
    (args.data_dir / "secret-key").write_text(secrets.token_urlsafe(50) + "\n")
    (args.data_dir / "field-encryption-key").write_text(Fernet.generate_key().decode() + "\n")
    for key_file in ("secret-key", "field-encryption-key"):
        (args.data_dir / key_file).chmod(0o600)
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    print(f"Preparing {name}: migrate, seed-demo (a few minutes) …", flush=True)
    throughgate(env, "migrate", "-v", "0")
    throughgate(env, "seed-demo", "--quiet")


def make_accounts(args: argparse.Namespace, env: dict[str, str]) -> Path:
    password = secrets.token_urlsafe(18)
    script = MAKE_ACCOUNTS.replace("ROLES_JSON", json.dumps(role_mix(args.users))).replace(
        "PASSWORD_TEXT", json.dumps(password)
    )
    out = throughgate(env, "manage", "shell", "--no-imports", "-c", script)
    line = next(x for x in out.splitlines() if x.startswith("ACCOUNTS "))
    accounts = json.loads(line.removeprefix("ACCOUNTS "))
    missing = [a["username"] for a in accounts if a["role"] == "mentor" and not a["cases"]]
    if missing:
        print(f"Note: {len(missing)} mentor accounts have no open case to work on.", flush=True)
    path = args.data_dir / "accounts.json"
    path.write_text(json.dumps(accounts), encoding="utf-8")
    path.chmod(0o600)
    return path


def wait_until_serving(url: str, server: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"load: the server stopped (exit {server.returncode}); see its log")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"load: the server did not answer within {seconds:.0f} s")


def stop(process: subprocess.Popen[Any] | None) -> None:
    """Stop a process and its group: SIGTERM, then SIGKILL after a grace period."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_GRACE_SECONDS)
    except ProcessLookupError:
        pass


def read_stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def print_table(rows: list[dict[str, str]]) -> tuple[int, int]:
    width = max(len(r["Name"]) for r in rows)
    print(f"\n{'page':<{width}}  {'requests':>8}  {'failures':>8}  {'p50 ms':>7}  "
          f"{'p95 ms':>7}  {'max ms':>7}")  # fmt: skip
    total_requests = total_failures = 0
    for row in rows:
        name = "TOTAL" if row["Name"] == "Aggregated" else row["Name"]
        if name == "TOTAL":
            print("-" * (width + 48))
        else:
            total_requests += int(row["Request Count"])
            total_failures += int(row["Failure Count"])
        longest = float(row["Max Response Time"])
        print(f"{name:<{width}}  {row['Request Count']:>8}  {row['Failure Count']:>8}  "
              f"{row['50%']:>7}  {row['95%']:>7}  {longest:>7.0f}")  # fmt: skip
    return total_requests, total_failures


def server_errors(log: Path) -> list[str]:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if " ERROR " in line or line.startswith("Traceback")]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=50, help="concurrent staff sessions (50)")
    p.add_argument("--duration", type=int, default=60, help="seconds of load (60)")
    p.add_argument("--spawn-rate", type=float, default=10, help="sessions started a second (10)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to serve on")
    p.add_argument("--threads", type=int, default=8, help="server worker threads (8)")
    p.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                   help=f"PostgreSQL database on loopback ({DEFAULT_DATABASE_URL})")  # fmt: skip
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help=f"keys, accounts, logs and results ({DEFAULT_DATA_DIR})")  # fmt: skip
    p.add_argument("--reuse", action="store_true", help="keep the database prepared before")
    p.add_argument("--no-two-factor", action="store_true",
                   help="run with TWO_FACTOR_REQUIRED=false (say so with the results)")  # fmt: skip
    args = p.parse_args(argv)
    if not 1 <= args.users <= 500:
        p.error("--users must be between 1 and 500")
    if not 1 <= args.duration <= 1800:
        p.error("--duration must be between 1 and 1800 seconds")
    if not is_loopback(args.host):
        p.error(f"--host {args.host}: a load test runs on loopback only (127.0.0.1, ::1)")
    db = urlsplit(args.database_url)
    if db.scheme not in ("postgres", "postgresql") or not is_loopback(db.hostname or ""):
        p.error("--database-url must be a PostgreSQL database on loopback")
    args.data_dir = args.data_dir.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = server_env(args)
    if args.reuse:
        if not (args.data_dir / "field-encryption-key").exists():
            raise SystemExit(f"load: --reuse needs the keys made earlier in {args.data_dir}")
    else:
        prepare_database(args, env)
    accounts = make_accounts(args, env)

    port = free_port(args.host)
    url = f"http://{args.host}:{port}"
    results = args.data_dir / "results"
    results.mkdir(exist_ok=True)
    prefix = results / "load"
    server_log = args.data_dir / "server.log"
    server = locust = None
    try:
        with open(server_log, "wb") as log:
            server = subprocess.Popen(  # noqa: S603 - our own command
                [sys.executable, "-m", "throughgate", "serve", "--host", args.host,
                 "--port", str(port), "--threads", str(args.threads)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_until_serving(url, server, 60)
        print(f"Server up at {url} ({args.threads} threads); {args.users} sessions for "
              f"{args.duration} s …", flush=True)  # fmt: skip
        work_times = results / "work-times.json"
        work_times.unlink(missing_ok=True)
        locust_env = dict(os.environ, LOAD_ACCOUNTS=str(accounts), LOAD_WORK_TIMES=str(work_times))
        locust = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
             "--headless", "--host", url, "-u", str(args.users), "-r", str(args.spawn_rate),
             "-t", f"{args.duration}s", "--stop-timeout", "10", "--csv", str(prefix),
             "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=locust_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        )  # fmt: skip
        _, locust_errors = locust.communicate(timeout=args.duration + 120)
    finally:
        stop(locust)
        stop(server)

    rows = read_stats(prefix)
    if not rows:
        print(f"load: Locust recorded nothing:\n{locust_errors[-3000:]}", file=sys.stderr)
        return 1
    requests, failures = print_table(rows)
    times = sorted(json.loads(work_times.read_text())) if work_times.exists() else []
    if times:
        p50, p95 = (times[math.ceil(q * len(times)) - 1] for q in (0.50, 0.95))  # nearest rank
        print(f"{'all pages after log-in':<30}  {len(times):>8}  {'':>8}  {p50:>7.0f}  "
              f"{p95:>7.0f}  {times[-1]:>7.0f}")  # fmt: skip
    errors = server_errors(server_log)
    queued = server_log.read_text(errors="replace").count("Task queue depth")
    with open(f"{prefix}_failures.csv", encoding="utf-8", newline="") as handle:
        for failure in csv.DictReader(handle):
            print(f"  failed: {failure['Name']}: {failure['Error']} ×{failure['Occurrences']}")
    exceptions = [line for line in locust_errors.splitlines() if "Traceback" in line]
    print(f"\n{args.users} sessions, {args.duration} s, {requests} requests, {failures} "
          f"failures; server errors logged: {len(errors)}; two-factor log-in "
          f"{'OFF' if args.no_two_factor else 'on'}. Results: {prefix}_stats.csv")  # fmt: skip
    if queued:
        print(f"  Waitress warned {queued} times that requests waited for a free thread "
              f"(Task queue depth): the server was saturated at times.")  # fmt: skip
    for line in errors[:10]:
        print(f"  server: {line}")
    if exceptions:
        print(f"  Locust raised errors in the sessions:\n{locust_errors[-3000:]}")
    return 1 if failures or errors or exceptions or requests == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
