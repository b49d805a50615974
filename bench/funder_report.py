"""Time the funder report (figures only, PDF excluded) on the database the environment
points at, and optionally write its PDF and XLSX.

    THROUGHGATE_DATA_DIR=... [DATABASE_URL=...] python bench/funder_report.py \
        [--runs 20] [--out DIR]

Prints, for the last full quarter and the last financial year over every programme: p50
and p95 server time of `reports.funder.build` and its number of queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None, help="write the PDF and XLSX here")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "throughgate.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from throughgate.casework.models import Programme
    from throughgate.engines.funder_periods import financial_year, last_full_quarter
    from throughgate.reports import funder

    today = timezone.localdate()
    periods = {
        "last full quarter": last_full_quarter(today),
        "last financial year": financial_year(today, previous=True),
    }
    print(f"{'period':<22} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    report = None
    for name, (start, end) in periods.items():
        funder.build(start, end, Programme.objects.all())  # warm-up: caches, imports
        times = []
        for _ in range(args.runs):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                report = funder.build(start, end, Programme.objects.all())
            times.append(1000 * (time.perf_counter() - began))
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"{name:<22} {statistics.median(times):8.1f} {p95:8.1f} {len(queries):8d}")
    if args.out and report is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / funder.file_name(report, "pdf")).write_bytes(funder.as_pdf(report))
        (args.out / funder.file_name(report, "xlsx")).write_bytes(funder.as_xlsx(report))
        print(f"wrote the PDF and XLSX of the last report to {args.out}")


if __name__ == "__main__":
    main()
