"""Benchmark: server time and queries of the pages staff open most (issue 10).

    .venv/bin/python bench/pages.py --db charity=URL --db region=URL [--requests 50]

Each ``--db NAME=DATABASE_URL`` names a database made by ``throughgate migrate`` and
``throughgate generate --scale charity|region`` (``sqlite:////abs/path.sqlite3`` or
``postgres://postgres@127.0.0.1:5432/tg_region``). For each database, a child process
(one at a time, so they do not compete for the two cores) logs in as the named users
and opens every page: three warm-up requests, then ``--requests`` timed ones through
Django's test client in-process, so "server time" is Django's handling of the request
(middleware, view, template, every query) without the network. It also counts the
queries of one request. The parent prints one table with the databases side by side,
so growth from charity to region scale is visible, and checks the budgets: p95 under
150 ms for every page, under 2 s for the funder report (its last financial year, PDF
excluded).

Production settings (DEBUG off); the case page writes its audit VIEW event on every
request, as it does for real.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PAGE_BUDGET_MS = 150.0
BUDGET_MS = {"funder report (a year)": 2000.0}
PAGES = (  # name, user
    ("mentor home (caseload)", "mo"),
    ("case page (500 contacts)", "mo"),
    ("person search", "cara"),
    ("referral queue", "cara"),
    ("release calendar", "cara"),
    ("outcomes dashboard", "ade"),
    ("audit log (filtered)", "ade"),
    ("safeguarding queue", "sam"),
    ("reach dashboard", "pat"),
    ("funder report (a year)", "ade"),
)


def _urls() -> dict[str, str]:
    from django.db.models import Count
    from django.urls import reverse
    from django.utils import timezone

    from throughgate.accounts.models import User
    from throughgate.casework.models import Case
    from throughgate.people.models import Person
    from throughgate.reports.forms import presets

    mo = User.objects.get(username="mo")
    _name, year_from, year_to = presets(timezone.localdate())[1]  # the last financial year
    case = Case.objects.filter(mentor=mo).annotate(n=Count("contacts")).order_by("-n", "pk").first()
    surname = (Person.objects.values("surname").annotate(n=Count("id")).order_by("-n", "surname"))[
        0
    ]["surname"]
    return {
        "mentor home (caseload)": reverse("casework:caseload"),
        "case page (500 contacts)": reverse("casework:case_detail", args=[case.pk]),
        "person search": reverse("people:search") + f"?q={surname}",
        "referral queue": reverse("casework:referral_queue"),
        "release calendar": reverse("custody:release_calendar"),
        "outcomes dashboard": reverse("outcomes:dashboard"),
        "audit log (filtered)": reverse("audit_trail") + "?action=view",
        "safeguarding queue": reverse("casework:safeguarding_queue"),
        "reach dashboard": reverse("prevention:reach"),
        "funder report (a year)": reverse("reports:funder")
        + f"?start={year_from.isoformat()}&end={year_to.isoformat()}",
    }


def child(requests: int, max_seconds: float) -> None:
    """Measure every page on the database in DATABASE_URL; print JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "throughgate.settings")
    django.setup()
    from django.db import connection
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from throughgate.accounts.models import User
    from throughgate.casework.models import Contact
    from throughgate.people.models import Person

    urls = _urls()
    clients: dict[str, Client] = {}
    results: dict[str, Any] = {
        "people": Person.objects.count(),
        "contacts": Contact.objects.count(),
        "vendor": connection.vendor,
        "pages": {},
    }
    for name, username in PAGES:
        if username not in clients:
            clients[username] = Client()
            user = User.objects.get(username=username)
            clients[username].force_login(user)
            # Two-factor log-in is on, as in production: the session has given its code
            # (django-otp then reads the device on every request, as it would).
            device, _ = TOTPDevice.objects.get_or_create(
                user=user, name="bench", defaults={"confirmed": True}
            )
            session = clients[username].session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        client, url = clients[username], urls[name]
        for _ in range(3):
            start = time.perf_counter()
            response = client.get(url)
            assert response.status_code == 200, (name, url, response.status_code)
            if time.perf_counter() - start > 1:  # far over budget: one warm-up is enough
                break
        # Counted with an execute wrapper, which outlives the connection being closed at
        # the end of each request (CONN_MAX_AGE=0), unlike the debug query log.
        executed = []
        with connection.execute_wrapper(
            lambda run, sql, *rest, executed=executed: executed.append(sql) or run(sql, *rest)
        ):
            client.get(url)
        times: list[float] = []
        began = time.perf_counter()
        while len(times) < requests:
            start = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            # A page far over its budget would take hours at 50 requests: after
            # max_seconds it is reported with the requests it had (and says so).
            if time.perf_counter() - began > max_seconds and len(times) >= 3:
                break
        cuts = (
            statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
        )
        results["pages"][name] = {
            "queries": len(executed),
            "p50": statistics.median(times),
            "p95": cuts[94],
            "n": len(times),
        }
    print(json.dumps(results))


def measure(url: str, requests: int, max_seconds: float) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "false",
        "HTTPS": "off",
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "ERROR",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 50,
    }
    done = subprocess.run(  # noqa: S603 - this script, with our own arguments
        [sys.executable, __file__, "--child", "--requests", str(requests),
         "--max-seconds", str(max_seconds)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench/pages.py: measuring {url} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", default=[], metavar="NAME=DATABASE_URL")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="stop timing a page after this long (default 60); the table "
                        "shows how many requests a page had when it is fewer")  # fmt: skip
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.requests, args.max_seconds)
        return 0
    if not args.db or any("=" not in d for d in args.db):
        parser.error("give at least one --db NAME=DATABASE_URL")
    if args.requests < 20:
        parser.error("--requests must be at least 20 for a p95")
    databases = [d.split("=", 1) for d in args.db]
    print(f"bench/pages.py: {args.requests} requests per page after 3 warm-up; "
          f"{platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores")  # fmt: skip
    results = {}
    for name, url in databases:
        results[name] = measure(url, args.requests, args.max_seconds)
        found = results[name]
        print(f"  {name}: {found['vendor']}, {found['people']:,} people, "
              f"{found['contacts']:,} contacts")  # fmt: skip
        for page, measured in found["pages"].items():
            print(
                f"    {page:<26} {measured['queries']:>4} queries  p50 {measured['p50']:8.1f} ms"
                f"  p95 {measured['p95']:8.1f} ms  ({measured['n']} requests)",
                flush=True,
            )
    header = f"{'page':<26}" + "".join(
        f" | {name + ' q':>10} {'p50 ms':>7} {'p95 ms':>7}" for name, _ in databases
    )
    print()
    print(header)
    print("-" * len(header))
    missed = []
    for page, _user in PAGES:
        row = f"{page:<26}"
        for name, _url in databases:
            measured = results[name]["pages"][page]
            few = "*" if measured["n"] < args.requests else " "
            row += (
                f" | {measured['queries']:>10} {measured['p50']:>7.1f} {measured['p95']:>7.1f}{few}"
            )
            if measured["p95"] >= BUDGET_MS.get(page, PAGE_BUDGET_MS):
                missed.append(f"{page} on {name} (p95 {measured['p95']:.0f} ms)")
        print(row)
    print("* fewer requests than asked: the page was stopped after --max-seconds")
    print()
    if missed:
        print("over budget (p95 150 ms; the funder report 2 s): " + "; ".join(missed))
        return 1
    print("every page within budget (p95 150 ms; the funder report 2 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
