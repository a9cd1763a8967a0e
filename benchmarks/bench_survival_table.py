"""Survival table + all point-in-time features on DuckDB vs a straightforward pandas groupby.

Usage::

    python benchmarks/bench_survival_table.py --events 10_000_000 --customers 1_000_000
    python benchmarks/bench_survival_table.py --events 100_000_000 --customers 1_000_000
    python benchmarks/bench_survival_table.py --quick      # 1M events, 100k customers

A seeded simulated event log (customer id, timestamp, amount, category) is written to Parquet in a
temporary folder. Each method then runs in its own fresh Python process (so its peak resident
memory, ``ru_maxrss``, is its own): read the Parquet file, build the inactivity survival table
(W = 90 days) and every feature of ``survchurn.churn.features`` as of the last day, and return
pandas DataFrames. The parent prints seconds, peak memory, the pandas/DuckDB ratio, and checks
that both methods agree (counts exact, sums to 1e-9 relative).

Targets (issue #3): 100M events in < 30 s and < 3 GB peak on 2 cores, >= 5x faster than pandas.

Where the time goes (ours): reading and validating the log is a few DuckDB scans; the survival
table and the features share one per-customer summary (counts, first/last event, inter-purchase
gap statistics) built from a single numpy sort of 64-bit (customer, second) keys, cached per
as-of date (``survchurn.churn._sql.event_summary``); the features' money, period and category
sums come from one narrow DuckDB scan added up per customer with numpy
(``survchurn.churn._sql.event_sums``; a DuckDB GROUP BY is the fallback). A DuckDB window sort of all events (the portable SQL form, still
used for text ids and sub-second times) costs about 40 s at 100M events on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

W = 90
PERIOD = 90
START = np.datetime64("2020-01-01T00:00:00", "s")
SPAN_DAYS = 3 * 365
AS_OF = "2022-12-30"  # the last simulated day


def simulate(path: Path, n_events: int, n_customers: int, seed: int = 2026, chunk: int = 10_000_000) -> None:
    """Write a seeded event log to Parquet, in chunks (flat memory at 100M rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    # each customer is active between a start and an end day; activity is skewed across customers
    start = rng.integers(0, SPAN_DAYS - 30, n_customers)
    life = np.minimum(rng.exponential(300, n_customers).astype(np.int64) + 1, SPAN_DAYS - start)
    weight = rng.pareto(1.5, n_customers) + 1.0
    cdf = np.cumsum(weight) / weight.sum()
    writer = None
    done = 0
    while done < n_events:
        n = min(chunk, n_events - done)
        cid = np.minimum(np.searchsorted(cdf, rng.random(n)), n_customers - 1)
        day = start[cid] + (rng.random(n) * life[cid]).astype(np.int64)
        ts = START + day * 86400 + rng.integers(8 * 3600, 22 * 3600, n)
        table = pa.table({
            "customer_id": pa.array(cid.astype(np.int64) + 1),
            "ts": pa.array(ts.astype("datetime64[us]")),
            "amount": pa.array(np.round(rng.lognormal(3.0, 0.8, n), 2)),
            "category": pa.array(rng.integers(0, 20, n).astype(np.int16)),
        })
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=1_000_000)
        done += n
    writer.close()


def run_duckdb(path: str, threads: int, memory_limit: str) -> dict:
    from survchurn.churn.definitions import InactivityChurn
    from survchurn.churn.features import features
    from survchurn.churn.survival_table import survival_table
    from survchurn.data.eventlog import connect, read_event_log

    con = connect()
    con.execute(f"SET threads = {threads}").fetchall()
    con.execute(f"SET memory_limit = '{memory_limit}'").fetchall()
    t0 = time.perf_counter()
    log = read_event_log(path, id_col="customer_id", time_col="ts", amount_col="amount",
                         category_col="category", con=con)
    t1 = time.perf_counter()
    st = survival_table(log, InactivityChurn(W), AS_OF)
    t2 = time.perf_counter()
    ft = features(log, AS_OF, period_days=PERIOD)
    t3 = time.perf_counter()
    return {"read_validate_s": t1 - t0, "survival_table_s": t2 - t1, "features_s": t3 - t2,
            "summary": _summary(st.table, ft.table)}


