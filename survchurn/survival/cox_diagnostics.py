"""Proportional-hazards diagnostics for :class:`~survchurn.survival.cox.CoxPH` (R's ``cox.zph``).

The test is the score test of survival 3.x (Therneau 2019, ``cox.zph`` rewrite; Grambsch &
Therneau 1994, Biometrika 81:515): the model is extended with ``x * g(t)`` for a transform
``g`` of time, and the score for the new coefficients at ``(beta_hat, 0)`` is tested against the
full information matrix of the extended model. Per covariate (all indicator columns of a
categorical covariate together, as R's ``terms=TRUE``) and a GLOBAL test.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from survchurn._display import Result
from survchurn.exceptions import ModelError, ProportionalHazardsWarning
from survchurn.survival.cox import CoxPH, CoxResult

__all__ = ["ZphResult", "check_proportional_hazards", "cox_zph"]

_TRANSFORMS = ("km", "rank", "identity", "log")


class ZphResult(Result):
    """Result of :func:`cox_zph`.

    Attributes
    ----------
    table : pandas.DataFrame
        ``chisq``, ``df``, ``p`` per covariate and GLOBAL.
    x : ndarray
        Transformed event times (one per event, sorted by stratum and time).
    time : ndarray
        Event times.
    residuals : pandas.DataFrame
        Scaled Schoenfeld residuals, one column per design column (``beta(t)`` estimates).
    transform : str
    alpha : float
    """

    _title = "ZphResult (proportional-hazards test)"

    def __init__(self, table: pd.DataFrame, x: np.ndarray, time: np.ndarray,
                 residuals: pd.DataFrame, transform: str, alpha: float,
                 coef: pd.Series) -> None:
        self.table = table
        self.x = x
        self.time = time
        self.residuals = residuals
        self.transform = transform
        self.alpha = alpha
        self.coef = coef

    def to_frame(self) -> pd.DataFrame:
        """The test table (chisq, df, p) with a ``violated`` flag at level ``alpha``."""
        out = self.table.copy()
        out["violated"] = out["p"] < self.alpha
        return out

    @property
    def failing(self) -> list[str]:
        """Covariates whose test rejects proportional hazards at ``alpha``."""
        t = self.table.drop(index="GLOBAL", errors="ignore")
        return list(t.index[t["p"] < self.alpha])

    @property
    def advice(self) -> str:
        """What to do about the covariates that fail (empty when none fails)."""
        bad = self.failing
        if not bad:
            return ""
        return (f"proportional hazards rejected at alpha={self.alpha:g} for {bad} "
                f"(transform {self.transform!r}). Advice: stratify on a categorical one "
                "(CoxPH().fit(..., strata=[...])) so it gets its own baseline hazard, or add a "
                "time interaction (split follow-up at a cut time and fit x * period), and look at "
                "survchurn.plotting.ph.plot_schoenfeld to see how the effect changes over time.")

    def _header(self) -> dict[str, Any]:
        h: dict[str, Any] = {"transform": self.transform, "events": len(self.time)}
        if self.advice:
            h["advice"] = self.advice
        return h


def _transformed_times(res: CoxResult, transform: str) -> np.ndarray:
    """g(t) for every row's stop time, as R's cox.zph (sorted row order)."""
    eng = res._engine
    t = eng.stop
    if transform == "identity":
        return t.copy()
    if transform == "log":
        return np.log(t)
    if transform == "rank":
        return stats.rankdata(t)
    # km: 1 - KM(t-) of all rows pooled (ignoring strata), with late entry when present
    ev_t = t[eng.event]
    ut, d = np.unique(ev_t, return_counts=True)
    n_at = np.searchsorted(np.sort(t), ut, side="left")
    n_risk = t.size - n_at
    if eng.start is not None:
        n_risk = n_risk - (eng.start.size - np.searchsorted(np.sort(eng.start), ut, side="left"))
    surv = np.cumprod(1.0 - d / n_risk)
    idx = np.searchsorted(ut, t, side="left")  # number of event times strictly before t
    return 1.0 - np.concatenate([[1.0], surv])[idx]


def cox_zph(model: CoxPH | CoxResult, transform: str = "km", alpha: float = 0.05) -> ZphResult:
    """Test the proportional-hazards assumption per covariate and globally (R's ``cox.zph``).

    Parameters
    ----------
    model : CoxPH or CoxResult
        A fitted model (or its ``result_``).
    transform : {"km", "rank", "identity", "log"}
        Time scale of the test (R's default ``"km"``: one minus the pooled Kaplan-Meier).
    alpha : float
        Level at which :attr:`ZphResult.failing` flags a covariate.

    Returns
    -------
    ZphResult
    """
    res = model.result_ if isinstance(model, CoxPH) else model
    if not isinstance(res, CoxResult) or res._engine is None:
        raise ModelError("cox_zph needs a fitted CoxPH model or its result_")
    if transform not in _TRANSFORMS:
        raise ModelError(f"transform must be one of {_TRANSFORMS}, got {transform!r}")
    eng, ev = res._engine, res._evaluation
    p = eng.p
    gt_rows = _transformed_times(res, transform)
    gtime = gt_rows - gt_rows[eng.ev_idx].mean()
    g_j = gtime[eng.ev_first]  # per event time
    l2 = res.penalty * (1 - res.l1_ratio)
    i0 = eng.information(ev)
    i1 = eng.information(ev, block_weight=g_j)
    i2 = eng.information(ev, block_weight=g_j**2)
    imat = np.block([[i0, i1], [i1, i2]]) + l2 * np.eye(2 * p)
    mean_j = eng.event_time_mean(ev)
    schoen = eng.X[eng.ev_idx] - mean_j[eng.ev_block]  # per event, sorted
    u_new = (gtime[eng.ev_idx][:, None] * schoen).sum(axis=0)

    names = list(res.params.index)
    term_of = res.spec.term_of()
    terms = list(dict.fromkeys(term_of[c] for c in names))
    rows = {}
    for term in terms + ["GLOBAL"]:
        jj = np.arange(p) if term == "GLOBAL" else np.array(
            [i for i, c in enumerate(names) if term_of[c] == term])
        kk = np.concatenate([np.arange(p), p + jj])
        u = np.concatenate([np.zeros(p), u_new[jj]])
        stat = float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u))
        rows[term] = {"chisq": stat, "df": int(jj.size), "p": float(stats.chi2.sf(stat, jj.size))}
    table = pd.DataFrame(rows).T
    table["df"] = table["df"].astype(int)
    # scaled Schoenfeld residuals (Grambsch & Therneau 1994): beta + n_events * r V^-1
    ndead = eng.ev_idx.size
    scaled = ndead * np.linalg.solve(i0 + l2 * np.eye(p), schoen.T).T + res.params.to_numpy()
    resid = pd.DataFrame(scaled, columns=names)
    return ZphResult(table, gt_rows[eng.ev_idx], eng.stop[eng.ev_idx], resid, transform, alpha,
                     res.params)


def check_proportional_hazards(model: CoxPH | CoxResult, transform: str = "km",
                               alpha: float = 0.05) -> ZphResult:
    """Run :func:`cox_zph` and emit a :class:`ProportionalHazardsWarning` with advice if any fail."""
    z = cox_zph(model, transform=transform, alpha=alpha)
    if z.failing:
        warnings.warn(z.advice, ProportionalHazardsWarning, stacklevel=2)
    return z
