"""From an event log to the warning score's training data, and from a scorecard to a warning list.

* :func:`horizon_dataset`: point-in-time features as of a date and the horizon label (churned
  within H days after it); customers whose horizon cannot be observed are excluded and counted,
  never silently dropped.
* :func:`warning_list`: applies a frozen :class:`~survchurn.scoring.scorecard.Scorecard` to the
  customers still active at ``as_of``: score, tier, lifecycle stage, probability of churning
  within H days (the churn rate of the same score in the validation population) and the top
  reasons (the flags that gave points, largest first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.churn.definitions import ChurnDefinition
from survchurn.churn.features import features as point_in_time_features
from survchurn.churn.survival_table import survival_table
from survchurn.data.eventlog import EventLog, as_timestamp
from survchurn.exceptions import ScoringError
from survchurn.scoring.scorecard import Scorecard

__all__ = ["HorizonDataset", "WARNING_FEATURES", "horizon_dataset", "warning_list"]

#: The behaviour features the pipeline offers the warning score by default: a compact set
#: without near-duplicates (frequency and category breadth, total and mean spend...), so the
#: selected flags are not collinear.
WARNING_FEATURES = ("recency_days", "frequency", "monetary_mean", "tenure_days",
                    "n_last_period", "behaviour_break")


@dataclass(repr=False)
class HorizonDataset(Result):
    """Features as of ``as_of`` and the label "churned within ``horizon_days``".

    Attributes
    ----------
    features : DataFrame
        ``customer_id`` and the feature columns, one row per labelled customer.
    label : Series
        1 churned within the horizon, 0 not (same index as ``features``).
    excluded : DataFrame
        ``customer_id, reason`` of the customers without a label (not at risk at ``as_of``, or
        horizon not observable).
    """

    features: pd.DataFrame
    label: pd.Series
    excluded: pd.DataFrame
    as_of: pd.Timestamp
    horizon_days: int
    definition: ChurnDefinition

    _title = "Warning-score training data"

    def to_frame(self) -> pd.DataFrame:
        return self.features.assign(churn_within_h=self.label.to_numpy())

    def _header(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "horizon_days": self.horizon_days,
                "definition": self.definition.describe(), "labelled": len(self.label),
                "churned within horizon": int(self.label.sum()), "excluded": len(self.excluded)}


def horizon_dataset(log: EventLog, definition: ChurnDefinition, as_of: Any, horizon_days: int,
                    *, columns: tuple[str, ...] | None = WARNING_FEATURES,
                    customers: pd.DataFrame | None = None) -> HorizonDataset:
    """Features as of ``as_of`` and the churn-within-horizon label (see the module notes).

    Parameters
    ----------
    log : EventLog
    definition : ChurnDefinition
    as_of : date-like
        Feature date; the label needs data up to ``as_of + horizon_days`` (plus the window).
    horizon_days : int
    columns : tuple of str, optional
        Feature columns to keep (default :data:`WARNING_FEATURES`); ``None`` keeps all.
    customers : DataFrame, optional
        Customer attributes (with ``customer_id``) joined onto the features.
    """
    cut = as_timestamp(as_of)
    st = survival_table(log, definition, cut, horizon_days=horizon_days)
    t = st.table
    feats = point_in_time_features(log, cut).table
    if columns is not None:
        feats = feats[["customer_id", *[c for c in columns if c in feats.columns]]]
    if customers is not None:
        feats = feats.merge(customers, on="customer_id", how="left", validate="one_to_one")
    ok = t["horizon_observable"].astype(bool)
    labelled = t.loc[ok, ["customer_id", "churn_within_h"]]
    data = feats.merge(labelled, on="customer_id", how="inner", validate="one_to_one")
    excluded = pd.concat([
        t.loc[~ok, ["customer_id", "horizon_status"]].rename(columns={"horizon_status": "reason"}),
        st.rejected[["customer_id", "reason"]],
    ], ignore_index=True)
    label = data.pop("churn_within_h").astype(int)
    return HorizonDataset(data, label, excluded, cut, int(horizon_days), definition)


def warning_list(scorecard: Scorecard, live: pd.DataFrame, *, rates: pd.Series | None = None,
                 stages: pd.Series | None = None, top: int = 3) -> pd.DataFrame:
    """Score live customers: one row each, riskiest first.

    Parameters
    ----------
    scorecard : Scorecard
    live : DataFrame
        ``customer_id`` and the scorecard's input columns, one row per active customer.
    rates : Series, optional
        Churn rate within the horizon by score (index = score), from a validation population;
        gives ``p_churn``.
    stages : Series, optional
        Lifecycle stage indexed by customer id.
    top : int
        How many reasons to list.

    Returns
    -------
    DataFrame
        ``customer_id, score, tier, stage, p_churn, reasons``, sorted by score (descending),
        then customer id, so the same inputs give the same file.
    """
    if "customer_id" not in live.columns:
        raise ScoringError("the live-customer table needs a 'customer_id' column")
    flags = scorecard.flag_table(live)
    points = np.array([f["points"] for f in scorecard.flags], dtype=float)
    contrib = flags.to_numpy(dtype=float) * points
    names = np.array([f["name"] for f in scorecard.flags], dtype=object)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :top]
    reasons = ["; ".join(f"{names[j]} (+{int(contrib[i, j])})" for j in row if contrib[i, j] > 0)
               for i, row in enumerate(order)]
    out = pd.DataFrame({
        "customer_id": live["customer_id"].to_numpy(),
        "score": scorecard.score(live).to_numpy(),
        "tier": scorecard.tier(live).astype(str).to_numpy(),
    })
    if stages is not None:
        out["stage"] = out["customer_id"].map(stages).astype(object).fillna("unknown").to_numpy()
    if rates is not None:
        out["p_churn"] = out["score"].map(rates).astype(float).round(4).to_numpy()
    out["reasons"] = reasons
    return out.sort_values(["score", "customer_id"], ascending=[False, True], kind="stable") \
        .reset_index(drop=True)
