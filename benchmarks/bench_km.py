"""Kaplan-Meier by 4 groups on 10M customers: survchurn vs lifelines, in one run.

Usage::

    python benchmarks/bench_km.py                        # 10,000,000 customers (issue target: >= 5x)
    python benchmarks/bench_km.py --n-customers 1000000
    python benchmarks/bench_km.py --quick                # 1,000,000 customers

Each method runs in its own fresh subprocess on the same seeded data, so its peak memory
(``ru_maxrss``) is its own: the simulated table is built first (not timed), then the fit is
timed, after a warm-up fit of each library on 5,000 rows. Methods:

* ``survchurn-arrays``: ``KaplanMeier().fit(table, group_col="group")`` (vectorised counts);
* ``survchurn-duckdb``: ``counts_from_duckdb`` (GROUP BY inside DuckDB on the registered
  DataFrame) then ``KaplanMeier().fit_counts``;
* ``lifelines``: ``KaplanMeierFitter().fit`` once per group (its usual by-group loop).

The survival at 30/90/180/365 days is compared between survchurn and lifelines.
Nothing is asserted: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

HORIZONS = [30.0, 90.0, 180.0, 365.0]
GROUPS = ["bronze", "silver", "gold", "platinum"]


def simulate(n: int, seed: int = 20261123) -> pd.DataFrame:
    """Integer-day durations, 4 groups with different churn hazards, administrative censoring."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 4, n)
    churn = np.ceil(rng.exponential(np.array([180.0, 300.0, 500.0, 900.0])[g]))
    censor = rng.integers(1, 731, n)
    return pd.DataFrame({
        "duration": np.minimum(churn, censor).astype(np.int64),
        "event": (churn <= censor).astype(np.int8),
        "group": pd.Categorical.from_codes(g, GROUPS),
    })


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1e6


def run_method(method: str, n: int) -> dict:
    import duckdb  # imports are not timed
    from lifelines import KaplanMeierFitter

    from survchurn.survival._counts import counts_from_duckdb
    from survchurn.survival.kaplan_meier import KaplanMeier

    # warm up both libraries on a small table (first-call costs are not what we compare)
    small = simulate(5_000, seed=1)
    KaplanMeier().fit(small, group_col="group")
    KaplanMeierFitter().fit(small["duration"], small["event"])
    table = simulate(n)
    before = _rss_mb()
    surv: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    if method == "survchurn-arrays":
        res = KaplanMeier().fit(table, group_col="group").result_
        elapsed = time.perf_counter() - t0
        at = res.at(HORIZONS)
        surv = {g: at.loc[at["group"] == g, "survival"].tolist() for g in GROUPS}
    elif method == "survchurn-duckdb":
        con = duckdb.connect()
        con.register("customers", table)
        res = KaplanMeier().fit_counts(
            counts_from_duckdb(con, "customers", group_col="group")).result_
        elapsed = time.perf_counter() - t0
        at = res.at(HORIZONS)
        surv = {g: at.loc[at["group"] == g, "survival"].tolist() for g in GROUPS}
    elif method == "lifelines":
        fitters = {}
        for g in GROUPS:
            sub = table[table["group"] == g]
            fitters[g] = KaplanMeierFitter().fit(sub["duration"], sub["event"], label=g)
        elapsed = time.perf_counter() - t0
        surv = {g: [float(f.predict(h)) for h in HORIZONS] for g, f in fitters.items()}
    else:
        raise SystemExit(f"unknown method {method!r}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB -> MB on Linux
    return {"method": method, "seconds": elapsed, "rss_before_mb": before, "peak_rss_mb": peak,
            "survival": surv}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-customers", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="1,000,000 customers")
    parser.add_argument("--method", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = 1_000_000 if args.quick else args.n_customers
    if args.method:
        print(json.dumps(run_method(args.method, n)))
        return 0
    print(f"Kaplan-Meier by 4 groups, {n:,} customers (each method in a fresh subprocess)")
    results = {}
    for method in ("survchurn-arrays", "survchurn-duckdb", "lifelines"):
        out = subprocess.run([sys.executable, __file__, "--method", method, "--n-customers", str(n)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results[method] = r
        print(f"  {method:<18} {r['seconds']:8.3f} s   peak RSS {r['peak_rss_mb']:8.0f} MB "
              f"(data alone {r['rss_before_mb']:.0f} MB, so +{r['peak_rss_mb'] - r['rss_before_mb']:.0f} MB)",
              flush=True)
    ll = results["lifelines"]["seconds"]
    for method in ("survchurn-arrays", "survchurn-duckdb"):
        print(f"  speed-up {method} vs lifelines: {ll / results[method]['seconds']:.1f}x (target >= 5x)")
    diff = max(abs(a - b) for g in GROUPS
               for a, b in zip(results["survchurn-arrays"]["survival"][g],
                               results["lifelines"]["survival"][g], strict=True))
    print(f"  max |S_survchurn - S_lifelines| at {HORIZONS} days: {diff:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
