"""Plots of the warning-score fit: LASSO path, CV curve, points table and the score report.

Each function takes a result object, draws on ``ax`` (a new figure when None) and returns the
Axes; the numbers drawn are the result's own DataFrames (``LassoResult.coefs`` / ``.path``,
``PointsTable.to_frame()``, ``ScoreReport.to_frame()``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from survchurn.exceptions import ConfigError
from survchurn.plotting._style import PALETTE, TIER_COLORS
from survchurn.scoring.lasso import LassoResult
from survchurn.scoring.points import PointsTable
from survchurn.scoring.report import ScoreReport, assign_tiers

__all__ = ["plot_cv_curve", "plot_lasso_path", "plot_points", "plot_score_report"]


def _ax(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def plot_lasso_path(result: LassoResult, ax: Axes | None = None, *, label_top: int = 8) -> Axes:
    """Coefficients against log(lambda), with the chosen penalties marked.

    Parameters
    ----------
    result : LassoResult
    ax : Axes, optional
    label_top : int
        Label the curves of this many columns with the largest coefficients at the smallest lambda.
    """
    ax = _ax(ax)
    coefs = result.coefs.drop(index="const")
    loglam = np.log(result.path["lambda"].to_numpy())
    last = coefs.iloc[:, -1].abs().sort_values(ascending=False)
    for i, name in enumerate(coefs.index):
        color = PALETTE[i % len(PALETTE)]
        ax.plot(loglam, coefs.loc[name].to_numpy(), color=color, lw=1.2,
                label=name if name in last.index[:label_top] else None)
    for lam, style, text in ((result.lambda_min, ":", "lambda.min"), (result.lambda_1se, "--", "lambda.1se")):
        ax.axvline(np.log(lam), color="0.3", ls=style, lw=1, label=text)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.invert_xaxis()
    ax.set_xlabel("log(lambda)")
    ax.set_ylabel("coefficient")
    ax.set_title("LASSO path")
    ax.legend(fontsize="small", loc="best")
    return ax


def plot_cv_curve(result: LassoResult, ax: Axes | None = None) -> Axes:
    """Cross-validated deviance (mean +- 1 SE) against log(lambda), as ``plot.cv.glmnet``."""
    ax = _ax(ax)
    p = result.path
    loglam = np.log(p["lambda"].to_numpy())
    ax.errorbar(loglam, p["cvm"], yerr=p["cvsd"], fmt="o", ms=3, color=PALETTE[5], ecolor="0.7",
                elinewidth=1, capsize=1.5, label="CV deviance")
    ax.axvline(np.log(result.lambda_min), color="0.3", ls=":", lw=1, label="lambda.min")
    ax.axvline(np.log(result.lambda_1se), color="0.3", ls="--", lw=1, label="lambda.1se")
    top = ax.secondary_xaxis("top")
    top.set_xticks(loglam[:: max(1, len(loglam) // 8)])
    top.set_xticklabels([str(int(d)) for d in p["df"].to_numpy()[:: max(1, len(loglam) // 8)]])
    top.set_xlabel("non-zero coefficients")
    ax.invert_xaxis()
    ax.set_xlabel("log(lambda)")
    ax.set_ylabel("binomial deviance")
    ax.legend(fontsize="small")
    return ax


def plot_points(points: PointsTable, ax: Axes | None = None, *, show_zero: bool = False) -> Axes:
    """Horizontal bars of the points per risk flag."""
    ax = _ax(ax)
    t = points.to_frame()
    if not show_zero:
        t = t[t["points"] > 0]
    if t.empty:
        raise ConfigError("no flag carries points; pass show_zero=True to draw the zero-point flags")
    t = t.iloc[::-1]
    groups = list(dict.fromkeys(t["group"]))
    colors = [PALETTE[groups.index(g) % len(PALETTE)] for g in t["group"]]
    ax.barh(t["flag"], t["points"], color=colors)
    for y, (v, orr) in enumerate(zip(t["points"], t["odds_ratio"], strict=True)):
        ax.text(v, y, f" {int(v)}  (OR {orr:.2f})", va="center", fontsize="small")
    ax.set_xlabel("points")
    ax.set_xlim(0, max(1, t["points"].max()) * 1.4)
    ax.set_title(f"Warning points (0-{points.max_points})")
    return ax


def plot_score_report(report: ScoreReport, ax: Axes | None = None) -> Axes:
    """Bars of the share of customers per score (coloured by tier) and the churn rate as a line."""
    ax = _ax(ax)
    t = report.to_frame()
    scores = t.index.to_numpy()
    tiers = assign_tiers(scores, report.tiers)
    colors = [TIER_COLORS.get(str(k), PALETTE[0]) for k in tiers]
    ax.bar(scores, 100 * t["share"], color=colors, alpha=0.85, label="share of customers (%)")
    ax.set_xlabel("warning score")
    ax.set_ylabel("share of customers (%)")
    ax.set_xticks(scores)
    ax2 = ax.twinx()
    ax2.plot(scores, 100 * t["churn_rate"], color="0.15", marker="o", label="churn rate (%)")
    for s, rate in zip(scores, t["churn_rate"], strict=True):
        ax2.annotate(f"{100 * rate:.1f}%", (s, 100 * rate), textcoords="offset points", xytext=(0, 6),
                     ha="center", fontsize="small")
    ax2.set_ylabel("churn rate (%)")
    ax2.set_ylim(0, 105)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize="small")
    ax.set_title("Churn rate by warning score")
    return ax
