"""Scoring plots on the Agg backend: they draw the result's numbers and return the Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import ConfigError
from survchurn.plotting.scoring import (
    plot_cv_curve,
    plot_lasso_path,
    plot_points,
    plot_score_report,
)
from survchurn.scoring.lasso import LassoLogistic
from survchurn.scoring.points import WarningPoints
from survchurn.scoring.report import score_report


@pytest.fixture(scope="module")
def lasso():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(600, 4)), columns=list("abcd"))
    y = (rng.random(600) < 1 / (1 + np.exp(-(X["a"] - X["b"])))).astype(int)
    return LassoLogistic(nfolds=5, nlambda=30).fit(X, y).result_


def test_lasso_plots(lasso):
    ax = plot_lasso_path(lasso)
    assert len(ax.get_lines()) == 4 + 3  # one curve per column, two penalty lines, zero line
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), lasso.coefs.loc["a"].to_numpy())
    fig, ax2 = plt.subplots()
    assert plot_cv_curve(lasso, ax=ax2) is ax2
    plt.close("all")


def test_points_and_report_plots():
    wp = WarningPoints(max_points=3).fit(pd.Series({"x": 1.0, "y": 0.5, "z": -0.2}))
    ax = plot_points(wp.table_)
    assert [p.get_width() for p in ax.patches] == [1, 2]
    rep = score_report([0, 0, 1, 2, 3, 3], [0, 0, 0, 1, 1, 0])
    ax = plot_score_report(rep)
    np.testing.assert_allclose([p.get_height() for p in ax.patches], 100 * rep.table["share"].to_numpy())
    wz = WarningPoints(max_points=1, method="count").fit(pd.Series({"x": 1.0}))
    wz.table_.table["points"] = 0
    with pytest.raises(ConfigError, match="no flag carries points"):
        plot_points(wz.table_)
    plt.close("all")
