"""Lifecycle figures: the stage-migration heatmap and survival by stage.

:func:`stage_survival` fits Kaplan-Meier curves and the log-rank test by stage (the survival
module's estimators) on :func:`survchurn.churn.migration.stage_survival_table`, with a per-stage
churn-rate table; it lives here, beside its figure, because the churn stage may not import the
survival stage. Every function takes ``ax=None`` (a new figure is made), returns the Axes, and
never calls ``show``/``savefig`` or switches the backend. Every figure's numbers are a
DataFrame: ``MigrationResult.counts``/``shares`` and ``StageSurvival`` tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.churn.lifecycle import STAGE_ORDER, StageRules
from survchurn.churn.migration import MigrationResult, stage_survival_table
from survchurn.exceptions import ChurnDefinitionError
from survchurn.survival.kaplan_meier import KaplanMeier, KaplanMeierResult
from survchurn.survival.logrank import LogRankResult, logrank_test

__all__ = ["StageSurvival", "plot_stage_migration", "plot_stage_survival", "stage_survival"]

#: stage colours, in STAGE_ORDER (new, growth, mature, decline, churned)
STAGE_COLORS = ("#56b4e9", "#009e73", "#1f4e79", "#e69f00", "#7f7f7f")


def _axes(ax: Any, size: tuple[float, float] = (7, 4.5)) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def plot_stage_migration(
    result: MigrationResult, ax: Any = None, *, shares: bool = True, annotate: bool = True
) -> Any:
    """Heatmap of a stage-migration matrix: rows = earlier stage, columns = later stage.

    Parameters
    ----------
    result : MigrationResult
        From :func:`survchurn.churn.migration.stage_migration`.
    ax : matplotlib Axes, optional
    shares : bool, default True
        Colour by row share (where each stage's customers went); counts when False.
    annotate : bool, default True
        Write the share (and count) in every cell.

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(result, MigrationResult):
        raise ChurnDefinitionError(
            f"plot_stage_migration takes a MigrationResult, got {type(result).__name__}."
        )
    counts = result.counts
    keep = counts.sum(axis=1) > 0  # empty rows (e.g. no newcomers) are left out of the picture
    counts = counts.loc[keep]
    values = result.shares.loc[keep].fillna(0.0).to_numpy() if shares else counts.to_numpy(float)
    ax = _axes(ax)
    im = ax.imshow(values, cmap="Blues", aspect="auto", vmin=0.0, vmax=1.0 if shares else None)
    ax.set_xticks(range(counts.shape[1]), labels=list(counts.columns))
    ax.set_yticks(range(counts.shape[0]), labels=list(counts.index))
    ax.set_xlabel(str(counts.columns.name))
    ax.set_ylabel(str(counts.index.name))
    ax.set_title(f"Stage migration {result.as_of_from:%Y-%m-%d} \u2192 {result.as_of_to:%Y-%m-%d}")
    if annotate:
        top = np.nanmax(values) if values.size else 1.0
        for i in range(counts.shape[0]):
            for j in range(counts.shape[1]):
                n = int(counts.iat[i, j])
                text = f"{values[i, j]:.0%}\n{n:,}" if shares else f"{n:,}"
                dark = values[i, j] > 0.6 * top
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "#1f2933",
                )
    ax.figure.colorbar(im, ax=ax, label="share of row" if shares else "customers")
    return ax


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
    g = data.groupby("stage")
    rates = pd.DataFrame({"customers": g.size(), "churned": g["event"].sum()}).reindex(present)
    rates["churn_rate"] = rates["churned"] / rates["customers"]
    med = res.median().set_index("group")
    rates["median_days"] = med.reindex(present)["time"] if "time" in med else np.nan
    for h in horizons:
        s = at[at["time"] == h].set_index("group")["survival"]
        rates[f"churn_by_{int(h)}d"] = 1.0 - s.reindex(present)
    rates.index.name = "stage"
    return StageSurvival(table, res, lr, rates, table.attrs["as_of"], table.attrs["until"])


def plot_stage_survival(result: StageSurvival, ax: Any = None, **kwargs: Any) -> Any:
    """KM curves by stage in the stage colours (a thin wrapper of :func:`plot_km`).

    ``kwargs`` go to :func:`survchurn.plotting.km.plot_km` (``ci``, ``at_risk``...).
    """
    from survchurn.plotting.km import plot_km

    if not isinstance(result, StageSurvival):
        raise ChurnDefinitionError(
            f"plot_stage_survival takes a StageSurvival, got {type(result).__name__}."
        )
    colors = [STAGE_COLORS[STAGE_ORDER.index(g)] for g in result.km.groups]
    kwargs.setdefault("title", f"Survival after {result.as_of:%Y-%m-%d} by lifecycle stage")
    kwargs.setdefault("xlabel", "days after as_of")
    return plot_km(result.km, ax=ax, colors=colors, **kwargs)
