"""Hazard-ratio forest plot of a Cox fit, with N, events, HR (CI) and p columns.

The numbers behind the figure are :func:`forest_table`. Categorical covariates show their
reference level as a row with HR 1 and the text "reference".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from survchurn.plotting._style import PALETTE
from survchurn.survival.cox import CoxResult

__all__ = ["forest_table", "plot_forest"]


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def forest_table(result: CoxResult, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per coefficient plus one per reference level, in model order.

    Parameters
    ----------
    result : CoxResult
    labels : mapping, optional
        ``{covariate: label shown}``; covariates not in it are shown by name.

    Returns
    -------
    pandas.DataFrame
        ``label``, ``covariate``, ``level``, ``reference``, ``n``, ``events``, ``hr``,
        ``lower``, ``upper``, ``p``, ``hr_text`` ("0.68 (0.47-1.00)" or "reference"), ``p_text``.
    """
    frame = result.to_frame()
    lo = next(c for c in frame.columns if c.startswith("exp(coef) lower"))
    hi = next(c for c in frame.columns if c.startswith("exp(coef) upper"))
    levels = result.levels
    names = dict(labels or {})
    rows: list[dict[str, Any]] = []
    for cov in result.spec.covariates:
        if cov in result.spec.categorical:
            for lev in result.spec.categorical[cov]:
                info = levels[(levels["covariate"] == cov) & (levels["level"] == lev)].iloc[0]
                ref = bool(info["reference"])
                name = f"{cov}[{lev}]"
                rows.append({
                    "label": f"{names.get(cov, cov)}: {lev}", "covariate": cov, "level": lev, "reference": ref,
                    "n": int(info["n"]), "events": int(info["events"]),
                    "hr": 1.0 if ref else frame.loc[name, "exp(coef)"],
                    "lower": np.nan if ref else frame.loc[name, lo],
                    "upper": np.nan if ref else frame.loc[name, hi],
                    "p": np.nan if ref else frame.loc[name, "p"],
                })
        else:
            rows.append({
                "label": names.get(cov, cov), "covariate": cov, "level": None, "reference": False,
                "n": result.n, "events": result.n_events, "hr": frame.loc[cov, "exp(coef)"],
                "lower": frame.loc[cov, lo], "upper": frame.loc[cov, hi], "p": frame.loc[cov, "p"],
            })
    out = pd.DataFrame(rows)
    out["hr_text"] = [
        "reference" if r else f"{h:.2f} ({a:.2f}-{b:.2f})"
        for r, h, a, b in zip(out["reference"], out["hr"], out["lower"], out["upper"], strict=True)
    ]
    out["p_text"] = [_fmt_p(p) for p in out["p"]]
    return out


def plot_forest(result: CoxResult, ax: Axes | None = None, color: str = PALETTE[0],
                columns: tuple[str, ...] = ("n", "events", "hr_text", "p_text"),
                labels: Mapping[str, str] | None = None) -> Axes:
    """Draw hazard ratios with confidence intervals on a log x-axis.

    The text columns are drawn right of the axes at fixed offsets (about 250 points in all);
    leave that room, e.g. ``fig.subplots_adjust(right=0.6)`` or an empty neighbouring subplot.

    Parameters
    ----------
    result : CoxResult
        A fitted Cox model's result.
    ax : matplotlib Axes, optional
        Where to draw; default the current Axes.
    color : str
        Colour of points and intervals.
    columns : tuple of str
        Columns of :func:`forest_table` printed to the right of the plot.
    labels : mapping, optional
        ``{covariate: label shown}`` (see :func:`forest_table`).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = plt.gca() if ax is None else ax
    tab = forest_table(result, labels)
    y = np.arange(len(tab))[::-1].astype(float)
    est = ~tab["reference"].to_numpy()
    ax.errorbar(tab["hr"][est], y[est],
                xerr=[tab["hr"][est] - tab["lower"][est], tab["upper"][est] - tab["hr"][est]],
                fmt="s", color=color, ecolor=color, capsize=2, markersize=5, lw=1.2)
    ax.plot(tab["hr"][~est], y[~est], "D", color="white", markeredgecolor=color, markersize=5)
    ax.axvline(1.0, color="#7f7f7f", lw=0.8, ls="--", zorder=0)
    ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels(tab["label"])
    ax.set_ylim(-0.7, len(tab) - 0.3)
    pct = f"{100 * (1 - result.alpha):g}%"
    ax.set_xlabel(f"hazard ratio ({pct} CI, log scale)")
    headers = {"n": "N", "events": "events", "hr_text": f"HR ({pct} CI)", "p_text": "p"}
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(mticker.NullFormatter())
    # text columns sit right of the axes at fixed offsets in points, so they stay aligned
    # whatever the axes width (subplot grids included)
    base = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    widths = {"n": 45, "events": 48, "hr_text": 115, "p_text": 45}  # points
    offset = 8.0
    for col in columns:
        trans = base + mtransforms.ScaledTranslation(offset / 72, 0, ax.figure.dpi_scale_trans)
        ax.text(1.0, len(tab) - 0.3, headers.get(col, col), transform=trans, ha="left",
                va="bottom", fontweight="bold", fontsize="small", clip_on=False)
        for yy, val in zip(y, tab[col], strict=True):
            ax.text(1.0, yy, f"{val:,}" if isinstance(val, (int, np.integer)) else str(val),
                    transform=trans, ha="left", va="center", fontsize="small", clip_on=False)
        offset += widths.get(col, 60)
    return ax
