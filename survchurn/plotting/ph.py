"""Proportional-hazards diagnostic plot: scaled Schoenfeld residuals against transformed time.

A flat smoother around the coefficient supports proportional hazards; a trend shows how the
log hazard ratio ``beta(t)`` drifts over time (Grambsch & Therneau 1994). The numbers are
:func:`schoenfeld_frame`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from statsmodels.nonparametric.smoothers_lowess import lowess

from survchurn.exceptions import ModelError
from survchurn.plotting._style import PALETTE
from survchurn.survival.cox_diagnostics import ZphResult

__all__ = ["plot_schoenfeld", "schoenfeld_frame"]


def schoenfeld_frame(zph: ZphResult, column: str, frac: float = 2 / 3) -> pd.DataFrame:
    """Transformed time, event time, scaled residual and LOWESS smooth for one design column.

    Parameters
    ----------
    zph : ZphResult
        From :func:`survchurn.survival.cox_diagnostics.cox_zph`.
    column : str
        A design column (``"age"``, ``"plan[b]"``).
    frac : float
        LOWESS span (share of the points used for each local fit).
    """
    if column not in zph.residuals.columns:
        raise ModelError(f"column {column!r} not in the model; choose one of "
                         f"{list(zph.residuals.columns)}")
    r = zph.residuals[column].to_numpy()
    order = np.argsort(zph.x, kind="stable")
    smooth = lowess(r[order], zph.x[order], frac=frac, return_sorted=False)
    out = pd.DataFrame({"x": zph.x[order], "time": zph.time[order], "residual": r[order],
                        "smooth": smooth})
    return out.reset_index(drop=True)


def plot_schoenfeld(zph: ZphResult, column: str, ax: Axes | None = None,
                    color: str = PALETTE[0], frac: float = 2 / 3) -> Axes:
    """Scatter of scaled Schoenfeld residuals with a LOWESS smoother and the fitted coefficient.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = plt.gca() if ax is None else ax
    df = schoenfeld_frame(zph, column, frac)
    ax.scatter(df["x"], df["residual"], s=8, color="#7f7f7f", alpha=0.6, lw=0)
    ax.plot(df["x"], df["smooth"], color=color, lw=2, label="LOWESS")
    ax.axhline(float(zph.coef[column]), color=PALETTE[1], ls="--", lw=1, label="Cox estimate")
    term = zph.table.index[zph.table.index.isin([column])]
    p = zph.table.loc[term[0], "p"] if len(term) else None
    title = f"beta(t) for {column}" + (f" (PH test p = {p:.3g})" if p is not None else "")
    ax.set_title(title)
    ax.set_xlabel(f"time ({zph.transform} scale)")
    ax.set_ylabel("scaled Schoenfeld residual")
    ax.legend(frameon=False, fontsize="small", loc="upper right")
    return ax
