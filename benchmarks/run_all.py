"""Run every benchmark in this folder, one after another, in fresh processes.

Usage::

    python benchmarks/run_all.py            # full sizes (the issues' targets); takes a while
    python benchmarks/run_all.py --quick    # small sizes, to check that everything runs

Each ``bench_*.py`` prints its own timings and the ratio against the library a user would
otherwise use (lifelines, statsmodels, scikit-learn, pandas), measured in the same run. Nothing
here is a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    parser.add_argument("names", nargs="*", help="only these benchmarks (e.g. km cox)")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.names]
    failed = []
    for script in scripts:
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        print(f"\n=== {script.name} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"=== {script.name}: exit {rc}, {time.perf_counter() - t0:.1f} s wall ===", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
