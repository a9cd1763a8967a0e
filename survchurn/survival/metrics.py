"""Evaluation metrics for survival predictions: concordance, time-dependent AUC, Brier, calibration.

Conventions: ``risk`` is a score where *higher means earlier churn* (a Cox linear predictor, a
warning score); ``surv_prob`` is a predicted probability of still being a customer at a time.

References
----------
- Harrell, Lee & Mark (1996), Stat Med 15:361; counting and its infinitesimal-jackknife variance
  as R's ``survival::concordance`` (Therneau, "The concordance statistic" vignette, survival 3.x).
- Uno, Cai, Pencina, D'Agostino & Wei (2011), Stat Med 30:1105 (IPCW C truncated at tau).
- Uno, Cai, Tian & Wei (2007), JASA 102:527; Hung & Chiang (2010) (cumulative/dynamic AUC).
- Graf, Schmoor, Sauerbrei & Schumacher (1999), Stat Med 18:2529 (IPCW Brier score).
The IPCW formulas follow scikit-survival's documented definitions (``concordance_index_ipcw``,
``cumulative_dynamic_auc``, ``brier_score``): censoring survival ``G`` is the Kaplan-Meier
estimate of the censoring distribution on the training data, evaluated at ``t-`` for events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.exceptions import ModelError

__all__ = [
    "ConcordanceResult",
    "brier_score",
    "calibration_at_horizon",
    "censoring_survival",
    "concordance_index",
    "cumulative_dynamic_auc",
    "integrated_brier_score",
    "uno_concordance",
]


# --------------------------------------------------------------------------- counting kernel
def _count_above(a_p: np.ndarray, b_p: np.ndarray, a_q: np.ndarray, b_q: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each query q: among points with ``a_p > a_q``, how many have b below, equal, any.

    Vectorised O(n log n * log A) with A the number of distinct ``a`` values (event-time keys;
    small for day-level churn data). ``a_p > a_q`` is split over the bits of the dense rank of
    ``a``: at bit L the point has 1 and the query 0 and both agree on the higher bits. Per bit,
    elements are ordered by (higher bits, b) with a stable radix sort of the b-sorted order, and
    the points before a query's b-run in its group are counted with one cumulative sum.
    """
    nq, npt = a_q.size, a_p.size
    if npt == 0 or nq == 0:
        z = np.zeros(nq, dtype=np.int64)
        return z, z.copy(), z.copy()
    total = npt - np.searchsorted(np.sort(a_p), np.sort(a_q), side="right")
    total = total[np.argsort(np.argsort(a_q, kind="stable"), kind="stable")]
    a = np.unique(np.concatenate([a_p, a_q]), return_inverse=True)[1].ravel()
    b = np.unique(np.concatenate([b_p, b_q]), return_inverse=True)[1].ravel()
    n = a.size
    ord_b = np.argsort(b, kind="stable")
    a_o, b_o = a.take(ord_b), b.take(ord_b)
    below = np.zeros(n, dtype=np.int64)
    equal = np.zeros(n, dtype=np.int64)
    for level in range(int(a.max()).bit_length()):
        g = a_o >> (level + 1)
        perm = np.argsort(g.astype(np.min_scalar_type(int(g.max()))), kind="stable")
        g_s, b_s, pos = g.take(perm), b_o.take(perm), ord_b.take(perm)
        bit_s = ((a_o.take(perm) >> level) & 1).astype(bool)
        q_s = pos >= npt
        c = np.concatenate([[0], np.cumsum(~q_s & bit_s)])  # points strictly before position k
        new_g = np.ones(n, dtype=bool)
        new_g[1:] = g_s[1:] != g_s[:-1]
        new_run = new_g.copy()
        new_run[1:] |= b_s[1:] != b_s[:-1]
        g_start = np.maximum.accumulate(np.where(new_g, np.arange(n), 0))
        runs = np.flatnonzero(new_run)
        run_len = np.diff(np.append(runs, n))
        sel = np.flatnonzero(q_s & ~bit_s)
        r_start = np.repeat(runs, run_len).take(sel)
        r_end = r_start + np.repeat(run_len, run_len).take(sel)
        target = pos.take(sel)
        below[target] += c.take(r_start) - c.take(g_start.take(sel))
        equal[target] += c.take(r_end) - c.take(r_start)
    return below[npt:], equal[npt:], total


