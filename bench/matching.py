"""Benchmark: batch mentor matching and single suggestions (issue 4).

    .venv/bin/python bench/matching.py [--sizes 60x500,500x5000,2000x20000] [--seed 4]

For each size (mentors x young people) one process run compares, on the same synthetic
but realistic instance:

- `assign_batch` (OR-Tools min-cost flow on candidate arcs, proved optimal by pricing);
- SciPy `linear_sum_assignment` on the capacity-expanded dense matrix (one column per
  free place; feasible entry = cost - BIG, infeasible = 0), the exact baseline: the two
  must agree on the number placed and on the total cost to the unit;
- a greedy baseline (each young person in turn takes their cheapest feasible mentor with
  a free place), to show what exactness buys;
- `suggest` latency for one young person against the mentors (median and p95).

Each solver runs in its own child process (spawned, so nothing is inherited) which
rebuilds the instance from the seed, so its peak RSS is its own. Exit status 1 if the
exact solvers disagree.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from throughgate.engines.matching import (  # noqa: E402
    ConflictIndex,
    Mentor,
    Weights,
    YoungPerson,
    assign_batch,
    cost_matrix,
    suggest,
)

ESTABLISHMENTS = [
    "HMP/YOI Feltham", "HMYOI Cookham Wood", "HMP/YOI Isis", "HMP Wandsworth",
    "HMP Pentonville", "HMP Brixton", "HMP Thameside", "HMP Belmarsh", "HMP/YOI Aylesbury",
    "HMP/YOI Chelmsford", "HMP Wormwood Scrubs", "HMP/YOI Bronzefield", "HMP/YOI Downview",
    "HMP/YOI Rochester", "HMYOI Werrington", "HMYOI Wetherby", "HMP/YOI Swinfen Hall",
    "HMP/YOI Portland", "HMP/YOI Hindley", "HMP/YOI Brinsford", "HMP/YOI Doncaster",
    "HMP/YOI Glen Parva", "HMP Coldingley", "HMP High Down", "HMP Highpoint", "HMP Elmley",
    "HMP Swaleside", "HMP/YOI Lewes", "Oakhill STC", "HMP/YOI Hollesley Bay",
]  # fmt: skip
# Youth estates hold most of the young people: a skewed, not uniform, spread.
ESTABLISHMENT_WEIGHTS = np.array([8, 6, 5, 3, 3, 3, 3, 2, 4, 3] + [1] * 20, dtype=float)
BOROUGHS = [
    "Barking and Dagenham", "Barnet", "Bexley", "Brent", "Bromley", "Camden",
    "City of London", "Croydon", "Ealing", "Enfield", "Greenwich", "Hackney",
    "Hammersmith and Fulham", "Haringey", "Harrow", "Havering", "Hillingdon", "Hounslow",
    "Islington", "Kensington and Chelsea", "Kingston upon Thames", "Lambeth", "Lewisham",
    "Merton", "Newham", "Redbridge", "Richmond upon Thames", "Southwark", "Sutton",
    "Tower Hamlets", "Waltham Forest", "Wandsworth", "Westminster",
]  # fmt: skip
OTHER_LANGUAGES = ["Somali", "Arabic", "Polish", "Romanian", "Portuguese", "Bengali", "Urdu",
                   "Turkish", "Tigrinya", "Albanian"]  # fmt: skip
# Category: share of young people with it, share of mentors with it.
LIVED_EXPERIENCE = {
    "Custody": (0.55, 0.85),
    "Gang involvement": (0.35, 0.45),
    "Criminal exploitation": (0.30, 0.25),
    "Care experience": (0.25, 0.20),
    "Substance misuse": (0.30, 0.40),
    "School exclusion": (0.40, 0.45),
    "Knife crime": (0.25, 0.20),
    "Mental health": (0.30, 0.30),
}
DISTRICTS = [f"{area}{n}" for area in ("E", "N", "SE", "SW", "NW", "W") for n in range(1, 21)]


def make_instance(n_mentors: int, n_young: int, seed: int):
    rng = np.random.default_rng([seed, n_mentors, n_young])
    cats = list(LIVED_EXPERIENCE)

    def pick(options, low, high, p=None):
        n = int(rng.integers(low, high + 1))
        return frozenset(rng.choice(options, size=min(n, len(options)), replace=False, p=p))

    est_p = ESTABLISHMENT_WEIGHTS / ESTABLISHMENT_WEIGHTS.sum()
    mentors = []
    for j in range(n_mentors):
        capacity = int(rng.integers(3, 9))
        languages = {"English"}
        if rng.random() < 0.2:
            languages.add(str(rng.choice(OTHER_LANGUAGES)))
        zone = rng.random() < 0.2
        mentors.append(
            Mentor(
                id=f"M{j:05d}",
                name=f"Mentor {j}",
                capacity=capacity,
                caseload=int(rng.integers(0, capacity + 1)),
                gender="female" if rng.random() < 0.25 else "male",
                age=int(rng.integers(22, 56)) if rng.random() < 0.9 else None,
                languages=frozenset(languages),
                boroughs_known=pick(BOROUGHS, 2, 6),
                exclusion_boroughs=pick(BOROUGHS, 1, 2) if zone else frozenset(),
                exclusion_postcodes=pick(DISTRICTS, 1, 2) if zone and rng.random() < 0.5
                else frozenset(),
                lived_experience=frozenset(
                    c for c in cats if rng.random() < LIVED_EXPERIENCE[c][1]
                ),
                custody_history=pick(ESTABLISHMENTS, 1, 3, est_p),
                cleared_establishments=pick(ESTABLISHMENTS, 1, 4, est_p),
                ready=rng.random() > 0.03,
                not_ready_reasons=("DBS renewal overdue",),
            )
        )  # fmt: skip
    young = []
    for i in range(n_young):
        in_custody = rng.random() < 0.7
        female = rng.random() < 0.12
        current = rng.random() < 0.1 and n_mentors > 0
        young.append(
            YoungPerson(
                id=f"Y{i:06d}",
                name=f"Young person {i}",
                gender="female" if female else "male",
                mentor_gender_required="female" if female and rng.random() < 0.8 else "",
                age=int(rng.integers(15, 26)) if rng.random() < 0.95 else None,
                borough=str(rng.choice(BOROUGHS)),
                postcode=str(rng.choice(DISTRICTS)) + " 1AB",
                language=str(rng.choice(OTHER_LANGUAGES)) if rng.random() < 0.15 else "English",
                establishment=str(rng.choice(ESTABLISHMENTS, p=est_p)) if in_custody else "",
                lived_experience=frozenset(
                    c for c in cats if rng.random() < LIVED_EXPERIENCE[c][0]
                ),
                current_mentor=f"M{int(rng.integers(n_mentors)):05d}" if current else None,
            )
        )  # fmt: skip
    # 2% of all mentor–young person pairs carry a recorded conflict.
    n_conflicts = int(0.02 * n_mentors * n_young)
    flat = np.unique(rng.integers(0, n_mentors * n_young, size=n_conflicts))
    conflict_pairs = [(f"M{f // n_young:05d}", f"Y{f % n_young:06d}") for f in flat.tolist()]
    return mentors, young, conflict_pairs


def secs(t: float) -> str:
    return f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"


def _rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def repeats(size) -> int:
    # Small runs take milliseconds: time several and report the median, so that one
    # first-call delay does not decide the comparison. The largest size runs once.
    return 31 if size[0] * size[1] <= 3_000_000 else 1


def fresh_copies(mentors):
    # New Mentor objects, as each request or batch would build them from the database,
    # so nothing normalised in an earlier run is reused.
    return [Mentor(**{f: getattr(m, f) for f in m.__dataclass_fields__}) for m in mentors]


def run_ours(size, seed, queue):
    mentors, young, pairs = make_instance(*size, seed)
    before = _rss_mib()
    # Timed like for like with SciPy, which gives an assignment and no explanations:
    # `with_reasons=False`. The time with every assignment's reasons written is reported
    # beside it.
    times, explained = [], []
    for _ in range(repeats(size)):
        copies = fresh_copies(mentors)
        t0 = time.perf_counter()
        conflicts = ConflictIndex(pairs)
        result = assign_batch(copies, young, conflicts, with_reasons=False)
        times.append(time.perf_counter() - t0)
        del conflicts, copies
        copies = fresh_copies(mentors)
        t0 = time.perf_counter()
        full = assign_batch(copies, young, ConflictIndex(pairs))
        explained.append(time.perf_counter() - t0)
        assert full.total_cost == result.total_cost
        del copies, full
    seconds = statistics.median(times)
    queue.put({
        "seconds": seconds, "explained_seconds": statistics.median(explained),
        "peak_mib": _rss_mib(), "instance_mib": before,
        "placed": len(result.assignments), "cost": result.total_cost, "solves": result.solves,
        "arcs": result.arcs, "priced_in": result.priced_in,
        "free": sum(m.places_free for m in mentors if m.ready),
    })  # fmt: skip


def run_scipy(size, seed, queue):
    from scipy.optimize import linear_sum_assignment

    mentors, young, pairs = make_instance(*size, seed)
    before = _rss_mib()
    times = []
    for _ in range(repeats(size)):
        copies = fresh_copies(mentors)
        t0 = time.perf_counter()
        placed, cost = scipy_solve(copies, young, pairs, linear_sum_assignment)
        times.append(time.perf_counter() - t0)
        del copies
    queue.put(
        {
            "seconds": statistics.median(times),
            "peak_mib": _rss_mib(),
            "instance_mib": before,
            "placed": placed,
            "cost": cost,
        }
    )


def scipy_solve(mentors, young, pairs, linear_sum_assignment):
    matrix = cost_matrix(mentors, young, ConflictIndex(pairs))
    slot_mentor = np.repeat(np.arange(len(mentors)), [len(s) for s in matrix.slot_costs])
    slot_cost = np.concatenate([s for s in matrix.slot_costs if len(s)] or [np.zeros(0)])
    max_cost = int(matrix.edge_cost.max(initial=0) + slot_cost.max(initial=0))
    # Placing one more person must outweigh any possible total cost.
    big = float((max_cost + 1) * (min(len(young), len(slot_mentor)) + 1))
    dense = matrix.edge_cost[:, slot_mentor].astype(np.float64)
    dense += slot_cost[None, :]
    dense -= big
    dense[~matrix.feasible[:, slot_mentor]] = 0.0
    del matrix
    rows, cols = linear_sum_assignment(dense)
    chosen = dense[rows, cols] < 0
    placed = int(chosen.sum())
    cost = int(round(float((dense[rows, cols][chosen] + big).sum())))
    return placed, cost  # fmt: skip


def run_head_to_head(size, seed, queue):
    """Both exact solvers alternately in one process, many times: at small sizes both take
    milliseconds, and alternating cancels drift in the machine's speed between runs."""
    from scipy.optimize import linear_sum_assignment

    mentors, young, pairs = make_instance(*size, seed)
    ours, theirs = [], []
    for _ in range(repeats(size)):
        copies = fresh_copies(mentors)
        t0 = time.perf_counter()
        assign_batch(copies, young, ConflictIndex(pairs), with_reasons=False)
        ours.append(time.perf_counter() - t0)
        copies = fresh_copies(mentors)
        t0 = time.perf_counter()
        scipy_solve(copies, young, pairs, linear_sum_assignment)
        theirs.append(time.perf_counter() - t0)
    queue.put({"ours": statistics.median(ours), "scipy": statistics.median(theirs)})


