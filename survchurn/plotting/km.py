"""Kaplan-Meier plot with confidence bands, censor marks and an aligned number-at-risk table.

The number-at-risk table is an axes carved out of the bottom of the plot's own slot with an
axes divider (``mpl_toolkits.axes_grid1.make_axes_locatable``) and sharing the main axes' x-axis.
Its columns therefore stay under the main axes' ticks whatever the figure size, the number of
groups or the subplot grid, and it never spills into the subplot below (text placed at figure
coordinates, as lifelines' ``add_at_risk_counts`` and survminer do, drifts out of line). Find it
with :func:`at_risk_axes`; its numbers are available as a DataFrame from :func:`at_risk_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from mpl_toolkits.axes_grid1 import make_axes_locatable

from survchurn.exceptions import ConfigError
from survchurn.survival.kaplan_meier import KaplanMeierResult

__all__ = ["at_risk_axes", "at_risk_table", "plot_km"]

_ROW_INCHES = 0.2  # height of one at-risk row
_PAD_INCHES = 0.6  # room under the main axes for its tick labels and x label
_LABEL = "survchurn:at-risk-table"


def at_risk_table(result: KaplanMeierResult, times: Sequence[float]) -> pd.DataFrame:
    """Number at risk per group (rows) at each time (columns): customers with entry < t <= duration.

    Parameters
    ----------
    result : KaplanMeierResult
    times : sequence of float

    Returns
    -------
    pandas.DataFrame
        Integer counts, index ``group``, one column per time.
    """
    t = np.asarray(times, float)
    data = {g: result.counts.risk_at(g, t).astype(int) for g in result.groups}
    out = pd.DataFrame.from_dict(data, orient="index", columns=t)
    out.index.name = "group"
    out.columns.name = "time"
    return out


def at_risk_axes(ax: Axes) -> Axes | None:
    """The number-at-risk table axes that :func:`plot_km` drew under ``ax`` (None if none)."""
    for other in ax.figure.axes:
        if other.get_label() == _LABEL and other.get_shared_x_axes().joined(ax, other):
            return other
    return None


def _colors(n: int, colors: Sequence[Any] | None) -> list[Any]:
    if colors is not None:
        colors = list(colors)
        if len(colors) < n:
            raise ConfigError(f"colors has {len(colors)} entries for {n} groups: give one per group")
        return colors[:n]
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", [])
    if n <= len(cycle):
        return cycle[:n]
    cmap = plt.get_cmap("tab20" if n <= 20 else "turbo")
    return [cmap(i / max(n - 1, 1)) if n > 20 else cmap(i) for i in range(n)]


def _draw_at_risk(ax: Axes, result: KaplanMeierResult, times: np.ndarray,
                  colors: list[Any]) -> Axes:
    k = len(result.groups)
    divider = make_axes_locatable(ax)
    tab = divider.append_axes("bottom", size=_ROW_INCHES * (k + 1.2), pad=_PAD_INCHES, sharex=ax)
    tab.set_label(_LABEL)
    counts = at_risk_table(result, times)
    for i, g in enumerate(result.groups):
        y = k - 1 - i
        for t, n in zip(times, counts.loc[g].to_numpy(), strict=True):
            tab.text(t, y, f"{n:,}", ha="center", va="center", fontsize="small",
                     color=colors[i], clip_on=False)
    tab.set_ylim(-0.6, k - 0.4)
    tab.set_yticks(np.arange(k)[::-1], [str(g) for g in result.groups])
    for label, color in zip(tab.get_yticklabels(), colors, strict=True):
        label.set_color(color)
    tab.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    tab.tick_params(axis="y", which="both", left=False, pad=12)
    for spine in tab.spines.values():
        spine.set_visible(False)
    tab.grid(False)  # a style's grid lines would strike through the numbers
    tab.set_title("Number at risk", loc="left", fontsize="small")
    return tab


def plot_km(result: KaplanMeierResult, ax: Axes | None = None, ci: bool = True,
            censor_marks: bool = True, at_risk: bool = True,
            at_risk_times: Sequence[float] | None = None, colors: Sequence[Any] | None = None,
            title: str | None = None, xlabel: str = "days", ylabel: str = "survival") -> Axes:
    """Plot Kaplan-Meier curves, one step line per group.

    Parameters
    ----------
    result : KaplanMeierResult
        From :class:`survchurn.survival.kaplan_meier.KaplanMeier`.
    ax : matplotlib Axes, optional
        Drawn on a new figure when omitted.
    ci : bool
        Shade the pointwise confidence band (the result's ``conf_type``/``alpha``). Where the
        log-log limits are undefined (S = 1 or 0) the band collapses onto the curve.
    censor_marks : bool
        Mark censoring times with ``|``.
    at_risk : bool
        Add the number-at-risk table under the axes: an axes taken from the bottom of ``ax``'s
        slot, sharing its x-axis (find it with :func:`at_risk_axes`), one row per group in the
        group's colour.
    at_risk_times : sequence of float, optional
        Times for the table columns; they also become the main axes' x ticks. Default: the
        main axes' ticks inside the plotted range.
    colors : sequence, optional
        One matplotlib colour per group.
    title, xlabel, ylabel : str

    Returns
    -------
    matplotlib Axes
        The main axes. The library never calls ``show``/``savefig`` nor sets the backend.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5 + 0.25 * len(result.groups) * at_risk))
    cols = _colors(len(result.groups), colors)
    tab = result.survival_table
    start = min(0.0, float(tab["time"].min()))
    for g, color in zip(result.groups, cols, strict=True):
        r = tab[tab["group"] == g]
        x = np.concatenate([[start], r["time"].to_numpy(float)])
        s = r["survival"].to_numpy(float)
        y = np.concatenate([[1.0], s])
        ax.step(x, y, where="post", color=color, label=str(g), linewidth=1.5)
        if ci:
            lo = np.where(np.isnan(r["lower"]), s, r["lower"])
            up = np.where(np.isnan(r["upper"]), s, r["upper"])
            ax.fill_between(x, np.concatenate([[1.0], lo]), np.concatenate([[1.0], up]),
                            step="post", color=color, alpha=0.18, linewidth=0)
        if censor_marks:
            c = r[r["n_censor"] > 0]
            ax.scatter(c["time"], c["survival"], marker="|", s=40, color=color, linewidths=1)
    ax.set_ylim(0, 1.03)
    t_max = float(tab["time"].max())
    span = t_max - start if t_max > start else 1.0
    ax.set_xlim(start - 0.03 * span, t_max + 0.02 * span)  # room for the t=0 column
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(result.groups) > 1:
        ax.legend(title=result.counts.group_col, fontsize="small", frameon=False, loc="upper right")
    if at_risk:
        lo_x, hi_x = ax.get_xlim()
        if at_risk_times is None:
            ticks = np.asarray(ax.get_xticks(), float)
            times = ticks[(ticks >= lo_x) & (ticks <= hi_x)]
        else:
            times = np.asarray(at_risk_times, float)
        ax.set_xticks(times)
        ax.set_xlim(lo_x, hi_x)
        _draw_at_risk(ax, result, times, cols)
    return ax
