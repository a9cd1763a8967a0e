"""`survchurn run` end to end on a simulated 1M-customer, 50M-event log (issue 8's target: < 5 min).

Usage::

    python benchmarks/bench_run.py              # 1M customers, 50M events (Parquet, ~1 GB)
    python benchmarks/bench_run.py --quick      # 100k customers, 2M events

The log is simulated with ``bench_survival_table.simulate`` (seeded) into a temporary folder,
then the command ``survchurn run`` runs in a fresh process with a config pointing at it; the
script prints the wall time, the peak resident memory of that process and each step's time from
its progress lines. There is no library to compare with: nothing else does the whole run.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_survival_table import simulate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--as-of", default=None, help="default: the simulated log's last quarter end")
    args = parser.parse_args()
    if args.quick:
        args.customers, args.events = 100_000, 2_000_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        simulate(root / "events.parquet", args.events, args.customers)
        print(f"simulated {args.events:,} events of {args.customers:,} customers in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        import duckdb
        import pandas as pd

        last = duckdb.connect().execute(f"SELECT max(ts) FROM '{root / 'events.parquet'}'").fetchall()[0][0]
        as_of = args.as_of or str((pd.Timestamp(last).normalize() - pd.offsets.QuarterEnd(1)).date())
        (root / "run.toml").write_text(
            '[data]\nevents = "events.parquet"\nid_col = "customer_id"\ntime_col = "ts"\n'
            'amount_col = "amount"\ncategory_col = "category"\n[report]\nformats = ["html", "pdf"]\n',
            encoding="utf-8")
        cmd = [sys.executable, "-m", "survchurn.cli", "run", str(root / "run.toml"), "--as-of", as_of,
               "--out", str(root / "out")]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2
        print(proc.stderr[-4000:])
        if proc.returncode:
            print(proc.stdout[-2000:])
            print(f"survchurn run failed with exit code {proc.returncode}")
            return 1
        files = sorted(p.name for p in (root / "out").iterdir())
        print(f"files: {', '.join(files)}")
        print(f"RESULT survchurn run ({args.customers:,} customers, {args.events:,} events, as of {as_of}): "
              f"{wall:.1f} s wall, peak {peak:.2f} GB (target < 300 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