def run_greedy(size, seed, queue):
    mentors, young, pairs = make_instance(*size, seed)
    t0 = time.perf_counter()
    weights = Weights()
    matrix = cost_matrix(mentors, young, ConflictIndex(pairs), weights)
    capacity = np.array([max(m.capacity, 1) for m in mentors], dtype=np.int64)
    load = np.array([m.caseload for m in mentors], dtype=np.int64)
    free = np.array([len(s) for s in matrix.slot_costs], dtype=np.int64)
    placed = cost = 0
    for i in range(len(young)):
        slot = (weights.workload * load) // capacity
        row = np.where(matrix.feasible[i] & (free > 0), matrix.edge_cost[i] + slot, np.iinfo(
            np.int64).max)  # fmt: skip
        j = int(np.argmin(row))
        if row[j] == np.iinfo(np.int64).max:
            continue
        placed += 1
        cost += int(row[j])
        free[j] -= 1
        load[j] += 1
    queue.put({"seconds": time.perf_counter() - t0, "placed": placed, "cost": cost})


def run_suggest(size, seed, queue, calls=60):
    mentors, young, pairs = make_instance(*size, seed)
    conflicts = ConflictIndex(pairs)
    rng = np.random.default_rng(seed)
    times = []
    for _ in range(calls):
        # Fresh Mentor objects for every call, as a web request would build them, so that
        # nothing normalised in an earlier call is reused (copied outside the timing).
        fresh = [Mentor(**{f: getattr(m, f) for f in m.__dataclass_fields__}) for m in mentors]
        person = young[int(rng.integers(len(young)))]
        t0 = time.perf_counter()
        suggest(person, fresh, conflicts, k=5)
        times.append((time.perf_counter() - t0) * 1000)
        del fresh
    times.sort()
    queue.put({"median_ms": statistics.median(times),
               "p95_ms": times[min(len(times) - 1, int(0.95 * len(times)))],
               "mentors": len(mentors)})  # fmt: skip


