"""Discrimination and calibration metrics, and the side-by-side comparison of models.

* AUC: the Mann-Whitney probability that a churner scores above a non-churner, ties counting
  one half (Hanley & McNeil, Radiology 143, 1982), from average ranks.
* KS: the largest gap between the score distributions of churners and non-churners.
* Brier score: mean squared error of the probability (Brier, Mon. Weather Rev. 78, 1950).
* Log-loss: mean negative Bernoulli log-likelihood (probabilities clipped to [1e-15, 1 - 1e-15]).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from survchurn._display import Result
from survchurn.scoring.report import _check

__all__ = ["ModelComparison", "auc", "brier", "compare_models", "ks_statistic", "log_loss"]


def auc(score: np.ndarray | pd.Series, label: np.ndarray | pd.Series) -> float:
    """Area under the ROC curve (ties count one half)."""
    s, y = _check(score, label)
    n1 = y.sum()
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def ks_statistic(score: np.ndarray | pd.Series, label: np.ndarray | pd.Series) -> float:
    """Kolmogorov-Smirnov distance between churners' and non-churners' scores."""
    s, y = _check(score, label)
    order = np.argsort(-s, kind="stable")
    ss, yy = s[order], y[order]
    last = np.r_[ss[1:] != ss[:-1], True]  # evaluate only at the end of ties
    c1 = np.cumsum(yy)[last] / max(yy.sum(), 1)
    c0 = np.cumsum(1 - yy)[last] / max((1 - yy).sum(), 1)
    return float(np.max(np.abs(c1 - c0))) if len(c1) else float("nan")


def brier(prob: np.ndarray | pd.Series, label: np.ndarray | pd.Series) -> float:
    """Mean squared difference between probability and outcome."""
    p, y = _check(prob, label)
    return float(np.mean((p.astype(float) - y) ** 2))


def log_loss(prob: np.ndarray | pd.Series, label: np.ndarray | pd.Series) -> float:
    """Mean negative log-likelihood of 0/1 outcomes."""
    p, y = _check(prob, label)
    p = np.clip(p.astype(float), 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@dataclass(repr=False)
class ModelComparison(Result):
    """One row per model: AUC, KS, Brier, log-loss, number of variables."""

    table: pd.DataFrame
    n: int
    n_churned: int
    population: str = "test"

    _title = "Model comparison"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        return {"population": self.population, "customers": self.n, "churned": self.n_churned}


def compare_models(models: Mapping[str, tuple[np.ndarray | pd.Series, int]],
                   label: np.ndarray | pd.Series, *, population: str = "test") -> ModelComparison:
    """Compare models on one population.

    Parameters
    ----------
    models : mapping
        Name -> ``(predicted probability, number of variables)``. For an integer score pass the
        score; Brier and log-loss are then left empty.
    label : array of 0/1
    population : str
        Shown in the header ("test", "out-of-time"...).
    """
    rows = []
    y = np.asarray(label, dtype=float)
    for name, (pred, k) in models.items():
        p = np.asarray(pred, dtype=float)
        is_prob = bool(np.all((p >= 0) & (p <= 1))) and not np.all(p == np.round(p))
        rows.append({"model": name, "auc": auc(p, y), "ks": ks_statistic(p, y),
                     "brier": brier(p, y) if is_prob else np.nan,
                     "log_loss": log_loss(p, y) if is_prob else np.nan, "n_variables": int(k)})
    return ModelComparison(pd.DataFrame(rows).set_index("model"), len(y), int(y.sum()), population)