def run_pandas(path: str) -> dict:
    import pandas as pd

    t0 = time.perf_counter()
    ev = pd.read_parquet(path)
    t1 = time.perf_counter()
    as_of = pd.Timestamp(AS_OF)
    cut = as_of + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    ev = ev[ev["ts"] <= cut]
    g = ev.groupby("customer_id")["ts"]
    st = pd.DataFrame({"entry_date": g.min(), "last_activity": g.max(), "n_events": g.size()})
    churned = st["last_activity"] + pd.Timedelta(days=W) <= cut
    st["event"] = churned.astype("int64")
    st["churn_date"] = st["last_activity"].where(churned)
    st["duration"] = (st["last_activity"] - st["entry_date"]) / pd.Timedelta(days=1)
    st = st.reset_index()
    t2 = time.perf_counter()
    # the working columns are added to the sorted events (no second copy of the id and amount
    # columns: at 100M events a separate work frame pushed pandas past the 14 GB cap)
    ev = ev.sort_values(["customer_id", "ts"])
    gap = ev["ts"].diff().dt.total_seconds() / 86400
    gap[ev["customer_id"].ne(ev["customer_id"].shift())] = np.nan
    ev["gap"] = gap.where(gap > 0)
    del gap
    p1, p2 = cut - pd.Timedelta(days=PERIOD), cut - pd.Timedelta(days=2 * PERIOD)
    ev["last"] = ev["ts"] > p1
    ev["prev"] = (ev["ts"] > p2) & ~ev["last"]
    ev["a_last"] = ev["amount"].where(ev["last"], 0.0)
    ev["a_prev"] = ev["amount"].where(ev["prev"], 0.0)
    g = ev.groupby("customer_id")
    agg = g.agg(
        frequency=("amount", "size"), monetary_total=("amount", "sum"), monetary_mean=("amount", "mean"),
        ipt_std_days=("gap", "std"), n_gaps=("gap", "count"), n_last_period=("last", "sum"),
        n_prev_period=("prev", "sum"), amount_last_period=("a_last", "sum"), amount_prev_period=("a_prev", "sum"))
    agg["category_breadth"] = g["category"].nunique()
    first, lastt = g["ts"].min(), g["ts"].max()
    agg["recency_days"] = (as_of - lastt) / pd.Timedelta(days=1)
    agg["tenure_days"] = (as_of - first) / pd.Timedelta(days=1)
    agg["ipt_mean_days"] = (lastt - first) / pd.Timedelta(days=1) / agg["n_gaps"].where(agg["n_gaps"] > 0)
    agg["trend_ratio"] = agg["n_last_period"] / agg["n_prev_period"].where(agg["n_prev_period"] > 0)
    agg["behaviour_break"] = (((agg["n_prev_period"] > 0) & (agg["n_last_period"] < 0.5 * agg["n_prev_period"]))
                              | ((agg["frequency"] >= 3)
                                 & (agg["recency_days"] > agg["ipt_mean_days"] + 2 * agg["ipt_std_days"]))).astype(int)
    ft = agg.drop(columns="n_gaps").reset_index()
    t3 = time.perf_counter()
    return {"read_validate_s": t1 - t0, "survival_table_s": t2 - t1, "features_s": t3 - t2,
            "summary": _summary(st, ft)}


