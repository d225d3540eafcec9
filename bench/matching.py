"""Benchmark the cohort matching engine: time and peak memory per cohort size.

    .venv/bin/python bench/matching.py            # all sizes, sparse and dense
    .venv/bin/python bench/matching.py --quick    # skip the largest size

Each (size, method) runs in its own subprocess, so one run's peak memory cannot hide
in another's. It prints the median wall time of three ``match_cohort`` calls (one for
the slow dense solve at the largest size), after a warm-up call on a tiny cohort so
that one-off library start-up is not counted; the process's peak RSS (interpreter,
numpy, scipy and OR-tools, the input objects and the calls); and the call's own peak
allocation, measured by tracemalloc on one more call. The dense solver is the
reference: it runs where its matrix fits in half the memory available, and the totals
of both methods must be equal. The last column is CPU time the hypervisor took for
other machines during the timed calls: when it is not near 0, the times are inflated.

Cohorts are random with a fixed seed: 12 criterion codes, each mentee wants 3-5 of
them, each mentor offers 4-8, capacity 8, about 2% of pairs excluded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on the path and this file would shadow the
# matching package; the project root goes in front of it.
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from matching.engine import Mentee, Mentor, Options, match_cohort  # noqa: E402

SIZES = ((50, 8), (1_000, 150), (10_000, 1_500))
CAPACITY = 8
CODES = tuple(f"c{k:02d}" for k in range(12))
SITES = ("lung", "breast", "colorectal", "prostate", "haematology", "skin", "head and neck")
TRUSTS = tuple(f"trust-{k}" for k in range(10))
EXCLUDED_SHARE = 0.02
SEED = 20240404
TARGET_SECONDS = 1.0
TARGET_MB = 400


def make_cohort(n_mentees: int, n_mentors: int, seed: int = SEED):
    """A reproducible random cohort: mentees, mentors, weights and excluded pairs."""
    rng = np.random.default_rng(seed)
    mentees = [
        Mentee(
            id=i,
            trust=TRUSTS[rng.integers(len(TRUSTS))],
            specialism=SITES[rng.integers(len(SITES))],
            wanted=tuple(rng.choice(CODES, size=rng.integers(3, 6), replace=False).tolist()),
        )
        for i in range(n_mentees)
    ]
    mentors = [
        Mentor(
            id=n_mentees + j,
            trust=TRUSTS[rng.integers(len(TRUSTS))],
            specialisms=frozenset(rng.choice(SITES, size=rng.integers(1, 3), replace=False)),
            offered=frozenset(rng.choice(CODES, size=rng.integers(4, 9), replace=False).tolist()),
            capacity=CAPACITY,
            capacity_total=CAPACITY,
        )
        for j in range(n_mentors)
    ]
    weights = {code: float(rng.integers(1, 6)) for code in CODES}
    n_excluded = round(EXCLUDED_SHARE * n_mentees * n_mentors)
    cells = rng.choice(n_mentees * n_mentors, size=n_excluded, replace=False)
    exclusions = [(int(c // n_mentors), n_mentees + int(c % n_mentors)) for c in cells]
    return mentees, mentors, weights, exclusions


def run_one(n_mentees: int, n_mentors: int, method: str, repeats: int) -> dict:
    """Body of one subprocess: build the cohort, time ``repeats`` calls, trace one more."""
    mentees, mentors, weights, exclusions = make_cohort(n_mentees, n_mentors)
    options = Options()
    # Warm up on a tiny cohort: the first BLAS call in a process starts OpenBLAS's
    # threads (about 0.1 s), a one-off a long-running worker has already paid.
    match_cohort(*make_cohort(20, 4, seed=1), method=method)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    steal_before = stolen_seconds()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = match_cohort(mentees, mentors, weights, exclusions, options, method=method)
        times.append(time.perf_counter() - start)
        del result
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    steal = stolen_seconds() - steal_before
    tracemalloc.start()
    result = match_cohort(mentees, mentors, weights, exclusions, options, method=method)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": statistics.median(times),
        "best_seconds": min(times),
        "stolen_seconds": steal,
        "rss_peak_mb": rss_peak / 1024,
        "rss_before_mb": rss_before / 1024,
        "call_peak_mb": traced_peak / 2**20,
        "total": result.total_score,
        "matched": len(result.pairs),
        "unmatched": len(result.unmatched),
        "method": result.method,
    }


def stolen_seconds() -> float:
    """CPU time the hypervisor gave to other machines (Linux), which slows our calls."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def dense_estimate_mb(n_mentees: int, n_mentors: int) -> float:
    # The float64 mentees x places matrix, and about as much again inside the solver.
    places = n_mentors * min(CAPACITY, n_mentees)
    return 2 * 8 * n_mentees * (places + n_mentors) / 2**20


def spawn(n_mentees: int, n_mentors: int, method: str) -> dict:
    # The median of 3 calls, except for a slow dense solve.
    repeats = 1 if method == "dense" and n_mentees * n_mentors > 10**6 else 3
    argv = [sys.executable, __file__, "--one", str(n_mentees), str(n_mentors), method]
    argv.append(str(repeats))
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the largest size")
    parser.add_argument("--one", nargs=4, metavar=("MENTEES", "MENTORS", "METHOD", "REPEATS"))
    args = parser.parse_args()
    if args.one:
        n_mentees, n_mentors, method, repeats = args.one
        print(json.dumps(run_one(int(n_mentees), int(n_mentors), method, int(repeats))))
        return 0

    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"note: load average {load:.1f} on {os.cpu_count()} cores; times may be inflated")

    sizes = SIZES[:-1] if args.quick else SIZES
    print(
        f"{'mentees x mentors':>18} {'method':>7} {'median s':>8} {'best s':>7} "
        f"{'peak RSS MB':>12} {'call peak MB':>13} {'matched':>8} {'total score':>13} "
        f"{'CPU stolen s':>12}"
    )
    ok = True
    for n_mentees, n_mentors in sizes:
        label = f"{n_mentees:,} x {n_mentors:,}"
        sparse = spawn(n_mentees, n_mentors, "sparse")
        rows = [("sparse", sparse)]
        estimate = dense_estimate_mb(n_mentees, n_mentors)
        if estimate < available_mb() / 2:
            rows.append(("dense", spawn(n_mentees, n_mentors, "dense")))
        for method, r in rows:
            print(
                f"{label:>18} {method:>7} {r['seconds']:>8.3f} {r['best_seconds']:>7.3f} "
                f"{r['rss_peak_mb']:>12.0f} {r['call_peak_mb']:>13.0f} {r['matched']:>8,} "
                f"{r['total']:>13,.2f} {r['stolen_seconds']:>12.2f}"
            )
        if len(rows) == 1:
            print(
                f"{'':>18} dense skipped: needs about {estimate:,.0f} MB, "
                f"{available_mb():,.0f} MB available"
            )
        elif rows[1][1]["total"] != sparse["total"] or rows[1][1]["matched"] != sparse["matched"]:
            print(f"{'':>18} MISMATCH: sparse and dense totals differ")
            ok = False
        else:
            print(f"{'':>18} totals equal")
    last = sparse
    if not args.quick:
        verdict = (
            "meets"
            if last["seconds"] < TARGET_SECONDS and last["rss_peak_mb"] < TARGET_MB
            else "MISSES"
        )
        print(
            f"largest case, sparse: {last['seconds']:.3f} s, {last['rss_peak_mb']:.0f} MB "
            f"peak RSS: {verdict} the target of {TARGET_SECONDS:g} s and {TARGET_MB} MB"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
