"""Warning-score fit at scale: full logistic model, LASSO with 10-fold CV, stepwise selection.

Usage::

    python benchmarks/bench_scoring.py            # 1,000,000 customers x 30 candidate columns
    python benchmarks/bench_scoring.py --quick    # 50,000 customers
    python benchmarks/bench_scoring.py --n 200000 --naive-steps 3

Candidates: 20 continuous columns, two 5-level categoricals (4 indicators each, kept together as
groups) and 2 binary flags = 30 columns; 8 of them carry signal. Compared in the same run with
the straightforward route:

* full model: survchurn's own Newton fit (``newton_logit``) vs ``statsmodels.Logit`` (what
  ``fit_logistic`` uses for the reported table);
* LASSO: ``LassoLogistic`` (100 lambdas, glmnet rules, 10 folds) vs scikit-learn's
  ``LogisticRegressionCV(penalty="l1", solver="liblinear", Cs=10, cv=10)`` (10 penalties only);
* stepwise (both directions, AIC, from the full model): ``StepwiseLogistic`` vs a naive loop that
  refits every candidate model from scratch with statsmodels.
Above 200,000 customers the two straightforward routes would take tens of minutes, so they are
extrapolated from measured pieces (one CV fold; three statsmodels fits), and printed as such.
Nothing here is a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def make_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, dict[str, str]]:
    rng = np.random.default_rng(seed)
    cont = rng.normal(size=(n, 20))
    cat1 = rng.integers(0, 5, n)
    cat2 = rng.integers(0, 5, n)
    flags = (rng.random((n, 2)) < 0.2).astype(float)
    eta = (-2.0 + 0.5 * cont[:, 0] - 0.4 * cont[:, 1] + 0.3 * cont[:, 2] + 0.2 * cont[:, 3]
           + 0.1 * cont[:, 4] + np.array([0, 0.3, 0.6, -0.2, 0.1])[cat1] + 0.7 * flags[:, 0])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    cols = {f"x{i}": cont[:, i] for i in range(20)}
    groups = {}
    for name, cat in (("cat1", cat1), ("cat2", cat2)):
        for level in range(1, 5):
            cols[f"{name}={level}"] = (cat == level).astype(float)
            groups[f"{name}={level}"] = name
    cols["flag1"] = flags[:, 0]
    cols["flag2"] = flags[:, 1]
    return pd.DataFrame(cols), y, groups


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def naive_stepwise(X: pd.DataFrame, y: np.ndarray, groups: dict[str, str], max_steps: int) -> tuple[int, float]:
    """Backward/forward AIC steps refitting every candidate with statsmodels from scratch."""
    import statsmodels.api as sm

    terms = list(dict.fromkeys(groups.get(c, c) for c in X.columns))
    cols_of = {t: [c for c in X.columns if groups.get(c, c) == t] for t in terms}

    def aic(ts: list[str]) -> float:
        cols = [c for t in ts for c in cols_of[t]]
        A = sm.add_constant(X[cols].to_numpy(), has_constant="add")
        return float(sm.Logit(y, A).fit(disp=0, method="newton").aic)

    current = list(terms)
    cur = aic(current)
    steps = 0
    t0 = time.perf_counter()
    while steps < max_steps:
        cands = [("-", t, [u for u in current if u != t]) for t in current]
        cands += [("+", t, current + [t]) for t in terms if t not in current]
        scored = [(aic(ts), s, t, ts) for s, t, ts in cands]
        best = min(scored, key=lambda r: r[0])
        if best[0] >= cur - 1e-7:
            break
        cur, current = best[0], best[3]
        steps += 1
    return steps, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="50,000 customers")
    parser.add_argument("--n", type=int, default=None, help="number of customers")
    parser.add_argument("--naive-steps", type=int, default=None,
                        help="steps of the naive stepwise to run (default: all at n <= 200k; above, "
                             "3 fits are timed and multiplied by the number of fits)")
    parser.add_argument("--jobs", type=int, default=1, help="threads for the LASSO fold fits")
    parser.add_argument("--skip-sklearn", action="store_true", help="do not run the scikit-learn LASSO")
    args = parser.parse_args()
    n = args.n or (50_000 if args.quick else 1_000_000)
    naive_steps = args.naive_steps or 1000

    import statsmodels.api as sm

    from survchurn.scoring.lasso import LassoLogistic
    from survchurn.scoring.logistic import newton_logit
    from survchurn.scoring.stepwise import StepwiseLogistic

    X, y, groups = make_data(n)
    print(f"customers: {n:,}  candidate columns: {X.shape[1]}  churn rate: {y.mean():.3f}")
    A = np.ascontiguousarray(X.to_numpy())

    (_, ll, _, _), t_full = timed(lambda: newton_logit(A, y, np.arange(A.shape[1])))
    sm_res, t_full_sm = timed(lambda: sm.Logit(y, sm.add_constant(A)).fit(disp=0, method="newton"))
    print(f"full model     survchurn {t_full:7.2f} s   statsmodels {t_full_sm:7.2f} s   "
          f"ratio {t_full_sm / t_full:5.1f}x   |dloglik| {abs(ll - sm_res.llf):.2e}")

    las, t_lasso = timed(lambda: LassoLogistic(nfolds=10, seed=1, n_jobs=args.jobs).fit(X, y, groups=groups))
    print(f"LASSO 10-fold  survchurn {t_lasso:7.2f} s   ({len(las.path_)} lambdas x 11 fits, "
          f"{len(las.selected_)} columns selected at lambda.1se)")
    if not args.skip_sklearn:
        from sklearn.linear_model import LogisticRegression, LogisticRegressionCV

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if n <= 200_000:
                _, t_sk = timed(lambda: LogisticRegressionCV(penalty="l1", solver="liblinear", Cs=10, cv=10,
                                                             scoring="neg_log_loss", random_state=1).fit(A, y))
                how = "measured"
            else:  # one fold's 10 penalties, times 10 folds plus the final refit
                train = np.random.default_rng(1).random(n) < 0.9
                Cs = np.logspace(-4, 4, 10)

                def one_fold() -> None:
                    for C in Cs:
                        LogisticRegression(penalty="l1", solver="liblinear", C=C).fit(A[train], y[train])

                _, t_fold = timed(one_fold)
                t_sk = t_fold * 10 + t_fold / 10
                how = "extrapolated from 1 of 10 folds"
        print(f"               scikit-learn LogisticRegressionCV(l1, liblinear, 10 Cs) {t_sk:7.2f} s ({how})   "
              f"ratio {t_sk / t_lasso:5.1f}x (per penalty: {t_sk / 10 / (t_lasso / len(las.path_)):.0f}x)")

    st, t_step = timed(lambda: StepwiseLogistic(direction="both", criterion="aic").fit(X, y, groups=groups))
    n_steps = len(st.trace_) - 1
    print(f"stepwise       survchurn {t_step:7.2f} s   ({n_steps} steps, {st.result_.exact_refits} exact refits, "
          f"final {len(st.terms_)} terms: {', '.join(st.terms_)})")
    if n <= 200_000 or args.naive_steps:
        done, t_naive = naive_stepwise(X, y, groups, naive_steps)
        est = t_naive / max(done, 1) * max(n_steps, 1) if done < n_steps else t_naive
        label = "measured" if done >= n_steps else f"extrapolated from {done} step(s)"
    else:  # a naive step refits every candidate model: time 3 such fits and count them
        n_terms = len(dict.fromkeys(groups.get(c, c) for c in X.columns))
        cols = list(X.columns)

        def three_fits() -> None:
            for drop in range(3):
                keep = [c for c in cols if groups.get(c, c) != groups.get(cols[drop], cols[drop])]
                sm.Logit(y, sm.add_constant(X[keep].to_numpy(), has_constant="add")).fit(disp=0, method="newton")

        _, t3 = timed(three_fits)
        n_fits = 1 + (n_steps + 1) * n_terms  # every step evaluates every term (drop or add back)
        est = t3 / 3 * n_fits
        label = f"extrapolated: {n_fits} statsmodels fits at {t3 / 3:.1f} s"
    print(f"               naive statsmodels refits {est:7.2f} s ({label})   ratio {est / t_step:5.1f}x")
    total = t_full_sm + t_lasso + t_step
    print(f"whole warning-score fit (statsmodels full model + LASSO CV + stepwise): {total:.1f} s")


if __name__ == "__main__":
    main()
