"""Integer warning points from a logistic model on binary risk flags.

Two rules (the dealership case in DOMAIN.md; points-based risk scores as in Sullivan, Massaro &
D'Agostino, "Presentation of multivariate data for clinical use: the Framingham Study risk
score functions", Stat. Med. 23, 2004):

* ``"scaled"``: a flag's points are its coefficient divided by a common unit and rounded half
  up. The unit is chosen so that a customer carrying the riskiest flag of every variable gets
  ``max_points``: ``unit = sum over groups of the largest positive coefficient / max_points``.
  Flags of one group are mutually exclusive bins or levels, so only the group maximum adds up.
* ``"count"``: one point per selected flag with a positive coefficient.

Flags with a coefficient <= 0 get no points (a warning score only counts risk). The total is
capped at ``max_points``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.exceptions import ConfigError, ScoringError

__all__ = ["PointsTable", "WarningPoints"]


@dataclass(repr=False)
class PointsTable(Result):
    """Points per risk flag: ``flag``, ``group``, ``coef``, ``odds_ratio``, ``points``."""

    table: pd.DataFrame
    method: str
    max_points: int
    unit: float

    _title = "Warning points"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        return {"method": self.method, "max points": self.max_points,
                "unit (log-odds per point)": self.unit,
                "flags with points": int((self.table["points"] > 0).sum())}


class WarningPoints:
    """Turn logistic coefficients of 0/1 risk flags into integer points.

    Parameters
    ----------
    max_points : int
        Largest total score (default 5, the dealership's scale).
    method : {"scaled", "count"}
    """

    def __init__(self, *, max_points: int = 5, method: str = "scaled"):
        if method not in ("scaled", "count"):
            raise ConfigError(f"method must be 'scaled' or 'count', got {method!r}")
        if int(max_points) != max_points or max_points < 1:
            raise ConfigError(f"max_points must be a positive integer, got {max_points!r}")
        self.max_points = int(max_points)
        self.method = method

    def fit(self, coef: pd.Series, groups: Mapping[str, str] | None = None) -> WarningPoints:
        """Learn points from coefficients (index: flag names; an intercept ``const`` is ignored)."""
        coef = coef.drop(labels=["const"], errors="ignore").astype(float)
        groups = dict(groups or {})
        grp = pd.Series([groups.get(c, c) for c in coef.index], index=coef.index)
        pos = coef.clip(lower=0)
        if not (pos > 0).any():
            raise ScoringError("no flag has a positive coefficient, so no flag signals risk; "
                               "check the label coding (1 = churned) or the candidate flags")
        if self.method == "scaled":
            unit = float(pos.groupby(grp).max().sum() / self.max_points)
            pts = np.floor(pos / unit + 0.5 + 1e-9).astype(int)  # half up; 1e-9 absorbs float error
        else:
            unit = float("nan")
            pts = (pos > 0).astype(int)
        self.unit_ = unit
        self.points_ = pts[pts > 0]
        self.table_ = PointsTable(
            table=pd.DataFrame({"flag": coef.index, "group": grp.to_numpy(), "coef": coef.to_numpy(),
                                "odds_ratio": np.exp(coef.to_numpy()), "points": pts.to_numpy()})
            .sort_values(["points", "coef"], ascending=False).reset_index(drop=True),
            method=self.method, max_points=self.max_points, unit=unit)
        return self

    def _flags(self, flags: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.points_.index if c not in flags.columns]
        if missing:
            raise ScoringError(f"the flag table lacks {len(missing)} flag(s) that carry points, e.g. "
                               f"{missing[:3]}; build it with the same CandidateBuilder")
        return flags[list(self.points_.index)]

    def score(self, flags: pd.DataFrame) -> pd.Series:
        """Each customer's integer warning score (capped at ``max_points``)."""
        F = self._flags(flags).to_numpy(dtype=float)
        raw = F @ self.points_.to_numpy(dtype=float)
        return pd.Series(np.minimum(raw, self.max_points).astype(int), index=flags.index, name="score")

    def reasons(self, flags: pd.DataFrame, top: int = 3) -> pd.DataFrame:
        """The flags that gave each customer points, largest first (``reason_1`` ... ``reason_top``)."""
        F = self._flags(flags)
        order = self.points_.sort_values(ascending=False, kind="stable")
        out = {}
        names = np.array(order.index, dtype=object)
        on = F[list(order.index)].to_numpy() > 0
        # rank of each flag among the customer's flags that are on
        rank = np.cumsum(on, axis=1) * on
        for r in range(1, top + 1):
            hit = rank == r
            col = np.full(len(F), "", dtype=object)
            rows, cols = np.nonzero(hit)
            col[rows] = names[cols]
            out[f"reason_{r}"] = col
        return pd.DataFrame(out, index=flags.index)
