"""Plots for choosing the churn window and reading retention (numbers: each result's tables).

Every function takes ``ax=None`` (a new figure is made), returns the Axes, and never calls
``show``/``savefig`` or switches the backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from survchurn.churn.kpis import CohortRetention
from survchurn.churn.window import PurchaseCycle, WindowChoice
from survchurn.exceptions import ChurnDefinitionError

__all__ = ["plot_cohort_retention", "plot_purchase_cycle", "plot_roll_rate"]


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4))
    return ax


def _check(obj: Any, cls: type, name: str) -> None:
    if not isinstance(obj, cls):
        raise ChurnDefinitionError(f"{name} takes a {cls.__name__}, got {type(obj).__name__}.")


def plot_purchase_cycle(cycle: PurchaseCycle, ax: Any = None) -> Any:
    """Histogram of inter-purchase intervals (one step line per segment), medians dashed.

    Numbers: ``cycle.histogram`` and ``cycle.table``.
    """
    _check(cycle, PurchaseCycle, "plot_purchase_cycle")
    ax = _axes(ax)
    for seg, grp in cycle.histogram.groupby("segment", sort=True):
        share = grp["n_intervals"] / grp["n_intervals"].sum()
        line = ax.step(grp["bin_start_days"], share, where="post", label=f"{seg}")[0]
        median = cycle.table.loc[cycle.table["segment"] == seg, "p50"]
        if len(median):
            ax.axvline(float(median.iloc[0]), color=line.get_color(), linestyle="--", linewidth=1)
    ax.set_xlabel("days between purchases")
    ax.set_ylabel("share of intervals")
    ax.set_title("Purchase cycle (dashed: median)")
    if cycle.histogram["segment"].nunique() > 1:
        ax.legend(title=cycle.segment_col)
    return ax


def plot_roll_rate(choice: WindowChoice, ax: Any = None) -> Any:
    """Share of silent customers who came back, by days of silence; threshold and chosen W.

    Numbers: ``choice.table``.
    """
    _check(choice, WindowChoice, "plot_roll_rate")
    ax = _axes(ax)
    t = choice.table
    ax.plot(t["days"], t["return_share"], marker="o", label="came back")
    ax.axhline(choice.threshold, color="grey", linestyle=":", label=f"threshold {choice.threshold:.0%}")
    if choice.recommended_window_days is not None:
        ax.axvline(choice.recommended_window_days, color="C3", linestyle="--",
                   label=f"recommended W = {choice.recommended_window_days} d")
    ax.set_xlabel("days without activity")
    ax.set_ylabel("share that came back")
    ax.set_ylim(0, max(1.0, float(np.nanmax(t["return_share"])) if len(t) else 1.0))
    ax.set_title("Roll rate")
    ax.legend()
    return ax


def plot_cohort_retention(retention: CohortRetention, ax: Any = None, annotate: bool = True) -> Any:
    """Heatmap of retention by acquisition cohort (rows) and age in periods (columns).

    Cells not yet observable are blank. Numbers: ``retention.matrix`` / ``retention.table``.
    """
    _check(retention, CohortRetention, "plot_cohort_retention")
    ax = _axes(ax)
    m = retention.matrix
    values = m.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap="Blues", vmin=0, vmax=1)
    ax.set_yticks(range(len(m.index)), [str(i) for i in m.index])
    ax.set_xticks(range(len(m.columns)), [str(c) for c in m.columns])
    ax.set_xlabel(f"age (periods of {retention.period_days} days)")
    ax.set_ylabel("acquisition cohort")
    ax.set_title("Retention by cohort (Kaplan-Meier)")
    if annotate and values.size <= 400:
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 else "black")
    ax.figure.colorbar(image, ax=ax, fraction=0.046)
    return ax
