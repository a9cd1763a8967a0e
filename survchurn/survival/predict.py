"""Forecasts for live customers from a fitted Cox model.

The baseline cumulative hazard is R's ``survfit.coxph`` estimator (Breslow for a Breslow fit,
the Efron-type estimator for an Efron fit; Kalbfleisch & Prentice 2002, 4.3), held flat after the
last event time of its stratum. For a customer with covariates ``x`` in stratum ``s``

    Lambda(t | x) = Lambda0_s(t) * exp((x - mean)' beta),    S(t | x) = exp(-Lambda(t | x)).

For a customer still active at tenure ``t0``:

- churn probability within ``H`` days: ``1 - S(t0 + H) / S(t0)``;
- expected remaining lifetime restricted to ``H`` days (an RMST):
  ``E[min(T - t0, H) | T > t0] = integral_{t0}^{t0+H} S(u) / S(t0) du``, exact for the step
  function. It is restricted because the curve is unknown after the last observed event time.

Intervals for the number of churners treat the customers as independent Bernoulli trials with
the predicted probabilities (Poisson-binomial: mean ``sum p``, variance ``sum p (1 - p)``, normal
approximation): :func:`expected_churners`. That ignores the uncertainty of the fitted model, so
it is too narrow when the model was fitted on few events. :func:`forecast_churners` adds it by
simulation: coefficients drawn from their estimated normal distribution, the baseline hazard
recomputed for each draw (so baseline and coefficients vary together), and the variance of the
expected count across draws added to the Bernoulli variance (law of total variance).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from survchurn.exceptions import ModelError
from survchurn.survival.cox import CoxPH, CoxResult

__all__ = [
    "baseline_cumulative_hazard",
    "churn_probability",
    "expected_churners",
    "expected_remaining_lifetime",
    "forecast_churners",
    "predict_survival",
]


def _result(model: CoxPH | CoxResult) -> CoxResult:
    res = model.result_ if isinstance(model, CoxPH) else model
    if not isinstance(res, CoxResult):
        raise ModelError("expected a fitted CoxPH model or its result_")
    return res


def baseline_cumulative_hazard(model: CoxPH | CoxResult) -> pd.DataFrame:
    """Baseline cumulative hazard and survival per stratum at the covariate means.

    Returns
    -------
    pandas.DataFrame
        Columns ``stratum``, ``time``, ``n_events``, ``hazard``, ``cumhaz``, ``surv``.
    """
    base = _result(model).baseline.copy()
    base["surv"] = np.exp(-base["cumhaz"])
    return base


def _strata_and_risk(res: CoxResult, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    risk = np.exp(res.design_matrix(table) @ res.params.to_numpy())
    codes = res.spec.strata_codes(table)
    if (codes < 0).any():
        bad = table.index[codes < 0][:5].tolist()
        raise ModelError(f"rows in strata not seen in the fit: {int((codes < 0).sum())} rows, "
                         f"e.g. {bad}; strata columns are {list(res.spec.strata)}")
    return codes, risk


def _cumhaz_at(res: CoxResult, codes: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Baseline cumulative hazard of each row's stratum at times ``t`` (rows x times)."""
    base = res.baseline
    out = np.zeros(t.shape)
    for s in np.unique(codes):
        b = base[base["stratum"] == s]
        times = b["time"].to_numpy()
        ch = np.concatenate([[0.0], b["cumhaz"].to_numpy()])
        rows = codes == s
        out[rows] = ch[np.searchsorted(times, t[rows], side="right")]
    return out


def predict_survival(model: CoxPH | CoxResult, table: pd.DataFrame,
                     times: Sequence[float]) -> pd.DataFrame:
    """Survival probabilities S(t | x) of new rows at ``times`` (rows x times), as survfit.coxph."""
    res = _result(model)
    codes, risk = _strata_and_risk(res, table)
    t = np.broadcast_to(np.asarray(times, dtype=np.float64), (len(table), len(times)))
    surv = np.exp(-_cumhaz_at(res, codes, t) * risk[:, None])
    return pd.DataFrame(surv, index=table.index, columns=list(times))


