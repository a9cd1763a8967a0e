"""Lifecycle figures: the stage-migration heatmap and survival by stage.

The numbers behind them come from :mod:`survchurn.churn.migration` and
:func:`survchurn.survival.by_stage.stage_survival`. Every function takes ``ax=None`` (a new figure is made), returns the Axes, and
never calls ``show``/``savefig`` or switches the backend. Every figure's numbers are a
DataFrame: ``MigrationResult.counts``/``shares`` and ``StageSurvival`` tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from survchurn.churn.lifecycle import STAGE_ORDER
from survchurn.churn.migration import MigrationResult
from survchurn.exceptions import ChurnDefinitionError
from survchurn.survival.by_stage import StageSurvival

__all__ = ["plot_stage_migration", "plot_stage_survival"]

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
