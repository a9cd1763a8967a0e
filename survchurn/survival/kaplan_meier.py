"""Kaplan-Meier survival curves with R-grade numbers (as R's ``survival::survfit``).

Every number here reproduces R's survival 3.5-3 (``tests/reference/km_logrank.R``):

* survival: the product-limit estimator ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` (Kaplan &
  Meier 1958), with risk sets ``n_i`` from counting-process data (late entry allowed);
* standard errors by Greenwood's formula. R's ``survfit()$std.err`` is the standard error of the
  cumulative hazard ``-log S(t)``: ``sqrt(sum d_i / (n_i (n_i - d_i)))``; it is exposed as
  ``std_err_cumhaz``. The standard error of ``S(t)`` itself (what ``summary.survfit`` prints) is
  ``S(t) * std_err_cumhaz`` and is exposed as ``std_err``;
* pointwise confidence intervals as R's ``survfit_confint``: ``"log-log"`` (the default here,
  as lifelines and SAS: ``exp(-exp(log(-log S) -/+ z se / log S))``; always inside [0, 1] and
  with better coverage in the tails, Borgan & Liestol 1990; undefined, hence NaN, where
  S is 0 or 1 as in R), ``"log"`` (R's default: ``S exp(-/+ z se)``, upper end capped at 1) and
  ``"plain"`` (``S -/+ z S se``, clipped to [0, 1]);
* quantiles and their confidence limits as ``quantile.survfit`` (the first time the curve
  reaches 1 - p, the midpoint where it is flat at exactly 1 - p; limits read off the confidence
  bands, Brookmeyer & Crowley 1982); NaN with ``reached = False`` when not reached;
* restricted mean survival time up to ``tau`` and its standard error as ``print.survfit(rmean=)``:
  ``var = sum_i A_i^2 d_i / (n_i (n_i - d_i))`` with ``A_i`` the area under the curve from the
  i-th time to ``tau`` (Klein & Moeschberger 2003, section 4.5);
* the Nelson-Aalen cumulative hazard ``sum d_i / n_i`` with variance ``sum d_i / n_i^2``, as
  ``survfit()$cumhaz`` and ``$std.chaz``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from survchurn._display import Result
from survchurn.exceptions import ConfigError, ModelError
from survchurn.survival._counts import SurvivalCounts, counts_from_frame

__all__ = ["CONF_TYPES", "KaplanMeier", "KaplanMeierResult", "confidence_limits"]

logger = logging.getLogger(__name__)

CONF_TYPES = ("log-log", "log", "plain")
_TOL = np.sqrt(np.finfo(float).eps)  # R's tolerance in quantile.survfit


def _check_settings(conf_type: str, alpha: float) -> None:
    if conf_type not in CONF_TYPES:
        raise ConfigError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1 (0.05 gives 95% intervals), got {alpha!r}")


def confidence_limits(surv: np.ndarray, se_cumhaz: np.ndarray, conf_type: str,
                      alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits for S(t) from the standard error of -log S(t), as R's survfit_confint.

    Parameters
    ----------
    surv, se_cumhaz : ndarray
        Survival and the standard error of the cumulative hazard (R's ``std.err``).
    conf_type : {"log-log", "log", "plain"}
    alpha : float
        Significance level; 0.05 gives 95% limits.

    Returns
    -------
    lower, upper : ndarray
        NaN where the transform is undefined (S = 0 for "log"; S = 0 or 1 for "log-log").
    """
    _check_settings(conf_type, alpha)
    z = norm.ppf(1 - alpha / 2)
    s = np.asarray(surv, float)
    se = np.asarray(se_cumhaz, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = z * se * s
            return np.maximum(s - half, 0.0), np.minimum(s + half, 1.0)
        if conf_type == "log":
            xx = np.where(s == 0, np.nan, s)
            return np.exp(np.log(xx) - z * se), np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        xx = np.where((s == 0) | (s == 1), np.nan, s)
        step = z * se / np.log(xx)
        lower = np.exp(-np.exp(np.log(-np.log(xx)) - step))
        upper = np.exp(-np.exp(np.log(-np.log(xx)) + step))
        return lower, upper


def _curve(t: pd.DataFrame) -> pd.DataFrame:
    """Product-limit and Nelson-Aalen estimates at the event and censoring times of one group."""
    t = t[(t["n_event"] + t["n_censor"]) > 0]
    n = t["n_risk"].to_numpy(float)
    d = t["n_event"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n)
        greenwood = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
        cumhaz = np.cumsum(d / n)
        var_chaz = np.cumsum(d / n**2)
        se_log = np.sqrt(greenwood)
        se_s = surv * se_log
    return pd.DataFrame({
        "group": t["group"].to_numpy(), "time": t["time"].to_numpy(float),
        "n_risk": t["n_risk"].to_numpy(), "n_event": t["n_event"].to_numpy(),
        "n_censor": t["n_censor"].to_numpy(), "survival": surv, "std_err": se_s,
        "std_err_cumhaz": se_log, "cumhaz": cumhaz, "cumhaz_var": var_chaz,
    })


def _findq(x: np.ndarray, f: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantile times of a distribution function F (with F(x[0]) = 0), as R's ``findq``."""
    out = np.full(len(probs), np.nan)
    if np.all(np.isnan(f)) or np.nanmax(f) < probs.min():
        return out
    xmax = x[-1]
    # drop repeated values (NaN counts as one value), keep first occurrences
    key = np.where(np.isnan(f), np.inf, f)
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    x, f = x[first], f[first]
    ok = ~np.isnan(f)
    pos, fv = np.flatnonzero(ok), f[ok]
    for j, p in enumerate(probs):
        if p == 0:
            out[j] = x[0]
            continue
        i1 = np.flatnonzero(fv + _TOL >= p)
        i2 = np.flatnonzero(fv - _TOL >= p)
        a = x[pos[i1[0]]] if len(i1) else np.nan
        b = x[pos[i2[0]]] if len(i2) else np.nan
        out[j] = (a + b) / 2
        if not np.isnan(f[-1]) and abs(p - f[-1]) < _TOL and len(i1):
            out[j] = (x[pos[i1[0]]] + xmax) / 2
    return out


class KaplanMeierResult(Result):
    """Kaplan-Meier curves by group, with their tables (see the module notes for formulas).

    Attributes
    ----------
    survival_table : pandas.DataFrame
        One row per group and event or censoring time: ``group, time, n_risk, n_event,
        n_censor, survival, std_err`` (SE of S), ``lower, upper, std_err_cumhaz`` (R's
        ``std.err``: SE of -log S), ``cumhaz, cumhaz_std_err`` (Nelson-Aalen).
    counts : SurvivalCounts
        The sufficient statistics the curves were computed from.
    groups : list
        Group labels in display order.
    conf_type : str
    alpha : float
    """

    _title = "Kaplan-Meier survival"

    def __init__(self, survival_table: pd.DataFrame, counts: SurvivalCounts, conf_type: str,
                 alpha: float):
        self.survival_table = survival_table
        self.counts = counts
        self.groups = list(counts.groups)
        self.conf_type = conf_type
        self.alpha = alpha

    # -- helpers ------------------------------------------------------------------------------
    def _group_rows(self, group: Any) -> pd.DataFrame:
        return self.survival_table[self.survival_table["group"] == group]

    @property
    def n(self) -> int:
        """Number of customers."""
        c = self.counts.table
        return int(c["n_event"].sum() + c["n_censor"].sum())

    @property
    def events(self) -> int:
        """Number of churn events."""
        return int(self.counts.table["n_event"].sum())

    def _header(self) -> dict[str, Any]:
        return {"n": self.n, "events": self.events, "groups": len(self.groups),
                "group_col": self.counts.group_col or "(none)",
                "late entry": self.counts.has_entry, "conf_type": self.conf_type,
                "alpha": self.alpha, "rmst tau": self.default_tau()}

    # -- tables -------------------------------------------------------------------------------
    def quantiles(self, probs: Sequence[float] = (0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Survival-time quantiles with confidence limits, as R's ``quantile.survfit``.

        ``prob`` is the probability of having churned (0.5: median). ``time`` is NaN and
        ``reached`` False when the curve never falls to ``1 - prob``; ``label`` says
        "not reached" for reports.
        """
        p = np.asarray(probs, float)
        if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
            raise ConfigError(f"probs must be between 0 and 1, got {list(probs)}")
        rows = []
        for g in self.groups:
            r = self._group_rows(g)
            x = np.concatenate([[min(0.0, r["time"].min())], r["time"].to_numpy()])
            q = [_findq(x, np.concatenate([[0.0], 1 - r[c].to_numpy()]), p)
                 for c in ("survival", "lower", "upper")]
            for j, pj in enumerate(p):
                reached = not np.isnan(q[0][j])
                rows.append({"group": g, "prob": pj, "time": q[0][j], "lower": q[1][j],
                             "upper": q[2][j], "reached": reached,
                             "label": f"{q[0][j]:g}" if reached else "not reached"})
        return pd.DataFrame(rows)

    def median(self) -> pd.DataFrame:
        """Median survival time per group with its confidence limits (see :meth:`quantiles`)."""
        return self.quantiles([0.5]).drop(columns="prob")

    def at(self, times: Sequence[float] = (30, 90, 180, 365)) -> pd.DataFrame:
        """Survival at horizons, as R's ``summary(fit, times=)``.

        The value at ``t`` is the curve's value at the last event/censoring time <= t (1 before
        the first one); ``n_risk`` counts customers at risk at ``t`` (``entry < t <= duration``;
        with late entry R instead reports the risk set of the next curve time). Horizons after a group's
        last observed time are NaN with ``beyond_follow_up = True`` (R drops them).
        """
        t = np.asarray(times, float)
        rows = []
        for g in self.groups:
            r = self._group_rows(g)
            rt = r["time"].to_numpy()
            k = np.searchsorted(rt, t, side="right") - 1
            risk = self.counts.risk_at(g, t)
            for j, tj in enumerate(t):
                beyond = tj > rt[-1]
                if k[j] < 0:  # before the first time: S = 1 exactly, limits 1 (as R)
                    vals = (1.0, 0.0, 1.0, 1.0)
                elif beyond:
                    vals = (np.nan,) * 4
                else:
                    row = r.iloc[k[j]]
                    vals = (row["survival"], row["std_err"], row["lower"], row["upper"])
                rows.append({"group": g, "time": tj, "n_risk": int(risk[j]), "survival": vals[0],
                             "std_err": vals[1], "lower": vals[2], "upper": vals[3],
                             "beyond_follow_up": bool(beyond)})
        return pd.DataFrame(rows)

    def default_tau(self) -> float:
        """Default RMST horizon: the smallest of the groups' last observed times.

        Comparing groups needs a common horizon that every curve reaches (Tian et al. 2020);
        R's ``print(fit, rmean="common")`` instead uses the largest, extending shorter curves.
        """
        return float(self.survival_table.groupby("group", sort=False)["time"].max().min())

    def rmst(self, tau: float | None = None) -> pd.DataFrame:
        """Restricted mean survival time up to ``tau`` with its standard error.

        As R's ``print(fit, rmean=tau)`` (``survival:::survmean``): the area under the curve
        from ``min(0, first time)`` to ``tau`` (the curve is extended flat past its last time)
        and ``se = sqrt(sum_i A_i^2 d_i / (n_i (n_i - d_i)))``, ``A_i`` the area from the i-th
        time to tau, terms with ``n_i = d_i`` set to 0 as R does.
        """
        tau = self.default_tau() if tau is None else float(tau)
        z = norm.ppf(1 - self.alpha / 2)
        start = min(0.0, float(self.survival_table["time"].min()))
        rows = []
        for g in self.groups:
            r = self._group_rows(g)
            keep = r["time"].to_numpy() <= tau
            time = np.concatenate([r["time"].to_numpy()[keep], [tau]])
            surv = r["survival"].to_numpy()[keep]
            n = r["n_risk"].to_numpy(float)[keep]
            d = r["n_event"].to_numpy(float)[keep]
            with np.errstate(divide="ignore", invalid="ignore"):
                hh = np.concatenate([np.where(n - d == 0, 0.0, d / (n * (n - d))), [0.0]])
            rect = np.diff(np.concatenate([[start], time])) * np.concatenate([[1.0], surv])
            tail = np.cumsum(rect[1:][::-1])  # area from each time to tau, last time first
            var = float(np.sum(tail**2 * hh[:-1][::-1]))
            mean = float(rect.sum() + start)
            se = np.sqrt(var)
            rows.append({"group": g, "tau": tau, "rmst": mean, "std_err": se,
                         "lower": mean - z * se, "upper": mean + z * se})
        return pd.DataFrame(rows)

    def cumulative_hazard(self) -> pd.DataFrame:
        """Nelson-Aalen cumulative hazard with variance, as R's survfit ``cumhaz``/``std.chaz``."""
        t = self.survival_table
        out = t[["group", "time", "n_risk", "n_event", "cumhaz", "cumhaz_std_err"]].copy()
        out.insert(5, "cumhaz_var", out["cumhaz_std_err"] ** 2)
        return out.reset_index(drop=True)

    def group_summary(self, tau: float | None = None) -> pd.DataFrame:
        """One row per group: n, events, censored, median (CI, label) and RMST (SE) up to tau."""
        c = self.counts.table
        agg = c.groupby("group", sort=False)[["n_event", "n_censor"]].sum()
        med = self.median().set_index("group")
        rm = self.rmst(tau).set_index("group")
        rows = []
        for g in self.groups:
            ev, ce = int(agg.loc[g, "n_event"]), int(agg.loc[g, "n_censor"])
            rows.append({"group": g, "n": ev + ce, "events": ev, "censored": ce,
                         "median": med.loc[g, "time"], "median_lower": med.loc[g, "lower"],
                         "median_upper": med.loc[g, "upper"], "median_label": med.loc[g, "label"],
                         "rmst": rm.loc[g, "rmst"], "rmst_std_err": rm.loc[g, "std_err"],
                         "tau": rm.loc[g, "tau"]})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """The per-group summary (:meth:`group_summary` with the default tau)."""
        return self.group_summary()


class KaplanMeier:
    """Kaplan-Meier estimator, overall or by group, with late entry.

    Parameters
    ----------
    conf_type : {"log-log", "log", "plain"}, default "log-log"
        Transform for the pointwise confidence intervals. "log-log" (lifelines, SAS) keeps the
        limits in [0, 1] and covers better in the tails; "log" is R's default.
    alpha : float, default 0.05
        Significance level: 0.05 gives 95% intervals.

    Attributes
    ----------
    result_ : KaplanMeierResult
        Set by :meth:`fit` / :meth:`fit_counts`.

    Examples
    --------
    >>> km = KaplanMeier().fit(table, group_col="segment")            # doctest: +SKIP
    >>> km.result_.median(); km.result_.at([30, 90, 180, 365])        # doctest: +SKIP
    """

    def __init__(self, conf_type: str = "log-log", alpha: float = 0.05):
        self.conf_type = conf_type
        self.alpha = alpha

    def fit(self, table: pd.DataFrame, duration_col: str = "duration", event_col: str = "event",
            group_col: str | None = None, entry_col: str | None = None,
            id_col: str | None = None) -> KaplanMeier:
        """Fit the curves from a survival table (one row per customer).

        Parameters
        ----------
        table : pandas.DataFrame
        duration_col, event_col : str
            Days to churn or censoring, and 1 churned / 0 censored.
        group_col : str, optional
            One curve per group.
        entry_col : str, optional
            Late-entry time: a customer is at risk at t when ``entry < t <= duration``.
        id_col : str, optional
            Column of ids quoted in error messages (default: the index).

        Returns
        -------
        self

        Raises
        ------
        DataError
            Listing every invalid row kind at once (see :func:`counts_from_arrays`).
        """
        _check_settings(self.conf_type, self.alpha)
        counts = counts_from_frame(table, duration_col, event_col, group_col, entry_col, id_col)
        return self.fit_counts(counts)

    def fit_counts(self, counts: SurvivalCounts) -> KaplanMeier:
        """Fit from precomputed sufficient statistics (e.g. :func:`counts_from_duckdb`)."""
        _check_settings(self.conf_type, self.alpha)
        curves = []
        for g in counts.groups:
            t = counts.group_table(g)
            if not ((t["n_event"] + t["n_censor"]) > 0).any():
                raise ModelError(f"group {g!r} has no customers with a duration; "
                                 "drop it from the counts")
            curves.append(_curve(t))
        table = pd.concat(curves, ignore_index=True)
        lower, upper = confidence_limits(table["survival"].to_numpy(),
                                         table["std_err_cumhaz"].to_numpy(),
                                         self.conf_type, self.alpha)
        table.insert(7, "lower", lower)
        table.insert(8, "upper", upper)
        table["cumhaz_std_err"] = np.sqrt(table.pop("cumhaz_var"))
        self.result_ = KaplanMeierResult(table, counts, self.conf_type, self.alpha)
        logger.debug("fitted Kaplan-Meier on %d groups", len(counts.groups))
        return self