def _tenure(table: pd.DataFrame, tenure_col: str) -> np.ndarray:
    if tenure_col not in table.columns:
        raise ModelError(f"column {tenure_col!r} (current tenure of each live customer) not found")
    t0 = pd.to_numeric(table[tenure_col], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(t0) | (t0 < 0)
    if bad.any():
        raise ModelError(f"column {tenure_col!r}: tenure must be a number >= 0: {int(bad.sum())} "
                         f"rows, e.g. {table.index[bad][:5].tolist()}")
    return t0


def churn_probability(model: CoxPH | CoxResult, table: pd.DataFrame, horizon: float,
                      tenure_col: str = "duration") -> pd.Series:
    """P(churn within ``horizon`` days | still active at the current tenure).

    Parameters
    ----------
    model : CoxPH or CoxResult
    table : pandas.DataFrame
        Live customers with the model's covariates (and strata columns).
    horizon : float
        Days ahead, e.g. 90 for next quarter.
    tenure_col : str
        Current tenure ``t0`` in days as of the scoring date (``duration`` of a censored row).

    Returns
    -------
    pandas.Series
        ``1 - S(t0 + H) / S(t0)`` per customer.
    """
    if not horizon > 0:
        raise ModelError(f"horizon must be > 0 days, got {horizon}")
    res = _result(model)
    codes, risk = _strata_and_risk(res, table)
    t0 = _tenure(table, tenure_col)
    ch0 = _cumhaz_at(res, codes, t0)
    ch1 = _cumhaz_at(res, codes, t0 + horizon)
    p = -np.expm1(-(ch1 - ch0) * risk)
    return pd.Series(p, index=table.index, name=f"p_churn_{horizon:g}d")


def expected_remaining_lifetime(model: CoxPH | CoxResult, table: pd.DataFrame, horizon: float,
                                tenure_col: str = "duration") -> pd.Series:
    """Expected days of remaining life within the next ``horizon`` days (restricted mean).

    ``E[min(T - t0, H) | T > t0]``: integral of the conditional survival curve from ``t0`` to
    ``t0 + H``; at most ``horizon``. Exact for the step-function estimate (vectorised per
    stratum over the baseline's event times).
    """
    if not horizon > 0:
        raise ModelError(f"horizon must be > 0 days, got {horizon}")
    res = _result(model)
    codes, risk = _strata_and_risk(res, table)
    t0 = _tenure(table, tenure_col)
    out = np.zeros(len(table))
    base = res.baseline
    for s in np.unique(codes):
        b = base[base["stratum"] == s]
        times = b["time"].to_numpy()
        ch = np.concatenate([[0.0], b["cumhaz"].to_numpy()])
        rows = np.flatnonzero(codes == s)
        a, r = t0[rows], risk[rows]
        # knots: t0, the event times inside (t0, t0 + H), t0 + H
        lo = np.searchsorted(times, a, side="right")
        hi = np.searchsorted(times, a + horizon, side="right")
        ch0 = ch[lo]
        n_in = hi - lo  # event times inside (t0, t0 + H]
        total = np.zeros(rows.size)
        last = max(times.size - 1, 0)
        for k in range(int(n_in.max(initial=0)) + 1):
            valid = k <= n_in
            begin = a if k == 0 else times[np.minimum(lo + k - 1, last)]
            end = np.where(k < n_in, times[np.minimum(lo + k, last)] if times.size else a,
                           a + horizon)
            surv_k = np.exp(-(ch[np.minimum(lo + k, ch.size - 1)] - ch0) * r)
            total += np.where(valid, surv_k * (end - begin), 0.0)
        out[rows] = total
    return pd.Series(out, index=table.index, name=f"rmst_{horizon:g}d")


def expected_churners(probability: Any, segment: Any | None = None,
                      alpha: float = 0.05) -> pd.DataFrame:
    """Expected number of churners per segment with a normal-approximation interval.

    Parameters
    ----------
    probability : array-like
        Churn probabilities of the customers (e.g. from :func:`churn_probability`).
    segment : array-like, optional
        Segment label per customer; a row ``"all"`` is always included.
    alpha : float
        1 - coverage of the interval.

    Returns
    -------
    pandas.DataFrame
        ``customers``, ``expected``, ``sd`` (sqrt of sum p(1-p)), ``lower``, ``upper``
        (clipped to [0, customers]), ``rate`` per segment. Parameter uncertainty is ignored.
    """
    p = np.asarray(probability, dtype=np.float64)
    if p.ndim != 1 or ((p < 0) | (p > 1) | ~np.isfinite(p)).any():
        raise ModelError("probability must be a 1-d array of numbers in [0, 1]")
    z = stats.norm.ppf(1 - alpha / 2)
    frame = pd.DataFrame({"p": p, "v": p * (1 - p)})
    groups = {"all": frame}
    if segment is not None:
        seg = np.asarray(segment)
        if seg.shape != p.shape:
            raise ModelError("segment must have one label per probability")
        for key, g in frame.groupby(seg, sort=True):
            groups[key] = g
    rows = []
    for key, g in groups.items():
        n, mu, sd = len(g), float(g["p"].sum()), float(np.sqrt(g["v"].sum()))
        rows.append({"segment": key, "customers": n, "expected": mu, "sd": sd,
                     "lower": max(0.0, mu - z * sd), "upper": min(float(n), mu + z * sd),
                     "rate": mu / n if n else np.nan})
    return pd.DataFrame(rows).set_index("segment")


def forecast_churners(model: CoxPH | CoxResult, table: pd.DataFrame, horizon: float,
                      segment_col: str | None = None, tenure_col: str = "duration",
                      alpha: float = 0.05, n_draws: int = 200, seed: int = 0) -> pd.DataFrame:
    """Expected churners within ``horizon`` days per segment, with model uncertainty.

    Parameters
    ----------
    model : CoxPH or CoxResult
    table : pandas.DataFrame
        Live customers: covariates, strata columns, current tenure.
    horizon : float
        Days ahead.
    segment_col : str, optional
        Column with the segment of each customer; a row ``"all"`` is always included.
    tenure_col : str
        Current tenure in days.
    alpha : float
        1 - coverage of the normal-approximation interval.
    n_draws : int
        Coefficient draws from N(beta_hat, var) (the robust covariance for a robust fit); 0
        gives the Bernoulli-only interval of :func:`expected_churners`.
    seed : int
        Seed of ``np.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        Per segment: ``customers``, ``expected``, ``sd_bernoulli``, ``sd_model``, ``sd``,
        ``lower``, ``upper``, ``rate``.
    """
    res = _result(model)
    p_hat = churn_probability(res, table, horizon, tenure_col).to_numpy()
    seg = None if segment_col is None else table[segment_col].to_numpy()
    base = expected_churners(p_hat, seg, alpha).rename(columns={"sd": "sd_bernoulli"})
    base["sd_model"] = 0.0
    if n_draws > 0:
        eng = res._engine
        if eng is None or res._center is None:
            raise ModelError("forecast_churners needs the fitted model (its risk sets)")
        codes, _ = _strata_and_risk(res, table)
        t0 = _tenure(table, tenure_col)
        # global positions of the last event time <= t in the customer's stratum (-1: none)
        pos0 = np.full(len(table), -1)
        pos1 = np.full(len(table), -1)
        for s in np.unique(codes):
            lo, hi = np.searchsorted(eng.stratum_j, [s, s + 1])
            rows = codes == s
            for pos, t in ((pos0, t0), (pos1, t0 + horizon)):
                k = np.searchsorted(eng.time_j[lo:hi], t[rows], side="right") - 1
                pos[rows] = np.where(k >= 0, k + lo, -1)
        Xn = res.spec.matrix(table) - res._center
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(res.params.to_numpy(), res.var, size=n_draws,
                                        method="cholesky")
        keys = ["all"] + ([] if seg is None else list(base.index[1:]))
        totals = np.zeros((n_draws, len(keys)))
        for b, beta in enumerate(draws):
            ev = eng.evaluate(beta, need_information=False)
            cum = eng._within_stratum_cumsum(eng.baseline_hazard_increments(ev))
            cum = np.append(cum, 0.0)  # index -1 -> 0
            p = -np.expm1(-(cum[pos1] - cum[pos0]) * np.exp(Xn @ beta))
            totals[b, 0] = p.sum()
            for k, key in enumerate(keys[1:], 1):
                totals[b, k] = p[seg == key].sum()
        base["sd_model"] = totals.std(axis=0, ddof=1)
    z = stats.norm.ppf(1 - alpha / 2)
    base["sd"] = np.sqrt(base["sd_bernoulli"] ** 2 + base["sd_model"] ** 2)
    base["lower"] = np.maximum(0.0, base["expected"] - z * base["sd"])
    base["upper"] = np.minimum(base["customers"].astype(float), base["expected"] + z * base["sd"])
    cols = ["customers", "expected", "sd_bernoulli", "sd_model", "sd", "lower", "upper", "rate"]
    return base[cols]
