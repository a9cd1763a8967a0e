"""Lifecycle stages on a simulated dealership: 1M customers, ~10M service lines (issue #4: < 10 s).

Usage::

    python benchmarks/bench_lifecycle.py            # 1,000,000 customers (issue target)
    python benchmarks/bench_lifecycle.py --n 200000
    python benchmarks/bench_lifecycle.py --quick    # 100,000 customers

The log comes from :func:`survchurn.data.simulate.simulate_dealership` (not timed, but its own
time is printed). Timed, from a pandas DataFrame of events to the stage table:

* ``assign_stages``: validation, sorting into arrays and staging, the whole call a user makes;
* ``prepare_events`` alone, and staging an already prepared log (the cost per extra date);
* a pandas groupby baseline computing only recency / tenure / visit counts per customer (a
  fraction of the features the stages need), for scale.

Accuracy against the simulator's true stages is printed too. Nothing is asserted: timings
depend on the machine.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from survchurn.churn.lifecycle import assign_stages, prepare_events
from survchurn.data.simulate import simulate_dealership


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="customers")
    parser.add_argument("--quick", action="store_true", help="100,000 customers")
    parser.add_argument("--as-of", default="2018-09-30")
    args = parser.parse_args()
    n = 100_000 if args.quick else args.n

    t0 = time.perf_counter()
    sim = simulate_dealership(n, seed=1)
    t_sim = time.perf_counter() - t0
    ev = sim.events
    print(f"simulated {n:,} customers, {len(ev):,} service lines in {t_sim:.1f} s")

    cols = {"amount_col": "amount", "category_col": "service_type"}
    t0 = time.perf_counter()
    result = assign_stages(ev, args.as_of, **cols)
    t_all = time.perf_counter() - t0
    print(f"assign_stages (DataFrame -> stages, categories + amounts): {t_all:.2f} s")

    t0 = time.perf_counter()
    prepared = prepare_events(ev, **cols)
    t_prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    assign_stages(prepared, args.as_of)
    t_stage = time.perf_counter() - t0
    print(
        f"  prepare_events: {t_prep:.2f} s; staging a prepared log at one more date: {t_stage:.2f} s"
    )

    t0 = time.perf_counter()
    cut = ev[ev["date"] <= args.as_of]
    g = cut.groupby("customer_id")["date"]
    base = pd.DataFrame(
        {
            "first": g.min(),
            "last": g.max(),
            "visits": cut.drop_duplicates(["customer_id", "date"]).groupby("customer_id").size(),
        }
    )
    base["recency"] = (pd.Timestamp(args.as_of) - base["last"]).dt.days
    t_pd = time.perf_counter() - t0
    print(f"pandas baseline (recency, tenure, visits only): {t_pd:.2f} s")

    truth = sim.truth.stages_at(args.as_of)
    assigned = result.customers.set_index("customer_id")["stage"].astype(str)
    acc = float((assigned == truth.reindex(assigned.index)).mean())
    print(f"stage accuracy vs the simulator's truth: {acc:.1%}")
    print(result.to_frame().to_string())
    print(
        f"target (issue #4): 1M customers / 10M events < 10 s -> {'met' if t_all < 10 else 'NOT met'} ({t_all:.2f} s)"
    )


if __name__ == "__main__":
    main()
