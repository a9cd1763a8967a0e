"""Cox model on 1M customers x 30 covariates: survchurn's CoxPH vs lifelines' CoxPHFitter.

Usage::

    python benchmarks/bench_cox.py                      # 1,000,000 x 30 (issue target: >= 3x)
    python benchmarks/bench_cox.py --n 100000 --p 10
    python benchmarks/bench_cox.py --quick              # 100,000 x 30
    python benchmarks/bench_cox.py --lifelines-default  # also time lifelines' default tolerance

Each method runs in a fresh subprocess on the same seeded data, so its peak memory
(``ru_maxrss``) is its own: the table is simulated first (not timed), then ``fit`` is timed after
a warm-up fit on 2,000 rows. Both use Efron ties on integer-day durations (many ties, like real
churn data). lifelines is run with a tight tolerance (``precision=1e-12, r_precision=1e-14``) so
that both sit at the optimum and their coefficients can be compared at 1e-6 relative; with
``--lifelines-default`` its default fit (which stops ~1e-5 short) is timed as well.
Nothing is asserted: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd


def simulate(n: int, p: int, seed: int = 20261123) -> pd.DataFrame:
    """Normal covariates, exponential churn with hazard exp(x'beta), uniform censoring, days."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    beta = rng.normal(scale=0.15, size=p)
    churn = np.ceil(rng.exponential(365.0 * np.exp(-X @ beta)))
    censor = rng.integers(1, 731, n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["duration"] = np.minimum(churn, censor).astype(np.float64)
    df["event"] = (churn <= censor).astype(np.int8)
    return df


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1e6


def run_method(method: str, n: int, p: int) -> dict:
    from lifelines import CoxPHFitter

    from survchurn.survival.cox import CoxPH

    warnings.simplefilter("ignore")
    small = simulate(2_000, p, seed=1)
    CoxPH().fit(small)
    CoxPHFitter().fit(small, "duration", "event")
    table = simulate(n, p)
    cols = [f"x{j}" for j in range(p)]
    before = _rss_mb()
    c0 = time.process_time()
    t0 = time.perf_counter()
    if method == "survchurn":
        model = CoxPH().fit(table, "duration", "event")
        elapsed = time.perf_counter() - t0
        coef = model.result_.params[cols].tolist()
        ll = model.result_.loglik
        iters = model.n_iter_
    elif method in ("lifelines-tight", "lifelines-default"):
        opts = {"precision": 1e-12, "r_precision": 1e-14} if method == "lifelines-tight" else {}
        cph = CoxPHFitter().fit(table, "duration", "event", fit_options=opts)
        elapsed = time.perf_counter() - t0
        coef = cph.params_[cols].tolist()
        ll = float(cph.log_likelihood_)
        iters = None
    else:
        raise SystemExit(f"unknown method {method!r}")
    cpu = time.process_time() - c0  # all threads; less sensitive to other load than wall time
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB -> MB on Linux
    return {"method": method, "seconds": elapsed, "cpu_seconds": cpu, "rss_before_mb": before, "peak_rss_mb": peak,
            "coef": coef, "loglik": ll, "iterations": iters,
            "events": int(table["event"].sum())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="customers (rows)")
    parser.add_argument("--p", type=int, default=30, help="covariates")
    parser.add_argument("--quick", action="store_true", help="100,000 customers")
    parser.add_argument("--lifelines-default", action="store_true",
                        help="also time lifelines with its default tolerance")
    parser.add_argument("--method", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = 100_000 if args.quick else args.n
    if args.method:
        print(json.dumps(run_method(args.method, n, args.p)))
        return 0
    methods = ["survchurn", "lifelines-tight"] + (["lifelines-default"] if args.lifelines_default
                                                  else [])
    print(f"Cox PH (Efron), {n:,} customers x {args.p} covariates, each method in a fresh "
          "subprocess", flush=True)
    res = {}
    for m in methods:
        out = subprocess.run([sys.executable, __file__, "--method", m, "--n", str(n),
                              "--p", str(args.p)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        res[m] = r
        it = f", {r['iterations']} Newton steps" if r["iterations"] else ""
        print(f"  {m:<18} {r['seconds']:8.2f} s wall ({r['cpu_seconds']:.2f} s CPU)   peak RSS {r['peak_rss_mb']:7.0f} MB (data alone "
              f"{r['rss_before_mb']:.0f} MB, so +{r['peak_rss_mb'] - r['rss_before_mb']:.0f} MB)"
              f"   loglik {r['loglik']:.10f}{it}", flush=True)
    print(f"  events: {res['survchurn']['events']:,}")
    ours = np.array(res["survchurn"]["coef"])
    for m in methods[1:]:
        other = np.array(res[m]["coef"])
        rel = np.max(np.abs(ours - other) / np.maximum(np.abs(other), 1e-12))
        print(f"  speed-up survchurn vs {m}: {res[m]['seconds'] / res['survchurn']['seconds']:.1f}x"
              f" wall, {res[m]['cpu_seconds'] / res['survchurn']['cpu_seconds']:.1f}x CPU"
              f" (target >= 3x); max relative coefficient difference {rel:.2e}; "
              f"loglik difference {res['survchurn']['loglik'] - res[m]['loglik']:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
