"""Benchmark: duplicate linkage of people with splink (issue 8).

    .venv/bin/python bench/linkage.py [--sizes 10000,100000] [--seed 8] [--threads N]

For each size, on the labelled synthetic set of engines.synthetic_people (n distinct
people, 5% planted duplicates of five kinds, 1% look-alikes: twins and namesakes), one
run of engines.record_linkage.link, the same model and blocking the app uses. Prints
wall time, name rows, pairs compared after blocking, candidates found, precision and
recall (and recall per planted kind), and the time of one intake-sized check (one new
record against a pool of 30). Budget (issue 8): 100,000 people in under 60 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from throughgate.engines import linkage_eval, synthetic_people  # noqa: E402
from throughgate.engines import record_linkage as engine  # noqa: E402

BUDGET_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    print(
        f"# duplicate linkage: splink (DuckDB), {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, threshold match weight {engine.MATCH_WEIGHT_THRESHOLD}"
    )
    print(
        "| people | name rows | pairs compared | candidates | wall time (s) | precision | "
        "recall | recall by kind | look-alikes proposed |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    over_budget = False
    for n in (int(s) for s in args.sizes.split(",")):
        labelled = synthetic_people.labelled_set(n, seed=args.seed)
        started = time.perf_counter()
        run = engine.link(labelled.records)
        seconds = time.perf_counter() - started
        score = linkage_eval.score(
            [(p.a, p.b) for p in run.pairs], labelled.true_pairs, labelled.true_pairs
        )
        kinds = ", ".join(f"{k} {f}/{t}" for k, (f, t) in score.found_by_kind.items())
        found = {(p.a, p.b) for p in run.pairs}
        lookalikes = {tuple(sorted(pair)) for pair in labelled.lookalike_pairs}
        proposed = f"{len(found & lookalikes)}/{len(lookalikes)}"
        print(f"| {len(labelled.records):,} | {run.rows:,} | {run.comparisons:,} | "
              f"{len(run.pairs):,} | {seconds:.1f} | {score.precision:.3f} | "
              f"{score.recall:.3f} | {kinds} | {proposed} |", flush=True)  # fmt: skip
        if n >= 100_000 and seconds > BUDGET_SECONDS:
            over_budget = True
    # An intake-sized check: one new record against the 30 the database narrowed to.
    born = date(2006, 3, 12)
    pool = [engine.PersonRecord(i, "Jordan", f"Test{i}", born) for i in range(1, 31)]
    new = engine.PersonRecord(0, "Jon", "Smyth", born)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        engine.link([new, *pool], only_involving={0})
        times.append(time.perf_counter() - started)
    print(
        f"\nOne intake check (1 record against 30): median {statistics.median(times):.2f} s "
        f"over {len(times)} runs"
    )
    return 1 if over_budget else 0


if __name__ == "__main__":
    sys.exit(main())
