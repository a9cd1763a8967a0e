"""Campaign plots: Kaplan-Meier curves per arm, and the per-tier effect forest.

The numbers behind the forest are :meth:`CampaignResult.effects`; behind the curves, the
segment's :class:`~survchurn.survival.kaplan_meier.KaplanMeierResult` in ``result.km``.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import matplotlib.transforms as mtransforms
import numpy as np
from matplotlib.axes import Axes

from survchurn.campaign.results import CampaignResult
from survchurn.exceptions import ConfigError
from survchurn.plotting._style import PALETTE, TIER_COLORS
from survchurn.plotting.km import plot_km

__all__ = ["plot_campaign_km", "plot_tier_effects"]

_ARM_COLORS = ("#7f7f7f", PALETTE[0])  # holdout grey, treated blue
_NULL = {"hr": 1.0, "risk_diff": 0.0, "rel_change": 0.0, "rmst_diff": 0.0}
_XLABEL = {"hr": "hazard ratio, treated vs holdout (log scale)",
           "risk_diff": "churn at the horizon, treated minus holdout",
           "rel_change": "relative change in churn at the horizon",
           "rmst_diff": "days without churn gained per customer (RMST)"}


def plot_campaign_km(result: CampaignResult, segment: str = "overall", ax: Axes | None = None,
                     at_risk: bool = True, title: str | None = None, xlabel: str = "days since the start",
                     ylabel: str = "not churned") -> Axes:
    """Kaplan-Meier curves of the holdout and the treated arm of one segment.

    Parameters
    ----------
    result : CampaignResult
    segment : str
        ``"overall"`` or a tier.
    ax : matplotlib Axes, optional
    at_risk : bool
        Add the number-at-risk table (see :func:`survchurn.plotting.km.plot_km`).
    title, xlabel, ylabel : str

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ConfigError
        Unknown segment.
    """
    if segment not in result.km:
        raise ConfigError(f"segment {segment!r} is not in the result; segments are "
                          f"{list(result.km)}")
    km = result.km[segment]
    colors = [_ARM_COLORS[list(result.settings["arms"]).index(g)]
              if g in result.settings["arms"] else PALETTE[i % len(PALETTE)]
              for i, g in enumerate(km.groups)]
    ax = plot_km(km, ax=ax, at_risk=at_risk, colors=colors, xlabel=xlabel, ylabel=ylabel,
                 title=title if title is not None else f"{segment}: churn after the start")
    ax.axvline(result.settings["horizon_days"], color="#7f7f7f", lw=0.8, ls=":", zorder=0)
    return ax


def plot_tier_effects(result: CampaignResult, measure: str = "hr", ax: Axes | None = None,
                      overall: bool = True, text: bool = True, xlabel: str | None = None) -> Axes:
    """Forest of the treatment effect per tier (and overall) with confidence intervals.

    Parameters
    ----------
    result : CampaignResult
    measure : {"hr", "risk_diff", "rel_change", "rmst_diff"}
        Hazard ratio (log axis), risk difference or relative change at the horizon, or RMST gain.
    ax : matplotlib Axes, optional
    overall : bool
        Show the overall row (a diamond) under the tiers.
    text : bool
        Print "estimate (lower to upper)" right of the axes (about 120 points: leave room).
    xlabel : str, optional
        Default: what the measure is, with the confidence level.

    Returns
    -------
    matplotlib Axes
    """
    tab = result.effects(measure)
    if not overall:
        tab = tab[tab["segment"] != "overall"]
    tab = tab.reset_index(drop=True)
    ax = plt.gca() if ax is None else ax
    y = np.arange(len(tab))[::-1].astype(float)
    for yy, (_, r) in zip(y, tab.iterrows(), strict=True):
        is_all = r["segment"] == "overall"
        color: Any = "#1f2933" if is_all else TIER_COLORS.get(str(r["segment"]), PALETTE[0])
        ax.plot([r["lower"], r["upper"]], [yy, yy], color=color, lw=1.4)
        ax.plot(r["estimate"], yy, "D" if is_all else "s", color=color, markersize=6 if is_all else 5)
    ax.axvline(_NULL[measure], color="#7f7f7f", lw=0.8, ls="--", zorder=0)
    if measure == "hr":
        ax.set_xscale("log")
        lo, hi = ax.get_xlim()
        ticks = [v for v in (0.25, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0)
                 if lo <= v <= hi]
        ax.xaxis.set_major_locator(mticker.FixedLocator(ticks))
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(mticker.NullFormatter())
    elif measure in ("risk_diff", "rel_change"):
        ax.xaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
    ax.set_yticks(y)
    ax.set_yticklabels([str(s) for s in tab["segment"]])
    ax.set_ylim(-0.7, len(tab) - 0.3)
    pct = f"{100 * (1 - result.settings['alpha']):g}%"
    ax.set_xlabel(xlabel if xlabel is not None else f"{_XLABEL[measure]}, {pct} CI")
    if text:
        fmt = "{:.2f}" if measure == "hr" else ("{:+.1%}" if measure != "rmst_diff" else "{:+.1f}")
        trans = mtransforms.blended_transform_factory(ax.transAxes, ax.transData) + \
            mtransforms.ScaledTranslation(8 / 72, 0, ax.figure.dpi_scale_trans)
        for yy, (_, r) in zip(y, tab.iterrows(), strict=True):
            label = (f"{fmt.format(r['estimate'])} ({fmt.format(r['lower'])} to "
                     f"{fmt.format(r['upper'])})" if np.isfinite(r["estimate"]) else "–")
            ax.text(1.0, yy, label, transform=trans, ha="left", va="center", fontsize="small",
                    clip_on=False)
    return ax