@dataclass(repr=False)
class ConcordanceResult(Result):
    """Harrell's concordance with pair counts and its standard error (as R's ``concordance``)."""

    concordance: float
    var: float
    counts: pd.Series
    n: int
    _title = "ConcordanceResult"

    @property
    def std(self) -> float:
        """Standard error of the concordance (infinitesimal jackknife)."""
        return float(np.sqrt(self.var))

    def to_frame(self) -> pd.DataFrame:
        """One row: concordance, std and the pair counts."""
        row = {"concordance": self.concordance, "std": self.std, **self.counts.to_dict()}
        return pd.DataFrame([row])

    def _header(self) -> dict[str, Any]:
        return {"n": self.n, "concordance": self.concordance, "std": self.std}


def _as_arrays(duration: Any, risk: Any, event: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(duration, dtype=np.float64)
    r = np.asarray(risk, dtype=np.float64)
    e = np.asarray(event)
    if not (t.shape == r.shape == e.shape) or t.ndim != 1:
        raise ModelError(f"duration, risk and event must be 1-d of the same length, got shapes "
                         f"{t.shape}, {r.shape}, {e.shape}")
    bad = ~np.isfinite(t) | ~np.isfinite(r)
    if bad.any():
        raise ModelError(f"duration/risk contain NaN or infinite values: {int(bad.sum())} rows, "
                         f"e.g. positions {np.flatnonzero(bad)[:5].tolist()}; drop them first")
    if not np.isin(e, (0, 1)).all():
        raise ModelError("event must be 0 (censored) or 1 (churned): "
                         f"{int((~np.isin(e, (0, 1))).sum())} rows are not")
    return t, r, e.astype(bool)


def _concordance_stratum(t: np.ndarray, r: np.ndarray, e: np.ndarray, s: np.ndarray | None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Counts (5,) and per-row influence (n, 3: concordant, discordant, tied risk)."""
    n = t.size
    vals = np.unique(t if s is None else np.concatenate([t, s]))
    rk = np.searchsorted(vals, t).astype(np.int64)
    b = np.unique(r, return_inverse=True)[1].astype(np.int64).ravel()
    key = 2 * rk + (~e).astype(np.int64)  # censored at t sorts after events at t
    ev = np.flatnonzero(e)
    q = 2 * rk[ev]
    below, equal, total = _count_above(key, b, q, b[ev])
    if s is not None:  # not yet entered: start_j >= t_i
        sk = 2 * np.searchsorted(vals, s).astype(np.int64) + 1
        b2, e2, t2 = _count_above(sk, b, q, b[ev])
        below, equal, total = below - b2, equal - e2, total - t2
    infl = np.zeros((n, 3))
    infl[ev, 0] += below
    infl[ev, 1] += total - below - equal
    infl[ev, 2] += equal
    # the same pairs seen from the later member j: events i with q_i < key_j
    below_j, equal_j, total_j = _count_above(-q, -b[ev], -key, -b)
    if s is not None:
        sk = 2 * np.searchsorted(vals, s).astype(np.int64) + 1
        b2, e2, t2 = _count_above(-q, -b[ev], -sk, -b)
        below_j, equal_j, total_j = below_j - b2, equal_j - e2, total_j - t2
    infl[:, 0] += below_j
    infl[:, 1] += total_j - below_j - equal_j
    infl[:, 2] += equal_j
    # tied event times
    _, cnt_t = np.unique(t[ev], return_counts=True)
    tied_y = float((cnt_t * (cnt_t - 1) / 2).sum())
    o = np.lexsort((r[ev], t[ev]))
    te, re_ = t[ev][o], r[ev][o]
    brk = np.ones(te.size, dtype=bool)
    brk[1:] = (te[1:] != te[:-1]) | (re_[1:] != re_[:-1])
    cnt_tx = np.diff(np.append(np.flatnonzero(brk), te.size))
    tied_xy = float((cnt_tx * (cnt_tx - 1) / 2).sum())
    counts = np.array([below.sum(), (total - below - equal).sum(), equal.sum(),
                       tied_y - tied_xy, tied_xy], dtype=np.float64)
    return counts, infl


def concordance_index(
    duration: Any,
    risk: Any,
    event: Any,
    entry: Any | None = None,
    strata: Any | None = None,
    cluster: Any | None = None,
) -> ConcordanceResult:
    """Harrell's C: share of comparable pairs in which the higher risk churns first.

    Matches R's ``concordance()`` on a Cox fit (``timewt="n"``): a pair is comparable when the
    earlier time is an event and the other row is still at risk then (a censoring at the same
    time counts as later; with ``entry`` the other row must have entered before); pairs tied
    on risk count 1/2; tied event times are not comparable. Only pairs within a stratum count.

    Parameters
    ----------
    duration, event : array-like
        Exit times and 0/1 churn indicators.
    risk : array-like
        Score, higher = earlier churn (e.g. a Cox linear predictor).
    entry : array-like, optional
        Entry times for (entry, duration] rows.
    strata : array-like, optional
        Stratum labels.
    cluster : array-like, optional
        Cluster ids: the jackknife influence is summed per cluster (as R with ``cluster``).

    Returns
    -------
    ConcordanceResult
        ``concordance``, ``std`` (R's ``sqrt(var)``, infinitesimal jackknife) and the counts
        concordant / discordant / tied.x / tied.y / tied.xy.
    """
    t, r, e = _as_arrays(duration, risk, event)
    s = None if entry is None else np.asarray(entry, dtype=np.float64)
    groups = [np.arange(t.size)] if strata is None else [
        np.flatnonzero(codes == k) for codes in [pd.factorize(np.asarray(strata))[0]]
        for k in range(codes.max() + 1)]
    counts = np.zeros(5)
    infl = np.zeros((t.size, 3))
    for g in groups:
        c, inf = _concordance_stratum(t[g], r[g], e[g], None if s is None else s[g])
        counts += c
        infl[g] = inf
    npair = counts[:3].sum()
    if npair == 0:
        raise ModelError("no comparable pairs: concordance needs at least one churn before "
                         "another customer's exit")
    somer = (counts[0] - counts[1]) / npair
    dfbeta = ((infl[:, 0] - infl[:, 1]) - somer * infl.sum(axis=1)) / npair
    if cluster is not None:
        codes = pd.factorize(np.asarray(cluster))[0]
        dfbeta = np.bincount(codes, weights=dfbeta)
    names = ["concordant", "discordant", "tied.x", "tied.y", "tied.xy"]
    return ConcordanceResult(concordance=(somer + 1) / 2, var=float((dfbeta**2).sum() / 4),
                             counts=pd.Series(counts, index=names), n=int(t.size))


# --------------------------------------------------------------------------- IPCW metrics
def censoring_survival(duration: Any, event: Any) -> Any:
    """Kaplan-Meier estimate of the censoring survival ``G``, returned as ``G(t-)``.

    Censorings are the "events"; an event and a censoring at the same time are ordered event
    first, so the censoring risk set at ``t`` is every row with time >= t. ``G(t-)`` (the left
    limit: censorings strictly before ``t``) is what Graf et al. (1999) and Uno et al. (2011)
    use for an event at ``t``; for survivors at a horizon ``t`` the Brier score uses ``G(t)``,
    i.e. this function at ``t`` plus the smallest step (see :func:`brier_score`).
    """
    t = np.asarray(duration, dtype=np.float64)
    cens = ~np.asarray(event).astype(bool)
    ut, c = np.unique(t[cens], return_counts=True)
    at_risk = t.size - np.searchsorted(np.sort(t), ut, side="left")
    g = np.cumprod(1.0 - c / at_risk)

    def g_left(x: Any) -> np.ndarray:
        idx = np.searchsorted(ut, np.asarray(x, dtype=np.float64), side="left")
        return np.concatenate([[1.0], g])[idx]

    def g_right(x: Any) -> np.ndarray:
        idx = np.searchsorted(ut, np.asarray(x, dtype=np.float64), side="right")
        return np.concatenate([[1.0], g])[idx]

    g_left.right = g_right  # type: ignore[attr-defined]
    return g_left


def _train(duration: np.ndarray, event: np.ndarray, train: tuple[Any, Any] | None) -> Any:
    if train is None:
        return censoring_survival(duration, event)
    return censoring_survival(*train)


def uno_concordance(duration: Any, risk: Any, event: Any, tau: float | None = None,
                    train: tuple[Any, Any] | None = None) -> float:
    """Uno's C: IPCW concordance truncated at ``tau`` (Uno et al. 2011).

    ``C = sum_{i,j} d_i G(t_i-)^-2 I(t_i < t_j, t_i < tau) [I(r_i > r_j) + I(r_i = r_j)/2]
    / sum_{i,j} d_i G(t_i-)^-2 I(t_i < t_j, t_i < tau)``, as scikit-survival's
    ``concordance_index_ipcw`` documents it (risk ties count 1/2). ``G`` is the censoring
    Kaplan-Meier of ``train = (duration, event)`` (default: the same data). Choose ``tau`` where
    ``G(tau)`` is still well above 0. O(n log^2 n).
    """
    t, r, e = _as_arrays(duration, risk, event)
    G = _train(t, e, train)
    tau = np.inf if tau is None else float(tau)
    ev = np.flatnonzero(e & (t < tau))
    g = G(t[ev])
    if (g <= 0).any():
        raise ModelError("censoring survival G reaches 0 before some event times: lower tau")
    w = 1.0 / g**2
    rk = np.searchsorted(np.unique(t), t).astype(np.int64)
    b = np.unique(r, return_inverse=True)[1].astype(np.int64).ravel()
    below, equal, total = _count_above(rk, b, rk[ev], b[ev])
    den = float(w @ total)
    if den == 0:
        raise ModelError("no comparable pairs before tau")
    return float(w @ (below + 0.5 * equal)) / den


def cumulative_dynamic_auc(duration: Any, risk: Any, event: Any, times: Sequence[float],
                           train: tuple[Any, Any] | None = None) -> pd.Series:
    """Cumulative/dynamic AUC at ``times`` (Uno et al. 2007; Hung & Chiang 2010).

    Cases: churned by ``t`` (weight ``1/G(t_i-)``); controls: still active after ``t``.
    ``AUC(t) = sum_i sum_j w_i I(t_i <= t, d_i) I(t_j > t) [I(r_i > r_j) + I(r_i = r_j)/2]
    / (sum_i w_i I(t_i <= t, d_i) * #controls)`` as documented for scikit-survival's
    ``cumulative_dynamic_auc``. O(n log n) per time.
    """
    t, r, e = _as_arrays(duration, risk, event)
    G = _train(t, e, train)
    out = {}
    for tt in np.asarray(times, dtype=np.float64):
        cases = np.flatnonzero(e & (t <= tt))
        ctrl = np.sort(r[t > tt])
        if cases.size == 0 or ctrl.size == 0:
            out[float(tt)] = np.nan
            continue
        w = 1.0 / G(t[cases])
        lo = np.searchsorted(ctrl, r[cases], side="left")
        hi = np.searchsorted(ctrl, r[cases], side="right")
        out[float(tt)] = float(w @ (lo + 0.5 * (hi - lo))) / (w.sum() * ctrl.size)
    return pd.Series(out, name="auc").rename_axis("time")


def brier_score(duration: Any, event: Any, surv_prob: Any, times: Sequence[float],
                train: tuple[Any, Any] | None = None) -> pd.Series:
    """IPCW Brier score at ``times`` (Graf et al. 1999).

    ``BS(t) = 1/n sum_i [ I(t_i <= t, d_i) S_i(t)^2 / G(t_i-) + I(t_i > t) (1 - S_i(t))^2 / G(t) ]``
    with ``surv_prob[i, k] = S_i(times[k])`` (predicted probability of still being a customer).
    Censored rows before ``t`` get weight 0. Lower is better; 0.25 is a coin flip at S = 0.5.
    """
    t = np.asarray(duration, dtype=np.float64)
    e = np.asarray(event).astype(bool)
    times = np.asarray(times, dtype=np.float64)
    S = np.asarray(surv_prob, dtype=np.float64).reshape(t.size, times.size)
    G = _train(t, e, train)
    g_ev = G(t)
    out = {}
    for k, tt in enumerate(times):
        case = e & (t <= tt)
        alive = t > tt
        g_t = float(G.right(tt))
        if g_t <= 0:
            raise ModelError(f"censoring survival is 0 at t={tt:g}: choose earlier times")
        with np.errstate(divide="ignore", invalid="ignore"):
            contrib = np.where(case, S[:, k] ** 2 / g_ev, 0.0)
        contrib += np.where(alive, (1 - S[:, k]) ** 2 / g_t, 0.0)
        out[float(tt)] = float(contrib.mean())
    return pd.Series(out, name="brier").rename_axis("time")


def integrated_brier_score(duration: Any, event: Any, surv_prob: Any, times: Sequence[float],
                           train: tuple[Any, Any] | None = None) -> float:
    """Brier score integrated over ``times`` by the trapezoid rule, divided by the time span."""
    times = np.asarray(times, dtype=np.float64)
    if times.size < 2 or np.any(np.diff(times) <= 0):
        raise ModelError("integrated_brier_score needs at least 2 increasing times")
    bs = brier_score(duration, event, surv_prob, times, train).to_numpy()
    return float(np.trapezoid(bs, times) / (times[-1] - times[0]))


def _km_at(t: np.ndarray, e: np.ndarray, h: float) -> tuple[float, float]:
    """Kaplan-Meier S(h) and its Greenwood standard error."""
    ut, d = np.unique(t[e & (t <= h)], return_counts=True)
    n_risk = t.size - np.searchsorted(np.sort(t), ut, side="left")
    s = float(np.prod(1 - d / n_risk))
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.sum(d / (n_risk * (n_risk - d)))
    return s, float(s * np.sqrt(gw)) if np.isfinite(gw) else np.nan


def calibration_at_horizon(duration: Any, event: Any, churn_prob: Any, horizon: float,
                           n_bins: int = 10, alpha: float = 0.05) -> pd.DataFrame:
    """Predicted vs Kaplan-Meier-observed churn by ``horizon`` within risk groups.

    Customers are cut into ``n_bins`` quantile groups of predicted churn probability; in each,
    the observed churn share is ``1 - KM(horizon)`` (censoring-aware) with a plain Greenwood
    interval.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``n``, ``events``, ``predicted`` (mean probability), ``observed``,
        ``observed_lower``, ``observed_upper``.
    """
    from scipy import stats

    t = np.asarray(duration, dtype=np.float64)
    e = np.asarray(event).astype(bool)
    p = np.asarray(churn_prob, dtype=np.float64)
    if not (t.shape == e.shape == p.shape):
        raise ModelError("duration, event and churn_prob must have the same length")
    bins = pd.qcut(pd.Series(p).rank(method="first"), q=n_bins, labels=False)
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for k in range(n_bins):
        m = (bins == k).to_numpy()
        s, se = _km_at(t[m], e[m], horizon)
        rows.append({"group": k + 1, "n": int(m.sum()), "events": int((e[m] & (t[m] <= horizon)).sum()),
                     "predicted": float(p[m].mean()), "observed": 1 - s,
                     "observed_lower": max(0.0, 1 - s - z * se), "observed_upper": min(1.0, 1 - s + z * se)})
    return pd.DataFrame(rows).set_index("group")