def _summary(st, ft) -> dict:
    return {"customers": int(len(st)), "churned": int(st["event"].sum()),
            "duration_sum": float(st["duration"].sum()), "features_rows": int(len(ft)),
            "monetary_total": float(ft["monetary_total"].sum()), "ipt_std_sum": float(ft["ipt_std_days"].sum()),
            "breadth_sum": int(ft["category_breadth"].sum()), "breaks": int(ft["behaviour_break"].sum()),
            "n_last_sum": int(ft["n_last_period"].sum())}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(method: str, path: str, threads: int, memory_limit: str) -> None:
    import pandas  # noqa: F401  (imports are not timed)

    import survchurn.churn.features
    import survchurn.churn.survival_table  # noqa: F401

    c0 = _cpu()
    out = run_duckdb(path, threads, memory_limit) if method == "duckdb" else run_pandas(path)
    out["total_s"] = out["read_validate_s"] + out["survival_table_s"] + out["features_s"]
    out["cpu_s"] = _cpu() - c0  # CPU seconds of all threads: less sensitive to a busy machine
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps(out))


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _run_capped(cmd: list[str], env: dict, cap: float) -> tuple[str, str, bool]:
    """Run ``cmd``; kill it if its resident memory passes ``cap`` bytes (Linux /proc)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        killed = False
        while proc.poll() is None:
            if _rss(proc.pid) > cap:
                proc.kill()
                killed = True
            time.sleep(0.2)
        proc.wait()
        out.seek(0)
        err.seek(0)
        return out.read(), err.read(), killed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    parser.add_argument("--customers", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="1M events, 100k customers")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit (it spills beyond)")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--memory-cap-gb", type=float, default=14.0,
                        help="kill a method whose resident memory passes this (protects a shared machine)")
    parser.add_argument("--parquet", type=Path, default=None,
                        help="use this event log (written by an earlier run with --keep) instead of simulating")
    parser.add_argument("--keep", type=Path, default=None, help="also copy the simulated log to this path")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.threads, args.memory_limit)
        return 0
    if args.quick:
        args.events, args.customers = 1_000_000, 100_000
    with tempfile.TemporaryDirectory(prefix="survchurn_bench_") as tmp:
        path = Path(tmp) / "events.parquet"
        t0 = time.perf_counter()
        if args.parquet is not None:
            path = args.parquet
            print(f"event log {path} ({path.stat().st_size / 1e6:.0f} MB); --events/--customers not used")
        else:
            simulate(path, args.events, args.customers)
            print(f"simulated {args.events:,} events of {args.customers:,} customers -> Parquet "
                  f"({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s", flush=True)
            if args.keep is not None:
                shutil.copyfile(path, args.keep)
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
        results = {}
        for method in ["duckdb"] + ([] if args.skip_pandas else ["pandas"]):
            cmd = [sys.executable, __file__, "--threads", str(args.threads), "--memory-limit", args.memory_limit,
                   "--child", method, str(path)]
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
            cap = args.memory_cap_gb * 1024**3
            stdout, stderr, killed = _run_capped(cmd, env, cap)
            if killed:
                print(f"{method:>7}: stopped at {args.memory_cap_gb} GB resident memory (cap set to protect "
                      "the shared machine); no result", flush=True)
                continue
            if not stdout.strip():
                print(f"{method} failed:\n{stderr[-3000:]}")
                return 1
            results[method] = json.loads(stdout.strip().splitlines()[-1])
            r = results[method]
            print(f"{method:>7}: total {r['total_s']:6.1f} s (read+validate {r['read_validate_s']:.1f}, "
                  f"survival table {r['survival_table_s']:.1f}, features {r['features_s']:.1f}); "
                  f"CPU {r['cpu_s']:.1f} s; peak {r['peak_mb'] / 1024:.2f} GB", flush=True)
        if "pandas" in results and "duckdb" in results:
            d, p = results["duckdb"], results["pandas"]
            print(f"  ratio: pandas / duckdb = {p['total_s'] / d['total_s']:.1f}x wall time, "
                  f"{p['cpu_s'] / d['cpu_s']:.1f}x CPU time, "
                  f"{p['peak_mb'] / d['peak_mb']:.1f}x peak memory")
            ok = True
            for key, a in d["summary"].items():
                b = p["summary"][key]
                same = a == b if isinstance(a, int) else abs(a - b) <= 1e-9 * max(1.0, abs(b))
                ok &= same
                if not same:
                    print(f"  MISMATCH {key}: duckdb {a} vs pandas {b}")
            print("  results agree (counts exact, sums to 1e-9)" if ok else "  RESULTS DIFFER")
            what = f"{args.events:,} events" if args.parquet is None else str(args.parquet)
            print(f"RESULT survival table + features, {what}: ours {d['total_s']:.2f} s, "
                  f"pandas {p['total_s']:.2f} s, ratio {p['total_s'] / d['total_s']:.1f}x, "
                  f"peak ours {d['peak_mb'] / 1024:.2f} GB", flush=True)
            return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