def in_child(target, size, seed):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(size, seed, queue))
    process.start()
    result = queue.get()
    process.join()
    if process.exitcode:
        raise SystemExit(f"{target.__name__} failed with exit code {process.exitcode}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="60x500,500x5000,2000x20000",
                        help="comma-separated MENTORSxYOUNG sizes")  # fmt: skip
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--suggest-mentors", type=int, default=2000,
                        help="mentors in the suggest latency test (default 2000)")  # fmt: skip
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in s.lower().split("x")) for s in args.sizes.split(",")]

    print(f"Python {platform.python_version()}, {mp.cpu_count()} cores, "
          f"{platform.machine()}, seed {args.seed}\n")  # fmt: skip
    print(
        "| mentors × young people | free places | ours: time (with reasons), peak RSS "
        "| solves, arcs (priced in) | SciPy LSA: time, peak RSS | placed (ours / SciPy) "
        "| total cost (ours / SciPy) | exact? | greedy: placed gap, cost gap | budget |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    mismatches = 0
    for size in sizes:
        ours = in_child(run_ours, size, args.seed)
        ref = in_child(run_scipy, size, args.seed)
        greedy = in_child(run_greedy, size, args.seed)
        if repeats(size) > 1:  # small: the alternating runs decide (see run_head_to_head)
            duel = in_child(run_head_to_head, size, args.seed)
            ours["seconds"], ref["seconds"] = duel["ours"], duel["scipy"]
        same = ours["placed"] == ref["placed"] and ours["cost"] == ref["cost"]
        mismatches += not same
        budget = []
        if size == (2000, 20000):
            budget.append("< 10 s " + ("✓" if ours["seconds"] < 10 else "✗"))
            budget.append("< 2 GiB " + ("✓" if ours["peak_mib"] < 2048 else "✗"))
        budget.append("faster than SciPy " + ("✓" if ours["seconds"] < ref["seconds"] else "✗"))
        free = ours["free"]
        print(
            f"| {size[0]:,} × {size[1]:,} | {free:,} "
            f"| {secs(ours['seconds'])} ({secs(ours['explained_seconds'])}), "
            f"{ours['peak_mib']:.0f} MiB "
            f"| {ours['solves']}, {ours['arcs']:,} ({ours['priced_in']:,}) "
            f"| {secs(ref['seconds'])}, {ref['peak_mib']:.0f} MiB "
            f"| {ours['placed']:,} / {ref['placed']:,} | {ours['cost']:,} / {ref['cost']:,} "
            f"| {'OK' if same else 'MISMATCH'} "
            f"| {ref['placed'] - greedy['placed']:+,} placed, "
            f"{greedy['cost'] - ours['cost']:+,} cost ({secs(greedy['seconds'])}) "
            f"| {'; '.join(budget)} |",
            flush=True,
        )
    s = in_child(run_suggest, (args.suggest_mentors, 200), args.seed)
    ok = "✓" if s["p95_ms"] < 50 else "✗"
    print(f"\n`suggest` for one young person against {s['mentors']:,} mentors: median "
          f"{s['median_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms (budget < 50 ms {ok})")  # fmt: skip
    if mismatches:
        print(f"\nMISMATCH at {mismatches} size(s): the batch is not optimal", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
