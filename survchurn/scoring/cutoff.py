"""Choosing the warning cut-off: precision, recall, F1 and an expected-value rule.

At a cut-off ``t`` every customer scoring ``t`` or more is contacted. With an action costing
``action_cost`` per customer, succeeding (keeping a would-be churner) with probability
``success_rate``, and a saved customer worth ``value_saved``, the expected value of the campaign is

    EV(t) = TP(t) * success_rate * value_saved - flagged(t) * action_cost

(a cost-benefit reading of the confusion matrix: Provost & Fawcett, *Data Science for Business*,
2013, ch. 7). An expensive action (vouchers) pushes the best cut-off up (precision); a cheap one
(a push notification) pushes it down (recall). A capacity ``K`` (the retention team can call K
customers) rules out cut-offs flagging more than K.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.exceptions import ConfigError, ScoringError
from survchurn.scoring.report import _check

__all__ = ["CutoffResult", "choose_cutoff", "cutoff_table"]


def cutoff_table(score: pd.Series | np.ndarray, label: pd.Series | np.ndarray) -> pd.DataFrame:
    """Confusion matrix, precision, recall and F1 when flagging ``score >= cutoff``, per cut-off."""
    s, y = _check(score, label)
    levels = np.unique(s)
    P = y.sum()
    rows = []
    for t in levels[::-1]:
        flag = s >= t
        tp = float(y[flag].sum())
        fp = float(flag.sum() - tp)
        fn, tn = P - tp, float((~flag).sum()) - (P - tp)
        prec = tp / (tp + fp) if tp + fp else np.nan
        rec = tp / P if P else np.nan
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        rows.append({"cutoff": t, "flagged": int(flag.sum()), "share_flagged": flag.mean(), "tp": int(tp),
                     "fp": int(fp), "fn": int(fn), "tn": int(tn), "precision": prec, "recall": rec, "f1": f1})
    return pd.DataFrame(rows).set_index("cutoff").sort_index()


@dataclass(repr=False)
class CutoffResult(Result):
    """The cut-off table with expected values and the chosen cut-off."""

    table: pd.DataFrame
    best_cutoff: float | None
    best_value: float
    action_cost: float
    success_rate: float
    value_saved: float
    capacity: int | None

    _title = "Warning cut-off (expected value)"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        return {"action cost": self.action_cost, "success rate": self.success_rate,
                "value of a saved customer": self.value_saved,
                "capacity": "none" if self.capacity is None else self.capacity,
                "best cut-off": "contact nobody" if self.best_cutoff is None else self.best_cutoff,
                "expected value": self.best_value}


def choose_cutoff(score: pd.Series | np.ndarray, label: pd.Series | np.ndarray, *, action_cost: float,
                  success_rate: float, value_saved: float, capacity: int | None = None) -> CutoffResult:
    """The cut-off with the largest expected value, optionally within a capacity of K contacts.

    Parameters
    ----------
    score, label : arrays
        Warning score and 0/1 churn label of a validation population.
    action_cost : float
        Cost of acting on one flagged customer.
    success_rate : float
        Probability that the action keeps a customer who would have churned (0..1).
    value_saved : float
        Value of a kept customer.
    capacity : int, optional
        Largest number of customers the team can act on.

    Returns
    -------
    CutoffResult
        ``best_cutoff`` is None when no cut-off has a positive expected value (contact nobody).
    """
    if not 0 <= success_rate <= 1:
        raise ConfigError(f"success_rate must be between 0 and 1, got {success_rate}")
    if action_cost < 0 or value_saved < 0:
        raise ConfigError("action_cost and value_saved must not be negative")
    if capacity is not None and capacity < 0:
        raise ConfigError(f"capacity must be a non-negative number of customers, got {capacity}")
    t = cutoff_table(score, label)
    t["expected_value"] = t["tp"] * success_rate * value_saved - t["flagged"] * action_cost
    t["feasible"] = True if capacity is None else t["flagged"] <= capacity
    ok = t[t["feasible"] & (t["expected_value"] > 0)]
    if capacity is not None and not t["feasible"].any():
        raise ScoringError(f"even the top score flags {int(t['flagged'].min()):,} customers, more than the "
                           f"capacity of {capacity:,}; raise the capacity or pick within the top band at random")
    if ok.empty:
        return CutoffResult(t, None, 0.0, action_cost, success_rate, value_saved, capacity)
    best = ok["expected_value"].idxmax()
    return CutoffResult(t, best, float(ok.loc[best, "expected_value"]), action_cost, success_rate,
                        value_saved, capacity)
