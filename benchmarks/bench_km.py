"""Kaplan-Meier by 4 groups on 10M customers: survchurn vs lifelines, in one run.

Usage::

    python benchmarks/bench_km.py                        # 10,000,000 customers (issue target: >= 5x)
    python benchmarks/bench_km.py --n-customers 1000000
    python benchmarks/bench_km.py --quick                # 1,000,000 customers

Each method runs in its own fresh subprocess on the same seeded data, so its peak memory
(Linux VmHWM, reset after the data are built via /proc/self/clear_refs) is its own: the
simulated table is built first (not timed), then the fit is timed, after a warm-up fit on 5,000 rows. Memory is reported two ways: the process RSS before
the fit and its peak during the fit, and the bytes allocated at the peak of a second, untimed
fit under ``tracemalloc`` (numpy and pandas buffers included; RSS understates them when freed
pages are reused; DuckDB's own C++ buffers are not traced, only its RSS shows them). Methods:

* ``survchurn-arrays``: ``KaplanMeier().fit(table, group_col="group")`` (vectorised counts);
* ``survchurn-duckdb``: ``counts_from_duckdb`` (GROUP BY inside DuckDB on the registered
  DataFrame) then ``KaplanMeier().fit_counts``;
* ``lifelines``: ``KaplanMeierFitter().fit`` once per group (its usual by-group loop).

The survival at 30/90/180/365 days is compared between survchurn and lifelines.
Nothing is asserted: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc

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


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1e3
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so the peak covers the timed fit only."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False




def fit_once(method: str, table: pd.DataFrame) -> dict[str, list[float]]:
    """Fit by group with one method; return the survival at HORIZONS per group."""
    import duckdb
    from lifelines import KaplanMeierFitter

    from survchurn.survival._counts import counts_from_duckdb
    from survchurn.survival.kaplan_meier import KaplanMeier

    if method == "survchurn-arrays":
        res = KaplanMeier().fit(table, group_col="group").result_
    elif method == "survchurn-duckdb":
        con = duckdb.connect()
        con.register("customers", table)
        res = KaplanMeier().fit_counts(
            counts_from_duckdb(con, "customers", group_col="group")).result_
    elif method == "lifelines":
        fitters = {}
        for g in GROUPS:
            sub = table[table["group"] == g]
            fitters[g] = KaplanMeierFitter().fit(sub["duration"], sub["event"], label=g)
        return {g: [float(f.predict(h)) for h in HORIZONS] for g, f in fitters.items()}
    else:
        raise SystemExit(f"unknown method {method!r}")
    at = res.at(HORIZONS)
    return {g: at.loc[at["group"] == g, "survival"].tolist() for g in GROUPS}


def run_method(method: str, n: int) -> dict:
    # warm up (imports and first-call costs are not what we compare)
    fit_once(method, simulate(5_000, seed=1))
    table = simulate(n)
    gc.collect()
    reset = _reset_peak()
    before = _status_mb("VmRSS")
    t0 = time.perf_counter()
    surv = fit_once(method, table)
    elapsed = time.perf_counter() - t0
    peak = _status_mb("VmHWM")
    gc.collect()
    tracemalloc.start()  # a second, untimed fit: bytes allocated at the peak (numpy included)
    fit_once(method, table)
    traced = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return {"method": method, "seconds": elapsed, "rss_before_mb": before, "peak_rss_mb": peak,
            "peak_reset": reset, "traced_peak_mb": traced, "survival": surv}


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
        since = "" if r["peak_reset"] else " (VmHWM not reset: peak since process start)"
        print(f"  {method:<18} {r['seconds']:8.3f} s   allocated at peak {r['traced_peak_mb']:7.0f} MB"
              f" (tracemalloc)   RSS {r['rss_before_mb']:.0f} -> peak {r['peak_rss_mb']:.0f} MB"
              f"{since}", flush=True)
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
