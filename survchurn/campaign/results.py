"""The result of a campaign evaluation, and the heterogeneity of the effect across tiers.

Heterogeneity ("where does it pay?") is measured with Cochran's Q (Cochran 1954) on the per-tier
estimates, as in a fixed-effect meta-analysis of the tiers: with estimates ``b_i`` and standard
errors ``s_i``, weights ``w_i = 1 / s_i^2``, the pooled estimate ``b = sum w_i b_i / sum w_i``
(SE ``1 / sqrt(sum w_i)``), ``Q = sum w_i (b_i - b)^2`` is chi-square with ``k - 1`` df when
all tiers share one effect, and ``I^2 = max(0, (Q - df) / Q)`` is the share of the variation
beyond chance (Higgins & Thompson 2002). It is computed on the log hazard ratio (Cox, per tier)
and on the risk difference at the horizon (Kaplan-Meier, per tier). The tiers are independent
samples, so Q on the log HR is asymptotically the Wald test of the treatment x tier interaction
in a Cox model stratified by tier.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from survchurn._display import Result
from survchurn.survival.kaplan_meier import KaplanMeierResult

__all__ = ["CampaignResult", "heterogeneity"]

_MEASURES = (("log hazard ratio", "log_hr", "log_hr_se"),
             ("risk difference", "risk_diff", "risk_diff_se"))


def heterogeneity(tiers: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Cochran's Q, I^2 and the pooled fixed-effect estimate across tier rows.

    Parameters
    ----------
    tiers : pandas.DataFrame
        Tier rows of :attr:`CampaignResult.table` (``log_hr``, ``log_hr_se``, ``risk_diff``,
        ``risk_diff_se``).
    alpha : float

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``measure, tiers, Q, df, p_value, I2, pooled, pooled_lower,
        pooled_upper``. With fewer than two usable tiers, Q and p are NaN.
    """
    z = norm.ppf(1 - alpha / 2)
    rows = []
    for name, col, se_col in _MEASURES:
        if col in tiers:
            b, s = tiers[col].to_numpy(float), tiers[se_col].to_numpy(float)
        else:
            b = s = np.zeros(0)
        ok = np.isfinite(b) & np.isfinite(s) & (s > 0)
        b, w = b[ok], 1 / s[ok] ** 2
        k = int(ok.sum())
        if k == 0:
            rows.append({"measure": name, "tiers": 0, "Q": np.nan, "df": 0, "p_value": np.nan,
                         "I2": np.nan, "pooled": np.nan, "pooled_lower": np.nan,
                         "pooled_upper": np.nan})
            continue
        pooled = float(np.sum(w * b) / np.sum(w))
        se = float(1 / np.sqrt(np.sum(w)))
        q = float(np.sum(w * (b - pooled) ** 2))
        df = k - 1
        rows.append({"measure": name, "tiers": k, "Q": q if df else np.nan, "df": df,
                     "p_value": float(chi2.sf(q, df)) if df else np.nan,
                     "I2": max(0.0, (q - df) / q) if df and q > 0 else (0.0 if df else np.nan),
                     "pooled": pooled, "pooled_lower": pooled - z * se,
                     "pooled_upper": pooled + z * se})
    return pd.DataFrame(rows)


class CampaignResult(Result):
    """What :func:`~survchurn.campaign.evaluate.evaluate_campaign` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per segment (``"overall"``, then each tier): ``n_control, n_treated,
        events_control, events_treated``, churn at the horizon per arm with limits
        (``churn_control[_lower|_upper]``, ``churn_treated...``), ``risk_diff`` (treated minus
        control; negative = fewer churned) with ``_se, _lower, _upper``, ``rel_change`` with
        limits, ``hr, hr_lower, hr_upper, log_hr, log_hr_se, hr_p``, ``logrank_chisq,
        logrank_p``, ``rmst_control, rmst_treated, rmst_diff`` with ``_se, _lower, _upper``,
        ``days_kept``, ``saved`` with limits and, when costs were given, ``value, cost, net``
        (with limits) and ``roi`` (with limits).
    heterogeneity : pandas.DataFrame
        Cochran's Q across tiers (see :func:`heterogeneity`).
    km : dict
        Segment -> :class:`KaplanMeierResult` with one curve per arm.
    outcomes : pandas.DataFrame
        The per-customer outcomes the numbers come from.
    settings : dict
        Horizon, tau, alpha, arms, costs, and (from an event log) start, as_of, window_days,
        customers assigned and left out.
    """

    _title = "Retention campaign evaluation"

    def __init__(self, table: pd.DataFrame, heterogeneity: pd.DataFrame,
                 km: dict[str, KaplanMeierResult], outcomes: pd.DataFrame,
                 settings: dict[str, Any]):
        self.table = table
        self.heterogeneity = heterogeneity
        self.km = km
        self.outcomes = outcomes
        self.settings = settings

    @property
    def overall(self) -> pd.Series:
        """The overall row of :attr:`table`."""
        return self.table.iloc[0]

    @property
    def tiers(self) -> pd.DataFrame:
        """The tier rows of :attr:`table` (empty without tiers)."""
        return self.table.iloc[1:].reset_index(drop=True)

    def _header(self) -> dict[str, Any]:
        s = self.settings
        o = self.overall
        h: dict[str, Any] = {}
        for key in ("start", "as_of", "window_days", "n_assigned", "n_excluded"):
            if key in s:
                h[key] = s[key]
        h.update({"treated": int(o["n_treated"]), "control": int(o["n_control"]),
                  "endpoint": "first lapse after the start (recognition clock); "
                              "churn at the horizon from Kaplan-Meier",
                  "horizon_days": s["horizon_days"], "rmst tau": s["tau"], "alpha": s["alpha"],
                  "arms": " vs ".join(reversed(s["arms"]))})
        het = self.heterogeneity
        row = het[het["measure"] == "log hazard ratio"]
        if len(row) and np.isfinite(row["p_value"].iloc[0]):
            r = row.iloc[0]
            h["heterogeneity (log HR)"] = f"Q={r['Q']:.3f} on {int(r['df'])} df, p={r['p_value']:.4g}"
        return h

    def to_frame(self) -> pd.DataFrame:
        """The per-segment table (overall first)."""
        return self.table.copy()

    def effects(self, measure: str = "hr") -> pd.DataFrame:
        """Per segment: estimate and limits of ``"hr"``, ``"risk_diff"``, ``"rel_change"`` or
        ``"rmst_diff"``, with n and events per arm (the numbers of the forest plot)."""
        from survchurn.exceptions import ConfigError

        if measure not in ("hr", "risk_diff", "rel_change", "rmst_diff"):
            raise ConfigError(f"measure must be 'hr', 'risk_diff', 'rel_change' or 'rmst_diff', "
                              f"got {measure!r}")
        t = self.table
        return pd.DataFrame({
            "segment": t["segment"], "n_control": t["n_control"], "n_treated": t["n_treated"],
            "events_control": t["events_control"], "events_treated": t["events_treated"],
            "estimate": t[measure], "lower": t[f"{measure}_lower"],
            "upper": t[f"{measure}_upper"],
        })
