"""Survival after a date by lifecycle stage: Kaplan-Meier curves, log-rank test, churn rates.

Fits the survival module's estimators on
:func:`survchurn.churn.migration.stage_survival_table` (stage at ``as_of``, follow-up after it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.churn.lifecycle import STAGE_ORDER, StageRules
from survchurn.churn.migration import stage_survival_table
from survchurn.survival.kaplan_meier import KaplanMeier, KaplanMeierResult
from survchurn.survival.logrank import LogRankResult, logrank_test

__all__ = ["StageSurvival", "stage_survival"]


class StageSurvival(Result):
    """Survival after ``as_of`` by lifecycle stage: KM curves, log-rank test, churn rates.

    Attributes
    ----------
    table : pandas.DataFrame
        The follow-up table (``customer_id, stage, duration, event``).
    km : KaplanMeierResult
        One curve per stage present (not churned).
    logrank : LogRankResult or None
        Log-rank test across the stages (None with fewer than two stages).
    rates : pandas.DataFrame
        Per stage: ``customers, churned`` (recognised by the end of follow-up), ``churn_rate``
        (churned / customers), ``median_days`` and KM churn probability at each horizon
        (``churn_by_<h>d`` = 1 - S(h)).
    as_of, until : pandas.Timestamp
    """

    _title = "Survival by lifecycle stage"

    def __init__(
        self,
        table: pd.DataFrame,
        km: KaplanMeierResult,
        logrank: LogRankResult | None,
        rates: pd.DataFrame,
        as_of: pd.Timestamp,
        until: pd.Timestamp,
    ):
        self.table = table
        self.km = km
        self.logrank = logrank
        self.rates = rates
        self.as_of = as_of
        self.until = until

    def to_frame(self) -> pd.DataFrame:
        """The per-stage churn-rate table."""
        return self.rates.copy()

    def _header(self) -> dict[str, Any]:
        head: dict[str, Any] = {
            "as_of": self.as_of,
            "follow-up until": self.until,
            "customers": len(self.table),
            "churned": int(self.table["event"].sum()),
            "churn window (days)": int(self.table["churn_window_days"].iloc[0])
            if len(self.table)
            else 0,
            "clock": "days from as_of until churn is recognised (last visit + W + 1)",
        }
        if self.logrank is not None:
            lr = self.logrank
            head["log-rank"] = f"chi2 = {lr.chisq:.1f} on {lr.df} df, p = {lr.p_value:.3g}"
        return head


def stage_survival(
    events: Any,
    as_of: Any,
    *,
    until: Any = None,
    horizons: tuple[float, ...] = (90, 180, 365),
    id_col: str = "customer_id",
    time_col: str = "date",
    amount_col: str | None = None,
    category_col: str | None = None,
    churn_window_days: int | None = None,
    settings: StageRules | None = None,
) -> StageSurvival:
    """Kaplan-Meier and log-rank by the stage customers were in at ``as_of``.

    Uses :func:`survchurn.churn.migration.stage_survival_table` (follow-up from ``as_of`` to
    ``until``, churn recognised W + 1 days after the last visit),
    :class:`~survchurn.survival.kaplan_meier.KaplanMeier` and
    :func:`~survchurn.survival.logrank.logrank_test`.

    Returns
    -------
    StageSurvival
    """
    table = stage_survival_table(
        events,
        as_of,
        until=until,
        id_col=id_col,
        time_col=time_col,
        amount_col=amount_col,
        category_col=category_col,
        churn_window_days=churn_window_days,
        settings=settings,
    )
    present = [s for s in STAGE_ORDER if s != "churned" and (table["stage"] == s).any()]
    data = table.assign(stage=table["stage"].astype(str))
    data = data[data["stage"].isin(present)]
    # curves, tables and legends in lifecycle order (new, growth, mature, decline)
    data = data.assign(stage=pd.Categorical(data["stage"], categories=present, ordered=True))
    km = KaplanMeier().fit(
        data, duration_col="duration", event_col="event", group_col="stage", id_col="customer_id"
    )
    res = km.result_
    lr = (
        logrank_test(data, duration_col="duration", event_col="event", group_col="stage")
        if len(present) > 1
        else None
    )
    at = res.at(list(horizons))
    g = data.groupby("stage", observed=True)
    rates = pd.DataFrame({"customers": g.size(), "churned": g["event"].sum()}).reindex(present)
    rates["churn_rate"] = rates["churned"] / rates["customers"]
    med = res.median().set_index("group")
    rates["median_days"] = med.reindex(present)["time"] if "time" in med else np.nan
    for h in horizons:
        s = at[at["time"] == h].set_index("group")["survival"]
        rates[f"churn_by_{int(h)}d"] = 1.0 - s.reindex(present)
    rates.index.name = "stage"
    return StageSurvival(table, res, lr, rates, table.attrs["as_of"], table.attrs["until"])
