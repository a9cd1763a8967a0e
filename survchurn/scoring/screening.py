"""Screening table: churn rate by level or bin of every candidate, information value, univariate tests.

For each variable: churn rate per level (categoricals) or per quantile bin (numerics; missing as
its own row), the weight of evidence per row ``WoE = ln(share of churners / share of stayers)``
with 0.5 added to empty cells, and the information value ``IV = sum (share churners - share
stayers) * WoE`` (Siddiqi, *Credit Risk Scorecards*, 2006, ch. 6). The univariate logistic
regression gives, for a numeric, the odds ratio per standard deviation with its Wald p-value; for
a categorical, the likelihood-ratio p-value of all its levels together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from survchurn._display import Result
from survchurn.exceptions import DataError, DataProblem
from survchurn.scoring.logistic import newton_logit

__all__ = ["ScreeningResult", "screen_candidates"]


@dataclass(repr=False)
class ScreeningResult(Result):
    """``by_variable`` (one row per variable, by IV) and ``levels`` (churn rate per level or bin)."""

    by_variable: pd.DataFrame
    levels: pd.DataFrame
    n: int
    n_churned: int

    _title = "Candidate screening"

    def to_frame(self) -> pd.DataFrame:
        return self.by_variable.copy()

    def _header(self) -> dict[str, Any]:
        return {"customers": self.n, "churned": self.n_churned, "variables": len(self.by_variable)}


def _is_cat(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)


def screen_candidates(features: pd.DataFrame, label: pd.Series | np.ndarray, *,
                      columns: Sequence[str] | None = None, bins: int = 5,
                      categorical: Sequence[str] = ()) -> ScreeningResult:
    """Screen every candidate against the churn label.

    Parameters
    ----------
    features : DataFrame
    label : array of 0/1
    columns : sequence of str, optional
        Columns to screen (default: all).
    bins : int
        Quantile bins for numeric variables.
    categorical : sequence of str
        Numeric columns to treat as categorical (codes).
    """
    y = np.asarray(label, dtype=float)
    if len(y) != len(features):
        raise DataError([f"label has {len(y):,} rows but features have {len(features):,}"], "screening")
    cols = list(columns) if columns is not None else list(features.columns)
    absent = [c for c in cols if c not in features.columns]
    if absent:
        raise DataError([DataProblem(c, "column not found", len(features), (), "check the column names")
                         for c in absent], "screening")
    P, N = y.sum(), len(y) - y.sum()
    level_rows, summary_rows = [], []
    for c in cols:
        s = features[c]
        miss = s.isna().to_numpy()
        cat = _is_cat(s) or c in categorical
        if cat:
            key = s.astype("string").fillna("missing").to_numpy(dtype=object)
        else:
            x = s.astype(float).to_numpy()
            edges = np.unique(np.quantile(x[~miss], np.linspace(0, 1, bins + 1)[1:-1])) if (~miss).any() else []
            idx = np.searchsorted(edges, x, side="left")
            bounds = [-np.inf, *edges, np.inf]
            names = np.array([f"({bounds[k]:.4g}, {bounds[k + 1]:.4g}]" for k in range(len(bounds) - 1)], dtype=object)
            key = np.where(miss, "missing", names[np.clip(idx, 0, len(names) - 1)])
        t = pd.DataFrame({"level": key, "y": y}).groupby("level", sort=False)["y"].agg(["size", "sum"])
        if not cat:
            order = [n for n in names if n in t.index] + (["missing"] if "missing" in t.index else [])
            t = t.loc[order]
        de = (t["sum"] + 0.5) / (P + 0.5)
        dn = (t["size"] - t["sum"] + 0.5) / (N + 0.5)
        woe = np.log(de / dn)
        iv = float(((de - dn) * woe).sum())
        for lev, r in t.iterrows():
            level_rows.append({"variable": c, "level": lev, "customers": int(r["size"]), "churned": int(r["sum"]),
                               "churn_rate": r["sum"] / r["size"], "woe": woe[lev]})
        # univariate logistic regression
        ok = ~miss
        odds, p = np.nan, np.nan
        if cat:
            d = pd.get_dummies(pd.Series(key), drop_first=True, dtype=float).to_numpy()
            if d.shape[1] > 0:
                _, ll1, _, _ = newton_logit(d, y, np.arange(d.shape[1]))
                _, ll0, _, _ = newton_logit(d, y, np.array([], dtype=int))
                p = float(stats.chi2.sf(2 * (ll1 - ll0), d.shape[1]))
        elif ok.sum() > 2 and np.std(x[ok]) > 0:
            z = ((x[ok] - x[ok].mean()) / x[ok].std())[:, None]
            b, _, info, _ = newton_logit(z, y[ok], np.array([0]))
            se = float(np.sqrt(np.linalg.inv(info)[1, 1]))
            odds, p = float(np.exp(b[1])), float(2 * stats.norm.sf(abs(b[1] / se)))
        summary_rows.append({"variable": c, "type": "categorical" if cat else "numeric", "levels": len(t),
                             "information_value": iv, "odds_ratio_per_sd": odds, "p_value": p,
                             "share_missing": float(miss.mean())})
    summary = pd.DataFrame(summary_rows).set_index("variable").sort_values("information_value", ascending=False)
    levels = pd.DataFrame(level_rows).set_index(["variable", "level"])
    return ScreeningResult(summary, levels, len(y), int(P))
