"""Population stability of the warning score and of each variable.

PSI = sum over bins of (a_i - e_i) * ln(a_i / e_i), with e_i the training share and a_i the new
share of bin i (Siddiqi, *Credit Risk Scorecards*, 2006, ch. 8). Usual reading: below 0.1
stable (green), 0.1 to 0.25 some shift (amber), above 0.25 a shift that calls for a refit (red).
Shares of empty bins are floored at 1e-4 so the logarithm stays finite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.exceptions import DataError, DataProblem

__all__ = ["StabilityReport", "population_stability", "psi", "psi_table", "traffic_light"]

_FLOOR = 1e-4


def traffic_light(value: float) -> str:
    """``"green"`` (< 0.1), ``"amber"`` (0.1 to 0.25) or ``"red"`` (> 0.25)."""
    if not np.isfinite(value):
        return "grey"
    return "green" if value < 0.1 else ("amber" if value <= 0.25 else "red")


def _bins(expected: pd.Series, actual: pd.Series, n_bins: int) -> tuple[pd.Series, pd.Series]:
    numeric = pd.api.types.is_numeric_dtype(expected) and not pd.api.types.is_bool_dtype(expected)
    if numeric and expected.nunique(dropna=True) > n_bins:
        e = expected.astype(float)
        edges = np.unique(np.quantile(e.dropna(), np.linspace(0, 1, n_bins + 1)[1:-1]))
        def cut(x: pd.Series) -> pd.Series:
            x = x.astype(float)
            k = pd.Series(np.searchsorted(edges, x.to_numpy(), side="left"), index=x.index).astype(str)
            return k.where(x.notna(), "missing")
        return cut(e), cut(actual)
    return expected.astype("string").fillna("missing"), actual.astype("string").fillna("missing")


def psi_table(expected: pd.Series, actual: pd.Series, *, n_bins: int = 10) -> pd.DataFrame:
    """Per-bin shares and PSI contributions (deciles of the training values for numerics)."""
    e, a = _bins(pd.Series(expected).reset_index(drop=True), pd.Series(actual).reset_index(drop=True), n_bins)
    es = e.value_counts(normalize=True)
    as_ = a.value_counts(normalize=True)
    t = pd.DataFrame({"expected": es, "actual": as_}).fillna(0.0).sort_index()
    ef, af = t["expected"].clip(lower=_FLOOR), t["actual"].clip(lower=_FLOOR)
    t["psi"] = (af - ef) * np.log(af / ef)
    return t


def psi(expected: pd.Series, actual: pd.Series, *, n_bins: int = 10) -> float:
    """Population stability index between a training and a new population."""
    return float(psi_table(expected, actual, n_bins=n_bins)["psi"].sum())


@dataclass(repr=False)
class StabilityReport(Result):
    """PSI and traffic light per monitored quantity (the score first)."""

    table: pd.DataFrame
    n_expected: int
    n_actual: int

    _title = "Population stability"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        return {"training customers": self.n_expected, "new customers": self.n_actual,
                "red": int((self.table["light"] == "red").sum())}


def population_stability(expected: pd.DataFrame, actual: pd.DataFrame, *,
                         columns: Sequence[str] | None = None, n_bins: int = 10) -> StabilityReport:
    """PSI of every column (e.g. ``score`` and the scorecard's variables) between two populations."""
    cols = list(columns) if columns is not None else [c for c in expected.columns if c in actual.columns]
    missing = [c for c in cols if c not in expected.columns or c not in actual.columns]
    if missing:
        raise DataError([DataProblem(c, "column missing from one of the populations", 0, (),
                                     "monitor only columns present in both tables") for c in missing],
                        "population stability")
    rows = []
    for c in cols:
        v = psi(expected[c], actual[c], n_bins=n_bins)
        rows.append({"variable": c, "psi": v, "light": traffic_light(v)})
    return StabilityReport(pd.DataFrame(rows).set_index("variable"), len(expected), len(actual))
