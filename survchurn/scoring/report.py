"""The score report management reads: score vs customers vs churn rate, tiers, risk x value.

For each warning score ``s``: customers, share of customers, churned, churn rate, lift (churn rate
over the overall rate) and the cumulative share of all churners captured by customers scoring
``s`` or more (the gains curve read from the top). The dealership headline, "5 points: 1.74% of
customers, 72.16% churned", is one row of this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.exceptions import ConfigError, DataError

__all__ = ["DEFAULT_TIERS", "ScoreReport", "assign_tiers", "risk_value_grid", "score_report"]

#: lower score bound of each tier (a customer gets the highest tier whose bound is <= score)
DEFAULT_TIERS: dict[str, int] = {"green": 0, "yellow": 2, "orange": 3, "red": 4}


def _check(score: pd.Series | np.ndarray, label: pd.Series | np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    s = np.asarray(score)
    if label is None:
        return s, None
    y = np.asarray(label, dtype=float)
    if len(y) != len(s):
        raise DataError([f"score has {len(s):,} rows but label has {len(y):,}; pass one label per customer"],
                        "score report")
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        raise DataError([f"label must be 0/1: {int(bad.sum()):,} rows are not, e.g. positions "
                         f"{list(np.flatnonzero(bad)[:5])}"], "score report")
    return s, y


def _table(s: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame({"score": s, "y": y})
    t = df.groupby("score")["y"].agg(customers="size", churned="sum").sort_index()
    t["churned"] = t["churned"].astype(int)
    t["share"] = t["customers"] / len(s)
    t["churn_rate"] = t["churned"] / t["customers"]
    overall = y.mean()
    t["lift"] = t["churn_rate"] / overall if overall > 0 else np.nan
    top = t.iloc[::-1]
    t["cum_customers_share"] = (top["customers"].cumsum() / len(s)).iloc[::-1]
    t["cum_capture"] = (top["churned"].cumsum() / max(y.sum(), 1)).iloc[::-1]
    return t[["customers", "share", "churned", "churn_rate", "lift", "cum_customers_share", "cum_capture"]]


@dataclass(repr=False)
class ScoreReport(Result):
    """Score table overall (``table``) and by segment (``by_segment``, optional)."""

    table: pd.DataFrame
    by_segment: pd.DataFrame | None
    n: int
    n_churned: int
    tiers: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    description: str = ""

    _title = "Warning score report"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def tier_table(self) -> pd.DataFrame:
        """The same counts aggregated into the risk tiers."""
        t = self.table.copy()
        t["tier"] = assign_tiers(pd.Series(t.index, index=t.index), self.tiers).to_numpy()
        g = t.groupby("tier", sort=False)[["customers", "churned"]].sum()
        g = g.reindex([k for k in self.tiers if k in g.index])
        g["share"] = g["customers"] / self.n
        g["churn_rate"] = g["churned"] / g["customers"]
        g["lift"] = g["churn_rate"] / (self.n_churned / self.n) if self.n_churned else np.nan
        return g

    def _header(self) -> dict[str, Any]:
        head = {"customers": self.n, "churned": self.n_churned,
                "overall churn rate": self.n_churned / self.n if self.n else float("nan")}
        if self.description:
            head["churn definition"] = self.description
        return head


def score_report(score: pd.Series | np.ndarray, label: pd.Series | np.ndarray, *,
                 segment: pd.Series | np.ndarray | None = None,
                 tiers: Mapping[str, int] | None = None, description: str = "") -> ScoreReport:
    """Customers, share, churned, churn rate, lift and cumulative capture for every score.

    Parameters
    ----------
    score : array of int
        Warning score per customer.
    label : array of 0/1
        Churned (1) or not (0) over the horizon.
    segment : array, optional
        A grouping (e.g. lifecycle stage); adds ``by_segment`` with the table per segment.
    tiers : mapping, optional
        Tier name -> lowest score of the tier (default :data:`DEFAULT_TIERS`).
    description : str
        Churn definition shown in the header.
    """
    s, y = _check(score, label)
    by = None
    if segment is not None:
        seg = np.asarray(segment)
        if len(seg) != len(s):
            raise DataError([f"segment has {len(seg):,} rows but score has {len(s):,}"], "score report")
        parts = {k: _table(s[seg == k], y[seg == k]) for k in pd.unique(seg)}
        by = pd.concat(parts, names=["segment", "score"])
    return ScoreReport(table=_table(s, y), by_segment=by, n=len(s), n_churned=int(y.sum()),
                       tiers=dict(tiers or DEFAULT_TIERS), description=description)


def assign_tiers(score: pd.Series | np.ndarray, tiers: Mapping[str, int] | None = None) -> pd.Series:
    """Tier of each score: the tier with the highest lower bound not above the score."""
    tiers = dict(tiers or DEFAULT_TIERS)
    bounds = list(tiers.values())
    if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False)):
        raise ConfigError(f"tier bounds must increase in the order given, got {tiers}")
    s = np.asarray(score)
    idx = np.searchsorted(np.asarray(bounds), s, side="right") - 1
    names = np.array(list(tiers), dtype=object)
    out = np.where(idx >= 0, names[np.clip(idx, 0, None)], None)
    index = score.index if isinstance(score, pd.Series) else None
    return pd.Series(pd.Categorical(out, categories=list(tiers), ordered=True), index=index, name="tier")


def risk_value_grid(score: pd.Series | np.ndarray, value: pd.Series | np.ndarray,
                    label: pd.Series | np.ndarray | None = None, *,
                    tiers: Mapping[str, int] | None = None, value_bins: int = 3) -> pd.DataFrame:
    """Customers, total value (and churn rate) by risk tier x value band.

    Value bands are ``value_bins`` quantile bands (``low`` / ``mid`` / ``high`` for three). The
    bank case: retention effort goes to the high-value, high-risk cell first.
    """
    s, y = _check(score, label)
    v = np.asarray(value, dtype=float)
    if len(v) != len(s):
        raise DataError([f"value has {len(v):,} rows but score has {len(s):,}"], "risk x value grid")
    labels = ["low", "mid", "high"] if value_bins == 3 else [f"Q{i + 1}" for i in range(value_bins)]
    band = pd.qcut(pd.Series(v).rank(method="first"), value_bins, labels=labels)
    df = pd.DataFrame({"tier": assign_tiers(s, tiers).array, "value_band": band.array, "value": v})
    agg = {"customers": ("value", "size"), "total_value": ("value", "sum")}
    if y is not None:
        df["y"] = y
        agg["churn_rate"] = ("y", "mean")
        df["value_at_risk"] = v * y
        agg["churned_value"] = ("value_at_risk", "sum")
    return df.groupby(["tier", "value_band"], observed=False).agg(**agg)
